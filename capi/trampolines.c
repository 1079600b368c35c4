/* trampolines.c - calls from Go into user C callbacks.
 *
 * cgo can only call named C functions, so Go hands the function pointer (as
 * an integer) to these helpers. They also record, in thread-local storage,
 * which producer/consumer's callback is running on this OS thread: a Go
 * goroutine stays on one thread for the duration of a cgo call, so a
 * re-entrant library call made from inside the callback sees it. */
#include "internal.h"

static _Thread_local uint64_t current_producer;
static _Thread_local uint64_t current_consumer;

/* The retry details of the delivery report whose callback runs on this
 * thread (memphis_delivery_retries and memphis_delivery_possible_duplicate). */
struct delivery_details {
    bool active;
    bool possible_duplicate;
    int retries;
};
static _Thread_local struct delivery_details current_delivery;

void memphis_capi_call_delivery(uintptr_t cb, int status, const char *error_message, uint64_t sequence, uintptr_t user_data,
                                uint64_t producer, int retries, int possible_duplicate)
{
    memphis_delivery_cb fn = (memphis_delivery_cb)cb;
    uint64_t saved = current_producer;
    struct delivery_details saved_delivery = current_delivery;
    current_producer = producer;
    current_delivery = (struct delivery_details){true, possible_duplicate != 0, retries};
    fn((memphis_status_t)status, error_message, sequence, (void *)user_data);
    current_delivery = saved_delivery;
    current_producer = saved;
}

int memphis_delivery_retries(void) { return current_delivery.active ? current_delivery.retries : -1; }

bool memphis_delivery_possible_duplicate(void) { return current_delivery.active && current_delivery.possible_duplicate; }

void memphis_capi_call_consume(uintptr_t cb, uint64_t *msgs, size_t count, int status, const char *error_message,
                               uintptr_t user_data, uint64_t consumer)
{
    memphis_consume_cb fn = (memphis_consume_cb)cb;
    uint64_t saved = current_consumer;
    current_consumer = consumer;
    /* Handles are ids that fit a pointer on the supported 64-bit targets. */
    fn((memphis_msg_t **)(void *)msgs, count, (memphis_status_t)status, error_message, (void *)user_data);
    current_consumer = saved;
}

uint64_t memphis_capi_current_producer(void) { return current_producer; }
uint64_t memphis_capi_current_consumer(void) { return current_consumer; }

/* Set while a log callback runs on this thread: memphis_set_log_callback
 * called from it must not wait for the call it is part of. */
static _Thread_local int in_log_callback;

void memphis_capi_call_log(uintptr_t cb, int level, const char *message, uintptr_t user_data)
{
    memphis_log_cb fn = (memphis_log_cb)cb;
    in_log_callback = 1;
    fn((memphis_log_level_t)level, message, (void *)user_data);
    in_log_callback = 0;
}

int memphis_capi_in_log_callback(void) { return in_log_callback; }

void memphis_capi_call_stats(uintptr_t cb, const char *json, size_t len, uintptr_t user_data)
{
    memphis_stats_cb fn = (memphis_stats_cb)cb;
    fn(json, len, (void *)user_data);
}
