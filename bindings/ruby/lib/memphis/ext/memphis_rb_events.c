/*
 * memphis_rb_events.c - an event queue between libmemphis callbacks and Ruby.
 *
 * Why: libmemphis runs delivery and consume callbacks on its own threads. An
 * ffi callback invoked on a non-Ruby thread makes the ffi gem start a new
 * Ruby thread for every single call, which caps per-message delivery reports
 * at a few thousand per second. Instead, the library is handed the two plain
 * C callbacks below; they copy their arguments into a queue and return at
 * once, and one Ruby thread drains the queue in bulk with
 * memphis_rb_events_poll (called with the GVL released).
 *
 * Plain C, no Ruby headers: the gem compiles it with the system C compiler on
 * first use (and falls back to ffi callbacks when it cannot).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEMPHIS_RB_DELIVERY 1
#define MEMPHIS_RB_CONSUME 2

/* One callback's arguments, copied. Laid out for an FFI::Struct. */
typedef struct memphis_rb_event {
    uint64_t user_data; /* the registry id the Ruby side passed as user_data */
    uint64_t sequence;  /* delivery: stream sequence */
    uint64_t count;     /* consume: number of messages in msgs */
    void **msgs;        /* consume: malloc'd copy of the message array, or NULL */
    char *message;      /* malloc'd copy of the error text, or NULL */
    int32_t kind;       /* MEMPHIS_RB_DELIVERY or MEMPHIS_RB_CONSUME */
    int32_t status;
} memphis_rb_event_t;

typedef struct node {
    memphis_rb_event_t ev;
    struct node *next;
} node_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static node_t *head = NULL, *tail = NULL;
static uint64_t enqueued = 0; /* total events ever queued (for drain barriers) */

static char *copy_text(const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *c = malloc(n);
    if (c != NULL) memcpy(c, s, n);
    return c;
}

static void push(node_t *n) {
    n->next = NULL;
    pthread_mutex_lock(&lock);
    if (tail != NULL) tail->next = n; else head = n;
    tail = n;
    enqueued++;
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&lock);
}

/* memphis_delivery_cb */
void memphis_rb_on_delivery(int status, const char *error_message, uint64_t sequence, void *user_data) {
    node_t *n = calloc(1, sizeof *n);
    if (n == NULL) return; /* out of memory: the report is lost, flush still completes */
    n->ev.kind = MEMPHIS_RB_DELIVERY;
    n->ev.status = status;
    n->ev.sequence = sequence;
    n->ev.user_data = (uint64_t)(uintptr_t)user_data;
    n->ev.message = copy_text(error_message);
    push(n);
}

/* memphis_consume_cb: the array is borrowed, the messages are ours. */
void memphis_rb_on_consume(void **msgs, size_t count, int status, const char *error_message, void *user_data) {
    node_t *n = calloc(1, sizeof *n);
    if (n == NULL) return;
    n->ev.kind = MEMPHIS_RB_CONSUME;
    n->ev.status = status;
    n->ev.user_data = (uint64_t)(uintptr_t)user_data;
    n->ev.message = copy_text(error_message);
    if (count > 0 && msgs != NULL) {
        n->ev.msgs = malloc(count * sizeof(void *));
        if (n->ev.msgs != NULL) {
            memcpy(n->ev.msgs, msgs, count * sizeof(void *));
            n->ev.count = count;
        }
    }
    push(n);
}

/* Moves up to `max` events into `out`, waiting up to timeout_ms (0 = do not
 * wait) for the first one. Returns how many were moved. The caller frees
 * each event's `message` and `msgs` with memphis_rb_events_free. */
size_t memphis_rb_events_poll(memphis_rb_event_t *out, size_t max, int64_t timeout_ms) {
    size_t got = 0;
    pthread_mutex_lock(&lock);
    if (head == NULL && timeout_ms > 0) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
        while (head == NULL) {
            if (pthread_cond_timedwait(&ready, &lock, &until) == ETIMEDOUT) break;
        }
    }
    while (head != NULL && got < max) {
        node_t *n = head;
        head = n->next;
        if (head == NULL) tail = NULL;
        out[got++] = n->ev;
        free(n);
    }
    pthread_mutex_unlock(&lock);
    return got;
}

/* Total number of events queued so far: a caller that saw this value can
 * wait until its poller has handled that many. */
uint64_t memphis_rb_events_enqueued(void) {
    pthread_mutex_lock(&lock);
    uint64_t n = enqueued;
    pthread_mutex_unlock(&lock);
    return n;
}

void memphis_rb_events_free(void *p) { free(p); }

/* Size of memphis_rb_event_t, so the Ruby side can check its layout. */
size_t memphis_rb_events_event_size(void) { return sizeof(memphis_rb_event_t); }
