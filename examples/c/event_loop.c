/* event_loop.c - one single-threaded poll() loop drives a producer and a
 * consumer: their delivery reports and consume batches go to one
 * memphis_queue_t, which writes to a pipe when events arrive, so the loop
 * sleeps in poll() beside any other descriptors it watches and never
 * blocks in the library. Produces N messages, consumes them back, acks
 * them, and exits when both sides are done. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

enum { MAX_EVENTS = 64 };

int main(int argc, char **argv)
{
    size_t want = argc > 1 ? (size_t)atoi(argv[1]) : 10;
    memphis_error_t *err = NULL;
    memphis_conn_t *conn = connect_from_env();
    const char *station_name = env_or("MEMPHIS_STATION", "c-example");

    int pipefd[2];
    if (pipe(pipefd) != 0 || fcntl(pipefd[0], F_SETFL, O_NONBLOCK) != 0 || fcntl(pipefd[1], F_SETFL, O_NONBLOCK) != 0) {
        perror("pipe");
        return 1;
    }
    memphis_queue_t *queue = NULL;
    check(memphis_queue_new(0, &queue, &err), err, "queue");
    check(memphis_queue_set_wakeup_fd(queue, pipefd[1], "!", 1, &err), err, "wake-up fd");

    memphis_producer_opts_t *popts = NULL;
    memphis_producer_t *producer = NULL;
    check(memphis_producer_opts_new(station_name, "c-loop-producer", &popts, &err), err, "producer options");
    check(memphis_producer_create(conn, popts, &producer, &err), err, "create producer");
    memphis_producer_opts_destroy(popts, NULL);

    memphis_consumer_opts_t *copts = NULL;
    memphis_consumer_t *consumer = NULL;
    check(memphis_consumer_opts_new(station_name, "c-loop-consumer", &copts, &err), err, "consumer options");
    check(memphis_consumer_opts_set_pull_interval_ms(copts, 100, &err), err, "pull interval");
    check(memphis_consumer_opts_set_batch_max_wait_ms(copts, 200, &err), err, "batch wait");
    check(memphis_consumer_create(conn, copts, &consumer, &err), err, "create consumer");
    memphis_consumer_opts_destroy(copts, NULL);
    check(memphis_consumer_consume_to_queue(consumer, queue, NULL, NULL, 0, &err), err, "consume");

    /* Nonblocking produce: each report comes back as an event carrying the
     * message number as user_data. */
    for (size_t i = 0; i < want; i++) {
        char text[32];
        int len = snprintf(text, sizeof text, "loop message %zu", i);
        check(memphis_producer_produce_async_to_queue(producer, text, (size_t)len, NULL, queue, (void *)(uintptr_t)(i + 1), -1,
                                                      &err),
              err, "produce");
    }

    size_t acked = 0, consumed = 0, failed = 0;
    memphis_event_t events[MAX_EVENTS];
    while (acked + failed < want || consumed < want) {
        struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
        if (poll(&pfd, 1, 30000) != 1) {
            fprintf(stderr, "no event for 30 s: %zu acked, %zu consumed\n", acked, consumed);
            return 1;
        }
        char drain[64];
        while (read(pipefd[0], drain, sizeof drain) > 0) {
        }
        /* Take every queued event: poll until a call comes back short. */
        size_t n;
        do {
            check(memphis_queue_poll(queue, events, MAX_EVENTS, 0, &n, &err), err, "queue poll");
            for (size_t i = 0; i < n; i++) {
                memphis_event_t *ev = &events[i];
                if (ev->kind == MEMPHIS_EVENT_DELIVERY) {
                    if (ev->status == MEMPHIS_OK) {
                        acked++;
                    } else {
                        failed++;
                        fprintf(stderr, "message %zu failed: %s\n", (size_t)(uintptr_t)ev->user_data, ev->error_message);
                    }
                } else if (ev->status == MEMPHIS_OK) {
                    for (size_t j = 0; j < ev->count; j++) {
                        const void *data;
                        size_t len;
                        check(memphis_msg_data(ev->msgs[j], &data, &len, &err), err, "data");
                        printf("consumed: %.*s\n", (int)len, (const char *)data);
                    }
                    check(memphis_msgs_ack(ev->msgs, ev->count, &err), err, "ack");
                    consumed += ev->count;
                    check(memphis_msgs_destroy(ev->msgs, ev->count, &err), err, "destroy messages");
                } else if (ev->status != MEMPHIS_ERR_NO_MESSAGES) {
                    fprintf(stderr, "consume: %s\n", ev->error_message);
                }
                memphis_free(ev->error_message);
            }
        } while (n == MAX_EVENTS);
    }
    printf("event loop: %zu acknowledged, %zu failed, %zu consumed\n", acked, failed, consumed);

    check(memphis_consumer_destroy(consumer, &err), err, "destroy consumer");
    check(memphis_producer_destroy(producer, &err), err, "destroy producer");
    check(memphis_queue_destroy(queue, &err), err, "destroy queue");
    close(pipefd[0]);
    close(pipefd[1]);
    check(memphis_conn_destroy(conn, &err), err, "close");
    return failed == 0 ? 0 : 1;
}
