/* consumer.c - reads the messages of station "c-example" with the pull API
 * (memphis_consumer_fetch), prints them with their headers and acks them in
 * one call. */
#include <string.h>

#include "common.h"

int main(int argc, char **argv)
{
    size_t want = argc > 1 ? (size_t)atoi(argv[1]) : 10;
    memphis_error_t *err = NULL;
    memphis_conn_t *conn = connect_from_env();
    const char *station_name = env_or("MEMPHIS_STATION", "c-example");

    memphis_consumer_opts_t *copts = NULL;
    memphis_consumer_t *consumer = NULL;
    check(memphis_consumer_opts_new(station_name, "c-consumer", &copts, &err), err, "consumer options");
    check(memphis_consumer_opts_set_batch_max_wait_ms(copts, 1000, &err), err, "batch wait");
    check(memphis_consumer_create(conn, copts, &consumer, &err), err, "create consumer");
    memphis_consumer_opts_destroy(copts, NULL);

    size_t got = 0;
    for (int attempt = 0; attempt < 10 && got < want; attempt++) {
        memphis_msg_t **msgs = NULL;
        size_t count = 0;
        check(memphis_consumer_fetch(consumer, want - got, NULL, 0, &msgs, &count, &err), err, "fetch");
        for (size_t i = 0; i < count; i++) {
            const void *data;
            size_t len;
            uint64_t seq;
            const char *source = "-";
            check(memphis_msg_data(msgs[i], &data, &len, &err), err, "data");
            check(memphis_msg_sequence(msgs[i], &seq, &err), err, "sequence");
            if (memphis_msg_header_get(msgs[i], "source", &source, NULL) != MEMPHIS_OK)
                source = "-";
            printf("#%llu %.*s (source: %s)\n", (unsigned long long)seq, (int)len, (const char *)data, source);
        }
        check(memphis_msgs_ack(msgs, count, &err), err, "ack");
        memphis_msgs_destroy(msgs, count, NULL);
        got += count;
    }
    printf("consumed %zu messages\n", got);
    check(memphis_consumer_destroy(consumer, &err), err, "destroy consumer");
    check(memphis_conn_destroy(conn, &err), err, "close");
    return got >= want ? 0 : 1;
}
