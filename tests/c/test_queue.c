/* The event queue: delivery reports and consume batches polled from a
 * memphis_queue_t instead of pushed to callbacks; wake/close/destroy, bad
 * arguments, ownership of the polled memory, and a full queue that holds
 * up (but never deadlocks) its producers and consumers; the wake-up fd. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define QMAX 64

/* Frees what an event owns (ASan's leak check verifies ownership). */
static void release_event(memphis_event_t *ev)
{
    memphis_free(ev->error_message);
    if (ev->kind == MEMPHIS_EVENT_CONSUME)
        OK(memphis_msgs_destroy(ev->msgs, ev->count, E));
}

struct poller {
    memphis_queue_t *q;
    memphis_status_t st;
    size_t count;
    volatile int done;
};

static void *poll_forever(void *arg)
{
    struct poller *p = arg;
    memphis_event_t ev[4];
    p->st = memphis_queue_poll(p->q, ev, 4, -1, &p->count, NULL);
    p->done = 1;
    return NULL;
}

MEMPHIS_TEST(queue_wake_close_destroy, "unit")
{
    memphis_queue_t *q = NULL;
    memphis_event_t ev[4];
    size_t n = 99;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_new(0, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_new((size_t)1 << 30, &q, E));
    OK(memphis_queue_new(0, &q, E));
    CHECK(q != NULL);
    OK(memphis_queue_poll(q, ev, 4, 0, &n, E));
    CHECK(n == 0);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_poll(q, ev, 0, 0, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_poll(q, NULL, 4, 0, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_poll(q, ev, 4, 0, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_queue_poll((memphis_queue_t *)(void *)test_broker, ev, 4, 0, &n, E));

    /* a wake-up ends a poll that would wait forever */
    struct poller p = {.q = q};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, poll_forever, &p) == 0);
    OK(memphis_queue_wake(q, E));
    CHECK(wait_for(&p.done, 30));
    pthread_join(t, NULL);
    CHECK(p.st == MEMPHIS_OK && p.count == 0);

    /* close ends a waiting poll with CLOSED, and every later one */
    struct poller p2 = {.q = q};
    CHECK(pthread_create(&t, NULL, poll_forever, &p2) == 0);
    OK(memphis_queue_close(q, E));
    OK(memphis_queue_close(q, E)); /* twice is OK */
    CHECK(wait_for(&p2.done, 30));
    pthread_join(t, NULL);
    CHECK(p2.st == MEMPHIS_ERR_CLOSED);
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_queue_poll(q, ev, 4, -1, &n, E));
    OK(memphis_queue_destroy(q, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_queue_destroy(q, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_queue_wake(q, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_queue_poll(q, ev, 4, 0, &n, E));

    /* destroy ends a waiting poll too */
    OK(memphis_queue_new(16, &q, E));
    struct poller p3 = {.q = q};
    CHECK(pthread_create(&t, NULL, poll_forever, &p3) == 0);
    OK(memphis_queue_destroy(q, E));
    CHECK(wait_for(&p3.done, 30));
    pthread_join(t, NULL);
    /* CLOSED if the poll was waiting, INVALID_HANDLE if it started later */
    CHECK(p3.st == MEMPHIS_ERR_CLOSED || p3.st == MEMPHIS_ERR_INVALID_HANDLE);
}

MEMPHIS_TEST(queue_delivery_reports, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-queue-d", "p");
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(0, &q, E));
    enum { SINGLE = 40, BATCH = 24 };
    for (int i = 1; i <= SINGLE; i++)
        OK(memphis_producer_produce_async_to_queue(p, "one", 3, NULL, q, (void *)(intptr_t)i, -1, E));
    const void *data[BATCH];
    size_t lens[BATCH];
    void *uds[BATCH];
    for (int i = 0; i < BATCH; i++) {
        data[i] = "batch";
        lens[i] = 5;
        uds[i] = (void *)(intptr_t)(1000 + i);
    }
    size_t accepted = 0;
    OK(memphis_producer_produce_batch_to_queue(p, data, lens, NULL, BATCH, q, uds, -1, &accepted, E));
    CHECK(accepted == BATCH);
    /* bad arguments: no event comes for them */
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce_async_to_queue(p, "x", 1, NULL, NULL, NULL, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce_async_to_queue(p, NULL, 1, NULL, q, NULL, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE,
              memphis_producer_produce_batch_to_queue(p, data, lens, NULL, BATCH, NULL, uds, -1, &accepted, E));

    long sum = 0, want = 0;
    for (int i = 1; i <= SINGLE; i++)
        want += i;
    for (int i = 0; i < BATCH; i++)
        want += 1000 + i;
    int got = 0, bad = 0;
    uint64_t last_seq = 0;
    memphis_event_t ev[QMAX];
    double end = now_s() + 60;
    while (got < SINGLE + BATCH && now_s() < end) {
        size_t n = 0;
        OK(memphis_queue_poll(q, ev, QMAX, 1000, &n, E));
        for (size_t i = 0; i < n; i++) {
            if (ev[i].kind != MEMPHIS_EVENT_DELIVERY || ev[i].status != MEMPHIS_OK || ev[i].error_message != NULL ||
                ev[i].msgs != NULL || ev[i].count != 0 || ev[i].sequence == 0)
                bad++;
            /* reports of one producer arrive in produce order */
            if (ev[i].sequence <= last_seq)
                bad++;
            last_seq = ev[i].sequence;
            sum += (long)(intptr_t)ev[i].user_data;
            release_event(&ev[i]);
            got++;
        }
    }
    CHECK(got == SINGLE + BATCH && bad == 0 && sum == want);
    OK(memphis_producer_flush(p, 30000, NULL, E));
    size_t n = 1;
    OK(memphis_queue_poll(q, ev, QMAX, 0, &n, E));
    CHECK(n == 0); /* exactly one report per message */

    /* a destroyed queue: produce refuses it, the producer still works */
    OK(memphis_queue_destroy(q, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce_async_to_queue(p, "x", 1, NULL, q, NULL, -1, E));
    OK(memphis_producer_produce(p, "sync", 4, NULL, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
}

static void produce_n(memphis_conn_t *c, const char *station, int n)
{
    memphis_producer_t *p = test_producer(c, station, uname_("fill"));
    char buf[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "msg-%d", i);
        OK(memphis_producer_produce_async(p, buf, (size_t)len, NULL, NULL, NULL, -1, E));
    }
    OK(memphis_producer_flush(p, 30000, NULL, E));
    OK(memphis_producer_destroy(p, E));
}

MEMPHIS_TEST(queue_consume_batches, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-queue-c", 30);
    memphis_consumer_t *k = test_consumer(c, "c-queue-c", "k");
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(0, &q, E));
    int tag = 7;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_consume_to_queue(k, NULL, &tag, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_consume_to_queue(k, q, &tag, NULL, -1, E));
    OK(memphis_consumer_consume_to_queue(k, q, &tag, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_consume_to_queue(k, q, &tag, NULL, 0, E));

    int received = 0, drained = 0, bad = 0, seen[30] = {0};
    memphis_event_t ev[QMAX];
    double end = now_s() + 60;
    while ((received < 30 || drained == 0) && now_s() < end) {
        size_t n = 0;
        OK(memphis_queue_poll(q, ev, QMAX, 1000, &n, E));
        for (size_t i = 0; i < n; i++) {
            if (ev[i].kind != MEMPHIS_EVENT_CONSUME || ev[i].user_data != &tag)
                bad++;
            if (ev[i].status == MEMPHIS_ERR_NO_MESSAGES) {
                drained++;
                if (ev[i].count != 0 || ev[i].msgs != NULL || ev[i].error_message == NULL)
                    bad++;
            } else if (ev[i].status != MEMPHIS_OK || ev[i].count == 0 || ev[i].error_message != NULL) {
                bad++;
            } else {
                OK(memphis_msgs_ack(ev[i].msgs, ev[i].count, E));
                for (size_t j = 0; j < ev[i].count; j++) {
                    const void *d;
                    size_t len;
                    int idx = -1;
                    OK(memphis_msg_data(ev[i].msgs[j], &d, &len, E));
                    char buf[32] = {0};
                    memcpy(buf, d, len < 31 ? len : 31);
                    if (sscanf(buf, "msg-%d", &idx) == 1 && idx >= 0 && idx < 30)
                        seen[idx]++;
                    received++;
                }
            }
            release_event(&ev[i]);
        }
    }
    OK(memphis_consumer_stop(k, E));
    CHECK(received == 30 && drained > 0 && bad == 0);
    for (int i = 0; i < 30; i++)
        CHECK(seen[i] == 1);

    /* after stop returned, nothing more is queued for this consumer */
    size_t n = 0;
    do {
        OK(memphis_queue_poll(q, ev, QMAX, 0, &n, E));
        for (size_t i = 0; i < n; i++)
            release_event(&ev[i]);
    } while (n > 0);
    produce_n(c, "c-queue-c", 3);
    OK(memphis_queue_poll(q, ev, QMAX, 1500, &n, E));
    CHECK(n == 0);
    memphis_msg_t **msgs = NULL;
    OK(memphis_consumer_fetch(k, 0, NULL, 0, &msgs, &n, E)); /* they stayed in the station */
    CHECK(n == 3);
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_queue_destroy(q, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(queue_full_stops_consumer, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-queue-full", 20);
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-queue-full", "k", &o, E));
    OK(memphis_consumer_opts_set_batch_size(o, 1, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 200, E));
    OK(memphis_consumer_opts_set_pull_interval_ms(o, 10, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));

    /* nobody polls a 2-event queue: the consume loop waits for room */
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(2, &q, E));
    OK(memphis_consumer_consume_to_queue(k, q, NULL, NULL, 0, E));
    memphis_event_t ev[QMAX];
    size_t n = 0, total = 0;
    /* the queue fills up: wait until a poll finds both slots taken */
    double end = now_s() + 60;
    while (now_s() < end) {
        size_t got = 0;
        OK(memphis_queue_poll(q, ev, 1, 1000, &got, E));
        CHECK(got == 1 && ev[0].count == 1);
        release_event(&ev[0]);
        total++;
        if (total >= 3)
            break;
    }
    CHECK(total == 3);
    /* stop returns although a batch waits for room; the held batch is
     * dropped (its message redelivered later), the queued ones stay */
    OK(memphis_consumer_stop(k, E));
    do {
        OK(memphis_queue_poll(q, ev, QMAX, 0, &n, E));
        for (size_t i = 0; i < n; i++)
            release_event(&ev[i]);
        total += n;
    } while (n > 0);
    CHECK(total <= 6);

    /* destroying a queue that still holds events releases them */
    OK(memphis_consumer_consume_to_queue(k, q, NULL, NULL, 0, E));
    end = now_s() + 60;
    for (;;) {
        /* wait until the loop has filled the queue again */
        OK(memphis_queue_poll(q, ev, 1, 1000, &n, E));
        CHECK(n == 1);
        release_event(&ev[0]);
        if (++total >= 9 || now_s() > end)
            break;
    }
    OK(memphis_queue_destroy(q, E)); /* the blocked batch gives up too */
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

/* Closing the connection of a consumer whose unpolled queue is full does not
 * wait for a poller: the batch waiting for room is dropped. */
MEMPHIS_TEST(queue_full_conn_close, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_n(c, "c-queue-close", 10);
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-queue-close", "k", &o, E));
    OK(memphis_consumer_opts_set_batch_size(o, 1, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 200, E));
    OK(memphis_consumer_opts_set_pull_interval_ms(o, 10, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(1, &q, E));
    OK(memphis_consumer_consume_to_queue(k, q, NULL, NULL, 0, E));
    /* one batch queued, the next one waiting for room */
    memphis_event_t ev[QMAX];
    size_t n = 0;
    OK(memphis_queue_poll(q, ev, 1, 20000, &n, E));
    CHECK(n == 1);
    release_event(&ev[0]);
    double end = now_s() + 20;
    while (now_s() < end) { /* the loop refills the queue */
        struct timespec nap = {0, 50000000};
        nanosleep(&nap, NULL);
        OK(memphis_queue_poll(q, ev, 1, 0, &n, E));
        if (n == 1) {
            release_event(&ev[0]);
            break;
        }
    }
    CHECK(n == 1);
    struct timespec settle = {0, 300000000}; /* full again, a batch waiting */
    nanosleep(&settle, NULL);
    OK(memphis_conn_close(c, E)); /* hung here before (CTest's timeout catches a hang) */
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_queue_destroy(q, E));
    OK(memphis_conn_destroy(c, E));
}

/* Waits up to `ms` for fd to be readable; then reads it empty. Returns the
 * number of bytes read (0 when it never became readable). */
static long drain_fd(int fd, int ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    if (poll(&pfd, 1, ms) != 1)
        return 0;
    long total = 0;
    char buf[64];
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0)
        total += r;
    return total;
}

/* Polls (timeout 0) until a poll returns fewer than QMAX events, as the
 * header tells fd users to; returns the number of events taken. */
static int take_all(memphis_queue_t *q)
{
    memphis_event_t ev[QMAX];
    int got = 0;
    size_t n;
    do {
        n = 0;
        OK(memphis_queue_poll(q, ev, QMAX, 0, &n, E));
        for (size_t i = 0; i < n; i++)
            release_event(&ev[i]);
        got += (int)n;
    } while (n == QMAX);
    return got;
}

MEMPHIS_TEST(queue_wakeup_fd, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_producer_t *p = test_producer(c, "c-queue-fd", "p");
    memphis_queue_t *q = NULL;
    OK(memphis_queue_new(0, &q, E));
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0 && fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0);

    /* bad arguments */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_set_wakeup_fd(q, -2, "x", 1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_set_wakeup_fd(q, fds[1], NULL, 1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_set_wakeup_fd(q, fds[1], "x", 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_queue_set_wakeup_fd(q, fds[1], "123456789", 9, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_queue_set_wakeup_fd(NULL, fds[1], "x", 1, E));
    CHECK(drain_fd(fds[0], 0) == 0);

    /* an event arriving in the (armed) queue writes the payload once */
    OK(memphis_queue_set_wakeup_fd(q, fds[1], "x", 1, E));
    CHECK(drain_fd(fds[0], 0) == 0); /* nothing was waiting */
    for (int round = 0; round < 3; round++) {
        OK(memphis_producer_produce_async_to_queue(p, "m", 1, NULL, q, NULL, -1, E));
        CHECK(drain_fd(fds[0], 30000) == 1);
        int got = take_all(q);
        /* the byte is written after the event is queued, so one poll
         * sequence after the wake-up finds it */
        CHECK(got == 1);
    }

    /* many events, one wake-up until a poll finds the queue empty again */
    enum { MANY = 3 * QMAX };
    for (int i = 0; i < MANY; i++)
        OK(memphis_producer_produce_async_to_queue(p, "m", 1, NULL, q, NULL, -1, E));
    OK(memphis_producer_flush(p, 30000, NULL, E)); /* all reports are queued */
    CHECK(drain_fd(fds[0], 30000) == 1);
    CHECK(take_all(q) == MANY);
    CHECK(drain_fd(fds[0], 0) == 0);

    /* enabling while events wait writes at once; an eventfd-style 8-byte
     * payload is written whole */
    OK(memphis_queue_set_wakeup_fd(q, -1, NULL, 0, E));
    OK(memphis_producer_produce_async_to_queue(p, "m", 1, NULL, q, NULL, -1, E));
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(drain_fd(fds[0], 0) == 0); /* disabled: no byte */
    const uint64_t one = 1;
    OK(memphis_queue_set_wakeup_fd(q, fds[1], &one, sizeof one, E));
    CHECK(drain_fd(fds[0], 0) == 8);
    CHECK(take_all(q) == 1);

    /* a full pipe is skipped, not blocked on: fill it, produce, and the
     * report still arrives */
    char junk[4096];
    memset(junk, 'j', sizeof junk);
    while (write(fds[1], junk, sizeof junk) > 0) {
    }
    OK(memphis_producer_produce_async_to_queue(p, "m", 1, NULL, q, NULL, -1, E));
    OK(memphis_producer_flush(p, 30000, NULL, E));
    CHECK(take_all(q) == 1);
    drain_fd(fds[0], 0);

    /* after destroy the library never writes to the fd again */
    OK(memphis_queue_destroy(q, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce_async_to_queue(p, "m", 1, NULL, q, NULL, -1, E));
    CHECK(drain_fd(fds[0], 0) == 0);
    close(fds[0]);
    close(fds[1]);
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));
}
