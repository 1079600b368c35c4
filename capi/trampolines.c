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

void memphis_capi_call_delivery(uintptr_t cb, int status, const char *error_message, uint64_t sequence, uintptr_t user_data,
                                uint64_t producer)
{
    memphis_delivery_cb fn = (memphis_delivery_cb)cb;
    uint64_t saved = current_producer;
    current_producer = producer;
    fn((memphis_status_t)status, error_message, sequence, (void *)user_data);
    current_producer = saved;
}

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
