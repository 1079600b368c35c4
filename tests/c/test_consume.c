/* Consuming: the push callback (ownership, NO_MESSAGES, stop, re-entrant
 * calls), fetch, one-shot fetch_messages, partitions, ack/nack/delay/
 * dead-letter, batch ack. */
#include <pthread.h>
#include <string.h>

#include "harness.h"

static void produce_n(memphis_conn_t *c, const char *station, int n)
{
    memphis_producer_t *p = test_producer(c, station, uname_("fill"));
    char buf[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "msg-%d", i);
        OK(memphis_producer_produce_async(p, buf, (size_t)len, NULL, NULL, NULL, -1, E));
    }
    OK(memphis_producer_flush(p, 30000, NULL, E));
    OK(memphis_producer_destroy(p, E));
}

struct consume_state {
    pthread_mutex_t mu;
    int received, batches, drained, errors, acked;
    memphis_consumer_t *self;
    int stop_after;   /* stop from inside the callback after this many */
    int destroy_in_cb;
    volatile int stopped_in_cb;
    memphis_msg_t *kept; /* a message kept beyond the callback */
    int bad_array;
};

static void on_batch(memphis_msg_t **msgs, size_t count, memphis_status_t st, const char *err, void *ud)
{
    struct consume_state *s = ud;
    pthread_mutex_lock(&s->mu);
    if (st == MEMPHIS_ERR_NO_MESSAGES) {
        s->drained++;
        if (count != 0 || msgs != NULL || err == NULL)
            s->bad_array++;
    } else if (st != MEMPHIS_OK) {
        s->errors++;
    } else {
        s->batches++;
        if (count == 0 || msgs == NULL || err != NULL)
            s->bad_array++;
        for (size_t i = 0; i < count; i++) {
            /* calls back into the library from the library's thread */
            if (memphis_msg_ack(msgs[i], NULL) == MEMPHIS_OK)
                s->acked++;
            if (!s->kept) {
                s->kept = msgs[i]; /* ownership is ours: keep it */
            } else {
                memphis_msg_destroy(msgs[i], NULL);
            }
            s->received++;
        }
    }
    int stop = s->stop_after && s->received >= s->stop_after && !s->stopped_in_cb;
    pthread_mutex_unlock(&s->mu);
    if (stop) {
        /* neither may deadlock on the callback that is running */
        if (s->destroy_in_cb) {
            if (memphis_consumer_destroy(s->self, NULL) == MEMPHIS_OK)
                s->stopped_in_cb = 1;
        } else if (memphis_consumer_stop(s->self, NULL) == MEMPHIS_OK) {
            s->stopped_in_cb = 1;
        }
    }
}

static int received(struct consume_state *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->received;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void wait_received(struct consume_state *s, int n)
{
    double end = now_s() + 30;
    while (received(s) < n && now_s() < end)
        ;
    CHECK(received(s) >= n);
}

MEMPHIS_TEST(consume_callback, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-consume", 30);
    memphis_consumer_t *k = test_consumer(c, "c-consume", "k");
    static struct consume_state s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    s.self = k;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_consume(k, NULL, &s, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_consume(k, on_batch, &s, NULL, -1, E));
    OK(memphis_consumer_consume(k, on_batch, &s, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_consume(k, on_batch, &s, NULL, 0, E));
    wait_received(&s, 30);
    /* a drained station reports NO_MESSAGES, not an error */
    double end = now_s() + 30;
    for (;;) {
        pthread_mutex_lock(&s.mu);
        int d = s.drained;
        pthread_mutex_unlock(&s.mu);
        if (d > 0 || now_s() > end)
            break;
    }
    OK(memphis_consumer_stop(k, E));
    pthread_mutex_lock(&s.mu);
    int after_stop = s.received + s.drained + s.errors;
    CHECK(s.received == 30 && s.acked == 30 && s.errors == 0 && s.bad_array == 0 && s.drained > 0);
    pthread_mutex_unlock(&s.mu);
    OK(memphis_consumer_stop(k, E)); /* idempotent */

    /* no callback runs after stop returned */
    produce_n(c, "c-consume", 5);
    memphis_msg_t **msgs = NULL;
    size_t n = 0;
    OK(memphis_consumer_fetch(k, 0, NULL, 0, &msgs, &n, E)); /* they stayed in the station */
    CHECK(n == 5);
    pthread_mutex_lock(&s.mu);
    CHECK(s.received + s.drained + s.errors == after_stop);
    pthread_mutex_unlock(&s.mu);
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_destroy(msgs, n, E));

    /* a stopped consumer can consume again */
    produce_n(c, "c-consume", 2);
    pthread_mutex_lock(&s.mu);
    int before = s.received;
    pthread_mutex_unlock(&s.mu);
    OK(memphis_consumer_consume(k, on_batch, &s, NULL, 0, E));
    wait_received(&s, before + 2);
    OK(memphis_consumer_stop(k, E));

    /* a message kept beyond its callback and beyond its consumer */
    OK(memphis_consumer_destroy(k, E));
    const void *data;
    size_t len;
    OK(memphis_msg_data(s.kept, &data, &len, E));
    CHECK(len == 5 && memcmp(data, "msg-0", 5) == 0);
    OK(memphis_msg_destroy(s.kept, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_destroy(s.kept, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_stop(k, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(consume_stop_in_callback, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-stopcb", 20);
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-stopcb", "k", &o, E));
    OK(memphis_consumer_opts_set_batch_size(o, 5, E));
    OK(memphis_consumer_opts_set_pull_interval_ms(o, 10, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 200, E));
    OK(memphis_consumer_create(c, o, &k, E));
    static struct consume_state s = {.mu = PTHREAD_MUTEX_INITIALIZER, .stop_after = 5};
    s.self = k;
    OK(memphis_consumer_consume(k, on_batch, &s, NULL, 0, E));
    CHECK(wait_for(&s.stopped_in_cb, 30));
    OK(memphis_consumer_stop(k, E));
    CHECK(received(&s) == 5); /* the loop ended with the stopping batch */
    OK(memphis_msg_destroy(s.kept, E));

    /* destroy from inside the callback */
    memphis_consumer_t *k2 = NULL;
    OK(memphis_consumer_opts_set_name(o, "k2", E));
    OK(memphis_consumer_create(c, o, &k2, E));
    static struct consume_state s2 = {.mu = PTHREAD_MUTEX_INITIALIZER, .stop_after = 5, .destroy_in_cb = 1};
    s2.self = k2;
    OK(memphis_consumer_consume(k2, on_batch, &s2, NULL, 0, E));
    CHECK(wait_for(&s2.stopped_in_cb, 30));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_stop(k2, E));
    OK(memphis_msg_destroy(s2.kept, E));
    OK(memphis_consumer_opts_destroy(o, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(fetch_and_ack_kinds, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-acks", 4);
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-acks", "k", &o, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 300, E));
    OK(memphis_consumer_opts_set_max_ack_time_ms(o, 60000, E));
    OK(memphis_consumer_opts_set_max_msg_deliveries(o, 5, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));

    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 4, &n);
    CHECK(n == 4);
    OK(memphis_msg_ack(msgs[0], E));
    OK(memphis_msg_nack(msgs[1], E));          /* redelivered now */
    OK(memphis_msg_delay(msgs[2], 300, E));    /* redelivered later */
    OK(memphis_msg_dead_letter(msgs[3], "bad", E)); /* never again */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_delay(msgs[2], -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_dead_letter(msgs[3], NULL, E));
    OK(memphis_msgs_destroy(msgs, n, E));

    msgs = fetch_n(k, 2, &n);
    CHECK(n == 2);
    char seen[2][8] = {{0}};
    for (size_t i = 0; i < n; i++) {
        const void *d;
        size_t l;
        OK(memphis_msg_data(msgs[i], &d, &l, E));
        CHECK(l < 8);
        memcpy(seen[i], d, l);
    }
    CHECK((strcmp(seen[0], "msg-1") == 0 && strcmp(seen[1], "msg-2") == 0) ||
          (strcmp(seen[0], "msg-2") == 0 && strcmp(seen[1], "msg-1") == 0));
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_ack(msgs, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msgs_ack(NULL, 1, E));
    OK(memphis_msgs_destroy(msgs, n, E));
    /* nothing left: an empty fetch is success with no array */
    memphis_msg_t **none = (memphis_msg_t **)(uintptr_t)1;
    OK(memphis_consumer_fetch(k, 10, NULL, 0, &none, &n, E));
    CHECK(none == NULL && n == 0);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 10, NULL, 0, NULL, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 10, NULL, 0, &none, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 5001, NULL, 0, &none, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 1, NULL, -3, &none, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msgs_destroy(NULL, 2, E));
    OK(memphis_msgs_destroy(NULL, 0, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(fetch_messages_oneshot, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-oneshot", 3);
    memphis_consumer_opts_t *o = NULL;
    OK(memphis_consumer_opts_new("c-oneshot", "once", &o, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 1000, E));
    memphis_msg_t **msgs = NULL;
    size_t n = 0;
    OK(memphis_fetch_messages(c, o, NULL, 0, &msgs, &n, E));
    CHECK(n >= 1 && n <= 3);
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_destroy(msgs, n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_fetch_messages(c, o, NULL, 0, NULL, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_fetch_messages(c, o, NULL, 0, &msgs, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_fetch_messages(c, NULL, NULL, 0, &msgs, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_fetch_messages(NULL, o, NULL, 0, &msgs, &n, E));
    OK(memphis_consumer_opts_set_name(o, "Bad Name!", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_fetch_messages(c, o, NULL, 0, &msgs, &n, E));
    OK(memphis_consumer_opts_destroy(o, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(partitions, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-parts", &so, E));
    OK(memphis_station_opts_set_partitions_number(so, 3, E));
    OK(memphis_station_create(c, so, &s, E));
    OK(memphis_station_opts_destroy(so, E));
    memphis_producer_t *p = test_producer(c, "c-parts", "p");
    memphis_produce_opts_t po;
    memphis_produce_opts_init(&po);
    po.partition_number = 2;
    for (int i = 0; i < 3; i++)
        OK(memphis_producer_produce(p, "two", 3, &po, E));
    po.partition_number = 0;
    po.partition_key = "customer-42";
    OK(memphis_producer_produce(p, "keyed", 5, &po, E));
    OK(memphis_producer_produce(p, "keyed", 5, &po, E));

    memphis_consumer_t *k = test_consumer(c, "c-parts", "k");
    memphis_msg_t **msgs = NULL;
    size_t n = 0;
    OK(memphis_consumer_fetch(k, 10, NULL, 2, &msgs, &n, E));
    CHECK(n >= 3);
    int part = 0;
    for (size_t i = 0; i < n; i++) {
        OK(memphis_msg_partition(msgs[i], &part, E));
        CHECK(part == 2);
    }
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_destroy(msgs, n, E));
    /* the key always maps to the same partition */
    OK(memphis_consumer_fetch(k, 10, "customer-42", 0, &msgs, &n, E));
    int first = -1;
    for (size_t i = 0; i < n; i++) {
        OK(memphis_msg_partition(msgs[i], &part, E));
        if (first < 0)
            first = part;
        CHECK(part == first);
    }
    OK(memphis_msgs_destroy(msgs, n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 10, NULL, 9, &msgs, &n, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_station_destroy(s, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(consumer_create_errors, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-errs", "Bad Name!", &o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_create(c, o, &k, E));
    CHECK(k == NULL);
    CHECK(strstr(memphis_error_message(t_err), "Consumer") != NULL);
    OK(memphis_consumer_opts_set_name(o, "ok", E));
    OK(memphis_consumer_opts_set_start_consume_from_sequence(o, 5, E));
    OK(memphis_consumer_opts_set_last_messages(o, 3, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_create(c, o, &k, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_create(c, o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_create(c, NULL, &k, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_create(NULL, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));

    memphis_producer_opts_t *po = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-errs", "Bad Name!", &po, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_create(c, po, &p, E));
    CHECK(p == NULL);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_create(c, po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_create(c, NULL, &p, E));
    OK(memphis_producer_opts_destroy(po, E));
    OK(memphis_conn_destroy(c, E));
}

struct outage {
    pthread_mutex_t mu;
    int received, errors;
};

static void on_outage_batch(memphis_msg_t **msgs, size_t count, memphis_status_t st, const char *err, void *ud)
{
    struct outage *o = ud;
    for (size_t i = 0; i < count; i++) {
        memphis_msg_ack(msgs[i], NULL);
        memphis_msg_destroy(msgs[i], NULL);
    }
    pthread_mutex_lock(&o->mu);
    o->received += (int)count;
    if (st != MEMPHIS_OK && st != MEMPHIS_ERR_NO_MESSAGES)
        o->errors++;
    pthread_mutex_unlock(&o->mu);
}

/* The broker restarts under a running consume loop: the callback sees the
 * outage as error statuses, and consuming resumes on its own afterwards. */
MEMPHIS_TEST(consume_survives_broker_restart, "integration")
{
    struct broker b;
    broker_start(&b, NULL);
    memphis_conn_opts_t *o = test_conn_opts(&b);
    OK(memphis_conn_opts_set_reconnect(o, true, E));
    OK(memphis_conn_opts_set_max_reconnect(o, -1, E));
    OK(memphis_conn_opts_set_reconnect_interval_ms(o, 100, E));
    memphis_conn_t *c = NULL;
    OK(memphis_connect(o, &c, E));
    OK(memphis_conn_opts_destroy(o, E));
    produce_n(c, "c-restart", 5);
    memphis_consumer_t *k = test_consumer(c, "c-restart", "k");
    static struct outage st = {.mu = PTHREAD_MUTEX_INITIALIZER};
    OK(memphis_consumer_consume(k, on_outage_batch, &st, NULL, 0, E));
    double end = now_s() + 30;
    for (int n = 0; n < 5 && now_s() < end;) {
        pthread_mutex_lock(&st.mu);
        n = st.received;
        pthread_mutex_unlock(&st.mu);
    }
    broker_restart(&b);
    /* produce after the restart through the reconnected connection */
    memphis_producer_t *p = test_producer(c, "c-restart", "p2");
    for (int i = 0; i < 5; i++)
        OK(memphis_producer_produce(p, "again", 5, NULL, E));
    end = now_s() + 60;
    int got = 0;
    while (got < 10 && now_s() < end) {
        pthread_mutex_lock(&st.mu);
        got = st.received;
        pthread_mutex_unlock(&st.mu);
    }
    CHECK(got == 10);
    OK(memphis_consumer_stop(k, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
    broker_stop(&b);
}

/* A message never acked within max deliveries becomes a poison message that
 * the broker resends to the group: it arrives with is_dls true and is acked
 * through the poison-ack path. */
MEMPHIS_TEST(poison_message_dls, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-poison", 1);
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-poison", "k", &o, E));
    OK(memphis_consumer_opts_set_max_msg_deliveries(o, 1, E));
    OK(memphis_consumer_opts_set_max_ack_time_ms(o, 1000, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 300, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 1, &n);
    CHECK(n == 1);
    bool dls = true;
    OK(memphis_msg_is_dls(msgs[0], &dls, E));
    CHECK(!dls);
    OK(memphis_msgs_destroy(msgs, n, E)); /* never acked */

    double end = now_s() + 40;
    bool found = false;
    while (!found && now_s() < end) {
        memphis_msg_t **got = NULL;
        size_t count = 0;
        OK(memphis_consumer_fetch(k, 10, NULL, 0, &got, &count, E));
        for (size_t i = 0; i < count; i++) {
            OK(memphis_msg_is_dls(got[i], &dls, E));
            if (dls) {
                const void *d;
                size_t l;
                OK(memphis_msg_data(got[i], &d, &l, E));
                CHECK(l == 5 && memcmp(d, "msg-0", 5) == 0);
                OK(memphis_msg_ack(got[i], E));
                found = true;
            }
        }
        OK(memphis_msgs_destroy(got, count, E));
    }
    CHECK(found);
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}
