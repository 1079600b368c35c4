/* Statistics and log events through the C API: the statistics documents
 * of connections, producers and consumers counted against known work (and
 * across a broker restart), the periodic statistics callback and queue
 * event, the log callback (levels, thread, reentrancy, replacement), and
 * a library that prints nothing of its own. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* The unsigned number after the first occurrence of `key` (e.g.
 * "\"acked\":") in doc; fails the test when absent. */
static unsigned long long num_at(const char *doc, const char *key)
{
    const char *p = strstr(doc, key);
    if (!p)
        test_fail(__FILE__, __LINE__, "%s not in %s", key, doc);
    return strtoull(p + strlen(key), NULL, 10);
}

static char *conn_doc(memphis_conn_t *c)
{
    char *doc = NULL;
    OK(memphis_conn_stats_json(c, &doc, E));
    CHECK(doc != NULL && strncmp(doc, "{\"version\":1,", 13) == 0);
    return doc;
}

static char *producer_doc(memphis_producer_t *p)
{
    char *doc = NULL;
    OK(memphis_producer_stats_json(p, &doc, E));
    CHECK(doc != NULL && doc[0] == '{');
    return doc;
}

static char *consumer_doc(memphis_consumer_t *k)
{
    char *doc = NULL;
    OK(memphis_consumer_stats_json(k, &doc, E));
    CHECK(doc != NULL && doc[0] == '{');
    return doc;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* produce 1000, 10 refused on purpose (schema validation), 990 acked,
 * fetched and acked: the documents count exactly that. */
MEMPHIS_TEST(stats_count_known_work, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *so = NULL;
    memphis_station_t *st = NULL;
    OK(memphis_station_opts_new("c-stats", &so, E));
    OK(memphis_station_create(c, so, &st, E));
    OK(memphis_station_opts_destroy(so, E));
    OK(memphis_schema_create(c, "c-stats-order", "json", "{\"type\":\"object\",\"required\":[\"id\"]}", E));
    OK(memphis_schema_enforce(c, "c-stats-order", "c-stats", E));
    memphis_producer_t *p = test_producer(c, "c-stats", "counter");

    const char *good = "{\"id\":1}", *bad = "{\"no\":1}";
    const void *batch[100];
    size_t lens[100];
    unsigned long long bytes = 0;
    int nbatch = 0;
    for (int i = 0; i < 1000; i++) {
        bool is_bad = i % 100 == 7;
        const char *m = is_bad ? bad : good;
        bytes += strlen(m);
        switch (i % 3) {
        case 0:
            EXPECT_ST(is_bad ? MEMPHIS_ERR_SCHEMA_VALIDATION : MEMPHIS_OK, memphis_producer_produce(p, m, strlen(m), NULL, E));
            break;
        case 1:
            EXPECT_ST(is_bad ? MEMPHIS_ERR_SCHEMA_VALIDATION : MEMPHIS_OK,
                      memphis_producer_produce_async(p, m, strlen(m), NULL, NULL, NULL, -1, E));
            break;
        default:
            if (is_bad) { /* a batch stops at a refused message: send it alone */
                size_t accepted = 9;
                EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION, memphis_producer_produce_batch(p, (const void *const *)&m, (size_t[]){strlen(m)},
                                                                                       NULL, 1, NULL, NULL, -1, &accepted, E));
                CHECK(accepted == 0);
                break;
            }
            batch[nbatch] = m;
            lens[nbatch++] = strlen(m);
            if (nbatch == 100 || i == 998) {
                size_t accepted = 0;
                OK(memphis_producer_produce_batch(p, batch, lens, NULL, (size_t)nbatch, NULL, NULL, -1, &accepted, E));
                CHECK(accepted == (size_t)nbatch);
                nbatch = 0;
            }
        }
    }
    CHECK(nbatch == 0);
    OK(memphis_producer_flush(p, 60000, NULL, E));

    char *pd = producer_doc(p);
    CHECK(num_at(pd, "\"produced\":") == 1000);
    CHECK(num_at(pd, "\"produced_bytes\":") == bytes);
    CHECK(num_at(pd, "\"acked\":") == 990);
    CHECK(num_at(pd, "\"failed\":") == 10);
    CHECK(strstr(pd, "\"failed_by_cause\":{\"schema_validation\":10}") != NULL);
    CHECK(num_at(pd, "\"in_flight\":") == 0);
    CHECK(num_at(pd, "\"ack_latency_us\":{\"count\":") == 990);
    CHECK(strstr(pd, "\"name\":\"counter\",\"stations\":[\"c-stats\"]") != NULL);
    memphis_free(pd);

    memphis_consumer_t *k = test_consumer(c, "c-stats", "reader");
    size_t got = 0;
    memphis_msg_t **msgs = fetch_n(k, 990, &got);
    CHECK(got == 990);
    OK(memphis_msgs_ack(msgs, got, E));
    for (size_t i = 0; i < got; i++)
        OK(memphis_msg_destroy(msgs[i], E));
    free(msgs);
    char *kd = consumer_doc(k);
    CHECK(num_at(kd, "\"fetched\":") == 990);
    CHECK(num_at(kd, "\"delivered\":") == 990);
    CHECK(num_at(kd, "\"acked\":") == 990);
    CHECK(num_at(kd, "\"ack_failures\":") == 0);
    CHECK(num_at(kd, "\"redelivered\":") == 0);
    memphis_free(kd);

    char *cd = conn_doc(c);
    CHECK(strstr(cd, "\"connected\":true,\"closed\":false") != NULL);
    CHECK(num_at(cd, "\"reconnects\":") == 0);
    /* create station, schema, enforce, producer, consumer */
    CHECK(num_at(cd, "\"control_requests\":") == 5);
    CHECK(num_at(cd, "\"control_failures\":") == 0);
    CHECK(strstr(cd, "\"producers\":[{\"name\":\"counter\"") != NULL);
    CHECK(strstr(cd, "\"consumers\":[{\"name\":\"reader\"") != NULL);
    memphis_free(cd);

    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_station_destroy(st, E));
    OK(memphis_conn_close(c, E));
    cd = conn_doc(c); /* a closed connection keeps its final counters */
    CHECK(strstr(cd, "\"connected\":false,\"closed\":true") != NULL);
    CHECK(strstr(cd, "\"producers\":[],\"consumers\":[]") != NULL);
    CHECK(num_at(cd, "\"control_requests\":") == 8);
    memphis_free(cd);
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(stats_bad_input, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-stats-bad", "p");
    memphis_consumer_t *k = test_consumer(c, "c-stats-bad", "k");
    char *doc = NULL;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_stats_json(c, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_stats_json(p, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_stats_json(k, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_stats_json((memphis_conn_t *)(void *)p, &doc, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_stats_json((memphis_producer_t *)(void *)k, &doc, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_stats_json((memphis_consumer_t *)(void *)c, &doc, E));
    CHECK(doc == NULL);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_consumer_destroy(k, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_stats_json(p, &doc, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_stats_json(k, &doc, E));
    OK(memphis_conn_destroy(c, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_stats_json(c, &doc, E));

    memphis_conn_opts_t *o = test_conn_opts(test_broker());
    int64_t ms = -1;
    OK(memphis_conn_opts_get_stats_interval_ms(o, &ms, E));
    CHECK(ms == 0);
    OK(memphis_conn_opts_set_stats_interval_ms(o, -5, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_connect(o, &c, E));
    CHECK(strstr(memphis_error_message(t_err), "stats interval") != NULL);
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_opts_set_stats_queue(o, (memphis_queue_t *)(void *)p, NULL, E));
    OK(memphis_conn_opts_set_stats_queue(o, NULL, NULL, E));
    OK(memphis_conn_opts_set_stats_cb(o, NULL, NULL, E));
    OK(memphis_conn_opts_destroy(o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_opts_set_stats_cb(o, NULL, NULL, E));
}

struct stats_calls {
    pthread_mutex_t mu;
    int calls;
    int bad;
    memphis_conn_t *conn;
    pthread_t caller;
    volatile int three;
};

static void on_stats(const char *json, size_t len, void *ud)
{
    struct stats_calls *s = ud;
    /* Reentrancy: the callback may call into the library. */
    char *again = NULL;
    memphis_status_t st = s->conn ? memphis_conn_stats_json(s->conn, &again, NULL) : MEMPHIS_OK;
    pthread_mutex_lock(&s->mu);
    if (strlen(json) != len || strncmp(json, "{\"version\":1,", 13) != 0 || st != MEMPHIS_OK ||
        pthread_equal(pthread_self(), s->caller))
        s->bad++;
    if (++s->calls >= 3)
        s->three = 1;
    pthread_mutex_unlock(&s->mu);
    memphis_free(again);
}

MEMPHIS_TEST(stats_periodic_callback, "integration")
{
    struct stats_calls s = {.mu = PTHREAD_MUTEX_INITIALIZER, .caller = pthread_self()};
    memphis_conn_opts_t *o = test_conn_opts(test_broker());
    OK(memphis_conn_opts_set_stats_interval_ms(o, 30, E));
    OK(memphis_conn_opts_set_stats_cb(o, on_stats, &s, E));
    memphis_conn_t *c = NULL;
    OK(memphis_connect(o, &c, E));
    OK(memphis_conn_opts_destroy(o, E));
    pthread_mutex_lock(&s.mu);
    s.conn = c;
    pthread_mutex_unlock(&s.mu);
    CHECK(wait_for(&s.three, 30));
    OK(memphis_conn_close(c, E)); /* waits for a running callback */
    pthread_mutex_lock(&s.mu);
    int calls = s.calls;
    CHECK(s.bad == 0);
    pthread_mutex_unlock(&s.mu);
    sleep_ms(150);
    pthread_mutex_lock(&s.mu);
    CHECK(s.calls == calls); /* none after close */
    pthread_mutex_unlock(&s.mu);
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(stats_periodic_queue, "integration")
{
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(4, &q, E));
    memphis_conn_opts_t *o = test_conn_opts(test_broker());
    int tag = 7;
    OK(memphis_conn_opts_set_stats_interval_ms(o, 20, E));
    OK(memphis_conn_opts_set_stats_queue(o, q, &tag, E));
    memphis_conn_t *c = NULL;
    OK(memphis_connect(o, &c, E));
    OK(memphis_conn_opts_destroy(o, E));
    /* A full queue drops snapshots instead of holding up the connection. */
    sleep_ms(300);
    memphis_event_t ev[8];
    size_t n = 0;
    OK(memphis_queue_poll(q, ev, 8, 10000, &n, E));
    CHECK(n >= 1 && n <= 4);
    for (size_t i = 0; i < n; i++) {
        CHECK(ev[i].kind == MEMPHIS_EVENT_STATS && ev[i].status == MEMPHIS_OK && ev[i].user_data == &tag);
        CHECK(ev[i].error_message == NULL && ev[i].msgs == NULL && ev[i].count == 0);
        CHECK(ev[i].stats_json && strncmp(ev[i].stats_json, "{\"version\":1,", 13) == 0);
        memphis_free(ev[i].stats_json);
    }
    OK(memphis_queue_poll(q, ev, 8, 10000, &n, E)); /* they keep coming */
    CHECK(n >= 1);
    for (size_t i = 0; i < n; i++)
        memphis_free(ev[i].stats_json);
    OK(memphis_queue_destroy(q, E)); /* snapshots for a destroyed queue are dropped */
    sleep_ms(100);
    OK(memphis_conn_destroy(c, E));
}

struct retry_sum {
    pthread_mutex_t mu;
    long retries;
    int reports;
    int failed;
};

static void on_delivery(memphis_status_t st, const char *msg, uint64_t seq, void *ud)
{
    (void)msg;
    (void)seq;
    struct retry_sum *r = ud;
    pthread_mutex_lock(&r->mu);
    r->retries += memphis_delivery_retries();
    r->reports++;
    if (st != MEMPHIS_OK)
        r->failed++;
    pthread_mutex_unlock(&r->mu);
}

/* A broker restart mid-produce: the reconnect, the outage and every retry
 * are counted; each message is counted once. */
MEMPHIS_TEST(stats_across_restart, "integration")
{
    struct broker b;
    broker_start(&b, NULL);
    memphis_conn_t *c = test_connect_reconnecting(&b, 100);
    memphis_producer_opts_t *po = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new("c-stats-restart", "p", &po, E));
    OK(memphis_producer_opts_set_idempotent(po, true, E));
    OK(memphis_producer_opts_set_ack_wait_ms(po, 60000, E));
    OK(memphis_producer_opts_set_max_in_flight(po, 10000, E));
    OK(memphis_producer_create(c, po, &p, E));
    OK(memphis_producer_opts_destroy(po, E));
    struct retry_sum r = {.mu = PTHREAD_MUTEX_INITIALIZER};
    /* 200 messages sent to a paused broker that is then killed: each is
     * resent after the restart, so at least 200 retries. */
    const int n = 4500, paused_at = 2000, killed_at = 2200, restart_at = 2500;
    for (int i = 0; i < n; i++) {
        char m[32];
        int len = snprintf(m, sizeof m, "m-%d", i);
        if (i == paused_at)
            broker_pause(&b);
        if (i == killed_at)
            broker_kill(&b);
        if (i == restart_at) {
            sleep_ms(300);
            broker_restart(&b);
        }
        OK(memphis_producer_produce_async(p, m, (size_t)len, NULL, on_delivery, &r, -1, E));
    }
    OK(memphis_producer_flush(p, 120000, NULL, E));
    char *cd = NULL;
    for (double end = now_s() + 30; now_s() < end; sleep_ms(20)) {
        cd = conn_doc(c);
        if (num_at(cd, "\"reconnects\":") == 1)
            break;
        memphis_free(cd);
        cd = NULL;
    }
    CHECK(cd != NULL);
    CHECK(num_at(cd, "\"disconnects\":") == 1);
    CHECK(num_at(cd, "\"disconnected_ms\":") > 0);
    CHECK(strstr(cd, "\"connected\":true") != NULL);
    memphis_free(cd);
    char *pd = producer_doc(p);
    pthread_mutex_lock(&r.mu);
    CHECK(r.reports == n && r.failed == 0);
    CHECK(r.retries >= killed_at - paused_at);
    CHECK(num_at(pd, "\"produced\":") == (unsigned long long)n);
    CHECK(num_at(pd, "\"acked\":") == (unsigned long long)n);
    CHECK(num_at(pd, "\"failed\":") == 0);
    CHECK(num_at(pd, "\"retries\":") == (unsigned long long)r.retries);
    printf("restart: %ld retries counted\n", r.retries);
    pthread_mutex_unlock(&r.mu);
    memphis_free(pd);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
    broker_stop(&b);
}

/* ------------------------------------------------------------------------ */
/* Log events                                                                */
/* ------------------------------------------------------------------------ */

#define MAXREC 256
struct log_sink {
    pthread_mutex_t mu;
    int n;
    memphis_log_level_t level[MAXREC];
    char text[MAXREC][512];
    int on_caller_thread;
    int reentered;
    pthread_t caller;
};
static struct log_sink sink = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_log(memphis_log_level_t level, const char *message, void *ud)
{
    struct log_sink *s = ud;
    pthread_mutex_lock(&s->mu);
    if (s->n < MAXREC) {
        s->level[s->n] = level;
        snprintf(s->text[s->n], sizeof s->text[0], "%s", message);
        s->n++;
    }
    if (pthread_equal(pthread_self(), s->caller))
        s->on_caller_thread++;
    int first = s->reentered == 0;
    s->reentered = 1;
    pthread_mutex_unlock(&s->mu);
    if (first) /* reentrancy: the callback may set the callback (it must not wait for itself) */
        memphis_set_log_callback(on_log, ud, MEMPHIS_LOG_INFO, NULL);
}

/* The index of the first record starting with prefix, or -1. */
static int find_log(const char *prefix)
{
    pthread_mutex_lock(&sink.mu);
    int at = -1;
    for (int i = 0; i < sink.n && at < 0; i++)
        if (strncmp(sink.text[i], prefix, strlen(prefix)) == 0)
            at = i;
    pthread_mutex_unlock(&sink.mu);
    return at;
}

static int wait_log(const char *prefix)
{
    for (double end = now_s() + 30; now_s() < end; sleep_ms(10))
        if (find_log(prefix) >= 0)
            return find_log(prefix);
    test_fail(__FILE__, __LINE__, "no log record \"%s\"", prefix);
}

MEMPHIS_TEST(log_callback, "integration")
{
    struct broker *b = test_broker();
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_set_log_callback(on_log, &sink, (memphis_log_level_t)5, E));
    sink.caller = pthread_self();
    OK(memphis_set_log_callback(on_log, &sink, MEMPHIS_LOG_INFO, E));

    memphis_conn_t *c = test_connect(b);
    int at = wait_log("connected ");
    char *cd = conn_doc(c);
    char id[64] = "connection_id=";
    const char *p = strstr(cd, "\"connection_id\":\"");
    CHECK(p);
    strncat(id, p + 17, 36);
    memphis_free(cd);
    pthread_mutex_lock(&sink.mu);
    CHECK(sink.level[at] == MEMPHIS_LOG_INFO);
    CHECK(strstr(sink.text[at], id) != NULL);
    CHECK(sink.on_caller_thread == 0);
    pthread_mutex_unlock(&sink.mu);

    /* A failed nonblocking produce nobody is told about: a warning. */
    memphis_station_opts_t *so = NULL;
    memphis_station_t *st = NULL;
    OK(memphis_station_opts_new("c-log-gone", &so, E));
    OK(memphis_station_create(c, so, &st, E));
    OK(memphis_station_opts_destroy(so, E));
    memphis_producer_t *prod = test_producer(c, "c-log-gone", "p");
    OK(memphis_station_destroy(st, E));
    memphis_produce_opts_t po;
    memphis_produce_opts_init(&po);
    po.ack_wait_ms = 2000;
    OK(memphis_producer_produce_async(prod, "x", 1, &po, NULL, NULL, -1, E));
    CHECK(memphis_producer_flush(prod, 30000, NULL, NULL) != MEMPHIS_OK);
    at = wait_log("nonblocking produce failed ");
    pthread_mutex_lock(&sink.mu);
    CHECK(sink.level[at] == MEMPHIS_LOG_WARN);
    CHECK(strstr(sink.text[at], "producer=p station=c-log-gone") != NULL);
    pthread_mutex_unlock(&sink.mu);
    OK(memphis_producer_destroy(prod, E));

    /* A level filters what is less severe. */
    OK(memphis_set_log_callback(on_log, &sink, MEMPHIS_LOG_WARN, E));
    pthread_mutex_lock(&sink.mu);
    int before = sink.n;
    pthread_mutex_unlock(&sink.mu);
    memphis_conn_t *c2 = test_connect(b); /* "connected" is info */
    OK(memphis_conn_destroy(c2, E));
    sleep_ms(200);
    pthread_mutex_lock(&sink.mu);
    CHECK(sink.n == before);
    pthread_mutex_unlock(&sink.mu);

    /* Off: once set returns, the callback is never called again. */
    OK(memphis_set_log_callback(NULL, NULL, MEMPHIS_LOG_DEBUG, E));
    pthread_mutex_lock(&sink.mu);
    before = sink.n;
    pthread_mutex_unlock(&sink.mu);
    c2 = test_connect(b);
    OK(memphis_conn_destroy(c2, E));
    sleep_ms(200);
    pthread_mutex_lock(&sink.mu);
    CHECK(sink.n == before);
    CHECK(sink.reentered == 1);
    pthread_mutex_unlock(&sink.mu);
    OK(memphis_conn_destroy(c, E));
}

/* Without a log callback the library prints nothing: work that logs
 * (connect, a failing nonblocking produce, close) leaves stdout and
 * stderr empty. */
MEMPHIS_TEST(nothing_printed, "integration")
{
    struct broker *b = test_broker();
    fflush(stdout);
    fflush(stderr);
    char path[] = "/tmp/memphis-ctest-printed-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);

    /* A warning-level event: a nonblocking produce to a station destroyed
     * under it fails with nobody told. */
    memphis_conn_t *c = test_connect(b);
    memphis_station_opts_t *so = NULL;
    memphis_station_t *sta = NULL;
    memphis_station_opts_new("c-quiet", &so, NULL);
    memphis_station_create(c, so, &sta, NULL);
    memphis_station_opts_destroy(so, NULL);
    memphis_producer_t *p = test_producer(c, "c-quiet", "p");
    memphis_station_destroy(sta, NULL);
    memphis_produce_opts_t po;
    memphis_produce_opts_init(&po);
    po.ack_wait_ms = 2000;
    memphis_producer_produce_async(p, "x", 1, &po, NULL, NULL, -1, NULL);
    memphis_status_t st = memphis_producer_flush(p, 30000, NULL, NULL);
    memphis_producer_destroy(p, NULL);
    memphis_conn_destroy(c, NULL);

    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    struct stat sb;
    CHECK(fstat(fd, &sb) == 0);
    close(fd);
    unlink(path);
    CHECK(st != MEMPHIS_OK);
    if (sb.st_size != 0)
        test_fail(__FILE__, __LINE__, "the library printed %lld bytes", (long long)sb.st_size);
}
