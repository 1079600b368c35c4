/* Out parameters may hold anything when a call starts: a program need not
 * initialize the slots the library fills (payload pointers, header strings,
 * malloc'd text, event fields). The library once stored those C pointers
 * with Go pointer stores, whose write barrier also reads the slot's old
 * contents as a pointer while the GC is marking. An uninitialized local in a
 * consume callback (which runs on a thread stack the Go runtime uses too)
 * sometimes held the stale address of a freed Go object; the GC marked it
 * and a later sweep aborted the process ("found pointer to free object",
 * "sweep increased allocation count"): 9 of 60 C consume benchmark runs.
 *
 * These cases fill every pointer out slot with POISON, the address the Go
 * runtime (amd64, arm64) aborts on whenever its GC meets it ("found bad
 * pointer in Go heap"), and keep the GC cycling by allocating Go memory
 * between calls, so a store that still reads the old contents fails the
 * case on its first GC cycle instead of one run in many. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define POISON ((void *)(uintptr_t)0xdeaddeaddeaddeadULL)
#define CHURN_BYTES (64 * 1024)
#define OUT_MSGS 300
#define OUT_BATCH 50

static char churn_value[CHURN_BYTES];
static pthread_once_t churn_once = PTHREAD_ONCE_INIT;
static void churn_init(void) { memset(churn_value, 'x', sizeof churn_value - 1); }

/* Allocates and drops `rounds` x 64 KiB of Go memory (a header value is
 * copied into a Go string), so GC cycles keep starting: the 4 MiB minimum
 * heap goal is crossed about every 64 rounds. Returns the failed calls. */
static int gc_churn(int rounds)
{
    int bad = 0;
    pthread_once(&churn_once, churn_init);
    for (int i = 0; i < rounds; i++) {
        memphis_headers_t *h = NULL;
        bad += memphis_headers_new(&h, NULL) != MEMPHIS_OK || memphis_headers_add(h, "churn", churn_value, NULL) != MEMPHIS_OK;
        memphis_headers_destroy(h, NULL);
    }
    return bad;
}

/* A string getter called with a poisoned out slot must return `want`. */
#define CHECK_STR_OUT(call_with_out, want)            \
    do {                                              \
        char *out = POISON;                           \
        OK(call_with_out);                            \
        CHECK(out != POISON && strcmp(out, want) == 0); \
        memphis_free(out);                            \
    } while (0)

MEMPHIS_TEST(out_params_garbage_getters, "unit")
{
    memphis_conn_opts_t *co = NULL;
    memphis_station_opts_t *so = NULL;
    memphis_producer_opts_t *po = NULL;
    memphis_consumer_opts_t *ko = NULL;
    memphis_headers_t *h = NULL;
    OK(memphis_conn_opts_new(&co, E));
    OK(memphis_conn_opts_set_host(co, "broker.example", E));
    OK(memphis_conn_opts_set_username(co, "alice", E));
    OK(memphis_station_opts_new("orders", &so, E));
    OK(memphis_station_opts_set_schema_name(so, "order-schema", E));
    OK(memphis_station_opts_set_dls_station(so, "orders-dls", E));
    OK(memphis_producer_opts_new("orders", "writer", &po, E));
    OK(memphis_consumer_opts_new("orders", "reader", &ko, E));
    OK(memphis_consumer_opts_set_group(ko, "readers", E));
    OK(memphis_headers_new(&h, E));
    OK(memphis_headers_add(h, "trace", "abc-123", E));

    /* 2000 rounds: about 30 GC cycles, each overlapping many poisoned stores */
    for (int round = 0; round < 2000; round++) {
        CHECK(gc_churn(1) == 0);
        CHECK_STR_OUT(memphis_conn_opts_get_host(co, &out, E), "broker.example");
        CHECK_STR_OUT(memphis_conn_opts_get_username(co, &out, E), "alice");
        CHECK_STR_OUT(memphis_station_opts_get_name(so, &out, E), "orders");
        CHECK_STR_OUT(memphis_station_opts_get_schema_name(so, &out, E), "order-schema");
        CHECK_STR_OUT(memphis_station_opts_get_dls_station(so, &out, E), "orders-dls");
        CHECK_STR_OUT(memphis_producer_opts_get_name(po, &out, E), "writer");
        CHECK_STR_OUT(memphis_producer_opts_get_station(po, 0, &out, E), "orders");
        CHECK_STR_OUT(memphis_consumer_opts_get_station_name(ko, &out, E), "orders");
        CHECK_STR_OUT(memphis_consumer_opts_get_name(ko, &out, E), "reader");
        CHECK_STR_OUT(memphis_consumer_opts_get_group(ko, &out, E), "readers");
        CHECK_STR_OUT(memphis_headers_get(h, "trace", &out, E), "abc-123");
    }
    OK(memphis_headers_destroy(h, E));
    OK(memphis_consumer_opts_destroy(ko, E));
    OK(memphis_producer_opts_destroy(po, E));
    OK(memphis_station_opts_destroy(so, E));
    OK(memphis_conn_opts_destroy(co, E));
}

/* Fills a station with OUT_MSGS messages "m-<i>", header "idx" = "<i>". */
static const char *fill_station(memphis_conn_t *c, const char *prefix)
{
    const char *station = uname_(prefix);
    memphis_producer_t *p = test_producer(c, station, "fill");
    for (int i = 0; i < OUT_MSGS; i++) {
        char buf[32], idx[16];
        int len = snprintf(buf, sizeof buf, "m-%d", i);
        snprintf(idx, sizeof idx, "%d", i);
        memphis_headers_t *h = NULL;
        OK(memphis_headers_new(&h, E));
        OK(memphis_headers_add(h, "idx", idx, E));
        memphis_produce_opts_t po;
        memphis_produce_opts_init(&po);
        po.headers = h;
        OK(memphis_producer_produce_async(p, buf, (size_t)len, &po, NULL, NULL, -1, E));
        OK(memphis_headers_destroy(h, E));
    }
    OK(memphis_producer_flush(p, 60000, NULL, E));
    OK(memphis_producer_destroy(p, E));
    return station;
}

static memphis_consumer_t *out_consumer(memphis_conn_t *c, const char *station, int batch)
{
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new(station, "reader", &o, E));
    OK(memphis_consumer_opts_set_batch_size(o, batch, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 200, E));
    OK(memphis_consumer_opts_set_pull_interval_ms(o, 1, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));
    return k;
}

/* Reads a batch through every call that stores a pointer into the caller's
 * memory, each slot poisoned first, with the GC cycling; checks what came
 * back; acks the messages. Returns the number of problems and
 * marks seen[i] for each message m-<i>. No harness assertions here: this
 * also runs on library threads (consume callbacks). */
static int read_batch_poisoned(memphis_msg_t **msgs, size_t count, char *seen)
{
    int bad = 0;
    const void *datas[OUT_BATCH];
    size_t lens[OUT_BATCH];
    if (count == 0 || count > OUT_BATCH)
        return 1;
    for (size_t i = 0; i < count; i++) {
        bad += gc_churn(1);
        for (size_t j = 0; j < count; j++)
            datas[j] = POISON;
        if (memphis_msgs_data(msgs, count, datas, lens, NULL) != MEMPHIS_OK)
            return bad + 1;
        bad += gc_churn(1);
        const void *d = POISON;
        size_t len = 0;
        bad += memphis_msg_data(msgs[i], &d, &len, NULL) != MEMPHIS_OK || d != datas[i] || len != lens[i] || len == 0 ||
               len > 16;
        if (bad)
            return bad;
        char text[17];
        memcpy(text, d, len);
        text[len] = 0;
        int k = -1;
        if (sscanf(text, "m-%d", &k) != 1 || k < 0 || k >= OUT_MSGS)
            return bad + 1;
        seen[k] = 1;
        char want_idx[16];
        snprintf(want_idx, sizeof want_idx, "%d", k);

        const char *key = POISON, *value = POISON;
        size_t nh = 0;
        bad += memphis_msg_header_count(msgs[i], &nh, NULL) != MEMPHIS_OK || nh == 0;
        int found = 0;
        for (size_t j = 0; j < nh; j++) {
            key = POISON;
            value = POISON;
            bad += memphis_msg_header_at(msgs[i], j, &key, &value, NULL) != MEMPHIS_OK || key == POISON || value == POISON;
            if (key != POISON && value != POISON && strcmp(key, "idx") == 0)
                found += strcmp(value, want_idx) == 0;
        }
        bad += found != 1;
        value = POISON;
        bad += memphis_msg_header_get(msgs[i], "idx", &value, NULL) != MEMPHIS_OK || value == POISON ||
               strcmp(value, want_idx) != 0;

        char *out = POISON;
        bad += memphis_msg_deserialize(msgs[i], &out, NULL) != MEMPHIS_OK || out == POISON || strcmp(out, text) != 0;
        if (out != POISON)
            memphis_free(out);
        out = POISON;
        bad += memphis_msg_schema_type(msgs[i], &out, NULL) != MEMPHIS_OK || out == POISON;
        if (out != POISON)
            memphis_free(out);
    }
    bad += memphis_msgs_ack(msgs, count, NULL) != MEMPHIS_OK;
    return bad;
}

struct out_state {
    pthread_mutex_t mu;
    int bad, batches;
    char seen[OUT_MSGS];
};

static int seen_all(struct out_state *s)
{
    pthread_mutex_lock(&s->mu);
    int n = 0;
    for (int i = 0; i < OUT_MSGS; i++)
        n += s->seen[i];
    pthread_mutex_unlock(&s->mu);
    return n == OUT_MSGS;
}

static void on_poisoned_batch(memphis_msg_t **msgs, size_t count, memphis_status_t st, const char *err, void *ud)
{
    (void)err;
    struct out_state *s = ud;
    if (st == MEMPHIS_ERR_NO_MESSAGES)
        return;
    pthread_mutex_lock(&s->mu);
    if (st != MEMPHIS_OK)
        s->bad++;
    else {
        s->bad += read_batch_poisoned(msgs, count, s->seen);
        s->batches++;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < count; i++)
        memphis_msg_destroy(msgs[i], NULL);
}

MEMPHIS_TEST(out_params_garbage_consume_callback, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    const char *station = fill_station(c, "c-outcb");
    memphis_consumer_t *k = out_consumer(c, station, OUT_BATCH);
    static struct out_state s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    OK(memphis_consumer_consume(k, on_poisoned_batch, &s, NULL, 0, E));
    double end = now_s() + 90;
    while (!seen_all(&s) && now_s() < end) {
        struct timespec nap = {0, 10000000};
        nanosleep(&nap, NULL);
    }
    OK(memphis_consumer_stop(k, E));
    pthread_mutex_lock(&s.mu);
    CHECK(s.bad == 0);
    CHECK(s.batches > 0);
    pthread_mutex_unlock(&s.mu);
    CHECK(seen_all(&s));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(out_params_garbage_fetch_and_queue, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    const char *station = fill_station(c, "c-outq");
    /* small batches: many events, each a poisoned store */
    memphis_consumer_t *k = out_consumer(c, station, 5);
    static struct out_state s = {.mu = PTHREAD_MUTEX_INITIALIZER};

    /* one batch by fetch */
    memphis_msg_t **msgs = POISON;
    size_t count = 0;
    CHECK(gc_churn(2) == 0);
    OK(memphis_consumer_fetch(k, OUT_BATCH, NULL, 0, &msgs, &count, E));
    CHECK(msgs != POISON && count > 0);
    CHECK(read_batch_poisoned(msgs, count, s.seen) == 0);
    OK(memphis_msgs_destroy(msgs, count, E));

    /* the rest through the event queue, every event field poisoned */
    memphis_queue_t *q = NULL;
    int tag = 0;
    OK(memphis_queue_new(0, &q, E));
    OK(memphis_consumer_consume_to_queue(k, q, &tag, NULL, 0, E));
    double end = now_s() + 90;
    while (!seen_all(&s) && now_s() < end) {
        memphis_event_t ev[4];
        for (size_t i = 0; i < 4; i++) {
            memset(&ev[i], 0, sizeof ev[i]);
            ev[i].error_message = POISON;
            ev[i].user_data = POISON;
            ev[i].msgs = POISON;
        }
        size_t n = 0;
        CHECK(gc_churn(2) == 0);
        OK(memphis_queue_poll(q, ev, 2, 500, &n, E));
        for (size_t i = 0; i < n; i++) {
            CHECK(ev[i].kind == MEMPHIS_EVENT_CONSUME && ev[i].user_data == &tag && ev[i].msgs != POISON &&
                  ev[i].error_message != POISON);
            if (ev[i].status == MEMPHIS_OK) {
                CHECK(ev[i].error_message == NULL);
                CHECK(read_batch_poisoned(ev[i].msgs, ev[i].count, s.seen) == 0);
            } else {
                CHECK(ev[i].status == MEMPHIS_ERR_NO_MESSAGES && ev[i].msgs == NULL && ev[i].error_message != NULL);
            }
            memphis_free(ev[i].error_message);
            OK(memphis_msgs_destroy(ev[i].msgs, ev[i].count, E));
        }
    }
    OK(memphis_consumer_stop(k, E));
    CHECK(seen_all(&s));
    /* events queued before stop returned */
    size_t n = 0;
    memphis_event_t ev[4];
    while (memphis_queue_poll(q, ev, 4, 0, &n, NULL) == MEMPHIS_OK && n > 0)
        for (size_t i = 0; i < n; i++) {
            memphis_free(ev[i].error_message);
            memphis_msgs_destroy(ev[i].msgs, ev[i].count, NULL);
        }
    OK(memphis_queue_destroy(q, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}
