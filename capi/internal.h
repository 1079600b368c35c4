/* internal.h - declarations shared by the C files of capi/ and the cgo
 * preambles. Not installed; the public API is include/memphis.h. */
#ifndef MEMPHIS_CAPI_INTERNAL_H
#define MEMPHIS_CAPI_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include "memphis.h"

/* Set in a fork()ed child (pthread_atfork); read by every shim before it
 * enters the Go runtime, which does not survive fork(). */
extern volatile int memphis_capi_forked;

/* Builds the caller's error object from a Go export's result. msg is a
 * malloc'd string from Go (or NULL) and is always consumed. */
memphis_status_t memphis_capi_finish(int status, char *msg, memphis_error_t **err);

/* Trampolines: cgo cannot call C function pointers, so Go calls these.
 * Function pointers and user data cross into Go as integers only.
 * retries/possible_duplicate are what memphis_delivery_retries() and
 * memphis_delivery_possible_duplicate() report during the callback. */
void memphis_capi_call_delivery(uintptr_t cb, int status, const char *error_message, uint64_t sequence, uintptr_t user_data,
                                uint64_t producer, int retries, int possible_duplicate);

/* A delivery event's count field packs its retry details: the retry count
 * in the low 32 bits, the possible-duplicate flag above them (read with
 * memphis_event_retries / memphis_event_possible_duplicate). */
#define MEMPHIS_CAPI_EVENT_RETRIES_MASK ((size_t)0xffffffffu)
#define MEMPHIS_CAPI_EVENT_POSSIBLE_DUPLICATE ((size_t)1 << 32)
void memphis_capi_call_consume(uintptr_t cb, uint64_t *msgs, size_t count, int status, const char *error_message,
                               uintptr_t user_data, uint64_t consumer);

/* Log and periodic statistics callbacks; memphis_capi_in_log_callback
 * reports whether the calling thread is inside the log callback. */
void memphis_capi_call_log(uintptr_t cb, int level, const char *message, uintptr_t user_data);
int memphis_capi_in_log_callback(void);
void memphis_capi_call_stats(uintptr_t cb, const char *json, size_t len, uintptr_t user_data);

/* The producer/consumer whose callback runs on the calling thread (0 = none):
 * lets flush/stop/destroy avoid waiting for the very callback they run in. */
uint64_t memphis_capi_current_producer(void);
uint64_t memphis_capi_current_consumer(void);

#endif
