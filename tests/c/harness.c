/* harness.c - see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

memphis_error_t *t_err;

static struct test_case *cases;
static struct broker *live_brokers[8];

void test_register(struct test_case *tc)
{
    tc->next = cases;
    cases = tc;
}

memphis_error_t **t_err_slot(void)
{
    t_reset_err();
    return &t_err;
}

void t_reset_err(void)
{
    memphis_error_free(t_err);
    t_err = NULL;
}

static void stop_all(void)
{
    for (size_t i = 0; i < sizeof live_brokers / sizeof live_brokers[0]; i++)
        if (live_brokers[i])
            broker_stop(live_brokers[i]);
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    stop_all();
    _exit(1);
}

double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

bool wait_for(volatile int *flag, double seconds)
{
    double end = now_s() + seconds;
    while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST)) {
        if (now_s() > end)
            return false;
        sleep_ms(5);
    }
    return true;
}

const char *uname_(const char *prefix)
{
    static char bufs[16][96];
    static int next, counter;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof bufs[0], "%s-%d-%d", prefix, (int)getpid() % 100000, ++counter);
    return b;
}

static void track(struct broker *b, bool on)
{
    for (size_t i = 0; i < sizeof live_brokers / sizeof live_brokers[0]; i++) {
        if (on && !live_brokers[i]) {
            live_brokers[i] = b;
            return;
        }
        if (!on && live_brokers[i] == b) {
            live_brokers[i] = NULL;
            return;
        }
    }
}

static void spawn_broker(struct broker *b);
static void reap(struct broker *b, int sig);

void broker_start(struct broker *b, ...)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/memphis-ctest-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(b->dir))
        test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    va_list ap;
    va_start(ap, b);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && b->nextra < 16;)
        b->extra[b->nextra++] = a;
    va_end(ap);
    spawn_broker(b);
}

void broker_restart(struct broker *b)
{
    reap(b, SIGTERM);
    spawn_broker(b);
}

static void spawn_broker(struct broker *b)
{
    const char *bin = getenv("MEMPHIS_DEVBROKER");
    if (!bin || !*bin)
        test_fail(__FILE__, __LINE__, "MEMPHIS_DEVBROKER is not set (path of memphis-devbroker)");
    char data[300], ready[300], log[300], port[16];
    snprintf(data, sizeof data, "%s/data", b->dir);
    snprintf(ready, sizeof ready, "%s/ready", b->dir);
    snprintf(log, sizeof log, "%s/broker.log", b->dir);
    snprintf(port, sizeof port, "%d", b->port); /* 0 the first time: a free port */
    unlink(ready);

    const char *argv[32] = {bin, "--port", port, "--data-dir", data, "--ready-file", ready};
    int argc = 7;
    for (int i = 0; i < b->nextra; i++)
        argv[argc++] = b->extra[i];
    argv[argc] = NULL;

    /* fork + exec with nothing but system calls in between (the Go runtime
     * in this process does not survive fork, and is not needed by exec).
     * PR_SET_PDEATHSIG: if this test process dies without cleaning up (a
     * crash, a sanitizer abort, a CTest timeout kill), its broker dies too. */
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0)
        test_fail(__FILE__, __LINE__, "open %s: %s", log, strerror(errno));
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the parent is already gone */
        dup2(logfd, 1);
        dup2(logfd, 2);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(logfd);
    if (pid < 0)
        test_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    b->pid = pid;
    track(b, false);
    track(b, true);

    double end = now_s() + 60;
    for (;;) {
        FILE *f = fopen(ready, "r");
        if (f) {
            char addr[128] = {0};
            bool got = fgets(addr, sizeof addr, f) != NULL;
            fclose(f);
            char *colon = got ? strrchr(addr, ':') : NULL;
            if (colon) {
                *colon = 0;
                snprintf(b->host, sizeof b->host, "%.100s", addr);
                b->port = atoi(colon + 1);
                return;
            }
        }
        int status;
        if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
            b->pid = 0;
            test_fail(__FILE__, __LINE__, "broker exited during start-up; see %s", log);
        }
        if (now_s() > end)
            test_fail(__FILE__, __LINE__, "broker not ready after 60 s; see %s", log);
        sleep_ms(20);
    }
}

static void reap(struct broker *b, int sig)
{
    if (b->pid <= 0)
        return;
    if (sig != SIGKILL)
        kill(b->pid, SIGCONT); /* in case a test stopped it */
    kill(b->pid, sig);
    for (int i = 0; i < 1000; i++) {
        if (waitpid(b->pid, NULL, WNOHANG) == b->pid) {
            b->pid = 0;
            return;
        }
        sleep_ms(10);
    }
    kill(b->pid, SIGKILL);
    waitpid(b->pid, NULL, 0);
    b->pid = 0;
}

void broker_kill(struct broker *b) { reap(b, SIGKILL); }

static char proc_state(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return '?';
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren[2] : '?';
}

void broker_pause(struct broker *b)
{
    kill(b->pid, SIGSTOP);
    double end = now_s() + 10;
    while (proc_state(b->pid) != 'T') {
        if (now_s() > end)
            test_fail(__FILE__, __LINE__, "broker did not stop");
        sleep_ms(2);
    }
}

void broker_resume(struct broker *b) { kill(b->pid, SIGCONT); }

void broker_stop(struct broker *b)
{
    reap(b, SIGTERM);
    track(b, false);
    if (b->dir[0] && !getenv("MEMPHIS_TEST_KEEP")) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "warning: could not remove %s\n", b->dir);
        b->dir[0] = 0;
    }
}

static struct broker default_broker;
static bool default_started;

struct broker *test_broker(void)
{
    if (!default_started) {
        broker_start(&default_broker, NULL);
        default_started = true;
    }
    return &default_broker;
}

memphis_conn_opts_t *test_conn_opts(struct broker *b)
{
    memphis_conn_opts_t *o = NULL;
    OK(memphis_conn_opts_new(&o, E));
    OK(memphis_conn_opts_set_host(o, b->host, E));
    OK(memphis_conn_opts_set_port(o, b->port, E));
    OK(memphis_conn_opts_set_username(o, "root", E));
    OK(memphis_conn_opts_set_password(o, "memphis", E));
    OK(memphis_conn_opts_set_reconnect(o, false, E));
    OK(memphis_conn_opts_set_timeout_ms(o, 5000, E));
    return o;
}

memphis_conn_t *test_connect(struct broker *b)
{
    memphis_conn_opts_t *o = test_conn_opts(b);
    memphis_conn_t *c = NULL;
    OK(memphis_connect(o, &c, E));
    OK(memphis_conn_opts_destroy(o, E));
    CHECK(c != NULL);
    return c;
}

memphis_conn_t *test_connect_reconnecting(struct broker *b, int64_t interval_ms)
{
    memphis_conn_opts_t *o = test_conn_opts(b);
    OK(memphis_conn_opts_set_reconnect(o, true, E));
    OK(memphis_conn_opts_set_max_reconnect(o, -1, E));
    if (interval_ms > 0)
        OK(memphis_conn_opts_set_reconnect_interval_ms(o, interval_ms, E));
    memphis_conn_t *c = NULL;
    OK(memphis_connect(o, &c, E));
    OK(memphis_conn_opts_destroy(o, E));
    CHECK(c != NULL);
    return c;
}

memphis_producer_t *test_producer(memphis_conn_t *c, const char *station, const char *name)
{
    memphis_producer_opts_t *o = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new(station, name, &o, E));
    OK(memphis_producer_create(c, o, &p, E));
    OK(memphis_producer_opts_destroy(o, E));
    return p;
}

memphis_consumer_t *test_consumer(memphis_conn_t *c, const char *station, const char *name)
{
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new(station, name, &o, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 500, E));
    OK(memphis_consumer_opts_set_pull_interval_ms(o, 50, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));
    return k;
}

memphis_msg_t **fetch_n(memphis_consumer_t *cons, size_t want, size_t *got)
{
    memphis_msg_t **all = calloc(want ? want : 1, sizeof *all);
    size_t n = 0;
    double end = now_s() + 20;
    while (n < want && now_s() < end) {
        memphis_msg_t **msgs = NULL;
        size_t count = 0;
        OK(memphis_consumer_fetch(cons, want - n > 1000 ? 1000 : want - n, NULL, 0, &msgs, &count, E));
        for (size_t i = 0; i < count; i++)
            all[n++] = msgs[i];
        memphis_free(msgs);
    }
    *got = n;
    return all;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (struct test_case *tc = cases; tc; tc = tc->next)
            printf("%s %s\n", tc->name, tc->labels);
        return 0;
    }
    int ran = 0;
    for (struct test_case *tc = cases; tc; tc = tc->next) {
        if (argc > 1 && strcmp(argv[1], tc->name) != 0)
            continue;
        printf("RUN  %s\n", tc->name);
        double t0 = now_s();
        tc->fn();
        t_reset_err();
        printf("PASS %s (%.2fs)\n", tc->name, now_s() - t0);
        ran++;
    }
    if (default_started)
        broker_stop(&default_broker);
    if (ran == 0) {
        fprintf(stderr, "no test case named %s\n", argc > 1 ? argv[1] : "(any)");
        return 2;
    }
    printf("ALL PASSED (%d)\n", ran);
    return 0;
}
