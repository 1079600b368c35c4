/* harness.c - see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bench_clock_t bench_clock_start(void)
{
    bench_clock_t c;
    c.cpu = cpu_s();
    c.wall = bench_now_us() / 1e6;
    return c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void bench_clock_finish(bench_clock_t c, long n, double *lat, long nlat, bench_result_t *res)
{
    res->seconds = bench_now_us() / 1e6 - c.wall;
    res->cpu_us_per_msg = (cpu_s() - c.cpu) * 1e6 / (double)n;
    res->messages = n;
    if (lat != NULL && nlat > 0) {
        qsort(lat, (size_t)nlat, sizeof *lat, cmp_double);
        for (int i = 0; i < BENCH_QUANTILES; i++)
            res->latency_us[i] = lat[((long)i * (nlat - 1) + 100) / 200];
        res->has_latency = 1;
    }
}

unsigned char *bench_payload(int size)
{
    unsigned char *p = malloc((size_t)size);
    if (p == NULL) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < size; i++)
        p[i] = (unsigned char)('a' + i % 26);
    return p;
}

/* ---- producers on threads ---- */

struct worker_arg {
    bench_worker_fn fn;
    void *ctx;
    int index;
    long count;
    double *lat;
    pthread_barrier_t *start;
    int rc;
    char err[512];
};

static void *worker_main(void *p)
{
    struct worker_arg *a = p;
    pthread_barrier_wait(a->start);
    a->rc = a->fn(a->ctx, a->index, a->count, a->lat, a->err, sizeof a->err);
    return NULL;
}

int bench_parallel(const bench_cell_t *cell, bench_worker_fn worker, void *ctx, double *lat, char *err, size_t errlen)
{
    int n = cell->producers;
    if (n == 1)
        return worker(ctx, 0, cell->count, lat, err, errlen);
    struct worker_arg *args = calloc((size_t)n, sizeof *args);
    pthread_t *threads = calloc((size_t)n, sizeof *threads);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)n);
    long offset = 0;
    for (int i = 0; i < n; i++) {
        args[i] = (struct worker_arg){.fn = worker, .ctx = ctx, .index = i, .start = &start};
        args[i].count = cell->count / n + (i < cell->count % n ? 1 : 0);
        args[i].lat = lat ? lat + offset : NULL;
        offset += args[i].count;
        pthread_create(&threads[i], NULL, worker_main, &args[i]);
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        if (args[i].rc != 0 && rc == 0) {
            rc = -1;
            snprintf(err, errlen, "%s", args[i].err);
        }
    }
    pthread_barrier_destroy(&start);
    free(threads);
    free(args);
    return rc;
}

/* ---- memphis-devbroker for standalone runs ---- */

static pid_t broker_pid = 0;
static char broker_dir[PATH_MAX];

static void stop_broker(void)
{
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        waitpid(broker_pid, NULL, 0);
        broker_pid = 0;
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", broker_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench: could not remove %s\n", broker_dir);
    }
}

static int find_devbroker(char *out, size_t outlen)
{
    const char *env = getenv("MEMPHIS_DEVBROKER");
    if (env && *env) {
        snprintf(out, outlen, "%s", env);
        return 0;
    }
    char dir[PATH_MAX - 32];
    if (getcwd(dir, sizeof dir) == NULL)
        return -1;
    for (;;) {
        struct stat st;
        snprintf(out, outlen, "%s/build/bin/memphis-devbroker", dir);
        if (stat(out, &st) == 0)
            return 0;
        char *slash = strrchr(dir, '/');
        if (slash == NULL || slash == dir)
            return -1;
        *slash = '\0';
    }
}

/* Starts memphis-devbroker on a free port; fills host (static) and port. */
static int start_broker(char *host, size_t hostlen, int *port)
{
    char bin[PATH_MAX + 32];
    if (find_devbroker(bin, sizeof bin) != 0) {
        fprintf(stderr, "bench: memphis-devbroker not found (run `make broker`, set MEMPHIS_DEVBROKER or give --host)\n");
        return -1;
    }
    snprintf(broker_dir, sizeof broker_dir, "/tmp/memphis-bench-broker-XXXXXX");
    if (mkdtemp(broker_dir) == NULL)
        return -1;
    char data[PATH_MAX + 8], ready[PATH_MAX + 8];
    snprintf(data, sizeof data, "%s/data", broker_dir);
    snprintf(ready, sizeof ready, "%s/ready", broker_dir);
    char *argv[] = {bin, "--port", "0", "--data-dir", data, "--ready-file", ready, NULL};
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/broker.log", broker_dir);
    pid_t parent = getpid();
    broker_pid = fork();
    if (broker_pid < 0) {
        fprintf(stderr, "bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (broker_pid == 0) {
        /* The broker goes when this process goes, even if it crashes (atexit
         * does not run then). Only async-signal-safe calls until exec. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(1);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(bin, argv);
        _exit(127);
    }
    atexit(stop_broker);
    for (int i = 0; i < 1200; i++) {
        FILE *f = fopen(ready, "r");
        if (f) {
            char addr[256] = "";
            char *got = fgets(addr, sizeof addr, f);
            fclose(f);
            char *colon = got ? strrchr(addr, ':') : NULL;
            if (colon) {
                *colon = '\0';
                snprintf(host, hostlen, "%s", addr);
                *port = atoi(colon + 1);
                fprintf(stderr, "bench: started memphis-devbroker on %s:%d\n", host, *port);
                return 0;
            }
        }
        if (waitpid(broker_pid, NULL, WNOHANG) == broker_pid) {
            broker_pid = 0;
            fprintf(stderr, "bench: memphis-devbroker exited before it was ready (log: %s)\n", log);
            return -1;
        }
        usleep(50000);
    }
    fprintf(stderr, "bench: memphis-devbroker not ready after 60 s\n");
    return -1;
}

/* ---- cells and results ---- */

static int parse_cell(const char *spec, bench_cell_t *cell, char *err, size_t errlen)
{
    memset(cell, 0, sizeof *cell);
    char tail;
    if (sscanf(spec, "%15[a-z-]:%d:%d:%d%c", cell->scenario, &cell->size, &cell->producers, &cell->count, &tail) != 4 ||
        cell->size < 1 || cell->producers < 1 || cell->count < 1) {
        snprintf(err, errlen, "cell \"%s\": want scenario:size:producers:count", spec);
        return -1;
    }
    static const char *known[] = {"sync", "async", "batch", "fetch", "consume", "consume-noack"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(cell->scenario, known[i]) == 0)
            return 0;
    snprintf(err, errlen, "cell \"%s\": unknown scenario %s", spec, cell->scenario);
    return -1;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void print_result(const char *layer, const bench_cell_t *cell, const bench_result_t *r)
{
    printf("{\"layer\":");
    json_string(layer);
    printf(",\"scenario\":");
    json_string(cell->scenario);
    printf(",\"size\":%d,\"producers\":%d", cell->size, cell->producers);
    if (r->unsupported[0]) {
        printf(",\"unsupported\":");
        json_string(r->unsupported);
    } else if (r->error[0]) {
        printf(",\"error\":");
        json_string(r->error);
    } else {
        printf(",\"messages\":%ld,\"seconds\":%.6f,\"msg_per_s\":%.1f,\"cpu_us_per_msg\":%.3f", r->messages, r->seconds,
               r->messages / r->seconds, r->cpu_us_per_msg);
        if (r->has_latency) {
            printf(",\"latency_us\":[");
            for (int i = 0; i < BENCH_QUANTILES; i++)
                printf("%s%.2f", i ? "," : "", r->latency_us[i]);
            putchar(']');
        }
    }
    printf("}\n");
    fflush(stdout);
}

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--host H] [--port P] [--user U] [--password W] [--station-prefix S] [scenario:size:producers:count ...]\n"
            "scenarios: sync async batch fetch consume consume-noack; no cells: read them from stdin, one per line.\n"
            "Without --host a fresh memphis-devbroker is started.\n",
            prog);
}

int bench_main(int argc, char **argv, const bench_layer_t *layer)
{
    static struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},     {"port", required_argument, NULL, 'p'},
        {"user", required_argument, NULL, 'u'},     {"password", required_argument, NULL, 'w'},
        {"station-prefix", required_argument, NULL, 's'}, {"help", no_argument, NULL, '?'},
        {NULL, 0, NULL, 0},
    };
    bench_config_t cfg = {.host = NULL, .port = 6666, .user = "root", .password = "memphis"};
    const char *prefix = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'h': cfg.host = optarg; break;
        case 'p': cfg.port = atoi(optarg); break;
        case 'u': cfg.user = optarg; break;
        case 'w': cfg.password = optarg; break;
        case 's': prefix = optarg; break;
        default: usage(argv[0]); return 2;
        }
    }
    static char host[256];
    if (cfg.host == NULL) {
        if (start_broker(host, sizeof host, &cfg.port) != 0)
            return 1;
        cfg.host = host;
    }
    char prefix_buf[128];
    if (prefix == NULL) {
        snprintf(prefix_buf, sizeof prefix_buf, "bench-%s-%d", layer->name, (int)getpid());
        for (char *c = prefix_buf; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
                *c = '-';
        prefix = prefix_buf;
    }
    char err[512] = "";
    void *state = layer->open(&cfg, err, sizeof err);
    if (state == NULL) {
        fprintf(stderr, "bench: %s: connect to %s:%d: %s\n", layer->name, cfg.host, cfg.port, err);
        return 1;
    }
    int seq = 0;
    char line[256];
    int from_args = optind < argc;
    for (int i = optind;; i++) {
        const char *spec;
        if (from_args) {
            if (i >= argc)
                break;
            spec = argv[i];
        } else {
            if (fgets(line, sizeof line, stdin) == NULL)
                break;
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] == '\0')
                continue;
            spec = line;
        }
        bench_cell_t cell;
        bench_result_t *res = calloc(1, sizeof *res);
        if (parse_cell(spec, &cell, res->error, sizeof res->error) == 0) {
            char station[192];
            snprintf(station, sizeof station, "%s-%d", prefix, ++seq);
            layer->run(state, &cell, station, res);
        } else {
            snprintf(cell.scenario, sizeof cell.scenario, "?");
        }
        print_result(layer->name, &cell, res);
        free(res);
    }
    layer->close(state);
    return 0;
}
