/* Producing: sync, nonblocking with delivery reports, batches, flush,
 * backpressure, oversize payloads, a broker that dies mid-produce. */
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

struct tally {
    int ok, failed, calls;
    uint64_t last_seq;
    memphis_status_t last_status;
    int user_sum; /* sum of the per-message user_data values seen */
    pthread_mutex_t mu;
};
#define TALLY_INIT {0, 0, 0, 0, MEMPHIS_OK, 0, PTHREAD_MUTEX_INITIALIZER}

static struct tally g;

static void on_delivery(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    pthread_mutex_lock(&g.mu);
    g.calls++;
    if (st == MEMPHIS_OK) {
        g.ok++;
        if (msg != NULL)
            g.failed += 1000; /* success must come without a message */
    } else {
        g.failed++;
        if (msg == NULL || !*msg)
            g.failed += 1000;
    }
    g.last_seq = seq;
    g.last_status = st;
    g.user_sum += (int)(intptr_t)ud;
    pthread_mutex_unlock(&g.mu);
}

static int calls(void)
{
    pthread_mutex_lock(&g.mu);
    int n = g.calls;
    pthread_mutex_unlock(&g.mu);
    return n;
}

MEMPHIS_TEST(produce_sync_roundtrip, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-sync", "p");
    memphis_headers_t *h = NULL;
    OK(memphis_headers_new(&h, E));
    OK(memphis_headers_add(h, "trace", "abc", E));
    memphis_produce_opts_t o;
    memphis_produce_opts_init(&o);
    o.headers = h;
    o.msg_id = "id-1";
    o.ack_wait_ms = 5000;
    const char payload[] = "hello\0binary";
    OK(memphis_producer_produce(p, payload, sizeof payload, &o, E));
    OK(memphis_headers_destroy(h, E)); /* headers were copied */
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce(p, payload, sizeof payload, &o, E));
    o.headers = NULL;
    OK(memphis_producer_produce(p, payload, sizeof payload, &o, E)); /* duplicate msg id */
    OK(memphis_producer_produce(p, NULL, 0, NULL, E));               /* empty message */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, NULL, 3, NULL, E));
    o.headers = NULL;
    o.partition_number = -1;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, "x", 1, &o, E));
    o.partition_number = 0;
    o.ack_wait_ms = -1;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, "x", 1, &o, E));
    /* one-shot produce on the connection */
    OK(memphis_conn_produce(c, "c-sync", "oneshot", "third", 5, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_produce(c, NULL, "x", "a", 1, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_produce(c, "c-sync", NULL, "a", 1, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_produce(c, "c-sync", "x", NULL, 1, NULL, E));

    memphis_consumer_t *k = test_consumer(c, "c-sync", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 3, &n);
    CHECK(n == 3); /* the duplicate was de-duplicated */
    const void *data;
    size_t len;
    OK(memphis_msg_data(msgs[0], &data, &len, E));
    CHECK(len == sizeof payload && memcmp(data, payload, len) == 0);
    const char *v = NULL;
    OK(memphis_msg_header_get(msgs[0], "trace", &v, E));
    CHECK(strcmp(v, "abc") == 0);
    OK(memphis_msg_header_get(msgs[0], "$memphis_producedBy", &v, E));
    CHECK(strcmp(v, "p") == 0);
    EXPECT_ST(MEMPHIS_ERR_NOT_FOUND, memphis_msg_header_get(msgs[0], "absent", &v, E));
    size_t hc = 0;
    OK(memphis_msg_header_count(msgs[0], &hc, E));
    CHECK(hc >= 3);
    const char *key = NULL, *prev = "";
    for (size_t i = 0; i < hc; i++) {
        OK(memphis_msg_header_at(msgs[0], i, &key, &v, E));
        CHECK(strcmp(prev, key) < 0); /* sorted by key */
        prev = key;
    }
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_header_at(msgs[0], hc, &key, &v, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_header_at(msgs[0], 0, NULL, &v, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_header_at(msgs[0], 0, &key, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_header_get(msgs[0], NULL, &v, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_header_get(msgs[0], "k", NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_header_count(msgs[0], NULL, E));
    uint64_t seq = 0;
    int64_t ts = 0;
    int part = 0;
    bool dls = true;
    OK(memphis_msg_sequence(msgs[0], &seq, E));
    CHECK(seq == 1);
    OK(memphis_msg_sequence(msgs[2], &seq, E));
    CHECK(seq == 3);
    OK(memphis_msg_time_sent(msgs[0], &ts, E));
    CHECK(ts > 1700000000000LL);
    OK(memphis_msg_partition(msgs[0], &part, E));
    CHECK(part == 1);
    OK(memphis_msg_is_dls(msgs[0], &dls, E));
    CHECK(!dls);
    OK(memphis_msg_data(msgs[1], &data, &len, E));
    CHECK(len == 0 && data != NULL);
    OK(memphis_msg_data(msgs[2], &data, &len, E));
    CHECK(len == 5 && memcmp(data, "third", 5) == 0);
    char *text = NULL;
    OK(memphis_msg_deserialize(msgs[2], &text, E)); /* no schema: the raw text */
    CHECK(strcmp(text, "third") == 0);
    memphis_free(text);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_data(msgs[0], NULL, &len, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_data(msgs[0], &data, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_sequence(msgs[0], NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_time_sent(msgs[0], NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_partition(msgs[0], NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_is_dls(msgs[0], NULL, E));
    /* all payloads in one call */
    const void *datas[3];
    size_t lens[3];
    OK(memphis_msgs_data(msgs, n, datas, lens, E));
    CHECK(lens[0] == sizeof payload && memcmp(datas[0], payload, lens[0]) == 0);
    CHECK(lens[1] == 0 && lens[2] == 5 && memcmp(datas[2], "third", 5) == 0);
    OK(memphis_msgs_data(msgs, 0, NULL, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msgs_data(NULL, 1, datas, lens, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msgs_data(msgs, n, NULL, lens, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msgs_data(msgs, n, datas, NULL, E));
    OK(memphis_msgs_ack(msgs, n, E));
    memphis_msg_t *gone = msgs[1];
    OK(memphis_msgs_destroy(msgs, n, E));
    memphis_msg_t *stale[1] = {gone};
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msgs_data(stale, 1, datas, lens, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_destroy(p, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce(p, "x", 1, NULL, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(produce_async_callbacks, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-async", "p");
    enum { N = 500 };
    char buf[64];
    int want_sum = 0;
    for (int i = 1; i <= N; i++) {
        int len = snprintf(buf, sizeof buf, "m%d", i);
        OK(memphis_producer_produce_async(p, buf, (size_t)len, NULL, on_delivery, (void *)(intptr_t)i, -1, E));
        want_sum += i;
    }
    uint64_t failed = 99;
    OK(memphis_producer_flush(p, 30000, &failed, E));
    CHECK(failed == 0);
    /* flush returns after every delivery report ran */
    CHECK(calls() == N && g.ok == N && g.failed == 0);
    CHECK(g.user_sum == want_sum);
    /* NULL callback: successes are silent, flush reports nothing */
    for (int i = 0; i < 50; i++)
        OK(memphis_producer_produce_async(p, "q", 1, NULL, NULL, NULL, 100, E));
    OK(memphis_producer_flush(p, 30000, &failed, E));
    CHECK(failed == 0);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce_async(p, NULL, 1, NULL, NULL, NULL, 0, E));
    OK(memphis_producer_flush(p, 0, NULL, E)); /* nothing pending */
    OK(memphis_producer_destroy(p, E));

    memphis_consumer_t *k = test_consumer(c, "c-async", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, N + 50, &n);
    CHECK(n == N + 50);
    uint64_t seq = 0;
    OK(memphis_msg_sequence(msgs[N - 1], &seq, E));
    CHECK(seq == N);
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(produce_batch, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-batch", "p");
    enum { N = 1000 };
    static char bufs[N][16];
    const void *data[N];
    size_t lens[N];
    void *uds[N];
    memphis_produce_opts_t opts[N];
    int want_sum = 0;
    for (int i = 0; i < N; i++) {
        lens[i] = (size_t)snprintf(bufs[i], sizeof bufs[i], "b%d", i);
        data[i] = bufs[i];
        uds[i] = (void *)(intptr_t)(i + 1);
        want_sum += i + 1;
        memphis_produce_opts_init(&opts[i]);
    }
    opts[3].msg_id = "dup";
    opts[4].msg_id = "dup"; /* de-duplicated by the broker: still acknowledged */
    size_t accepted = 0;
    OK(memphis_producer_produce_batch(p, data, lens, opts, N, on_delivery, uds, -1, &accepted, E));
    CHECK(accepted == N);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(calls() == N && g.ok == N && g.user_sum == want_sum);
    /* without opts/user_data/callback, and with an empty batch */
    OK(memphis_producer_produce_batch(p, data, lens, NULL, 10, NULL, NULL, -1, NULL, E));
    OK(memphis_producer_produce_batch(p, NULL, NULL, NULL, 0, NULL, NULL, 0, &accepted, E));
    CHECK(accepted == 0);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce_batch(p, NULL, lens, NULL, 2, NULL, NULL, 0, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce_batch(p, data, NULL, NULL, 2, NULL, NULL, 0, NULL, E));
    /* a bad element is found before anything is sent */
    const void *mixed[3] = {"a", NULL, "c"};
    size_t mixed_lens[3] = {1, 4, 1};
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT,
              memphis_producer_produce_batch(p, mixed, mixed_lens, NULL, 3, NULL, NULL, -1, &accepted, E));
    CHECK(accepted == 0);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    OK(memphis_producer_destroy(p, E));

    memphis_consumer_t *k = test_consumer(c, "c-batch", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, N - 1 + 10, &n);
    CHECK(n == N - 1 + 10);
    const void *d;
    size_t l;
    OK(memphis_msg_data(msgs[N - 2], &d, &l, E));
    CHECK(l == strlen("b999") && memcmp(d, "b999", l) == 0);
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

/* Input buffers belong to the caller again as soon as a produce call
 * returns: one buffer, overwritten right after every call (before any ack
 * can arrive), and the broker still stores each message as it was passed. */
MEMPHIS_TEST(produce_buffers_reusable, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-reuse", "p");
    enum { ASYNC = 100, SYNC = 3, BATCH = 8, TOTAL = ASYNC + SYNC + BATCH };
    char buf[BATCH * 16];
    for (int i = 0; i < ASYNC; i++) {
        int len = snprintf(buf, sizeof buf, "m%03d", i);
        OK(memphis_producer_produce_async(p, buf, (size_t)len, NULL, NULL, NULL, -1, E));
        memset(buf, '#', sizeof buf);
    }
    for (int i = ASYNC; i < ASYNC + SYNC; i++) {
        int len = snprintf(buf, sizeof buf, "m%03d", i);
        OK(memphis_producer_produce(p, buf, (size_t)len, NULL, E));
        memset(buf, '#', sizeof buf);
    }
    const void *data[BATCH];
    size_t lens[BATCH];
    for (int i = 0; i < BATCH; i++) {
        lens[i] = (size_t)snprintf(buf + i * 16, 16, "m%03d", ASYNC + SYNC + i);
        data[i] = buf + i * 16;
    }
    OK(memphis_producer_produce_batch(p, data, lens, NULL, BATCH, NULL, NULL, -1, NULL, E));
    memset(buf, '#', sizeof buf);
    OK(memphis_producer_flush(p, 30000, NULL, E));

    memphis_consumer_t *k = test_consumer(c, "c-reuse", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, TOTAL, &n);
    CHECK(n == TOTAL);
    int seen[TOTAL] = {0}, bad = 0;
    for (size_t i = 0; i < n; i++) {
        const void *d;
        size_t l;
        char text[8] = {0};
        int idx = -1;
        OK(memphis_msg_data(msgs[i], &d, &l, E));
        memcpy(text, d, l < 7 ? l : 7);
        if (l != 4 || sscanf(text, "m%d", &idx) != 1 || idx < 0 || idx >= TOTAL || seen[idx]++)
            bad++;
    }
    CHECK(bad == 0);
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
}

/* A message refused mid-batch cuts the batch off there: *accepted is its
 * index, the status says why, the messages before it are delivered with
 * exactly one callback each and nothing after it is sent or reported. */
MEMPHIS_TEST(produce_batch_cut_off, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-cut", &so, E));
    OK(memphis_station_create(c, so, &s, E));
    OK(memphis_station_opts_destroy(so, E));
    OK(memphis_schema_create(c, "c-cut-json", "json",
                             "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"number\"}},\"required\":[\"id\"]}", E));
    OK(memphis_schema_enforce(c, "c-cut-json", "c-cut", E));
    memphis_producer_t *p = test_producer(c, "c-cut", "p");

    enum { N = 10 };
    const char *good = "{\"id\": 7}", *bad = "{\"id\": \"seven\"}";
    const void *data[N];
    size_t lens[N];
    void *uds[N];
    memphis_produce_opts_t opts[N];
    for (int i = 0; i < N; i++) {
        data[i] = good;
        lens[i] = strlen(good);
        uds[i] = (void *)(intptr_t)(i + 1);
        memphis_produce_opts_init(&opts[i]);
    }
    /* message 6 violates the schema */
    data[6] = bad;
    lens[6] = strlen(bad);
    size_t accepted = 99;
    EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION,
              memphis_producer_produce_batch(p, data, lens, opts, N, on_delivery, uds, -1, &accepted, E));
    CHECK(accepted == 6);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(calls() == 6 && g.ok == 6 && g.user_sum == 1 + 2 + 3 + 4 + 5 + 6);
    data[6] = good;
    lens[6] = strlen(good);

    /* message 4 asks for a partition key and a number at once (refused by
     * the sdk), then message 2 has a negative partition (refused while its
     * options are read): the earliest refusal decides */
    opts[4].partition_key = "k";
    opts[4].partition_number = 1;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT,
              memphis_producer_produce_batch(p, data, lens, opts, N, on_delivery, uds, -1, &accepted, E));
    CHECK(accepted == 4);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(calls() == 6 + 4 && g.ok == 6 + 4 && g.user_sum == 21 + 1 + 2 + 3 + 4);
    opts[2].partition_number = -1;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT,
              memphis_producer_produce_batch(p, data, lens, opts, N, on_delivery, uds, -1, &accepted, E));
    CHECK(accepted == 2);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(calls() == 10 + 2 && g.ok == 10 + 2 && g.failed == 0);
    opts[2].partition_number = 0;
    opts[4].partition_key = NULL;
    opts[4].partition_number = 0;

    /* the same cut-off with reports going to a queue */
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(0, &q, E));
    data[3] = bad;
    lens[3] = strlen(bad);
    EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION,
              memphis_producer_produce_batch_to_queue(p, data, lens, opts, N, q, uds, -1, &accepted, E));
    CHECK(accepted == 3);
    OK(memphis_producer_flush(p, 30000, NULL, E)); /* every report is queued */
    memphis_event_t ev[N];
    size_t got = 0;
    OK(memphis_queue_poll(q, ev, N, 0, &got, E));
    CHECK(got == 3);
    for (size_t i = 0; i < got && i < 3; i++)
        CHECK(ev[i].kind == MEMPHIS_EVENT_DELIVERY && ev[i].status == MEMPHIS_OK && ev[i].user_data == uds[i]);
    OK(memphis_queue_destroy(q, E));
    OK(memphis_producer_destroy(p, E));
    CHECK(calls() == 12); /* no late report of a refused message */

    memphis_consumer_t *k = test_consumer(c, "c-cut", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 15, &n);
    CHECK(n == 15);
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_station_free(s, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(oversize_payload, "integration")
{
    struct broker b;
    broker_start(&b, "--max-payload", "4096", NULL);
    memphis_conn_t *c = test_connect(&b);
    memphis_producer_t *p = test_producer(c, "c-big", "p");
    size_t big = 64 * 1024;
    char *buf = calloc(1, big);
    EXPECT_ST(MEMPHIS_ERR_PAYLOAD_TOO_LARGE, memphis_producer_produce(p, buf, big, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_PAYLOAD_TOO_LARGE, memphis_producer_produce_async(p, buf, big, NULL, on_delivery, NULL, -1, E));
    OK(memphis_producer_produce(p, buf, 100, NULL, E)); /* the producer is still usable */
    OK(memphis_producer_flush(p, 10000, NULL, E));
    CHECK(calls() == 0); /* the rejected message got no callback */
    free(buf);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
    broker_stop(&b);
}

/* A stopped broker sends no acks: the window fills and block_timeout_ms = 0
 * fails at once with QUEUE_FULL; flush times out; after SIGCONT all
 * deliveries complete. */
MEMPHIS_TEST(queue_full_backpressure, "integration")
{
    struct broker *b = test_broker();
    memphis_conn_t *c = test_connect(b);
    memphis_producer_opts_t *o = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-window", "p", &o, E));
    OK(memphis_producer_opts_set_max_in_flight(o, 4, E));
    OK(memphis_producer_create(c, o, &p, E));
    OK(memphis_producer_opts_destroy(o, E));

    broker_pause(b);
    for (int i = 0; i < 4; i++)
        OK(memphis_producer_produce_async(p, "w", 1, NULL, on_delivery, NULL, 0, E));
    double t0 = now_s();
    EXPECT_ST(MEMPHIS_ERR_QUEUE_FULL, memphis_producer_produce_async(p, "w", 1, NULL, on_delivery, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_QUEUE_FULL, memphis_producer_produce_async(p, "w", 1, NULL, on_delivery, NULL, 200, E));
    size_t accepted = 9;
    const void *d[2] = {"a", "b"};
    size_t l[2] = {1, 1};
    EXPECT_ST(MEMPHIS_ERR_QUEUE_FULL, memphis_producer_produce_batch(p, d, l, NULL, 2, on_delivery, NULL, 0, &accepted, E));
    CHECK(accepted == 0);
    EXPECT_ST(MEMPHIS_ERR_TIMEOUT, memphis_producer_flush(p, 100, NULL, E));
    CHECK(now_s() - t0 < 10); /* no call waited for the 15 s ack wait */
    CHECK(calls() == 0);
    broker_resume(b);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(calls() == 4 && g.ok == 4);
    OK(memphis_producer_produce_async(p, "w", 1, NULL, on_delivery, NULL, 0, E));
    OK(memphis_producer_destroy(p, E)); /* destroy flushes */
    CHECK(calls() == 5);
    OK(memphis_conn_destroy(c, E));
}

/* The broker dies while messages are in flight: every accepted message gets
 * a failure report, later produces fail fast, nothing crashes or hangs. */
MEMPHIS_TEST(broker_dies_mid_produce, "integration")
{
    struct broker b;
    broker_start(&b, NULL);
    memphis_conn_t *c = test_connect(&b);
    memphis_producer_opts_t *o = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-dies", "p", &o, E));
    OK(memphis_producer_opts_set_ack_wait_ms(o, 2000, E));
    OK(memphis_producer_create(c, o, &p, E));
    OK(memphis_producer_opts_destroy(o, E));
    OK(memphis_producer_produce(p, "before", 6, NULL, E));

    broker_pause(&b); /* acks stop; then the broker vanishes */
    int accepted = 0;
    for (int i = 0; i < 100; i++)
        if (memphis_producer_produce_async(p, "x", 1, NULL, on_delivery, NULL, 0, NULL) == MEMPHIS_OK)
            accepted++;
    broker_kill(&b);
    uint64_t failed = 0;
    memphis_status_t st = memphis_producer_flush(p, 30000, &failed, E);
    /* reported to the callbacks, and counted by flush too */
    CHECK(accepted == 0 || (st != MEMPHIS_OK && failed == (uint64_t)accepted));
    if (!(calls() == accepted && g.failed == accepted && g.ok == 0))
        test_fail(__FILE__, __LINE__, "accepted %d calls %d failed %d ok %d", accepted, calls(), g.failed, g.ok);
    CHECK(g.last_status != MEMPHIS_OK);

    /* without callbacks the failures are counted by flush */
    memphis_status_t sync = memphis_producer_produce(p, "after", 5, NULL, E);
    CHECK(sync == MEMPHIS_ERR_NOT_CONNECTED || sync == MEMPHIS_ERR_CLOSED || sync == MEMPHIS_ERR_TIMEOUT);
    memphis_status_t as = memphis_producer_produce_async(p, "after", 5, NULL, NULL, NULL, 0, E);
    if (as == MEMPHIS_OK) {
        st = memphis_producer_flush(p, 30000, &failed, E);
        CHECK(st != MEMPHIS_OK && failed == 1);
    }
    bool up = true;
    OK(memphis_conn_is_connected(c, &up, E));
    CHECK(!up);
    memphis_producer_destroy(p, E); /* may report the lost broker; must not hang */
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
    broker_stop(&b);
}

struct thread_arg {
    memphis_producer_t *p;
    int n;
    int errors;
};

static void *produce_thread(void *a)
{
    struct thread_arg *ta = a;
    for (int i = 0; i < ta->n; i++) {
        if (memphis_producer_produce_async(ta->p, "t", 1, NULL, on_delivery, NULL, -1, NULL) != MEMPHIS_OK)
            ta->errors++;
        if (i % 50 == 0 && memphis_producer_produce(ta->p, "s", 1, NULL, NULL) != MEMPHIS_OK)
            ta->errors++;
    }
    return NULL;
}

MEMPHIS_TEST(produce_from_threads, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-threads", "p");
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct thread_arg){p, 250, 0};
        CHECK(pthread_create(&th[i], NULL, produce_thread, &args[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].errors == 0);
    }
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(g.ok == 1000);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
}

/* Flush from inside one of the producer's own delivery callbacks returns
 * at once and leaves the failures for the next flush outside. */
static memphis_producer_t *inner_p;
static memphis_status_t inner_st = MEMPHIS_ERR_INTERNAL;
static uint64_t inner_failed = 99;

static void on_flush_inside(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    (void)st;
    (void)msg;
    (void)seq;
    (void)ud;
    uint64_t failed = 99;
    memphis_status_t fst = memphis_producer_flush(inner_p, -1, &failed, NULL);
    pthread_mutex_lock(&g.mu);
    inner_st = fst;
    inner_failed = failed;
    g.calls++;
    pthread_mutex_unlock(&g.mu);
}

MEMPHIS_TEST(flush_inside_own_callback, "integration")
{
    struct broker *b = test_broker();
    memphis_conn_t *c = test_connect(b);
    inner_p = test_producer(c, "c-flushin", "p");
    memphis_produce_opts_t o;
    memphis_produce_opts_init(&o);
    o.ack_wait_ms = 300;
    broker_pause(b);
    OK(memphis_producer_produce_async(inner_p, "lost", 4, &o, NULL, NULL, 0, E));
    OK(memphis_producer_produce_async(inner_p, "cb", 2, &o, on_flush_inside, NULL, 0, E));
    uint64_t failed = 0;
    EXPECT_ST(MEMPHIS_ERR_TIMEOUT, memphis_producer_flush(inner_p, 30000, &failed, E));
    broker_resume(b);
    pthread_mutex_lock(&g.mu);
    int n = g.calls;
    memphis_status_t ist = inner_st;
    uint64_t ifailed = inner_failed;
    pthread_mutex_unlock(&g.mu);
    CHECK(n == 1);
    CHECK(ist == MEMPHIS_OK && ifailed == 0); /* did not wait for itself, took nothing */
    CHECK(failed == 2);                        /* both failures, the callback's included */
    OK(memphis_producer_destroy(inner_p, E));
    OK(memphis_conn_destroy(c, E));
}

/* Nonblocking produces that fail (no ack within their ack wait) are counted
 * and reported by the next flush, once: those without a callback, with one
 * and through a queue alike, but not those the caller awaits itself. */
MEMPHIS_TEST(flush_reports_failures, "integration")
{
    struct broker *b = test_broker();
    memphis_conn_t *c = test_connect(b);
    memphis_producer_t *p = test_producer(c, "c-flushfail", "p");
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(0, &q, E));
    memphis_produce_opts_t o;
    memphis_produce_opts_init(&o);
    CHECK(!o.awaited);
    o.ack_wait_ms = 300;
    memphis_produce_opts_t awaited = o;
    awaited.awaited = true;
    broker_pause(b);
    for (int i = 0; i < 5; i++)
        OK(memphis_producer_produce_async(p, "lost", 4, &o, NULL, NULL, 0, E));
    OK(memphis_producer_produce_async(p, "cb", 2, &o, on_delivery, NULL, 0, E));
    OK(memphis_producer_produce_async_to_queue(p, "q", 1, &o, q, NULL, 0, E));
    OK(memphis_producer_produce_async(p, "aw", 2, &awaited, on_delivery, NULL, 0, E));
    OK(memphis_producer_produce_async_to_queue(p, "awq", 3, &awaited, q, NULL, 0, E));
    const void *bd[2] = {"b1", "b2"};
    size_t bl[2] = {2, 2};
    memphis_produce_opts_t bo[2] = {o, awaited};
    size_t accepted = 0;
    OK(memphis_producer_produce_batch(p, bd, bl, bo, 2, NULL, NULL, 0, &accepted, E));
    CHECK(accepted == 2);
    uint64_t failed = 0;
    EXPECT_ST(MEMPHIS_ERR_TIMEOUT, memphis_producer_flush(p, 30000, &failed, E));
    CHECK(failed == 8); /* 5 + callback + queue + the batch's first */
    if (!strstr(memphis_error_message(t_err), "ack") || !strstr(memphis_error_message(t_err), "8 messages failed"))
        test_fail(__FILE__, __LINE__, "flush error: %s", memphis_error_message(t_err));
    CHECK(calls() == 2 && g.failed == 2);
    memphis_event_t ev[4];
    size_t n = 0;
    OK(memphis_queue_poll(q, ev, 4, 0, &n, E));
    CHECK(n == 2 && ev[0].status == MEMPHIS_ERR_TIMEOUT && ev[1].status == MEMPHIS_ERR_TIMEOUT);
    for (size_t i = 0; i < n; i++)
        memphis_free(ev[i].error_message);
    OK(memphis_queue_destroy(q, E));
    broker_resume(b);
    OK(memphis_producer_flush(p, 30000, &failed, E)); /* reported once */
    CHECK(failed == 0);
    OK(memphis_producer_produce_async(p, "kept", 4, NULL, NULL, NULL, -1, E));
    OK(memphis_producer_flush(p, 30000, &failed, E));
    CHECK(failed == 0);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
}
