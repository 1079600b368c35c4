/* harness.h - a tiny test framework for the C API suite: named cases,
 * assertions that report file:line and the library's error text, and a
 * per-case memphis-devbroker started on a free port. */
#ifndef MEMPHIS_TEST_HARNESS_H
#define MEMPHIS_TEST_HARNESS_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "memphis.h"

/* MEMPHIS_TEST(name, "labels") registers a case. CMakeLists.txt scans the
 * sources for this macro and adds one CTest test per case. */
typedef void (*test_fn)(void);
struct test_case {
    const char *name;
    const char *labels;
    test_fn fn;
    struct test_case *next;
};
void test_register(struct test_case *tc);
#define MEMPHIS_TEST(name, labels)                                                      \
    static void test_##name(void);                                                      \
    static struct test_case tc_##name = {#name, labels, test_##name, NULL};             \
    __attribute__((constructor)) static void reg_##name(void) { test_register(&tc_##name); } \
    static void test_##name(void)

/* Failure: prints and exits the process (each case runs in its own
 * process under CTest), stopping the broker first. */
_Noreturn void test_fail(const char *file, int line, const char *fmt, ...);

/* The error of the last checked call. */
extern memphis_error_t *t_err;
void t_reset_err(void);
/* E frees the previous error before handing out the slot again, so raw
 * calls outside EXPECT_ST never leak one. */
memphis_error_t **t_err_slot(void);
#define E (t_err_slot())

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond))                                                 \
            test_fail(__FILE__, __LINE__, "check failed: %s", #cond); \
    } while (0)

/* Runs expr (which may pass E) and requires status `want`. When an error
 * object was produced, its status must agree with the return value. */
#define EXPECT_ST(want, expr)                                                                              \
    do {                                                                                                   \
        t_reset_err();                                                                                     \
        memphis_status_t got_ = (expr);                                                                    \
        if (got_ != (want))                                                                                \
            test_fail(__FILE__, __LINE__, "%s\n  returned %s, want %s; message: %s", #expr,                \
                      memphis_status_name(got_), memphis_status_name(want), memphis_error_message(t_err)); \
        if (t_err && memphis_error_status(t_err) != got_)                                                  \
            test_fail(__FILE__, __LINE__, "%s: error object status %d != return %d", #expr,                \
                      memphis_error_status(t_err), got_);                                                   \
        if (got_ == MEMPHIS_OK && t_err)                                                                   \
            test_fail(__FILE__, __LINE__, "%s: error object set on success", #expr);                       \
    } while (0)
#define OK(expr) EXPECT_ST(MEMPHIS_OK, expr)

/* A memphis-devbroker child process. */
struct broker {
    pid_t pid;
    char dir[256];
    char host[128];
    int port;
    const char *extra[16]; /* extra command line arguments */
    int nextra;
};

/* Starts a broker (binary from $MEMPHIS_DEVBROKER) with optional extra
 * arguments (NULL-terminated list), waits for its ready file. */
void broker_start(struct broker *b, ...);
/* Stops the broker and starts it again on the same port and data dir. */
void broker_restart(struct broker *b);
/* Stops it (SIGTERM, then SIGKILL) and removes its data dir. */
void broker_stop(struct broker *b);
/* SIGSTOP and wait until the process is really stopped (no more acks). */
void broker_pause(struct broker *b);
void broker_resume(struct broker *b);
/* SIGKILL: the broker vanishes without a goodbye. */
void broker_kill(struct broker *b);

/* The default broker of a case, started by test_broker(). */
struct broker *test_broker(void);
/* Connects to b as root/memphis with reconnect disabled (fast failures). */
memphis_conn_t *test_connect(struct broker *b);
memphis_conn_opts_t *test_conn_opts(struct broker *b);
/* Connects to b with reconnect forever (for cases that kill or pause the
 * broker); interval_ms > 0 sets the reconnect interval. */
memphis_conn_t *test_connect_reconnecting(struct broker *b, int64_t interval_ms);

/* Waits up to `seconds` for *flag to become nonzero (polling). */
bool wait_for(volatile int *flag, double seconds);
/* Monotonic seconds. */
double now_s(void);
/* A unique lower-case name with a prefix. */
const char *uname_(const char *prefix);

/* Creates producer/consumer with default options. */
memphis_producer_t *test_producer(memphis_conn_t *c, const char *station, const char *name);
memphis_consumer_t *test_consumer(memphis_conn_t *c, const char *station, const char *name);
/* Fetches until `want` messages arrived (or 20 s); returns them. */
memphis_msg_t **fetch_n(memphis_consumer_t *cons, size_t want, size_t *got);

#endif
