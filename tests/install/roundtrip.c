/* roundtrip.c - built against an installed libmemphis only (pkg-config or
 * find_package), run by tests/install/run.sh: checks that the compile-time
 * and run-time versions equal argv[1], then produces N messages with a
 * header to a new station, fetches them back, checks payloads, order and
 * header, and acks them. Broker from MEMPHIS_HOST/PORT/USERNAME/PASSWORD;
 * station name from argv[2]. Exits 0 only when everything matched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <memphis.h>

enum { N = 5 };

static void check(memphis_status_t st, memphis_error_t *err, const char *what)
{
    if (st == MEMPHIS_OK)
        return;
    fprintf(stderr, "FAIL %s: %s (%s)\n", what, memphis_error_message(err), memphis_status_name(st));
    memphis_error_free(err);
    exit(1);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "FAIL %s is not set\n", name);
        exit(1);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s VERSION STATION\n", argv[0]);
        return 2;
    }
    const char *version = argv[1], *station_name = argv[2];
    if (strcmp(MEMPHIS_VERSION_STR, version) != 0 || strcmp(memphis_version_str(), version) != 0 ||
        memphis_version() != MEMPHIS_VERSION) {
        fprintf(stderr, "FAIL version: header %s, library %s (0x%08x), expected %s\n", MEMPHIS_VERSION_STR,
                memphis_version_str(), (unsigned)memphis_version(), version);
        return 1;
    }

    memphis_error_t *err = NULL;
    memphis_conn_opts_t *copts = NULL;
    memphis_conn_t *conn = NULL;
    check(memphis_conn_opts_new(&copts, &err), err, "connection options");
    check(memphis_conn_opts_set_host(copts, env("MEMPHIS_HOST"), &err), err, "host");
    check(memphis_conn_opts_set_port(copts, atoi(env("MEMPHIS_PORT")), &err), err, "port");
    check(memphis_conn_opts_set_username(copts, env("MEMPHIS_USERNAME"), &err), err, "username");
    check(memphis_conn_opts_set_password(copts, env("MEMPHIS_PASSWORD"), &err), err, "password");
    check(memphis_connect(copts, &conn, &err), err, "connect");
    memphis_conn_opts_destroy(copts, NULL);

    memphis_station_opts_t *sopts = NULL;
    memphis_station_t *station = NULL;
    check(memphis_station_opts_new(station_name, &sopts, &err), err, "station options");
    check(memphis_station_create(conn, sopts, &station, &err), err, "create station");
    memphis_station_opts_destroy(sopts, NULL);

    memphis_producer_opts_t *popts = NULL;
    memphis_producer_t *producer = NULL;
    check(memphis_producer_opts_new(station_name, "install-producer", &popts, &err), err, "producer options");
    check(memphis_producer_create(conn, popts, &producer, &err), err, "create producer");
    memphis_producer_opts_destroy(popts, NULL);

    memphis_headers_t *headers = NULL;
    check(memphis_headers_new(&headers, &err), err, "headers");
    check(memphis_headers_add(headers, "origin", "install-test", &err), err, "add header");
    memphis_produce_opts_t opts;
    memphis_produce_opts_init(&opts);
    opts.headers = headers;
    for (int i = 0; i < N; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "c-%d", i);
        check(memphis_producer_produce(producer, msg, (size_t)n, &opts, &err), err, "produce");
    }
    memphis_headers_destroy(headers, NULL);

    memphis_consumer_opts_t *cons_opts = NULL;
    memphis_consumer_t *consumer = NULL;
    check(memphis_consumer_opts_new(station_name, "install-consumer", &cons_opts, &err), err, "consumer options");
    check(memphis_consumer_opts_set_batch_max_wait_ms(cons_opts, 500, &err), err, "batch wait");
    check(memphis_consumer_create(conn, cons_opts, &consumer, &err), err, "create consumer");
    memphis_consumer_opts_destroy(cons_opts, NULL);

    int got = 0;
    for (int attempt = 0; attempt < 40 && got < N; attempt++) {
        memphis_msg_t **msgs = NULL;
        size_t count = 0;
        check(memphis_consumer_fetch(consumer, (size_t)(N - got), NULL, 0, &msgs, &count, &err), err, "fetch");
        for (size_t i = 0; i < count; i++) {
            const void *data;
            size_t len;
            const char *origin = NULL;
            char want[32];
            int wlen = snprintf(want, sizeof want, "c-%d", got);
            check(memphis_msg_data(msgs[i], &data, &len, &err), err, "data");
            check(memphis_msg_header_get(msgs[i], "origin", &origin, &err), err, "header");
            if (len != (size_t)wlen || memcmp(data, want, len) != 0 || strcmp(origin, "install-test") != 0) {
                fprintf(stderr, "FAIL message %d: got %.*s (origin %s), want %s\n", got, (int)len, (const char *)data,
                        origin, want);
                return 1;
            }
            got++;
        }
        check(memphis_msgs_ack(msgs, count, &err), err, "ack");
        memphis_msgs_destroy(msgs, count, NULL);
    }
    if (got != N) {
        fprintf(stderr, "FAIL received %d of %d messages\n", got, N);
        return 1;
    }
    check(memphis_consumer_destroy(consumer, &err), err, "destroy consumer");
    check(memphis_producer_destroy(producer, &err), err, "destroy producer");
    check(memphis_station_destroy(station, &err), err, "destroy station");
    check(memphis_conn_destroy(conn, &err), err, "close");
    printf("c round trip ok: %d messages, libmemphis %s\n", N, memphis_version_str());
    return 0;
}
