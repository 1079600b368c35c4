/* bench.c - throughput of the C API with 512-byte messages:
 *   async  nonblocking produce of N messages until all are acknowledged
 *   batch  memphis_producer_produce_batch (batches of 500) until acknowledged
 *   sync   synchronous produce (one round trip per message)
 *   consume fetch batches of 500 + memphis_msgs_ack until N are acked
 * Prints one line per scenario:
 *   "c <scenario> <messages> <seconds> <msg/s> <client CPU us/msg>"
 * where the CPU time is this process's (user + system, all threads, so the
 * library's Go runtime included) over the scenario, per message.
 * Usage: bench HOST PORT N_ASYNC N_SYNC [scenario...] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "memphis.h"

enum { MSG_SIZE = 512, BATCH = 500 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void must(memphis_status_t st, memphis_error_t *err, const char *what)
{
    if (st != MEMPHIS_OK) {
        fprintf(stderr, "bench: %s: %s\n", what, memphis_error_message(err));
        exit(1);
    }
}

static memphis_conn_t *conn;
static char payload[MSG_SIZE];

static memphis_producer_t *producer(const char *station)
{
    memphis_error_t *err = NULL;
    memphis_producer_opts_t *o = NULL;
    memphis_producer_t *p = NULL;
    must(memphis_producer_opts_new(station, "bench", &o, &err), err, "producer opts");
    must(memphis_producer_create(conn, o, &p, &err), err, "producer");
    memphis_producer_opts_destroy(o, NULL);
    return p;
}

/* Process CPU time (user + system) in seconds. */
static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Start of the running scenario (wall clock, process CPU). */
static double t0, cpu0;

static void start(void)
{
    cpu0 = cpu_s();
    t0 = now_s();
}

static void report(const char *name, long n)
{
    double secs = now_s() - t0, cpu = cpu_s() - cpu0;
    printf("c %s %ld %.3f %.0f %.2f\n", name, n, secs, n / secs, cpu * 1e6 / n);
}

static void bench_async(const char *station, long n)
{
    memphis_error_t *err = NULL;
    memphis_producer_t *p = producer(station);
    start();
    for (long i = 0; i < n; i++)
        must(memphis_producer_produce_async(p, payload, MSG_SIZE, NULL, NULL, NULL, -1, &err), err, "produce_async");
    uint64_t failed = 0;
    must(memphis_producer_flush(p, -1, &failed, &err), err, "flush");
    report("async", n);
    memphis_producer_destroy(p, NULL);
}

static void bench_batch(const char *station, long n)
{
    memphis_error_t *err = NULL;
    memphis_producer_t *p = producer(station);
    const void *data[BATCH];
    size_t lens[BATCH];
    for (int i = 0; i < BATCH; i++) {
        data[i] = payload;
        lens[i] = MSG_SIZE;
    }
    start();
    for (long done = 0; done < n; done += BATCH) {
        size_t count = n - done < BATCH ? (size_t)(n - done) : BATCH;
        must(memphis_producer_produce_batch(p, data, lens, NULL, count, NULL, NULL, -1, NULL, &err), err, "batch");
    }
    must(memphis_producer_flush(p, -1, NULL, &err), err, "flush");
    report("batch", n);
    memphis_producer_destroy(p, NULL);
}

static void bench_sync(const char *station, long n)
{
    memphis_error_t *err = NULL;
    memphis_producer_t *p = producer(station);
    start();
    for (long i = 0; i < n; i++)
        must(memphis_producer_produce(p, payload, MSG_SIZE, NULL, &err), err, "produce");
    report("sync", n);
    memphis_producer_destroy(p, NULL);
}

static void bench_consume(const char *station, long n)
{
    memphis_error_t *err = NULL;
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    must(memphis_consumer_opts_new(station, "bench", &o, &err), err, "consumer opts");
    must(memphis_consumer_opts_set_batch_size(o, BATCH, &err), err, "batch size");
    must(memphis_consumer_opts_set_batch_max_wait_ms(o, 1000, &err), err, "wait");
    must(memphis_consumer_create(conn, o, &k, &err), err, "consumer");
    memphis_consumer_opts_destroy(o, NULL);
    start();
    long got = 0;
    while (got < n) {
        memphis_msg_t **msgs = NULL;
        size_t count = 0;
        must(memphis_consumer_fetch(k, BATCH, NULL, 0, &msgs, &count, &err), err, "fetch");
        if (count == 0) {
            fprintf(stderr, "bench: station drained after %ld of %ld messages\n", got, n);
            exit(1);
        }
        static const void *datas[BATCH];
        static size_t lens[BATCH];
        must(memphis_msgs_data(msgs, count, datas, lens, &err), err, "data");
        must(memphis_msgs_ack(msgs, count, &err), err, "ack");
        memphis_msgs_destroy(msgs, count, NULL);
        got += (long)count;
    }
    report("consume", got);
    memphis_consumer_destroy(k, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT N_ASYNC N_SYNC [async|batch|sync|consume]...\n", argv[0]);
        return 2;
    }
    memset(payload, 'x', sizeof payload);
    memphis_error_t *err = NULL;
    memphis_conn_opts_t *o = NULL;
    must(memphis_conn_opts_new(&o, &err), err, "opts");
    must(memphis_conn_opts_set_host(o, argv[1], &err), err, "host");
    must(memphis_conn_opts_set_port(o, atoi(argv[2]), &err), err, "port");
    must(memphis_conn_opts_set_username(o, "root", &err), err, "user");
    must(memphis_conn_opts_set_password(o, "memphis", &err), err, "password");
    must(memphis_connect(o, &conn, &err), err, "connect");
    memphis_conn_opts_destroy(o, NULL);
    long n = atol(argv[3]), nsync = atol(argv[4]);
    char station[64];
    snprintf(station, sizeof station, "bench-c-%d", (int)getpid());
    for (int i = 5; i < argc; i++) {
        if (strcmp(argv[i], "async") == 0)
            bench_async(station, n);
        else if (strcmp(argv[i], "batch") == 0)
            bench_batch(station, n);
        else if (strcmp(argv[i], "sync") == 0)
            bench_sync(station, nsync);
        else if (strcmp(argv[i], "consume") == 0)
            bench_consume(station, n);
    }
    memphis_conn_destroy(conn, NULL);
    return 0;
}
