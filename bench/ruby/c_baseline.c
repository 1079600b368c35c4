/*
 * C side of the Ruby benchmark: the same operations as bench.rb, straight
 * through the C API, so the two can be compared in the same run.
 *
 *   c_baseline HOST PORT MODE STATION COUNT SIZE
 *   MODE: nonblocking | nonblocking_cb | batch | sync | consume | consume_cb
 *
 * Prints one line: "<mode> <count> <seconds>". Exits non-zero on any error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "memphis.h"

#define BATCH_CHUNK 1000
#define FETCH_BATCH 1000

/* consume_cb: messages handled so far by the consume callback. */
static volatile size_t consumed_cb = 0;
/* consume_cb: the first real failure the callback saw (status and text are
 * copied here because error_message is borrowed for the call only). A run
 * that saw one measured an outage, not throughput: main exits non-zero. */
static volatile int cb_failed = 0;
static char cb_error[512];

static void on_batch(memphis_msg_t **msgs, size_t count, memphis_status_t status, const char *error_message,
                     void *user_data) {
    (void)user_data;
    if (status != MEMPHIS_OK) {
        /* NO_MESSAGES is the normal "drained" report, not a failure. */
        if (status != MEMPHIS_ERR_NO_MESSAGES && !__atomic_exchange_n(&cb_failed, 1, __ATOMIC_SEQ_CST)) {
            snprintf(cb_error, sizeof cb_error, "%s: %s", memphis_status_name(status),
                     error_message ? error_message : "");
            fprintf(stderr, "consume_cb: callback got %s\n", cb_error);
        }
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const void *d; size_t len;
        memphis_msg_data(msgs[i], &d, &len, NULL);
    }
    memphis_msgs_ack(msgs, count, NULL);
    for (size_t i = 0; i < count; i++) memphis_msg_destroy(msgs[i], NULL);
    __atomic_add_fetch(&consumed_cb, count, __ATOMIC_SEQ_CST);
}

/* nonblocking_cb: delivery reports received. */
static volatile size_t delivered = 0;

static void on_delivery(memphis_status_t status, const char *error_message, uint64_t sequence, void *user_data) {
    (void)sequence; (void)user_data;
    if (status != MEMPHIS_OK) fprintf(stderr, "delivery: %s\n", error_message ? error_message : "");
    __atomic_add_fetch(&delivered, 1, __ATOMIC_SEQ_CST);
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(memphis_status_t st, memphis_error_t *err, const char *what) {
    if (st == MEMPHIS_OK) return;
    fprintf(stderr, "%s: %s: %s\n", what, memphis_status_name(st), memphis_error_message(err));
    memphis_error_free(err);
    exit(1);
}

static memphis_conn_t *connect_to(const char *host, int port) {
    memphis_error_t *err = NULL;
    memphis_conn_opts_t *opts = NULL;
    check(memphis_conn_opts_new(&opts, &err), err, "conn opts");
    check(memphis_conn_opts_set_host(opts, host, &err), err, "host");
    check(memphis_conn_opts_set_port(opts, port, &err), err, "port");
    check(memphis_conn_opts_set_username(opts, "root", &err), err, "username");
    check(memphis_conn_opts_set_password(opts, "memphis", &err), err, "password");
    memphis_conn_t *conn = NULL;
    check(memphis_connect(opts, &conn, &err), err, "connect");
    memphis_conn_opts_destroy(opts, NULL);
    return conn;
}

static memphis_producer_t *make_producer(memphis_conn_t *conn, const char *station) {
    memphis_error_t *err = NULL;
    memphis_producer_opts_t *opts = NULL;
    check(memphis_producer_opts_new(station, "bench-c", &opts, &err), err, "producer opts");
    memphis_producer_t *p = NULL;
    check(memphis_producer_create(conn, opts, &p, &err), err, "producer");
    memphis_producer_opts_destroy(opts, NULL);
    return p;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s HOST PORT MODE STATION COUNT SIZE\n", argv[0]);
        return 2;
    }
    const char *host = argv[1], *mode = argv[3], *station = argv[4];
    int port = atoi(argv[2]);
    size_t count = (size_t)strtoull(argv[5], NULL, 10), size = (size_t)strtoull(argv[6], NULL, 10);
    char *payload = malloc(size);
    memset(payload, 'x', size);
    memphis_conn_t *conn = connect_to(host, port);
    memphis_error_t *err = NULL;
    double t0 = 0, t1 = 0;

    if (strcmp(mode, "consume_cb") == 0) {
        memphis_consumer_opts_t *copts = NULL;
        check(memphis_consumer_opts_new(station, "bench-c-cb", &copts, &err), err, "consumer opts");
        check(memphis_consumer_opts_set_batch_size(copts, FETCH_BATCH, &err), err, "batch size");
        check(memphis_consumer_opts_set_batch_max_wait_ms(copts, 1000, &err), err, "batch wait");
        check(memphis_consumer_opts_set_pull_interval_ms(copts, 10, &err), err, "pull interval");
        memphis_consumer_t *c = NULL;
        check(memphis_consumer_create(conn, copts, &c, &err), err, "consumer");
        memphis_consumer_opts_destroy(copts, NULL);
        t0 = now();
        check(memphis_consumer_consume(c, on_batch, NULL, NULL, 0, &err), err, "consume");
        struct timespec nap = {0, 1000000};
        while (__atomic_load_n(&consumed_cb, __ATOMIC_SEQ_CST) < count && !__atomic_load_n(&cb_failed, __ATOMIC_SEQ_CST))
            nanosleep(&nap, NULL);
        t1 = now();
        /* stop returns after the last callback finished: cb_error is stable */
        check(memphis_consumer_stop(c, &err), err, "stop");
        if (cb_failed) {
            fprintf(stderr, "consume_cb: failed after %zu of %zu messages: %s\n",
                    (size_t)__atomic_load_n(&consumed_cb, __ATOMIC_SEQ_CST), count, cb_error);
            return 1;
        }
        check(memphis_consumer_destroy(c, &err), err, "consumer destroy");
    } else if (strcmp(mode, "consume") == 0) {
        memphis_consumer_opts_t *copts = NULL;
        check(memphis_consumer_opts_new(station, "bench-c-consumer", &copts, &err), err, "consumer opts");
        check(memphis_consumer_opts_set_batch_size(copts, FETCH_BATCH, &err), err, "batch size");
        check(memphis_consumer_opts_set_batch_max_wait_ms(copts, 1000, &err), err, "batch wait");
        memphis_consumer_t *c = NULL;
        check(memphis_consumer_create(conn, copts, &c, &err), err, "consumer");
        memphis_consumer_opts_destroy(copts, NULL);
        size_t got = 0;
        t0 = now();
        while (got < count) {
            memphis_msg_t **msgs = NULL;
            size_t n = 0;
            check(memphis_consumer_fetch(c, 0, NULL, 0, &msgs, &n, &err), err, "fetch");
            if (n == 0) continue;
            /* Read each payload, as the Ruby side does, then ack the batch. */
            for (size_t i = 0; i < n; i++) {
                const void *d; size_t len;
                check(memphis_msg_data(msgs[i], &d, &len, &err), err, "data");
            }
            check(memphis_msgs_ack(msgs, n, &err), err, "ack");
            memphis_msgs_destroy(msgs, n, NULL);
            got += n;
        }
        t1 = now();
        memphis_consumer_destroy(c, NULL);
    } else {
        memphis_producer_t *p = make_producer(conn, station);
        if (strcmp(mode, "nonblocking") == 0) {
            t0 = now();
            for (size_t i = 0; i < count; i++)
                check(memphis_producer_produce_async(p, payload, size, NULL, NULL, NULL, -1, &err), err, "produce_async");
            check(memphis_producer_flush(p, -1, NULL, &err), err, "flush");
            t1 = now();
        } else if (strcmp(mode, "nonblocking_cb") == 0) {
            t0 = now();
            for (size_t i = 0; i < count; i++)
                check(memphis_producer_produce_async(p, payload, size, NULL, on_delivery, NULL, -1, &err), err, "produce_async");
            check(memphis_producer_flush(p, -1, NULL, &err), err, "flush");
            t1 = now();
            if (delivered != count) { fprintf(stderr, "got %zu reports\n", (size_t)delivered); return 1; }
        } else if (strcmp(mode, "batch") == 0) {
            const void *ptrs[BATCH_CHUNK];
            size_t lens[BATCH_CHUNK];
            for (size_t i = 0; i < BATCH_CHUNK; i++) { ptrs[i] = payload; lens[i] = size; }
            t0 = now();
            for (size_t done = 0; done < count; done += BATCH_CHUNK) {
                size_t n = count - done < BATCH_CHUNK ? count - done : BATCH_CHUNK;
                check(memphis_producer_produce_batch(p, ptrs, lens, NULL, n, NULL, NULL, -1, NULL, &err), err, "batch");
            }
            check(memphis_producer_flush(p, -1, NULL, &err), err, "flush");
            t1 = now();
        } else if (strcmp(mode, "sync") == 0) {
            t0 = now();
            for (size_t i = 0; i < count; i++)
                check(memphis_producer_produce(p, payload, size, NULL, &err), err, "produce");
            t1 = now();
        } else {
            fprintf(stderr, "unknown mode %s\n", mode);
            return 2;
        }
        memphis_producer_destroy(p, NULL);
    }
    printf("%s %zu %.6f\n", mode, count, t1 - t0);
    memphis_conn_destroy(conn, NULL);
    free(payload);
    return 0;
}
