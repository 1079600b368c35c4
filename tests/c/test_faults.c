/* Resilience through the C API: the producer options, the retry details of
 * delivery reports (callbacks and queued events), a broker SIGKILLed and
 * restarted mid-produce (nothing lost, nothing duplicated, order kept), and
 * callbacks that call back into the library while the broker is paused.
 * Random points come from a seed printed by each case; replay with
 * MEMPHIS_FAULT_SEED=<seed>. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static unsigned long long fault_seed(void)
{
    const char *s = getenv("MEMPHIS_FAULT_SEED");
    unsigned long long seed = s && *s ? strtoull(s, NULL, 10) : (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
    printf("fault seed %llu (replay with MEMPHIS_FAULT_SEED=%llu)\n", seed, seed);
    return seed;
}

/* xorshift64: a small deterministic generator for the random points. */
static unsigned long long rnd(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

MEMPHIS_TEST(producer_opts_resilience, "unit")
{
    memphis_producer_opts_t *po = NULL;
    OK(memphis_producer_opts_new("s", "p", &po, E));
    int64_t bytes = 0;
    bool idem = true;
    OK(memphis_producer_opts_get_max_in_flight_bytes(po, &bytes, E));
    CHECK(bytes == 32 << 20);
    OK(memphis_producer_opts_get_idempotent(po, &idem, E));
    CHECK(!idem);
    OK(memphis_producer_opts_set_max_in_flight_bytes(po, 4096, E));
    OK(memphis_producer_opts_set_idempotent(po, true, E));
    OK(memphis_producer_opts_get_max_in_flight_bytes(po, &bytes, E));
    OK(memphis_producer_opts_get_idempotent(po, &idem, E));
    CHECK(bytes == 4096 && idem);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_max_in_flight_bytes(po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_idempotent(po, NULL, E));
    OK(memphis_producer_opts_destroy(po, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_opts_set_idempotent(po, true, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_opts_set_max_in_flight_bytes(po, 1, E));

    /* Outside a delivery callback the accessors say so. */
    CHECK(memphis_delivery_retries() == -1);
    CHECK(!memphis_delivery_possible_duplicate());
    CHECK(memphis_event_retries(NULL) == 0);
    CHECK(!memphis_event_possible_duplicate(NULL));
    memphis_event_t consume = {.kind = MEMPHIS_EVENT_CONSUME, .count = 5};
    CHECK(memphis_event_retries(&consume) == 0 && !memphis_event_possible_duplicate(&consume));
}

/* A negative byte window is refused when the producer is created; 0 means
 * the default; a message larger than the byte window still goes, alone. */
MEMPHIS_TEST(byte_window, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_opts_t *po = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-bytes", "p", &po, E));
    OK(memphis_producer_opts_set_max_in_flight_bytes(po, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_create(c, po, &p, E));
    CHECK(strstr(memphis_error_message(t_err), "MaxInFlightBytes") != NULL);
    OK(memphis_producer_opts_set_max_in_flight_bytes(po, 1024, E));
    OK(memphis_producer_create(c, po, &p, E));
    OK(memphis_producer_opts_destroy(po, E));
    static char big[64 * 1024];
    for (int i = 0; i < 10; i++)
        OK(memphis_producer_produce_async(p, big, sizeof big, NULL, NULL, NULL, -1, E));
    uint64_t failed = 1;
    OK(memphis_producer_flush(p, 60000, &failed, E));
    CHECK(failed == 0);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
}

/* Per-message outcome of the crash test. */
#define CRASH_MAX 40000
struct crash_state {
    pthread_mutex_t mu;
    int calls[CRASH_MAX];
    int retries[CRASH_MAX];
    int failed, resent, flagged, total;
    memphis_status_t first_failure;
};
static struct crash_state cs = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_crash_delivery(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    (void)msg;
    (void)seq;
    int i = (int)(intptr_t)ud;
    int retries = memphis_delivery_retries();
    bool dup = memphis_delivery_possible_duplicate();
    pthread_mutex_lock(&cs.mu);
    cs.calls[i]++;
    cs.total++;
    cs.retries[i] = retries;
    if (retries > 0)
        cs.resent++;
    if (dup)
        cs.flagged++;
    if (st != MEMPHIS_OK && cs.failed++ == 0)
        cs.first_failure = st;
    pthread_mutex_unlock(&cs.mu);
}

static void produce_range(memphis_producer_t *p, int from, int to)
{
    char buf[64];
    for (int i = from; i < to; i++) {
        int len = snprintf(buf, sizeof buf, "%010d", i);
        OK(memphis_producer_produce_async(p, buf, (size_t)len, NULL, on_crash_delivery, (void *)(intptr_t)i, -1, E));
    }
}

/* Nonblocking produce while the broker is SIGKILLed and restarted on the
 * same data dir about a second later. Messages in flight at the kill (sent
 * to a paused broker) are resent after the reconnect; messages produced
 * while it is dead are held and sent then. Every message gets exactly one
 * report, all succeed, the station holds each once and in order. */
MEMPHIS_TEST(crash_mid_produce, "integration")
{
    unsigned long long seed = fault_seed();
    int before = 2000 + (int)(rnd(&seed) % 8000), inflight = 200, during = 300, after = 2000;
    int down_ms = 800 + (int)(rnd(&seed) % 400);
    int n = before + inflight + during + after;
    CHECK(n <= CRASH_MAX);

    struct broker b;
    broker_start(&b, NULL);
    memphis_conn_t *c = test_connect_reconnecting(&b, 0);
    memphis_producer_opts_t *po = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-crash", "p", &po, E));
    OK(memphis_producer_opts_set_idempotent(po, true, E));
    OK(memphis_producer_opts_set_ack_wait_ms(po, 30000, E));
    /* Room for everything produced before the restart: this thread also
     * restarts the broker, so it must not block on a full window first. */
    OK(memphis_producer_opts_set_max_in_flight(po, CRASH_MAX, E));
    OK(memphis_producer_create(c, po, &p, E));
    OK(memphis_producer_opts_destroy(po, E));

    produce_range(p, 0, before);
    broker_pause(&b); /* what is produced now is in flight at the kill */
    produce_range(p, before, before + inflight);
    broker_kill(&b);
    double t_kill = now_s();
    produce_range(p, before + inflight, before + inflight + during); /* held while down */
    sleep_ms(down_ms);
    broker_restart(&b);
    double t_restart = now_s();
    produce_range(p, before + inflight + during, n);
    OK(memphis_producer_flush(p, 60000, NULL, E));
    double t_done = now_s();

    pthread_mutex_lock(&cs.mu);
    for (int i = 0; i < n; i++)
        if (cs.calls[i] != 1)
            test_fail(__FILE__, __LINE__, "message %d got %d reports, want exactly one", i, cs.calls[i]);
    if (cs.failed)
        test_fail(__FILE__, __LINE__, "%d messages failed, first with %s", cs.failed, memphis_status_name(cs.first_failure));
    int inflight_resent = 0;
    for (int i = before; i < before + inflight; i++)
        if (cs.retries[i] >= 1)
            inflight_resent++;
    int resent = cs.resent, flagged = cs.flagged;
    pthread_mutex_unlock(&cs.mu);
    /* Sent to a paused broker that was then killed: none was acknowledged,
     * so each was sent again after the restart. */
    CHECK(inflight_resent == inflight);
    CHECK(flagged == 0); /* idempotent: resends are de-duplicated, never flagged */

    /* The station holds each message once, in production order. */
    memphis_consumer_opts_t *ko = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-crash", "reader", &ko, E));
    OK(memphis_consumer_opts_set_batch_size(ko, 5000, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(ko, 1000, E));
    OK(memphis_consumer_create(c, ko, &k, E));
    OK(memphis_consumer_opts_destroy(ko, E));
    int stored = 0, last = -1;
    double end = now_s() + 60;
    for (;;) {
        memphis_msg_t **msgs = NULL;
        size_t count = 0;
        OK(memphis_consumer_fetch(k, 5000, NULL, 0, &msgs, &count, E));
        for (size_t j = 0; j < count; j++) {
            const void *data = NULL;
            size_t len = 0;
            OK(memphis_msg_data(msgs[j], &data, &len, E));
            char tmp[16] = {0};
            memcpy(tmp, data, len < 15 ? len : 15);
            int idx = atoi(tmp);
            if (idx != last + 1)
                test_fail(__FILE__, __LINE__, "stored message %d after %d: lost, duplicated or out of order", idx, last);
            last = idx;
            stored++;
        }
        if (count > 0)
            OK(memphis_msgs_ack(msgs, count, E));
        OK(memphis_msgs_destroy(msgs, count, E));
        if (stored == n || (count == 0 && now_s() > end))
            break;
    }
    CHECK(stored == n);
    printf("faults: C crash mid-produce: %d acked, %d stored, 0 duplicates; %d in flight at the kill (all resent), %d resent in all; "
           "down %.2fs, restart->all acked %.2fs\n",
           n, stored, inflight, resent, t_restart - t_kill, t_done - t_restart);
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
    broker_stop(&b);
}

/* Queued delivery reports carry the same retry details: messages sent to
 * a paused broker that is then killed come back with retries >= 1, and
 * without a msg id they are flagged possible duplicates. */
MEMPHIS_TEST(crash_retry_details_in_events, "integration")
{
    struct broker b;
    broker_start(&b, NULL);
    memphis_conn_t *c = test_connect_reconnecting(&b, 0);
    memphis_producer_t *p = test_producer(c, "c-crash-q", "p");
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(0, &q, E));
    OK(memphis_producer_produce(p, "warm", 4, NULL, E));
    broker_pause(&b);
    enum { N = 50 };
    for (int i = 0; i < N; i++)
        OK(memphis_producer_produce_async_to_queue(p, "q", 1, NULL, q, (void *)(intptr_t)(i + 1), -1, E));
    broker_kill(&b);
    sleep_ms(500);
    broker_restart(&b);
    int got = 0, resent = 0, flagged = 0;
    double end = now_s() + 60;
    while (got < N && now_s() < end) {
        memphis_event_t ev[N];
        size_t count = 0;
        OK(memphis_queue_poll(q, ev, N, 1000, &count, E));
        for (size_t j = 0; j < count; j++) {
            CHECK(ev[j].kind == MEMPHIS_EVENT_DELIVERY);
            if (ev[j].status != MEMPHIS_OK)
                test_fail(__FILE__, __LINE__, "report %s: %s", memphis_status_name(ev[j].status), ev[j].error_message);
            if (memphis_event_retries(&ev[j]) >= 1)
                resent++;
            if (memphis_event_possible_duplicate(&ev[j]))
                flagged++;
            CHECK(ev[j].msgs == NULL);
            memphis_free(ev[j].error_message);
            got++;
        }
    }
    CHECK(got == N);
    if (!(resent == N && flagged == N))
        test_fail(__FILE__, __LINE__, "%d of %d resent, %d flagged possible duplicates; want all", resent, N, flagged);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_queue_destroy(q, E));
    OK(memphis_conn_destroy(c, E));
    broker_stop(&b);
}

/* Callbacks that call back into the library while the broker is paused: a
 * delivery callback produces synchronously and nonblocking on its own
 * producer. Neither the callbacks nor the producing thread freeze, and
 * everything completes once the broker continues. */
static memphis_producer_t *reentrant_p;
static int nested_ok, nested_fail, outer_reports;
static pthread_mutex_t reentrant_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_nested(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    (void)msg;
    (void)seq;
    (void)ud;
    pthread_mutex_lock(&reentrant_mu);
    if (st == MEMPHIS_OK)
        nested_ok++;
    else
        nested_fail++;
    pthread_mutex_unlock(&reentrant_mu);
}

static void on_reentrant(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    (void)msg;
    (void)seq;
    int i = (int)(intptr_t)ud;
    memphis_status_t sync = MEMPHIS_OK;
    if (st == MEMPHIS_OK && i % 10 == 0)
        sync = memphis_producer_produce(reentrant_p, "nested-sync", 11, NULL, NULL);
    /* Never waits for room inside a callback: OK or QUEUE_FULL at once. */
    memphis_status_t as = memphis_producer_produce_async(reentrant_p, "nested", 6, NULL, on_nested, NULL, -1, NULL);
    pthread_mutex_lock(&reentrant_mu);
    outer_reports++;
    if (sync != MEMPHIS_OK)
        nested_fail++;
    else if (i % 10 == 0)
        nested_ok++;
    if (as != MEMPHIS_OK && as != MEMPHIS_ERR_QUEUE_FULL)
        nested_fail++;
    pthread_mutex_unlock(&reentrant_mu);
}

static void *resume_later(void *b)
{
    sleep_ms(500);
    broker_resume(b);
    return NULL;
}

MEMPHIS_TEST(callbacks_reenter_during_pause, "integration")
{
    struct broker *b = test_broker();
    memphis_conn_t *c = test_connect(b);
    memphis_producer_opts_t *po = NULL;
    OK(memphis_producer_opts_new("c-reenter", "p", &po, E));
    OK(memphis_producer_opts_set_max_in_flight(po, 64, E));
    OK(memphis_producer_opts_set_ack_wait_ms(po, 60000, E));
    OK(memphis_producer_create(c, po, &reentrant_p, E));
    OK(memphis_producer_opts_destroy(po, E));
    enum { N = 300 };
    pthread_t resumer;
    for (int i = 0; i < N; i++) {
        if (i == N / 3) {
            /* Paused for half a second, resumed by another thread: this
             * one may block on the full window meanwhile. */
            broker_pause(b);
            CHECK(pthread_create(&resumer, NULL, resume_later, b) == 0);
        }
        OK(memphis_producer_produce_async(reentrant_p, "outer", 5, NULL, on_reentrant, (void *)(intptr_t)i, -1, E));
    }
    pthread_join(resumer, NULL);
    OK(memphis_producer_flush(reentrant_p, 60000, NULL, E));
    /* Nested nonblocking produces may still be reported after the outer
     * ones: flush again until all are in. */
    OK(memphis_producer_flush(reentrant_p, 60000, NULL, E));
    pthread_mutex_lock(&reentrant_mu);
    int outer = outer_reports, fails = nested_fail, oks = nested_ok;
    pthread_mutex_unlock(&reentrant_mu);
    CHECK(outer == N);
    if (fails != 0)
        test_fail(__FILE__, __LINE__, "%d nested calls failed (%d succeeded)", fails, oks);
    CHECK(oks >= N / 10);
    OK(memphis_producer_destroy(reentrant_p, E));
    OK(memphis_conn_destroy(c, E));
}
