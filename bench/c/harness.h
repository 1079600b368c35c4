/* harness.h - what the C benchmark programs of bench/c share (the same
 * protocol as bench/go/harness): --host/--port/--user/--password (no host:
 * start a fresh memphis-devbroker), cells "scenario:size:producers:count"
 * from the command line or, with none, one per line of stdin, and one JSON
 * result line per cell on stdout. See bench/README.md. */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include <stddef.h>

enum { BENCH_BATCH = 500 };       /* batch chunk and fetch / consume batch */
enum { BENCH_QUANTILES = 201 };   /* latency points: 0, 0.5, ..., 100 % */
enum { BENCH_CONSUME_TIMEOUT_S = 300 };

typedef struct bench_config {
    const char *host;
    int port;
    const char *user;
    const char *password;
} bench_config_t;

typedef struct bench_cell {
    char scenario[16]; /* sync | async | batch | fetch | consume | consume-noack */
    int size;          /* payload bytes */
    int producers;     /* concurrent producers on one connection */
    int count;         /* messages in total */
} bench_cell_t;

typedef struct bench_result {
    long messages;
    double seconds;
    double cpu_us_per_msg;
    int has_latency;
    double latency_us[BENCH_QUANTILES];
    char unsupported[256]; /* non-empty: the layer cannot do the scenario */
    char error[512];       /* non-empty: the cell failed */
} bench_result_t;

typedef struct bench_layer {
    const char *name;
    /* Connects; returns the layer's state, or NULL with err filled. */
    void *(*open)(const bench_config_t *cfg, char *err, size_t errlen);
    /* Measures one cell on a fresh station it creates and removes. */
    void (*run)(void *state, const bench_cell_t *cell, const char *station, bench_result_t *res);
    void (*close)(void *state);
} bench_layer_t;

/* Parses the command line and measures the cells. */
int bench_main(int argc, char **argv, const bench_layer_t *layer);

/* A measured interval: wall clock and this process's CPU (all threads). */
typedef struct bench_clock {
    double wall, cpu;
} bench_clock_t;

bench_clock_t bench_clock_start(void);
/* Fills messages, seconds and CPU per message; with lat != NULL the
 * quantiles of the n latencies (microseconds; sorted in place). */
void bench_clock_finish(bench_clock_t c, long n, double *lat, long nlat, bench_result_t *res);
double bench_now_us(void);

/* One producer's share of a cell: worker(ctx, index, count, lat, err, errlen)
 * sends count messages, writing each message's latency (us) to lat[i] when
 * lat is not NULL; returns 0 or -1 with err filled. */
typedef int (*bench_worker_fn)(void *ctx, int index, long count, double *lat, char *err, size_t errlen);

/* Runs the cell's producers on as many threads (inline for one), all
 * released at once; lat (NULL or cell->count slots) receives every
 * message's latency. Returns 0 or -1 with err filled (the first failure). */
int bench_parallel(const bench_cell_t *cell, bench_worker_fn worker, void *ctx, double *lat, char *err, size_t errlen);

/* A payload of size bytes (malloc'd). */
unsigned char *bench_payload(int size);

#endif
