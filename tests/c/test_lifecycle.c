/* Destroy order, re-entrant callbacks, multi-station producers. */
#include <pthread.h>
#include <string.h>

#include "harness.h"

/* Connection first, then everything that hangs off it. */
MEMPHIS_TEST(destroy_any_order, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-order", &so, E));
    OK(memphis_station_create(c, so, &s, E));
    memphis_producer_t *p = test_producer(c, "c-order", "p");
    OK(memphis_producer_produce(p, "m", 1, NULL, E));
    memphis_consumer_t *k = test_consumer(c, "c-order", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 1, &n);
    CHECK(n == 1);

    OK(memphis_conn_destroy(c, E));
    /* children fail cleanly ... */
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_producer_produce(p, "m", 1, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_producer_produce_async(p, "m", 1, NULL, NULL, NULL, 0, E));
    memphis_msg_t **more = NULL;
    size_t m = 0;
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_consumer_fetch(k, 1, NULL, 0, &more, &m, E));
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_msg_ack(msgs[0], E));
    const void *d;
    size_t l;
    OK(memphis_msg_data(msgs[0], &d, &l, E)); /* data stays readable */
    CHECK(l == 1 && memcmp(d, "m", 1) == 0);
    /* ... and can still be destroyed, in any order */
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_producer_destroy(p, E));
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_station_destroy(s, E));
    OK(memphis_station_opts_destroy(so, E));
}

struct reentrant {
    memphis_producer_t *p;
    volatile int calls, nested_ok, flushed, destroyed;
    int destroy_at;
};

/* From a delivery callback: produce more, flush (must not wait for
 * itself), and finally destroy the producer. */
static void on_delivery(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    struct reentrant *r = ud;
    int call = __atomic_add_fetch(&r->calls, 1, __ATOMIC_SEQ_CST);
    if (call <= 3 && memphis_producer_produce_async(r->p, "nested", 6, NULL, on_delivery, r, 0, NULL) == MEMPHIS_OK)
        __atomic_add_fetch(&r->nested_ok, 1, __ATOMIC_SEQ_CST);
    if (call == 2 && memphis_producer_flush(r->p, 10000, NULL, NULL) == MEMPHIS_OK)
        r->flushed = 1;
    if (call == r->destroy_at && memphis_producer_destroy(r->p, NULL) == MEMPHIS_OK)
        r->destroyed = 1;
}

MEMPHIS_TEST(reentrant_delivery_callbacks, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    static struct reentrant r = {.destroy_at = 4};
    r.p = test_producer(c, "c-reentrant", "p");
    OK(memphis_producer_produce_async(r.p, "first", 5, NULL, on_delivery, &r, -1, E));
    CHECK(wait_for(&r.destroyed, 30));
    CHECK(r.nested_ok == 3 && r.flushed);
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_destroy(r.p, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(multi_station_producer, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_opts_t *o = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-multi-a", "p", &o, E));
    OK(memphis_producer_opts_add_station(o, "c-multi-b", E));
    OK(memphis_producer_create(c, o, &p, E));
    OK(memphis_producer_opts_add_station(o, "c-multi-c", E)); /* the producer kept its copy */
    OK(memphis_producer_opts_destroy(o, E));
    OK(memphis_producer_produce(p, "both", 4, NULL, E));
    OK(memphis_producer_destroy(p, E));
    const char *stations[] = {"c-multi-a", "c-multi-b"};
    for (int i = 0; i < 2; i++) {
        memphis_consumer_t *k = test_consumer(c, stations[i], "k");
        size_t n = 0;
        memphis_msg_t **msgs = fetch_n(k, 1, &n);
        CHECK(n == 1);
        OK(memphis_msgs_destroy(msgs, n, E));
        OK(memphis_consumer_destroy(k, E));
    }
    OK(memphis_conn_destroy(c, E));
}

struct closer {
    memphis_conn_t *conn;
    volatile int closed;
};

static void close_from_delivery(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    struct closer *cl = ud;
    if (!cl->closed && memphis_conn_destroy(cl->conn, NULL) == MEMPHIS_OK)
        cl->closed = 1;
}

static void close_from_consume(memphis_msg_t **msgs, size_t count, memphis_status_t st, const char *err, void *ud)
{
    struct closer *cl = ud;
    for (size_t i = 0; i < count; i++)
        memphis_msg_destroy(msgs[i], NULL);
    if (!cl->closed && memphis_conn_destroy(cl->conn, NULL) == MEMPHIS_OK)
        cl->closed = 1;
}

/* Destroying the whole connection from inside its own callbacks must not
 * deadlock; the objects are then closed but still destroyable. */
MEMPHIS_TEST(close_conn_in_callbacks, "integration")
{
    static struct closer a, b;
    a.conn = test_connect(test_broker());
    memphis_producer_t *p = test_producer(a.conn, "c-close-cb", "p");
    OK(memphis_producer_produce_async(p, "x", 1, NULL, close_from_delivery, &a, -1, E));
    CHECK(wait_for(&a.closed, 30));
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_producer_produce(p, "x", 1, NULL, E));
    OK(memphis_producer_destroy(p, E));

    b.conn = test_connect(test_broker());
    memphis_consumer_t *k = test_consumer(b.conn, "c-close-cb", "k");
    OK(memphis_consumer_consume(k, close_from_consume, &b, NULL, 0, E));
    CHECK(wait_for(&b.closed, 30));
    OK(memphis_consumer_stop(k, E));
    OK(memphis_consumer_destroy(k, E));
}

struct hammer {
    memphis_producer_t *p;
    volatile int stop;
    int ok, gone, other;
};

static volatile int hammer_reports;

static void count_report(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    __atomic_add_fetch(&hammer_reports, 1, __ATOMIC_SEQ_CST);
}

static void *hammer_thread(void *a)
{
    struct hammer *h = a;
    while (!h->stop) {
        memphis_status_t st = memphis_producer_produce_async(h->p, "h", 1, NULL, count_report, NULL, 0, NULL);
        if (st == MEMPHIS_OK)
            h->ok++;
        else if (st == MEMPHIS_ERR_INVALID_HANDLE || st == MEMPHIS_ERR_CLOSED)
            h->gone++;
        else if (st != MEMPHIS_ERR_QUEUE_FULL)
            h->other++;
        if (h->gone > 100)
            break;
    }
    return NULL;
}

/* A producer destroyed while other threads keep producing through it:
 * they get INVALID_HANDLE/CLOSED, never a crash, and every message that
 * was accepted still gets its delivery report. */
MEMPHIS_TEST(destroy_while_in_use, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-hammer", "p");
    struct hammer hs[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        hs[i] = (struct hammer){.p = p};
        CHECK(pthread_create(&th[i], NULL, hammer_thread, &hs[i]) == 0);
    }
    double end = now_s() + 30;
    while (now_s() < end && (hs[0].ok + hs[1].ok + hs[2].ok) < 300)
        ;
    OK(memphis_producer_destroy(p, E));
    int accepted = 0;
    for (int i = 0; i < 3; i++) {
        hs[i].stop = 1;
        pthread_join(th[i], NULL);
        CHECK(hs[i].other == 0);
        accepted += hs[i].ok;
    }
    CHECK(accepted >= 300);
    /* produces racing with destroy may have been accepted after its flush:
     * their reports still arrive (as success or CLOSED) */
    end = now_s() + 30;
    while (now_s() < end && __atomic_load_n(&hammer_reports, __ATOMIC_SEQ_CST) < accepted)
        ;
    CHECK(__atomic_load_n(&hammer_reports, __ATOMIC_SEQ_CST) == accepted);
    OK(memphis_conn_destroy(c, E));
}
