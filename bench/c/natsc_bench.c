/* natsc_bench.c - nats.c (Debian's libnats-dev), layer "nats.c": the
 * native C JetStream client a C user could pick instead of libmemphis, as
 * the C API's anchor. It publishes to and pulls from the stream of a station
 * created through libmemphis (so stream and durable are configured exactly
 * as the broker does for every layer), with the same two headers libmemphis
 * puts on every message, the same in-flight window and the same ack wait
 * (read from libmemphis's producer defaults). See bench/README.md. */
#define _POSIX_C_SOURCE 200809L
#include <nats/nats.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "memphis.h"

typedef struct {
    memphis_conn_t *admin; /* stations and consumer groups only */
    natsConnection *nc;
    char conn_id[64];
    int64_t window, ack_wait_ms;
} natsc_t;

static int memphis_failed(memphis_status_t st, memphis_error_t *e, const char *what, char *err, size_t errlen)
{
    if (st == MEMPHIS_OK)
        return 0;
    snprintf(err, errlen, "%s: %s", what, e ? memphis_error_message(e) : memphis_status_name(st));
    memphis_error_free(e);
    return -1;
}

static int nats_failed(natsStatus s, jsErrCode jerr, const char *what, char *err, size_t errlen)
{
    if (s == NATS_OK)
        return 0;
    snprintf(err, errlen, "%s: %s (%s, js error %d)", what, natsStatus_GetText(s), nats_GetLastError(NULL), (int)jerr);
    return -1;
}

static void *natsc_open(const bench_config_t *cfg, char *err, size_t errlen)
{
    natsc_t *c = calloc(1, sizeof *c);
    memphis_error_t *e = NULL;
    memphis_conn_opts_t *o = NULL;
    memphis_producer_opts_t *po = NULL;
    int window = 0;
    if (memphis_failed(memphis_conn_opts_new(&o, &e), e, "options", err, errlen) ||
        memphis_failed(memphis_conn_opts_set_host(o, cfg->host, &e), e, "host", err, errlen) ||
        memphis_failed(memphis_conn_opts_set_port(o, cfg->port, &e), e, "port", err, errlen) ||
        memphis_failed(memphis_conn_opts_set_username(o, cfg->user, &e), e, "user", err, errlen) ||
        memphis_failed(memphis_conn_opts_set_password(o, cfg->password, &e), e, "password", err, errlen) ||
        memphis_failed(memphis_connect(o, &c->admin, &e), e, "connect (libmemphis)", err, errlen) ||
        memphis_failed(memphis_producer_opts_new("defaults", "defaults", &po, &e), e, "producer defaults", err, errlen) ||
        memphis_failed(memphis_producer_opts_get_max_in_flight(po, &window, &e), e, "window", err, errlen) ||
        memphis_failed(memphis_producer_opts_get_ack_wait_ms(po, &c->ack_wait_ms, &e), e, "ack wait", err, errlen)) {
        memphis_conn_opts_destroy(o, NULL);
        memphis_producer_opts_destroy(po, NULL);
        free(c);
        return NULL;
    }
    memphis_conn_opts_destroy(o, NULL);
    memphis_producer_opts_destroy(po, NULL);
    c->window = window;
    snprintf(c->conn_id, sizeof c->conn_id, "natsc-%d-%lx", (int)getpid(), (unsigned long)time(NULL));
    natsOptions *no = NULL;
    char url[512], name[128];
    snprintf(url, sizeof url, "nats://%s:%d", cfg->host, cfg->port);
    snprintf(name, sizeof name, "%s::%s", c->conn_id, cfg->user);
    natsStatus s = natsOptions_Create(&no);
    if (s == NATS_OK)
        s = natsOptions_SetURL(no, url);
    if (s == NATS_OK)
        s = natsOptions_SetUserInfo(no, cfg->user, cfg->password);
    if (s == NATS_OK)
        s = natsOptions_SetName(no, name);
    if (s == NATS_OK)
        s = natsConnection_Connect(&c->nc, no);
    natsOptions_Destroy(no);
    if (nats_failed(s, 0, "connect (nats.c)", err, errlen)) {
        memphis_conn_destroy(c->admin, NULL);
        free(c);
        return NULL;
    }
    return c;
}

static void natsc_close(void *state)
{
    natsc_t *c = state;
    natsConnection_Destroy(c->nc);
    memphis_conn_destroy(c->admin, NULL);
    free(c);
}

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure)
{
    (void)js;
    (void)pae;
    atomic_fetch_add((atomic_long *)closure, 1);
}

/* A JetStream context with libmemphis's window and ack wait; failures of
 * asynchronous publishes are counted in *failed. */
static natsStatus js_context(natsc_t *c, atomic_long *failed, jsCtx **js)
{
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.MaxPending = c->window;
    jo.PublishAsync.StallWait = c->ack_wait_ms;
    jo.PublishAsync.ErrHandler = on_pub_error;
    jo.PublishAsync.ErrHandlerClosure = failed;
    return natsConnection_JetStream(js, c->nc, &jo);
}

static natsStatus message(natsc_t *c, const char *subject, const char *producer, const unsigned char *data, int size,
                          natsMsg **out)
{
    natsStatus s = natsMsg_Create(out, subject, NULL, (const char *)data, size);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*out, "$memphis_producedBy", producer);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(*out, "$memphis_connectionId", c->conn_id);
    return s;
}

typedef struct {
    natsc_t *c;
    const bench_cell_t *cell;
    const char *subject;
    const unsigned char *payload;
    int async;
} produce_ctx_t;

static int publish_worker(void *p, int index, long count, double *lat, char *err, size_t errlen)
{
    produce_ctx_t *ctx = p;
    char producer[32];
    snprintf(producer, sizeof producer, "p%d", index);
    atomic_long failed = 0;
    jsCtx *js = NULL;
    jsErrCode jerr = 0;
    if (nats_failed(js_context(ctx->c, &failed, &js), 0, "jetstream context", err, errlen))
        return -1;
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        natsMsg *m = NULL;
        double t = bench_now_us();
        natsStatus s = message(ctx->c, ctx->subject, producer, ctx->payload, ctx->cell->size, &m);
        if (s == NATS_OK && ctx->async) {
            s = js_PublishMsgAsync(js, &m, NULL); /* takes the message on success */
        } else if (s == NATS_OK) {
            jsPubAck *pa = NULL;
            s = js_PublishMsg(&pa, js, m, NULL, &jerr);
            jsPubAck_Destroy(pa);
        }
        natsMsg_Destroy(m);
        if (lat)
            lat[i] = bench_now_us() - t;
        rc = nats_failed(s, jerr, ctx->async ? "js_PublishMsgAsync" : "js_PublishMsg", err, errlen);
    }
    if (rc == 0 && ctx->async)
        rc = nats_failed(js_PublishAsyncComplete(js, NULL), 0, "js_PublishAsyncComplete", err, errlen);
    if (rc == 0 && failed > 0) {
        snprintf(err, errlen, "%ld of %ld messages failed", (long)failed, count);
        rc = -1;
    }
    jsCtx_Destroy(js);
    return rc;
}

static void run_fetch(natsc_t *c, const char *stream, long n, bench_result_t *res)
{
    jsCtx *js = NULL;
    natsSubscription *sub = NULL;
    jsErrCode jerr = 0;
    atomic_long unused = 0;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Consumer = "reader";
    char subject[300];
    snprintf(subject, sizeof subject, "%s.final", stream);
    if (nats_failed(js_context(c, &unused, &js), 0, "jetstream context", res->error, sizeof res->error))
        return;
    if (nats_failed(js_PullSubscribe(&sub, js, subject, NULL, NULL, &so, &jerr), jerr, "js_PullSubscribe", res->error,
                    sizeof res->error)) {
        jsCtx_Destroy(js);
        return;
    }
    bench_clock_t clock = bench_clock_start();
    long got = 0;
    int rc = 0;
    while (got < n && rc == 0) {
        natsMsgList list = {0};
        natsStatus s = natsSubscription_Fetch(&list, sub, n - got < BENCH_BATCH ? (int)(n - got) : BENCH_BATCH, 1000, &jerr);
        if (s == NATS_TIMEOUT && list.Count == 0) {
            snprintf(res->error, sizeof res->error, "station drained after %ld of %ld messages", got, n);
            rc = -1;
        } else if (nats_failed(s, jerr, "natsSubscription_Fetch", res->error, sizeof res->error)) {
            rc = -1;
        }
        for (int i = 0; i < list.Count && rc == 0; i++) {
            (void)natsMsg_GetData(list.Msgs[i]);
            rc = nats_failed(natsMsg_Ack(list.Msgs[i], NULL), 0, "natsMsg_Ack", res->error, sizeof res->error);
        }
        got += list.Count;
        natsMsgList_Destroy(&list);
    }
    /* The acks are plain publishes: one round trip makes sure the broker has them. */
    if (rc == 0 && nats_failed(natsConnection_Flush(c->nc), 0, "flush", res->error, sizeof res->error) == 0)
        bench_clock_finish(clock, n, NULL, 0, res);
    natsSubscription_Destroy(sub);
    jsCtx_Destroy(js);
}

static void natsc_run(void *state, const bench_cell_t *cell, const char *station_name, bench_result_t *res)
{
    natsc_t *c = state;
    if (strcmp(cell->scenario, "batch") == 0) {
        snprintf(res->unsupported, sizeof res->unsupported, "nats.c has no batch publish call (async is its bulk path)");
        return;
    }
    if (strncmp(cell->scenario, "consume", 7) == 0) {
        snprintf(res->unsupported, sizeof res->unsupported,
                 "nats.c %s has no callback pull consumer (js_PullSubscribeAsync came in 3.9)", NATS_VERSION_STRING);
        return;
    }
    memphis_error_t *e = NULL;
    memphis_station_opts_t *so = NULL;
    memphis_station_t *station = NULL;
    if (memphis_failed(memphis_station_opts_new(station_name, &so, &e), e, "station options", res->error, sizeof res->error))
        return;
    int bad = memphis_failed(memphis_station_create(c->admin, so, &station, &e), e, "create station", res->error,
                             sizeof res->error);
    memphis_station_opts_destroy(so, NULL);
    if (bad)
        return;
    /* The first partition's stream and its subject (protocol §3.2); bench
     * station names are already in internal form (lower case, no dots). */
    char stream[256], subject[272];
    snprintf(stream, sizeof stream, "%s$1", station_name);
    snprintf(subject, sizeof subject, "%s.final", stream);
    unsigned char *payload = bench_payload(cell->size);
    produce_ctx_t ctx = {.c = c, .cell = cell, .subject = subject, .payload = payload,
                         .async = strcmp(cell->scenario, "sync") != 0};
    if (strcmp(cell->scenario, "fetch") == 0) {
        memphis_consumer_opts_t *ko = NULL;
        memphis_consumer_t *k = NULL;
        if (publish_worker(&ctx, 0, cell->count, NULL, res->error, sizeof res->error) == 0 &&
            memphis_failed(memphis_consumer_opts_new(station_name, "reader", &ko, &e), e, "consumer options", res->error,
                           sizeof res->error) == 0 &&
            memphis_failed(memphis_consumer_create(c->admin, ko, &k, &e), e, "create consumer", res->error,
                           sizeof res->error) == 0)
            run_fetch(c, stream, cell->count, res);
        memphis_consumer_opts_destroy(ko, NULL);
        if (k)
            memphis_consumer_destroy(k, NULL);
    } else {
        int sync = !ctx.async;
        double *lat = sync ? malloc((size_t)cell->count * sizeof *lat) : NULL;
        bench_clock_t clock = bench_clock_start();
        if (bench_parallel(cell, publish_worker, &ctx, lat, res->error, sizeof res->error) == 0)
            bench_clock_finish(clock, cell->count, lat, sync ? cell->count : 0, res);
        free(lat);
    }
    free(payload);
    memphis_station_destroy(station, NULL);
}

int main(int argc, char **argv)
{
    static const bench_layer_t layer = {"nats.c", natsc_open, natsc_run, natsc_close};
    return bench_main(argc, argv, &layer);
}
