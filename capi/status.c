/* status.c - the parts of the C API that never enter the Go runtime:
 * version, status texts, error objects, memphis_free, fork detection,
 * delivery events' retry details. They keep working in a fork()ed child. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

volatile int memphis_capi_forked;

static void on_fork_child(void) { memphis_capi_forked = 1; }

/* Runs when the library is loaded, before any call: from then on the Go
 * runtime's threads exist and would be missing in a child. */
__attribute__((constructor)) static void memphis_capi_init(void) { pthread_atfork(NULL, NULL, on_fork_child); }

int memphis_version(void) { return MEMPHIS_VERSION; }

const char *memphis_version_str(void) { return MEMPHIS_VERSION_STR; }

struct status_desc {
    memphis_status_t status;
    const char *name;
    const char *text;
};

static const struct status_desc statuses[] = {
    {MEMPHIS_OK, "MEMPHIS_OK", "success"},
    {MEMPHIS_ERR_INVALID_ARGUMENT, "MEMPHIS_ERR_INVALID_ARGUMENT", "invalid argument"},
    {MEMPHIS_ERR_NOT_CONNECTED, "MEMPHIS_ERR_NOT_CONNECTED", "not connected to the broker"},
    {MEMPHIS_ERR_TIMEOUT, "MEMPHIS_ERR_TIMEOUT", "timed out"},
    {MEMPHIS_ERR_NO_MESSAGES, "MEMPHIS_ERR_NO_MESSAGES", "no messages (station drained)"},
    {MEMPHIS_ERR_NOT_FOUND, "MEMPHIS_ERR_NOT_FOUND", "not found"},
    {MEMPHIS_ERR_ALREADY_EXISTS, "MEMPHIS_ERR_ALREADY_EXISTS", "already exists"},
    {MEMPHIS_ERR_AUTH, "MEMPHIS_ERR_AUTH", "authentication failed"},
    {MEMPHIS_ERR_TLS, "MEMPHIS_ERR_TLS", "TLS error"},
    {MEMPHIS_ERR_UNREACHABLE, "MEMPHIS_ERR_UNREACHABLE", "broker unreachable"},
    {MEMPHIS_ERR_BROKER, "MEMPHIS_ERR_BROKER", "broker error"},
    {MEMPHIS_ERR_SCHEMA_VALIDATION, "MEMPHIS_ERR_SCHEMA_VALIDATION", "schema validation failed"},
    {MEMPHIS_ERR_HEADER, "MEMPHIS_ERR_HEADER", "invalid header"},
    {MEMPHIS_ERR_QUEUE_FULL, "MEMPHIS_ERR_QUEUE_FULL", "in-flight queue full"},
    {MEMPHIS_ERR_CLOSED, "MEMPHIS_ERR_CLOSED", "closed"},
    {MEMPHIS_ERR_PAYLOAD_TOO_LARGE, "MEMPHIS_ERR_PAYLOAD_TOO_LARGE", "payload too large"},
    {MEMPHIS_ERR_INTERNAL, "MEMPHIS_ERR_INTERNAL", "internal library error"},
    {MEMPHIS_ERR_INVALID_HANDLE, "MEMPHIS_ERR_INVALID_HANDLE", "invalid handle (destroyed, unknown or wrong type)"},
    {MEMPHIS_ERR_FORKED, "MEMPHIS_ERR_FORKED", "libmemphis cannot be used in a fork()ed child process"},
};

#define N_STATUSES (sizeof statuses / sizeof statuses[0])

static const memphis_status_t status_values[N_STATUSES] = {
    MEMPHIS_OK,
    MEMPHIS_ERR_INVALID_ARGUMENT,
    MEMPHIS_ERR_NOT_CONNECTED,
    MEMPHIS_ERR_TIMEOUT,
    MEMPHIS_ERR_NO_MESSAGES,
    MEMPHIS_ERR_NOT_FOUND,
    MEMPHIS_ERR_ALREADY_EXISTS,
    MEMPHIS_ERR_AUTH,
    MEMPHIS_ERR_TLS,
    MEMPHIS_ERR_UNREACHABLE,
    MEMPHIS_ERR_BROKER,
    MEMPHIS_ERR_SCHEMA_VALIDATION,
    MEMPHIS_ERR_HEADER,
    MEMPHIS_ERR_QUEUE_FULL,
    MEMPHIS_ERR_CLOSED,
    MEMPHIS_ERR_PAYLOAD_TOO_LARGE,
    MEMPHIS_ERR_INTERNAL,
    MEMPHIS_ERR_INVALID_HANDLE,
    MEMPHIS_ERR_FORKED,
};

static const struct status_desc *find_status(memphis_status_t status)
{
    for (size_t i = 0; i < N_STATUSES; i++)
        if (statuses[i].status == status)
            return &statuses[i];
    return NULL;
}

const char *memphis_status_str(memphis_status_t status)
{
    const struct status_desc *d = find_status(status);
    return d ? d->text : "unknown status";
}

const char *memphis_status_name(memphis_status_t status)
{
    const struct status_desc *d = find_status(status);
    return d ? d->name : "MEMPHIS_ERR_UNKNOWN";
}

size_t memphis_status_list(const memphis_status_t **out)
{
    if (out)
        *out = status_values;
    return N_STATUSES;
}

struct memphis_error {
    memphis_status_t status;
    char message[]; /* NUL-terminated */
};

static memphis_error_t *error_new(memphis_status_t status, const char *message)
{
    if (!message || !*message)
        message = memphis_status_str(status);
    size_t n = strlen(message);
    memphis_error_t *e = malloc(sizeof *e + n + 1);
    if (!e)
        return NULL; /* out of memory: the status alone must do */
    e->status = status;
    memcpy(e->message, message, n + 1);
    return e;
}

memphis_status_t memphis_error_status(const memphis_error_t *err)
{
    return err ? err->status : MEMPHIS_ERR_INVALID_ARGUMENT;
}

const char *memphis_error_message(const memphis_error_t *err) { return err ? err->message : ""; }

void memphis_error_free(memphis_error_t *err) { free(err); }

void memphis_free(void *ptr) { free(ptr); }

int memphis_event_retries(const memphis_event_t *event)
{
    if (!event || event->kind != MEMPHIS_EVENT_DELIVERY)
        return 0;
    return (int)(event->count & MEMPHIS_CAPI_EVENT_RETRIES_MASK);
}

bool memphis_event_possible_duplicate(const memphis_event_t *event)
{
    return event && event->kind == MEMPHIS_EVENT_DELIVERY && (event->count & MEMPHIS_CAPI_EVENT_POSSIBLE_DUPLICATE) != 0;
}

void memphis_produce_opts_init(memphis_produce_opts_t *opts)
{
    if (opts)
        memset(opts, 0, sizeof *opts);
}

memphis_status_t memphis_capi_finish(int status, char *msg, memphis_error_t **err)
{
    if (err)
        *err = status == MEMPHIS_OK ? NULL : error_new((memphis_status_t)status, msg);
    free(msg);
    return (memphis_status_t)status;
}
