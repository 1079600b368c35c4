/* bench.c - the C API (libmemphis.so) under the bench/c harness, layer
 * "c-api": every scenario through include/memphis.h. See bench/README.md.
 *
 *   capi-bench [--host H --port P] sync:512:1:2000 async:512:4:20000 ... */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "memphis.h"

typedef struct {
    memphis_conn_t *conn;
} capi_t;

/* Copies a failed call's message into res->error (or err) and frees it. */
static int failed(memphis_status_t st, memphis_error_t *e, const char *what, char *err, size_t errlen)
{
    if (st == MEMPHIS_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", what, e ? memphis_error_message(e) : memphis_status_name(st));
    memphis_error_free(e);
    return -1;
}

static void *capi_open(const bench_config_t *cfg, char *err, size_t errlen)
{
    memphis_error_t *e = NULL;
    memphis_conn_opts_t *o = NULL;
    memphis_conn_t *conn = NULL;
    if (failed(memphis_conn_opts_new(&o, &e), e, "options", err, errlen) ||
        failed(memphis_conn_opts_set_host(o, cfg->host, &e), e, "host", err, errlen) ||
        failed(memphis_conn_opts_set_port(o, cfg->port, &e), e, "port", err, errlen) ||
        failed(memphis_conn_opts_set_username(o, cfg->user, &e), e, "user", err, errlen) ||
        failed(memphis_conn_opts_set_password(o, cfg->password, &e), e, "password", err, errlen) ||
        failed(memphis_connect(o, &conn, &e), e, "connect", err, errlen)) {
        memphis_conn_opts_destroy(o, NULL);
        return NULL;
    }
    memphis_conn_opts_destroy(o, NULL);
    capi_t *c = calloc(1, sizeof *c);
    c->conn = conn;
    return c;
}

static void capi_close(void *state)
{
    capi_t *c = state;
    memphis_conn_destroy(c->conn, NULL);
    free(c);
}

static memphis_producer_t *producer(memphis_conn_t *conn, const char *station, const char *name, char *err, size_t errlen)
{
    memphis_error_t *e = NULL;
    memphis_producer_opts_t *o = NULL;
    memphis_producer_t *p = NULL;
    if (failed(memphis_producer_opts_new(station, name, &o, &e), e, "producer options", err, errlen))
        return NULL;
    if (failed(memphis_producer_create(conn, o, &p, &e), e, "create producer", err, errlen))
        p = NULL;
    memphis_producer_opts_destroy(o, NULL);
    return p;
}

/* What one producer thread needs. */
typedef struct {
    const bench_cell_t *cell;
    memphis_producer_t **producers;
    const unsigned char *payload;
} produce_ctx_t;

static int produce_worker(void *p, int index, long count, double *lat, char *err, size_t errlen)
{
    produce_ctx_t *ctx = p;
    memphis_producer_t *prod = ctx->producers[index];
    size_t size = (size_t)ctx->cell->size;
    memphis_error_t *e = NULL;
    const char *sc = ctx->cell->scenario;
    if (strcmp(sc, "sync") == 0) {
        for (long i = 0; i < count; i++) {
            double t = bench_now_us();
            if (failed(memphis_producer_produce(prod, ctx->payload, size, NULL, &e), e, "produce", err, errlen))
                return -1;
            lat[i] = bench_now_us() - t;
        }
        return 0;
    }
    if (strcmp(sc, "async") == 0) {
        for (long i = 0; i < count; i++)
            if (failed(memphis_producer_produce_async(prod, ctx->payload, size, NULL, NULL, NULL, -1, &e), e,
                       "produce_async", err, errlen))
                return -1;
    } else { /* batch */
        const void *data[BENCH_BATCH];
        size_t lens[BENCH_BATCH];
        for (int i = 0; i < BENCH_BATCH; i++) {
            data[i] = ctx->payload;
            lens[i] = size;
        }
        for (long done = 0; done < count; done += BENCH_BATCH) {
            size_t n = count - done < BENCH_BATCH ? (size_t)(count - done) : BENCH_BATCH;
            if (failed(memphis_producer_produce_batch(prod, data, lens, NULL, n, NULL, NULL, -1, NULL, &e), e,
                       "produce_batch", err, errlen))
                return -1;
        }
    }
    uint64_t lost = 0;
    if (failed(memphis_producer_flush(prod, -1, &lost, &e), e, "flush", err, errlen))
        return -1;
    return 0;
}

static memphis_consumer_t *consumer(memphis_conn_t *conn, const char *station, char *err, size_t errlen)
{
    memphis_error_t *e = NULL;
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    if (failed(memphis_consumer_opts_new(station, "reader", &o, &e), e, "consumer options", err, errlen))
        return NULL;
    if (failed(memphis_consumer_opts_set_batch_size(o, BENCH_BATCH, &e), e, "batch size", err, errlen) ||
        failed(memphis_consumer_opts_set_batch_max_wait_ms(o, 1000, &e), e, "batch wait", err, errlen) ||
        failed(memphis_consumer_opts_set_pull_interval_ms(o, 1, &e), e, "pull interval", err, errlen) ||
        failed(memphis_consumer_create(conn, o, &k, &e), e, "create consumer", err, errlen))
        k = NULL;
    memphis_consumer_opts_destroy(o, NULL);
    return k;
}

static void run_fetch(memphis_consumer_t *k, long n, bench_result_t *res)
{
    memphis_error_t *e = NULL;
    static const void *datas[BENCH_BATCH];
    static size_t lens[BENCH_BATCH];
    bench_clock_t clock = bench_clock_start();
    long got = 0;
    while (got < n) {
        memphis_msg_t **msgs = NULL;
        size_t count = 0;
        if (failed(memphis_consumer_fetch(k, n - got < BENCH_BATCH ? (size_t)(n - got) : BENCH_BATCH, NULL, 0, &msgs, &count, &e), e, "fetch", res->error,
                   sizeof res->error))
            return;
        if (count == 0) {
            snprintf(res->error, sizeof res->error, "station drained after %ld of %ld messages", got, n);
            return;
        }
        int bad = failed(memphis_msgs_data(msgs, count, datas, lens, &e), e, "data", res->error, sizeof res->error) ||
                  failed(memphis_msgs_ack(msgs, count, &e), e, "ack", res->error, sizeof res->error);
        memphis_msgs_destroy(msgs, count, NULL);
        if (bad)
            return;
        got += (long)count;
    }
    bench_clock_finish(clock, n, NULL, 0, res);
}

/* The consume callback's progress, shared with the waiting thread. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    long got, want;
    int ack; /* acknowledge each batch (consume), or only read it (consume-noack) */
    char error[256];
} consume_state_t;

static void on_batch(memphis_msg_t **msgs, size_t count, memphis_status_t status, const char *text, void *user)
{
    consume_state_t *s = user;
    if (status != MEMPHIS_OK) {
        if (status != MEMPHIS_ERR_NO_MESSAGES) {
            pthread_mutex_lock(&s->mu);
            if (!s->error[0])
                snprintf(s->error, sizeof s->error, "consume: %s", text ? text : memphis_status_name(status));
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const void *d;
        size_t len;
        memphis_msg_data(msgs[i], &d, &len, NULL);
    }
    memphis_error_t *e = NULL;
    memphis_status_t st = s->ack ? memphis_msgs_ack(msgs, count, &e) : MEMPHIS_OK;
    for (size_t i = 0; i < count; i++)
        memphis_msg_destroy(msgs[i], NULL);
    pthread_mutex_lock(&s->mu);
    if (st != MEMPHIS_OK && !s->error[0])
        snprintf(s->error, sizeof s->error, "ack: %s", memphis_error_message(e));
    s->got += (long)count;
    if (s->got >= s->want || s->error[0])
        pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    memphis_error_free(e);
}

static void run_consume(memphis_consumer_t *k, long n, int ack, bench_result_t *res)
{
    memphis_error_t *e = NULL;
    consume_state_t s = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .want = n, .ack = ack};
    bench_clock_t clock = bench_clock_start();
    if (failed(memphis_consumer_consume(k, on_batch, &s, NULL, 0, &e), e, "consume", res->error, sizeof res->error))
        return;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += BENCH_CONSUME_TIMEOUT_S;
    pthread_mutex_lock(&s.mu);
    int rc = 0;
    while (s.got < n && !s.error[0] && rc == 0)
        rc = pthread_cond_timedwait(&s.cv, &s.mu, &deadline);
    long got = s.got;
    pthread_mutex_unlock(&s.mu);
    bench_clock_finish(clock, n, NULL, 0, res);
    memphis_consumer_stop(k, NULL);
    if (s.error[0])
        snprintf(res->error, sizeof res->error, "%s", s.error);
    else if (got < n)
        snprintf(res->error, sizeof res->error, "consume loop delivered %ld of %ld messages in %d s", got, n,
                 BENCH_CONSUME_TIMEOUT_S);
}

static void capi_run(void *state, const bench_cell_t *cell, const char *station_name, bench_result_t *res)
{
    capi_t *c = state;
    memphis_error_t *e = NULL;
    memphis_station_opts_t *so = NULL;
    memphis_station_t *station = NULL;
    if (failed(memphis_station_opts_new(station_name, &so, &e), e, "station options", res->error, sizeof res->error))
        return;
    int bad = failed(memphis_station_create(c->conn, so, &station, &e), e, "create station", res->error, sizeof res->error);
    memphis_station_opts_destroy(so, NULL);
    if (bad)
        return;
    unsigned char *payload = bench_payload(cell->size);
    int consuming = strcmp(cell->scenario, "fetch") == 0 || strncmp(cell->scenario, "consume", 7) == 0;
    int np = consuming ? 1 : cell->producers;
    memphis_producer_t **producers = calloc((size_t)np, sizeof *producers);
    for (int i = 0; i < np; i++) {
        char name[32];
        snprintf(name, sizeof name, consuming ? "filler" : "p%d", i);
        if ((producers[i] = producer(c->conn, station_name, name, res->error, sizeof res->error)) == NULL)
            goto out;
    }
    if (consuming) {
        /* Fill the station (untimed) through the nonblocking path. */
        bench_cell_t fill = *cell;
        snprintf(fill.scenario, sizeof fill.scenario, "async");
        fill.producers = 1;
        produce_ctx_t ctx = {.cell = &fill, .producers = producers, .payload = payload};
        if (produce_worker(&ctx, 0, cell->count, NULL, res->error, sizeof res->error) != 0)
            goto out;
        memphis_consumer_t *k = consumer(c->conn, station_name, res->error, sizeof res->error);
        if (k == NULL)
            goto out;
        if (strcmp(cell->scenario, "fetch") == 0)
            run_fetch(k, cell->count, res);
        else
            run_consume(k, cell->count, strcmp(cell->scenario, "consume") == 0, res);
        memphis_consumer_destroy(k, NULL);
    } else {
        int sync = strcmp(cell->scenario, "sync") == 0;
        double *lat = sync ? malloc((size_t)cell->count * sizeof *lat) : NULL;
        produce_ctx_t ctx = {.cell = cell, .producers = producers, .payload = payload};
        bench_clock_t clock = bench_clock_start();
        if (bench_parallel(cell, produce_worker, &ctx, lat, res->error, sizeof res->error) == 0)
            bench_clock_finish(clock, cell->count, lat, sync ? cell->count : 0, res);
        free(lat);
    }
out:
    for (int i = 0; i < np; i++)
        if (producers[i])
            memphis_producer_destroy(producers[i], NULL);
    free(producers);
    free(payload);
    memphis_station_destroy(station, NULL);
}

int main(int argc, char **argv)
{
    static const bench_layer_t layer = {"c-api", capi_open, capi_run, capi_close};
    return bench_main(argc, argv, &layer);
}
