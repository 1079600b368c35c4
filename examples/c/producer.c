/* producer.c - produces to station "c-example": a few synchronous messages
 * with headers, then a nonblocking batch whose delivery reports arrive on a
 * library thread, then flush. */
#include <stdatomic.h>
#include <string.h>

#include "common.h"

static atomic_int delivered, failed;

/* Runs on a library thread once per message of the batch. */
static void on_delivery(memphis_status_t status, const char *error_message, uint64_t sequence, void *user_data)
{
    (void)sequence;
    (void)user_data;
    if (status == MEMPHIS_OK) {
        atomic_fetch_add(&delivered, 1);
    } else {
        atomic_fetch_add(&failed, 1);
        fprintf(stderr, "delivery failed: %s\n", error_message);
    }
}

int main(void)
{
    memphis_error_t *err = NULL;
    memphis_conn_t *conn = connect_from_env();
    const char *station_name = env_or("MEMPHIS_STATION", "c-example");

    memphis_station_opts_t *sopts = NULL;
    memphis_station_t *station = NULL;
    check(memphis_station_opts_new(station_name, &sopts, &err), err, "station options");
    check(memphis_station_create(conn, sopts, &station, &err), err, "create station");
    memphis_station_opts_destroy(sopts, NULL);
    memphis_station_free(station, NULL); /* keep the station, drop the handle */

    memphis_producer_opts_t *popts = NULL;
    memphis_producer_t *producer = NULL;
    check(memphis_producer_opts_new(station_name, "c-producer", &popts, &err), err, "producer options");
    check(memphis_producer_create(conn, popts, &producer, &err), err, "create producer");
    memphis_producer_opts_destroy(popts, NULL);

    memphis_headers_t *headers = NULL;
    check(memphis_headers_new(&headers, &err), err, "headers");
    check(memphis_headers_add(headers, "source", "c-example", &err), err, "add header");
    memphis_produce_opts_t opts;
    memphis_produce_opts_init(&opts);
    opts.headers = headers;
    for (int i = 0; i < 5; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof msg, "sync message %d", i);
        check(memphis_producer_produce(producer, msg, (size_t)n, &opts, &err), err, "produce");
    }
    memphis_headers_destroy(headers, NULL);

    enum { BATCH = 5 };
    char bufs[BATCH][64];
    const void *data[BATCH];
    size_t lens[BATCH];
    for (int i = 0; i < BATCH; i++) {
        lens[i] = (size_t)snprintf(bufs[i], sizeof bufs[i], "batch message %d", i);
        data[i] = bufs[i];
    }
    size_t accepted = 0;
    check(memphis_producer_produce_batch(producer, data, lens, NULL, BATCH, on_delivery, NULL, -1, &accepted, &err), err,
          "produce batch");
    check(memphis_producer_flush(producer, 15000, NULL, &err), err, "flush");
    printf("produced 5 sync + %zu batch messages (%d acknowledged, %d failed)\n", accepted, atomic_load(&delivered),
           atomic_load(&failed));

    check(memphis_producer_destroy(producer, &err), err, "destroy producer");
    check(memphis_conn_destroy(conn, &err), err, "close");
    return atomic_load(&failed) == 0 ? 0 : 1;
}
