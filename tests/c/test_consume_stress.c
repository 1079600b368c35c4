/* The push-callback consume path under churn: the application thread stops
 * and restarts the consume loop while batches are in flight, the way
 * bench/ruby/c_baseline.c stops it right after its last batch. Guards the
 * promises a C program relies on there: only MEMPHIS_OK or
 * MEMPHIS_ERR_NO_MESSAGES without an outage, a well-formed array, no
 * callback after stop returned, and every message arrives (redelivered if a
 * stop cut its fetch short). Built with ASan by scripts/test-c.sh, it also
 * catches use-after-free of the borrowed array or the payloads. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

#define STRESS_MSGS 1500
#define STRESS_ROUNDS 40

struct stress_state {
    pthread_mutex_t mu;
    volatile int stopped; /* set by the main thread once stop returned */
    int late;             /* callbacks that started after stop returned */
    int in_cb;            /* callbacks running right now */
    int errors, bad_array, drained, batches;
    memphis_status_t last_error;
    char seen[STRESS_MSGS];
    int unique;
};

static void on_stress_batch(memphis_msg_t **msgs, size_t count, memphis_status_t st, const char *err, void *ud)
{
    struct stress_state *s = ud;
    pthread_mutex_lock(&s->mu);
    if (s->stopped)
        s->late++;
    s->in_cb++;
    pthread_mutex_unlock(&s->mu);

    int bad = 0, unique = 0;
    if (st == MEMPHIS_OK) {
        bad = count == 0 || msgs == NULL || err != NULL;
        /* Read every payload, ack the batch, release it: the bench's work. */
        int idx[1024];
        size_t nidx = 0;
        for (size_t i = 0; i < count; i++) {
            const void *d = NULL;
            size_t len = 0;
            if (memphis_msg_data(msgs[i], &d, &len, NULL) != MEMPHIS_OK || len == 0 || len > 31) {
                bad = 1;
                continue;
            }
            char buf[32];
            memcpy(buf, d, len);
            buf[len] = 0;
            int k = -1;
            if (sscanf(buf, "m-%d", &k) != 1 || k < 0 || k >= STRESS_MSGS)
                bad = 1;
            else if (nidx < sizeof idx / sizeof idx[0])
                idx[nidx++] = k;
        }
        if (memphis_msgs_ack(msgs, count, NULL) != MEMPHIS_OK)
            bad = 1;
        for (size_t i = 0; i < count; i++)
            memphis_msg_destroy(msgs[i], NULL);
        pthread_mutex_lock(&s->mu);
        for (size_t i = 0; i < nidx; i++)
            if (!s->seen[idx[i]]) {
                s->seen[idx[i]] = 1;
                unique++;
            }
        pthread_mutex_unlock(&s->mu);
    } else if (st == MEMPHIS_ERR_NO_MESSAGES) {
        bad = count != 0 || msgs != NULL || err == NULL;
    }

    pthread_mutex_lock(&s->mu);
    if (st == MEMPHIS_OK) {
        s->batches++;
        s->unique += unique;
    } else if (st == MEMPHIS_ERR_NO_MESSAGES) {
        s->drained++;
    } else {
        s->errors++;
        s->last_error = st;
    }
    s->bad_array += bad;
    s->in_cb--;
    pthread_mutex_unlock(&s->mu);
}

static int stress_unique(struct stress_state *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->unique;
    pthread_mutex_unlock(&s->mu);
    return n;
}

MEMPHIS_TEST(consume_callback_stop_churn, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    const char *station = uname_("c-churn");
    memphis_producer_t *p = test_producer(c, station, "fill");
    for (int i = 0; i < STRESS_MSGS; i++) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "m-%d", i);
        OK(memphis_producer_produce_async(p, buf, (size_t)len, NULL, NULL, NULL, -1, E));
    }
    OK(memphis_producer_flush(p, 60000, NULL, E));
    OK(memphis_producer_destroy(p, E));

    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new(station, "churn", &o, E));
    OK(memphis_consumer_opts_set_batch_size(o, 50, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 100, E));
    OK(memphis_consumer_opts_set_pull_interval_ms(o, 1, E));
    /* a stop that cuts a fetch short leaves its messages unacked: get them
     * back quickly */
    OK(memphis_consumer_opts_set_max_ack_time_ms(o, 2000, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));

    static struct stress_state s = {.mu = PTHREAD_MUTEX_INITIALIZER};
    unsigned seed = 12345;
    for (int round = 0; round < STRESS_ROUNDS && stress_unique(&s) < STRESS_MSGS; round++) {
        pthread_mutex_lock(&s.mu);
        s.stopped = 0;
        pthread_mutex_unlock(&s.mu);
        OK(memphis_consumer_consume(k, on_stress_batch, &s, NULL, 0, E));
        /* stop at varying points: before the first batch, mid-callback,
         * between fetches */
        seed = seed * 1103515245u + 12345u;
        struct timespec nap = {0, (long)((seed >> 8) % 20000) * 1000};
        nanosleep(&nap, NULL);
        OK(memphis_consumer_stop(k, E));
        pthread_mutex_lock(&s.mu);
        CHECK(s.in_cb == 0); /* stop returned while a callback still ran */
        s.stopped = 1;
        pthread_mutex_unlock(&s.mu);
    }
    /* then consume the rest without interruption */
    pthread_mutex_lock(&s.mu);
    s.stopped = 0;
    pthread_mutex_unlock(&s.mu);
    OK(memphis_consumer_consume(k, on_stress_batch, &s, NULL, 0, E));
    double end = now_s() + 60;
    while (stress_unique(&s) < STRESS_MSGS && now_s() < end) {
        struct timespec nap = {0, 5000000};
        nanosleep(&nap, NULL);
    }
    OK(memphis_consumer_stop(k, E));
    pthread_mutex_lock(&s.mu);
    s.stopped = 1;
    if (s.errors)
        fprintf(stderr, "unexpected callback status %s (%d times)\n", memphis_status_name(s.last_error), s.errors);
    CHECK(s.errors == 0);
    CHECK(s.bad_array == 0);
    CHECK(s.late == 0);
    CHECK(s.unique == STRESS_MSGS);
    pthread_mutex_unlock(&s.mu);

    /* destroy while consuming: the loop ends, no callback afterwards */
    pthread_mutex_lock(&s.mu);
    s.stopped = 0;
    pthread_mutex_unlock(&s.mu);
    OK(memphis_consumer_consume(k, on_stress_batch, &s, NULL, 0, E));
    OK(memphis_consumer_destroy(k, E));
    pthread_mutex_lock(&s.mu);
    CHECK(s.in_cb == 0);
    s.stopped = 1;
    CHECK(s.errors == 0);
    pthread_mutex_unlock(&s.mu);
    OK(memphis_conn_destroy(c, E));
}
