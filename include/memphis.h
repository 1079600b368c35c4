/*
 * memphis.h - C API of libmemphis, a client for the Memphis.dev message broker
 * (wire-compatible with Memphis v1.4.x).
 *
 * Changelog
 *   0.1.0  first public header; statistics (memphis_*_stats_json, periodic
 *          MEMPHIS_EVENT_STATS with memphis_event_t.stats_json) and log
 *          events (memphis_set_log_callback).
 *
 * ---------------------------------------------------------------------------
 * General rules (they hold for every function below unless its comment says
 * otherwise)
 * ---------------------------------------------------------------------------
 *
 * Status and errors
 *   Every fallible function returns a memphis_status_t (MEMPHIS_OK == 0) and
 *   takes a trailing `memphis_error_t **err`. `err` may be NULL. When it is not
 *   NULL, *err is set to NULL on success and, on failure, to a new error object
 *   carrying the status and a human-readable message (for broker failures the
 *   broker's own text). The caller owns that object and frees it with
 *   memphis_error_free(). Status values are stable and never renumbered.
 *
 * Handles
 *   memphis_conn_t, memphis_station_t, memphis_producer_t, memphis_consumer_t,
 *   memphis_msg_t, memphis_headers_t and the *_opts_t types are opaque handles.
 *   Their pointer values are ids in the library's handle table, never memory
 *   addresses: they are never dereferenced, never reused, and carry their type.
 *   Passing a destroyed, never-issued or wrong-type handle returns
 *   MEMPHIS_ERR_INVALID_HANDLE; it never crashes. Destroying twice returns
 *   MEMPHIS_ERR_INVALID_HANDLE the second time. Objects may be destroyed in any
 *   order: destroying a connection first closes it, and its stations,
 *   producers, consumers and messages then fail with MEMPHIS_ERR_CLOSED (or
 *   MEMPHIS_ERR_NOT_CONNECTED) but can still be destroyed (which then only
 *   releases the handle and returns MEMPHIS_OK; memphis_station_destroy,
 *   whose job is deleting the station, returns MEMPHIS_ERR_CLOSED then).
 *   A *_destroy function always releases the handle, even when it returns an
 *   error (for example a failed flush or broker de-registration).
 *   The library is 64-bit only (handles are 64-bit ids).
 *
 * Ownership
 *   Input buffers and strings are only read during the call (what the
 *   library keeps, it copies); the caller may free or reuse them as soon as
 *   the call returns. Options objects are copied by the call that uses them
 *   and stay owned by the caller.
 *   Strings and arrays returned through `char **` / `T ***` out-parameters are
 *   allocated with malloc() and freed by the caller with memphis_free() (or the
 *   function named in the comment). Pointers returned through `const T **`
 *   out-parameters are borrowed: they point into the object and stay valid
 *   until that object is destroyed. Received messages are owned by the caller
 *   until memphis_msg_destroy(). Out-parameters, and the arrays the library
 *   fills (memphis_msgs_data, memphis_queue_poll), need not be initialized.
 *
 * Strings
 *   Every `const char *` parameter is a C string: it ends at its first NUL
 *   byte, so it cannot carry one. Text parameters (station, producer,
 *   consumer, group, schema and DLS station names, msg_id, partition_key,
 *   header keys and values, host, username, password, connection token,
 *   schema type and content, dead-letter reason) must also be valid UTF-8:
 *   they travel in JSON requests and message headers, where other bytes
 *   would be replaced. Invalid UTF-8 gives MEMPHIS_ERR_INVALID_ARGUMENT
 *   naming the parameter. File paths (TLS files, schema files) go to the
 *   file system as they are. Bindings whose strings can hold NUL bytes
 *   refuse such a string before calling, so no text is ever cut short
 *   silently. Header values are text too (there is no length-delimited
 *   header value): a header the broker cannot carry is refused with
 *   MEMPHIS_ERR_HEADER, see memphis_headers_add. Payloads are (pointer,
 *   length) buffers and may hold any bytes, NUL included.
 *
 * Option values
 *   Option setters store what they are given (they only refuse values C
 *   cannot represent in the library, such as a duration overflowing
 *   nanoseconds); the values are checked, with the broker's own texts, by
 *   the call that uses the options (memphis_connect, memphis_station_create,
 *   memphis_producer_create, memphis_consumer_create, memphis_fetch_messages).
 *
 * Threads and callbacks
 *   Every function may be called from any thread, concurrently.
 *   Callbacks (delivery reports, consume batches, periodic statistics, log
 *   records) run on library-owned threads, never on the thread that
 *   registered them, and never while the library holds one of its locks. Callbacks may call back into the
 *   library (produce, ack, destroy a message, stop a consumer...). Inside a
 *   callback, functions that would wait for callbacks of the same object
 *   (memphis_producer_flush/destroy from a delivery callback,
 *   memphis_consumer_stop/destroy from its consume callback) do not wait for
 *   the running callback to return, so they cannot deadlock. Do not block in a
 *   callback for long: it holds up the deliveries behind it.
 *   Instead of callbacks, delivery reports and consume batches can go to an
 *   event queue the application polls on its own threads (memphis_queue_t,
 *   see "Event queue" below); bindings should prefer it.
 *
 * fork()
 *   The Go runtime inside this library does not survive fork(). In a child
 *   process every function that needs the runtime returns MEMPHIS_ERR_FORKED at
 *   once (without entering the runtime, so it never hangs). Functions that do
 *   not need it keep working in the child: memphis_version*(),
 *   memphis_status_*(), memphis_error_*(), memphis_free(),
 *   memphis_produce_opts_init(). A forked child therefore cannot use the
 *   library; run the work in the parent or in a freshly exec'd process (for
 *   Python multiprocessing, use the "spawn" start method).
 *
 * Timeouts and durations are int64_t milliseconds.
 */
#ifndef MEMPHIS_H
#define MEMPHIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MEMPHIS_API __declspec(dllimport)
#elif defined(__GNUC__) || defined(__clang__)
#define MEMPHIS_API __attribute__((visibility("default")))
#else
#define MEMPHIS_API
#endif

/* Marks functions that may wait: network round trips, flushes, polls with a
 * timeout. Bindings call them with their interpreter lock released and off
 * event-loop threads (capi/gen_shims.py reads this mark to build the
 * bindings' tables). Expands to nothing. */
#define MEMPHIS_BLOCKING

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/* The release version, written from the file VERSION by scripts/version.py. */
#define MEMPHIS_VERSION_MAJOR 0
#define MEMPHIS_VERSION_MINOR 1
#define MEMPHIS_VERSION_PATCH 0
/* 0xMMmmrrxx: major, minor, revision, pre-release id (0xff = final release).
 * Compile-time value; compare with memphis_version() at run time. */
#define MEMPHIS_VERSION 0x000100ff
#define MEMPHIS_VERSION_STR "0.1.0"

/* Version of the loaded library, encoded like MEMPHIS_VERSION. */
MEMPHIS_API int memphis_version(void);
/* Version of the loaded library as static text, e.g. "0.1.0". */
MEMPHIS_API const char *memphis_version_str(void);

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */
/* ------------------------------------------------------------------------ */

/* Values 0..16 mirror the Go core's sdk.Code one to one; values >= 100 are
 * produced by the C layer itself. Never renumbered. */
typedef enum memphis_status {
    MEMPHIS_OK = 0,                     /* success */
    MEMPHIS_ERR_INVALID_ARGUMENT = 1,   /* NULL pointer, bad name, bad value */
    MEMPHIS_ERR_NOT_CONNECTED = 2,      /* connection is down (reconnecting or lost) */
    MEMPHIS_ERR_TIMEOUT = 3,            /* the operation did not complete in time */
    MEMPHIS_ERR_NO_MESSAGES = 4,        /* consume: the station is drained (Python's "Memphis: TimeoutError") */
    MEMPHIS_ERR_NOT_FOUND = 5,          /* station/schema/consumer/header does not exist */
    MEMPHIS_ERR_ALREADY_EXISTS = 6,     /* the object already exists */
    MEMPHIS_ERR_AUTH = 7,               /* wrong credentials or permission denied */
    MEMPHIS_ERR_TLS = 8,                /* TLS setup or handshake failed */
    MEMPHIS_ERR_UNREACHABLE = 9,        /* cannot reach the broker or station (no responders) */
    MEMPHIS_ERR_BROKER = 10,            /* the broker rejected the request; see the message */
    MEMPHIS_ERR_SCHEMA_VALIDATION = 11, /* the message does not match the station's schema */
    MEMPHIS_ERR_HEADER = 12,            /* invalid header (e.g. reserved "$memphis" prefix) */
    MEMPHIS_ERR_QUEUE_FULL = 13,        /* the in-flight window is full (nonblocking produce) */
    MEMPHIS_ERR_CLOSED = 14,            /* the object or its connection was closed/destroyed */
    MEMPHIS_ERR_PAYLOAD_TOO_LARGE = 15, /* message larger than the broker's max payload */
    MEMPHIS_ERR_INTERNAL = 16,          /* library bug (e.g. a recovered panic); please report */
    MEMPHIS_ERR_INVALID_HANDLE = 100,   /* destroyed, unknown or wrong-type handle */
    MEMPHIS_ERR_FORKED = 101            /* called in a fork()ed child; the library is unusable there */
} memphis_status_t;

/* Static English description of a status ("timeout", ...). Never NULL;
 * unknown values give "unknown status". Works after fork(). */
MEMPHIS_API const char *memphis_status_str(memphis_status_t status);
/* Static symbolic name of a status ("MEMPHIS_ERR_TIMEOUT"). Never NULL;
 * unknown values give "MEMPHIS_ERR_UNKNOWN". Works after fork(). */
MEMPHIS_API const char *memphis_status_name(memphis_status_t status);
/* Every defined status, in ascending order, as a static array; returns the
 * number of entries. Lets bindings generate their exception classes.
 * Works after fork(). */
MEMPHIS_API size_t memphis_status_list(const memphis_status_t **statuses);

/* ------------------------------------------------------------------------ */
/* Error details                                                             */
/* ------------------------------------------------------------------------ */

/* Error detail returned through `memphis_error_t **err`. Plain C memory, not a
 * handle: it stays readable after everything else was destroyed, even after
 * fork(). */
typedef struct memphis_error memphis_error_t;

/* The status of the failed call (MEMPHIS_ERR_INVALID_ARGUMENT if err is NULL). */
MEMPHIS_API memphis_status_t memphis_error_status(const memphis_error_t *err);
/* The detail message (never NULL; "" if err is NULL). Borrowed: valid until
 * memphis_error_free(err). */
MEMPHIS_API const char *memphis_error_message(const memphis_error_t *err);
/* Frees an error object. NULL is a no-op. */
MEMPHIS_API void memphis_error_free(memphis_error_t *err);

/* Frees memory the library returned through `char **` / `T ***`
 * out-parameters (strings, message arrays, deserialized text). NULL is a
 * no-op. Works after fork(). */
MEMPHIS_API void memphis_free(void *ptr);

/* ------------------------------------------------------------------------ */
/* Log events                                                                */
/* ------------------------------------------------------------------------ */

/* The library never prints anything. Its events (connected, disconnected,
 * reconnected, resends after a reconnect, slow consumers, nonblocking
 * produces that failed, schema updates, retries; docs/statistics.md lists
 * them with their levels) go to the log callback, if one is set.
 * Levels are syslog's: a smaller value is more severe. */
typedef enum memphis_log_level {
    MEMPHIS_LOG_ERROR = 3, /* the connection closed for good */
    MEMPHIS_LOG_WARN = 4,  /* something failed or was dropped; the library copes */
    MEMPHIS_LOG_INFO = 6,  /* connect, reconnect, schema updates: a few per connection */
    MEMPHIS_LOG_DEBUG = 7  /* failures also reported to a callback or handler */
} memphis_log_level_t;

/* One log record. message: one line, the event's text followed by its
 * details as key=value (connection_id=... always), borrowed for the call.
 * Runs on one library thread, one record at a time, in order, never while
 * the library holds a lock: it may call any library function, including
 * memphis_set_log_callback. Records are handed over through a bounded
 * buffer (1024 records): a callback that falls behind loses records, and
 * the next one delivered says how many. */
typedef void (*memphis_log_cb)(memphis_log_level_t level, const char *message, void *user_data);

/* Sets the process-wide log callback (every connection's events, from now
 * on): records at `level` or more severe reach cb(level, message,
 * user_data). cb == NULL turns logging off (the default; level is then
 * ignored). Replaces the previous callback and, unless called from inside
 * the log callback, waits until a running call of it has returned: once
 * this returns, the old callback is never called again and its user_data
 * may be freed. Records still buffered go to the new callback. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_set_log_callback(memphis_log_cb cb, void *user_data, memphis_log_level_t level,
                                                                       memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Opaque handle types                                                       */
/* ------------------------------------------------------------------------ */

typedef struct memphis_conn memphis_conn_t;
typedef struct memphis_conn_opts memphis_conn_opts_t;
typedef struct memphis_station memphis_station_t;
typedef struct memphis_station_opts memphis_station_opts_t;
typedef struct memphis_producer memphis_producer_t;
typedef struct memphis_producer_opts memphis_producer_opts_t;
typedef struct memphis_consumer memphis_consumer_t;
typedef struct memphis_consumer_opts memphis_consumer_opts_t;
typedef struct memphis_msg memphis_msg_t;
typedef struct memphis_headers memphis_headers_t;
typedef struct memphis_queue memphis_queue_t;

/* ------------------------------------------------------------------------ */
/* Connection options                                                        */
/* ------------------------------------------------------------------------ */

/* Creates connection options holding the library defaults (port 6666,
 * user "", account id 1, reconnect on, max reconnect, reconnect interval,
 * connect timeout: see the getters). Free with memphis_conn_opts_destroy. */
MEMPHIS_API memphis_status_t memphis_conn_opts_new(memphis_conn_opts_t **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_destroy(memphis_conn_opts_t *opts, memphis_error_t **err);

/* Setters copy their argument. Strings may not be NULL ("" clears).
 * host: a host name or address, or a cluster's nodes as a comma-separated
 * list of host[:port] ("n1:6666,n2:6666"; an entry without a port uses the
 * port option). */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_host(memphis_conn_opts_t *opts, const char *host, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_port(memphis_conn_opts_t *opts, int port, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_username(memphis_conn_opts_t *opts, const char *username, memphis_error_t **err);
/* Exactly one of password and connection token must be set before connect. */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_password(memphis_conn_opts_t *opts, const char *password, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_connection_token(memphis_conn_opts_t *opts, const char *token, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_account_id(memphis_conn_opts_t *opts, int account_id, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_reconnect(memphis_conn_opts_t *opts, bool reconnect, memphis_error_t **err);
/* -1 = unlimited. */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_max_reconnect(memphis_conn_opts_t *opts, int max_reconnect, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_reconnect_interval_ms(memphis_conn_opts_t *opts, int64_t ms, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_timeout_ms(memphis_conn_opts_t *opts, int64_t ms, memphis_error_t **err);
/* unbuffered_writes (default false): the calling thread writes each publish
 * (message or ack) to the socket at once instead of handing it to the
 * library's writer thread. Saves a thread hand-off per message for
 * latency-bound synchronous producing; costs a system call per message,
 * which slows bulk traffic (nonblocking produce, consume) to about 0.7x.
 * Consume on another connection. */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_unbuffered_writes(memphis_conn_opts_t *opts, bool unbuffered, memphis_error_t **err);
/* TLS: PEM file paths. Client certificate + key for mutual TLS, CA to verify
 * the broker. Setting any of them turns TLS on. */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_tls_cert_file(memphis_conn_opts_t *opts, const char *path, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_tls_key_file(memphis_conn_opts_t *opts, const char *path, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_set_tls_ca_file(memphis_conn_opts_t *opts, const char *path, memphis_error_t **err);

/* Getters. String getters return a malloc'd copy (free with memphis_free). */
MEMPHIS_API memphis_status_t memphis_conn_opts_get_host(const memphis_conn_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_port(const memphis_conn_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_username(const memphis_conn_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_account_id(const memphis_conn_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_reconnect(const memphis_conn_opts_t *opts, bool *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_max_reconnect(const memphis_conn_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_reconnect_interval_ms(const memphis_conn_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_timeout_ms(const memphis_conn_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_unbuffered_writes(const memphis_conn_opts_t *opts, bool *out, memphis_error_t **err);

/* Periodic statistics, like librdkafka's statistics.interval.ms: every
 * stats_interval_ms (0 = never, the default) the connection hands its
 * statistics document (see memphis_conn_stats_json) to the callback or
 * the queue set below; without either the interval does nothing. Closing
 * the connection stops it (and waits for a running callback, unless
 * called from it). */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_stats_interval_ms(memphis_conn_opts_t *opts, int64_t ms, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_opts_get_stats_interval_ms(const memphis_conn_opts_t *opts, int64_t *out, memphis_error_t **err);
/* Periodic statistics callback: json is the document (len bytes, NUL
 * terminated), borrowed for the call. Runs on a library thread, one call
 * at a time per connection; it may call back into the library. */
typedef void (*memphis_stats_cb)(const char *json, size_t len, void *user_data);
/* Sends the periodic statistics to cb(json, len, user_data); cb == NULL
 * removes it. Replaces a queue set with memphis_conn_opts_set_stats_queue. */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_stats_cb(memphis_conn_opts_t *opts, memphis_stats_cb cb, void *user_data, memphis_error_t **err);
/* Sends the periodic statistics to `queue` as MEMPHIS_EVENT_STATS events
 * carrying user_data (see memphis_event_t); queue == NULL removes it.
 * A snapshot that finds the queue full (or closed or destroyed) is dropped;
 * the next comes an interval later. Replaces a callback set with
 * memphis_conn_opts_set_stats_cb. */
MEMPHIS_API memphis_status_t memphis_conn_opts_set_stats_queue(memphis_conn_opts_t *opts, memphis_queue_t *queue, void *user_data,
                                                               memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Connection                                                                */
/* ------------------------------------------------------------------------ */

/* Connects to the broker (blocks up to the connect timeout). On success *out
 * is a new connection handle; destroy it with memphis_conn_destroy.
 * Statuses: MEMPHIS_ERR_AUTH (wrong credentials), MEMPHIS_ERR_UNREACHABLE,
 * MEMPHIS_ERR_TLS, MEMPHIS_ERR_TIMEOUT, MEMPHIS_ERR_INVALID_ARGUMENT. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_connect(const memphis_conn_opts_t *opts, memphis_conn_t **out, memphis_error_t **err);
/* Closes the connection; the handle stays valid (is_connected reports false,
 * other calls return MEMPHIS_ERR_CLOSED) until memphis_conn_destroy. Closing
 * twice is OK. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_conn_close(memphis_conn_t *conn, memphis_error_t **err);
/* Closes the connection if still open and releases the handle. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_conn_destroy(memphis_conn_t *conn, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_conn_is_connected(memphis_conn_t *conn, bool *out, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Stations                                                                  */
/* ------------------------------------------------------------------------ */

typedef enum memphis_retention {
    MEMPHIS_RETENTION_MESSAGE_AGE_SEC = 0, /* "message_age_sec" (default) */
    MEMPHIS_RETENTION_MESSAGES = 1,        /* "messages" */
    MEMPHIS_RETENTION_BYTES = 2,           /* "bytes" */
    MEMPHIS_RETENTION_ACK_BASED = 3        /* "ack_based" */
} memphis_retention_t;

typedef enum memphis_storage {
    MEMPHIS_STORAGE_FILE = 0,  /* "file" (default) */
    MEMPHIS_STORAGE_MEMORY = 1 /* "memory" */
} memphis_storage_t;

/* Station options with the library defaults for station `name`. */
MEMPHIS_API memphis_status_t memphis_station_opts_new(const char *name, memphis_station_opts_t **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_destroy(memphis_station_opts_t *opts, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_name(memphis_station_opts_t *opts, const char *name, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_retention(memphis_station_opts_t *opts, memphis_retention_t type, int64_t value, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_storage(memphis_station_opts_t *opts, memphis_storage_t storage, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_replicas(memphis_station_opts_t *opts, int replicas, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_idempotency_window_ms(memphis_station_opts_t *opts, int64_t ms, memphis_error_t **err);
/* "" = no schema. */
MEMPHIS_API memphis_status_t memphis_station_opts_set_schema_name(memphis_station_opts_t *opts, const char *schema_name, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_send_poison_msg_to_dls(memphis_station_opts_t *opts, bool on, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_send_schema_failed_msg_to_dls(memphis_station_opts_t *opts, bool on, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_tiered_storage_enabled(memphis_station_opts_t *opts, bool on, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_set_partitions_number(memphis_station_opts_t *opts, int partitions, memphis_error_t **err);
/* "" = none. */
MEMPHIS_API memphis_status_t memphis_station_opts_set_dls_station(memphis_station_opts_t *opts, const char *dls_station, memphis_error_t **err);

MEMPHIS_API memphis_status_t memphis_station_opts_get_name(const memphis_station_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_retention(const memphis_station_opts_t *opts, memphis_retention_t *type, int64_t *value, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_storage(const memphis_station_opts_t *opts, memphis_storage_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_replicas(const memphis_station_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_idempotency_window_ms(const memphis_station_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_schema_name(const memphis_station_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_send_poison_msg_to_dls(const memphis_station_opts_t *opts, bool *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_send_schema_failed_msg_to_dls(const memphis_station_opts_t *opts, bool *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_tiered_storage_enabled(const memphis_station_opts_t *opts, bool *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_partitions_number(const memphis_station_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_station_opts_get_dls_station(const memphis_station_opts_t *opts, char **out, memphis_error_t **err);

/* Creates the station (an existing station is not an error). Bad names give
 * MEMPHIS_ERR_INVALID_ARGUMENT or MEMPHIS_ERR_BROKER with the broker's text. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_station_create(memphis_conn_t *conn, const memphis_station_opts_t *opts, memphis_station_t **out, memphis_error_t **err);
/* Deletes the station on the broker (with its messages, producers and
 * consumers) and releases the handle. The handle is released even on
 * failure (e.g. MEMPHIS_ERR_CLOSED: the connection is gone and the station
 * was not deleted). */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_station_destroy(memphis_station_t *station, memphis_error_t **err);
/* Releases the handle only; the station stays on the broker. */
MEMPHIS_API memphis_status_t memphis_station_free(memphis_station_t *station, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Schemaverse                                                               */
/* ------------------------------------------------------------------------ */

/* Creates schema `name` of `type` ("json", "protobuf", "avro", "graphql")
 * from `content` (NUL-terminated text). An existing identical schema is not an
 * error. Invalid content gives MEMPHIS_ERR_BROKER/INVALID_ARGUMENT with the
 * reason. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_schema_create(memphis_conn_t *conn, const char *name, const char *type, const char *content, memphis_error_t **err);
/* Same, reading the content from the file at `path`. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_schema_create_from_file(memphis_conn_t *conn, const char *name, const char *type, const char *path, memphis_error_t **err);
/* Enforces schema `name` on station `station_name`: producers validate
 * messages against it from then on. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_schema_enforce(memphis_conn_t *conn, const char *name, const char *station_name, memphis_error_t **err);
/* Deprecated alias of memphis_schema_enforce. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_schema_attach(memphis_conn_t *conn, const char *name, const char *station_name, memphis_error_t **err);
/* Removes the schema from the station. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_schema_detach(memphis_conn_t *conn, const char *station_name, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Headers                                                                   */
/* ------------------------------------------------------------------------ */

/* A set of user headers for produce. Free with memphis_headers_destroy. */
MEMPHIS_API memphis_status_t memphis_headers_new(memphis_headers_t **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_headers_destroy(memphis_headers_t *headers, memphis_error_t **err);
/* Adds (or replaces) key -> value. MEMPHIS_ERR_HEADER for what a message
 * header cannot carry: an empty key, a key starting with "$memphis"
 * (reserved), a key that is not printable ASCII without spaces or ':', a
 * value holding CR or LF. Key and value must be UTF-8 (see Strings). */
MEMPHIS_API memphis_status_t memphis_headers_add(memphis_headers_t *headers, const char *key, const char *value, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_headers_count(const memphis_headers_t *headers, size_t *out, memphis_error_t **err);
/* Value of `key` as a malloc'd copy (memphis_free); MEMPHIS_ERR_NOT_FOUND if
 * absent. */
MEMPHIS_API memphis_status_t memphis_headers_get(const memphis_headers_t *headers, const char *key, char **value, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Producers                                                                 */
/* ------------------------------------------------------------------------ */

/* Producer options with the library defaults, producing to `station_name`
 * (add more stations with memphis_producer_opts_add_station). */
MEMPHIS_API memphis_status_t memphis_producer_opts_new(const char *station_name, const char *producer_name, memphis_producer_opts_t **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_destroy(memphis_producer_opts_t *opts, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_add_station(memphis_producer_opts_t *opts, const char *station_name, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_set_name(memphis_producer_opts_t *opts, const char *producer_name, memphis_error_t **err);
/* Bound of the nonblocking in-flight window (messages awaiting their ack);
 * 0 = the default. */
MEMPHIS_API memphis_status_t memphis_producer_opts_set_max_in_flight(memphis_producer_opts_t *opts, int max_in_flight, memphis_error_t **err);
/* Bound of the same window in bytes (payload plus headers; 0 = the
 * default, 32 MiB, which keeps one producer well below the broker's
 * per-stream ingest queue of 128 MiB). A message larger than the whole
 * window is still sent, alone. */
MEMPHIS_API memphis_status_t memphis_producer_opts_set_max_in_flight_bytes(memphis_producer_opts_t *opts, int64_t bytes, memphis_error_t **err);
/* Default deadline of each message, counted from the produce call: the
 * wait for room in the window, resends after a reconnect and retries
 * after an overload answer all happen within it; 0 = the default. */
MEMPHIS_API memphis_status_t memphis_producer_opts_set_ack_wait_ms(memphis_producer_opts_t *opts, int64_t ms, memphis_error_t **err);
/* Idempotent producer (default off): every message produced without a
 * msg_id gets a unique one, so that a message resent after a broker crash
 * or reconnect is stored exactly once. The broker keeps every id for the
 * station's idempotency window (2 minutes by default), which costs it
 * memory at high message rates: see docs/resilience.md. */
MEMPHIS_API memphis_status_t memphis_producer_opts_set_idempotent(memphis_producer_opts_t *opts, bool on, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_get_name(const memphis_producer_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_get_station_count(const memphis_producer_opts_t *opts, size_t *out, memphis_error_t **err);
/* Station `index` (0-based) as a malloc'd copy; INVALID_ARGUMENT if out of range. */
MEMPHIS_API memphis_status_t memphis_producer_opts_get_station(const memphis_producer_opts_t *opts, size_t index, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_get_max_in_flight(const memphis_producer_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_get_ack_wait_ms(const memphis_producer_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_get_max_in_flight_bytes(const memphis_producer_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_producer_opts_get_idempotent(const memphis_producer_opts_t *opts, bool *out, memphis_error_t **err);

/* Per-message produce options: a plain caller-owned struct (not a handle).
 * Initialise with memphis_produce_opts_init (all "unset": headers NULL, ids
 * NULL, partition 0, ack wait 0 = producer default, awaited false). Every
 * field is copied by the produce call. Passing NULL instead of a struct
 * means all unset. */
typedef struct memphis_produce_opts {
    const memphis_headers_t *headers; /* user headers or NULL */
    const char *msg_id;               /* idempotency id ("msg-id" header; no CR/LF) or NULL */
    const char *partition_key;        /* route by key (murmur3) or NULL */
    int partition_number;             /* 1-based partition; 0 = unset */
    int64_t ack_wait_ms;              /* 0 = producer's ack wait */
    /* Nonblocking produce only: the caller waits for this message's report
     * itself, as a synchronous produce's caller waits for its return (an
     * event loop producing synchronously through a queue): a failure is
     * the caller's and memphis_producer_flush does not count it. */
    bool awaited;
} memphis_produce_opts_t;

/* Fills *opts with the "unset" values above. Pure C; works after fork(). */
MEMPHIS_API void memphis_produce_opts_init(memphis_produce_opts_t *opts);

/* Delivery reports across broker failures.
 *
 * "Delivered" (MEMPHIS_OK) means the broker acknowledged that it stored
 * the message; a stored message survives a broker crash or restart.
 * The library keeps every message from the produce call until its report.
 * When the connection drops, the messages not yet acknowledged are sent
 * again once it is back (the library reconnects as soon as the broker's
 * port accepts connections), in their original order and before any later
 * message of the producer. An overload answer (429 "too many requests", or
 * no stream answering while the broker restarts or elects a leader) is
 * retried after a short backoff. Each accepted message gets exactly one
 * report, and it is final: a message fails only when its deadline passes
 * (the ack wait, counted from the produce call) or the producer or
 * connection is closed. A synchronous produce behaves the same way within
 * its ack wait.
 *
 * The retry count (memphis_delivery_retries in a callback,
 * memphis_event_retries for a queued report) is how often the message was
 * sent again after its first send. A resent message that carries a msg_id
 * (given by the caller, or by an idempotent producer) is stored once: the
 * broker de-duplicates it within the station's idempotency window. Without
 * one it may be stored twice: the report then says so
 * (memphis_delivery_possible_duplicate / memphis_event_possible_duplicate).
 * Overload retries may store a message after later ones of its producer;
 * resends after a reconnect keep the order.
 *
 * Statuses of a report:
 *   MEMPHIS_OK                    stored (possibly a duplicate of a stored msg_id);
 *   MEMPHIS_ERR_TIMEOUT           the deadline passed; the text says whether the
 *                                 message was ever sent (if it was, it may
 *                                 have been stored);
 *   MEMPHIS_ERR_UNREACHABLE       no stream answered until the deadline: the
 *                                 broker was unavailable;
 *   MEMPHIS_ERR_NOT_FOUND         the station or partition does not exist;
 *   MEMPHIS_ERR_QUEUE_FULL        the window stayed full until the deadline
 *                                 (returned by the produce call itself);
 *   MEMPHIS_ERR_CLOSED            the producer or connection was closed (also
 *                                 when the reconnect attempts ran out);
 *   MEMPHIS_ERR_PAYLOAD_TOO_LARGE, MEMPHIS_ERR_SCHEMA_VALIDATION,
 *   MEMPHIS_ERR_HEADER            refused at once, never retried;
 *   MEMPHIS_ERR_BROKER            any other refusal, with the broker's text. */

/* Delivery report of a nonblocking produce.
 * status: MEMPHIS_OK once the broker acknowledged (stored) the message, else
 * the failure. error_message: NULL on success, else a description (borrowed,
 * valid only during the call). sequence: the stream sequence on success.
 * user_data: the per-message pointer passed to the produce call.
 * Runs on a library thread, exactly once per accepted message and station;
 * memphis_producer_flush returns only after every pending report ran. The
 * library holds none of its locks while it runs: it may call back into the
 * library, including a synchronous produce or ack. */
typedef void (*memphis_delivery_cb)(memphis_status_t status, const char *error_message, uint64_t sequence, void *user_data);

/* Inside a memphis_delivery_cb: how often the reported message was sent
 * again after its first send (0 = sent once); -1 outside a delivery
 * callback. Pure C; works after fork(). */
MEMPHIS_API int memphis_delivery_retries(void);
/* Inside a memphis_delivery_cb: true when the reported message was sent
 * more than once without a msg_id, so the broker may have stored it twice;
 * false outside a delivery callback. Pure C; works after fork(). */
MEMPHIS_API bool memphis_delivery_possible_duplicate(void);

/* Registers a producer on the broker. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_create(memphis_conn_t *conn, const memphis_producer_opts_t *opts, memphis_producer_t **out, memphis_error_t **err);

/* Synchronous produce: returns once the broker acknowledged the message (or
 * failed). `data` may be NULL only when len == 0. Statuses include
 * MEMPHIS_ERR_SCHEMA_VALIDATION, MEMPHIS_ERR_PAYLOAD_TOO_LARGE, MEMPHIS_ERR_HEADER,
 * MEMPHIS_ERR_TIMEOUT, MEMPHIS_ERR_UNREACHABLE, MEMPHIS_ERR_NOT_FOUND,
 * MEMPHIS_ERR_CLOSED: the final statuses of a delivery report. Across a
 * reconnect the message is resent within its ack wait. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_produce(memphis_producer_t *producer, const void *data, size_t len,
                                                                       const memphis_produce_opts_t *opts, memphis_error_t **err);

/* Nonblocking produce. The message is copied and sent; the result arrives
 * later through `cb(…, user_data)` on a library thread (once per station of
 * the producer); cb may be NULL. Failures are also counted for
 * memphis_producer_flush (unless opts->awaited). The in-flight window holds max_in_flight messages
 * (and max_in_flight_bytes bytes) awaiting their ack; block_timeout_ms says
 * what to do when it is full:
 *   0  -> return MEMPHIS_ERR_QUEUE_FULL at once (for event loops);
 *   >0 -> wait up to that long for room (never past the message's
 *         deadline), then MEMPHIS_ERR_QUEUE_FULL;
 *   <0 -> wait until the message's deadline, then MEMPHIS_ERR_QUEUE_FULL.
 * Called from inside a delivery callback it never waits (as with 0): the
 * room would be freed by reports queued behind that callback.
 * While the broker is away, messages are accepted into the window and
 * sent once it is back (see "Delivery reports across broker failures").
 * A non-OK return means the message was NOT accepted and cb will not run
 * for it (payload too large, bad header, closed producer...). */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_produce_async(memphis_producer_t *producer, const void *data, size_t len,
                                                                             const memphis_produce_opts_t *opts, memphis_delivery_cb cb,
                                                                             void *user_data, int64_t block_timeout_ms, memphis_error_t **err);

/* Nonblocking produce of `count` messages in one call. data[i]/lens[i] is
 * message i; opts is NULL or an array of `count` option structs; user_data is
 * NULL or an array of `count` per-message pointers handed to cb. Each accepted
 * message gets exactly one cb call (cb may be NULL); failures are counted
 * for memphis_producer_flush as in memphis_producer_produce_async.
 * block_timeout_ms as in memphis_producer_produce_async, applied to the whole
 * batch. If *accepted (may be NULL) is less than count on return, messages
 * accepted..count-1 were not queued and get no callback; the status says why. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_produce_batch(memphis_producer_t *producer, const void *const *data, const size_t *lens,
                                                                             const memphis_produce_opts_t *opts, size_t count, memphis_delivery_cb cb,
                                                                             void *const *user_data, int64_t block_timeout_ms, size_t *accepted,
                                                                             memphis_error_t **err);

/* Waits until every accepted nonblocking message got its delivery report, up
 * to timeout_ms (<0 = no limit): MEMPHIS_ERR_TIMEOUT if some are still
 * pending (their failures are then left for the next flush). *failed (may
 * be NULL) receives the number of nonblocking messages that failed since the
 * previous flush, whether their reports went to a callback, to a queue or
 * nowhere (cb == NULL), except those produced with opts->awaited; if any
 * did, the status and text are the first failure's. Called from one of the
 * producer's own delivery callbacks it returns MEMPHIS_OK at once and
 * leaves the failures for the next flush. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_flush(memphis_producer_t *producer, int64_t timeout_ms, uint64_t *failed, memphis_error_t **err);

/* Flushes (bounded by the producer's ack wait), de-registers the producer on
 * the broker and releases the handle. Called from one of this producer's
 * delivery callbacks it returns at once and finishes in the background. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_destroy(memphis_producer_t *producer, memphis_error_t **err);

/* One-shot synchronous produce without keeping a producer handle. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_conn_produce(memphis_conn_t *conn, const char *station_name, const char *producer_name,
                                                                   const void *data, size_t len, const memphis_produce_opts_t *opts,
                                                                   memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Consumers                                                                 */
/* ------------------------------------------------------------------------ */

/* Consumer options with the library defaults for `station_name` and
 * `consumer_name` (group "" = the consumer name). */
MEMPHIS_API memphis_status_t memphis_consumer_opts_new(const char *station_name, const char *consumer_name, memphis_consumer_opts_t **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_destroy(memphis_consumer_opts_t *opts, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_station_name(memphis_consumer_opts_t *opts, const char *station_name, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_name(memphis_consumer_opts_t *opts, const char *consumer_name, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_group(memphis_consumer_opts_t *opts, const char *group, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_pull_interval_ms(memphis_consumer_opts_t *opts, int64_t ms, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_batch_size(memphis_consumer_opts_t *opts, int batch_size, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_batch_max_wait_ms(memphis_consumer_opts_t *opts, int64_t ms, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_max_ack_time_ms(memphis_consumer_opts_t *opts, int64_t ms, memphis_error_t **err);
/* 1..10: deliveries before a message becomes a poison message. */
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_max_msg_deliveries(memphis_consumer_opts_t *opts, int n, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_start_consume_from_sequence(memphis_consumer_opts_t *opts, uint64_t seq, memphis_error_t **err);
/* -1 = unset; otherwise start with the last n messages. */
MEMPHIS_API memphis_status_t memphis_consumer_opts_set_last_messages(memphis_consumer_opts_t *opts, int64_t n, memphis_error_t **err);

MEMPHIS_API memphis_status_t memphis_consumer_opts_get_station_name(const memphis_consumer_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_name(const memphis_consumer_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_group(const memphis_consumer_opts_t *opts, char **out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_pull_interval_ms(const memphis_consumer_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_batch_size(const memphis_consumer_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_batch_max_wait_ms(const memphis_consumer_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_max_ack_time_ms(const memphis_consumer_opts_t *opts, int64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_max_msg_deliveries(const memphis_consumer_opts_t *opts, int *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_start_consume_from_sequence(const memphis_consumer_opts_t *opts, uint64_t *out, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_consumer_opts_get_last_messages(const memphis_consumer_opts_t *opts, int64_t *out, memphis_error_t **err);

/* Consume callback: a batch of `count` messages, or an error.
 * msgs: borrowed array (valid during the call only); each message in it is
 *   owned by the callback, which must eventually memphis_msg_destroy it (it
 *   may keep messages after returning).
 * status: MEMPHIS_OK with count > 0; MEMPHIS_ERR_NO_MESSAGES when the station
 *   is drained (count == 0); any other status is a real failure (count == 0,
 *   error_message describes it, borrowed for the call only; NULL when OK).
 *   While the broker is away the loop reports MEMPHIS_ERR_NOT_CONNECTED or
 *   MEMPHIS_ERR_UNREACHABLE and keeps trying; it resumes by itself as soon
 *   as the broker is back. MEMPHIS_ERR_NOT_FOUND: the group's durable or
 *   the station is missing on the broker.
 * Runs on a library thread, one batch at a time per consumer. */
typedef void (*memphis_consume_cb)(memphis_msg_t **msgs, size_t count, memphis_status_t status, const char *error_message,
                                   void *user_data);

/* Registers a consumer (and its group) on the broker. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_consumer_create(memphis_conn_t *conn, const memphis_consumer_opts_t *opts, memphis_consumer_t **out, memphis_error_t **err);
/* Starts the consume loop (pulls every pull interval) and returns at once.
 * While the station has a backlog and the callback is quick next to
 * max_ack_time, the loop fetches the next batch during the callback; a
 * stopped loop hands such a batch back to the broker for redelivery at once.
 * partition_key (NULL = none) or partition_number (0 = none) restrict the
 * loop to one partition; by default partitions are read round robin.
 * MEMPHIS_ERR_INVALID_ARGUMENT if already consuming. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_consumer_consume(memphis_consumer_t *consumer, memphis_consume_cb cb, void *user_data, const char *partition_key,
                                                                       int partition_number, memphis_error_t **err);
/* Stops the consume loop. Outside the callback it returns after the last
 * callback call finished; no callback runs afterwards. OK if not consuming. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_consumer_stop(memphis_consumer_t *consumer, memphis_error_t **err);
/* Pull path: fetches up to batch_size messages (0 = the consumer's batch
 * size), waiting at most the consumer's batch max wait. *msgs receives a
 * malloc'd array of *count messages (NULL and 0 when none arrived, which is
 * MEMPHIS_OK). Free the array with memphis_free (messages stay valid) or
 * everything with memphis_msgs_destroy. MEMPHIS_ERR_NOT_FOUND when the
 * consumer group's durable or the station is missing on the broker (never
 * an empty batch then); MEMPHIS_ERR_UNREACHABLE or
 * MEMPHIS_ERR_NOT_CONNECTED while the broker is away. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_consumer_fetch(memphis_consumer_t *consumer, size_t batch_size, const char *partition_key, int partition_number,
                                                                     memphis_msg_t ***msgs, size_t *count, memphis_error_t **err);
/* Stops consuming, de-registers the consumer on the broker and releases the
 * handle. Messages already received stay valid (ack then fails). */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_consumer_destroy(memphis_consumer_t *consumer, memphis_error_t **err);

/* One-shot fetch: creates a consumer from opts, fetches one batch, removes
 * the consumer. Result as in memphis_consumer_fetch. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_fetch_messages(memphis_conn_t *conn, const memphis_consumer_opts_t *opts, const char *partition_key,
                                                                     int partition_number, memphis_msg_t ***msgs, size_t *count, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

/* Always-on counters: messages produced, acknowledged and failed by cause,
 * retries, in flight, ack latency percentiles per producer; fetched,
 * delivered, acknowledged, redelivered, pull latency and handler time per
 * consumer; reconnects, outage time, traffic and control requests per
 * connection. They cost no lock on the produce, fetch and ack paths.
 * A snapshot is a JSON document described field by field, with units, in
 * docs/statistics.md (its JSON Schema: docs/statistics.schema.json); its
 * "version" field says which version of it (1). *json is malloc'd,
 * NUL-terminated text: free it with memphis_free. These never block (no
 * network) and work on a closed connection (its final counters). */

/* The connection's document, with every live producer and consumer. */
MEMPHIS_API memphis_status_t memphis_conn_stats_json(memphis_conn_t *conn, char **json, memphis_error_t **err);
/* One producer's part of the document (an element of "producers"). */
MEMPHIS_API memphis_status_t memphis_producer_stats_json(memphis_producer_t *producer, char **json, memphis_error_t **err);
/* One consumer's part of the document (an element of "consumers"). */
MEMPHIS_API memphis_status_t memphis_consumer_stats_json(memphis_consumer_t *consumer, char **json, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/* Payload: borrowed pointer (C memory) valid until memphis_msg_destroy. */
MEMPHIS_API memphis_status_t memphis_msg_data(const memphis_msg_t *msg, const void **data, size_t *len, memphis_error_t **err);
/* Number of headers (user headers plus the $memphis_* headers as received). */
MEMPHIS_API memphis_status_t memphis_msg_header_count(const memphis_msg_t *msg, size_t *out, memphis_error_t **err);
/* Header `index` (0-based, sorted by key); key and value are borrowed until
 * memphis_msg_destroy. INVALID_ARGUMENT if out of range. */
MEMPHIS_API memphis_status_t memphis_msg_header_at(const memphis_msg_t *msg, size_t index, const char **key, const char **value, memphis_error_t **err);
/* Value of header `key` (borrowed); MEMPHIS_ERR_NOT_FOUND if absent. */
MEMPHIS_API memphis_status_t memphis_msg_header_get(const memphis_msg_t *msg, const char *key, const char **value, memphis_error_t **err);
MEMPHIS_API memphis_status_t memphis_msg_sequence(const memphis_msg_t *msg, uint64_t *out, memphis_error_t **err);
/* Time the message was stored, in milliseconds since the Unix epoch. */
MEMPHIS_API memphis_status_t memphis_msg_time_sent(const memphis_msg_t *msg, int64_t *unix_ms, memphis_error_t **err);
/* 1-based partition the message came from. */
MEMPHIS_API memphis_status_t memphis_msg_partition(const memphis_msg_t *msg, int *out, memphis_error_t **err);
/* True for a poison message re-sent from the dead-letter station. */
MEMPHIS_API memphis_status_t memphis_msg_is_dls(const memphis_msg_t *msg, bool *out, memphis_error_t **err);
/* Acknowledges the message (confirmed by the broker before returning).
 * A message delivered before the connection was lost gives
 * MEMPHIS_ERR_NOT_CONNECTED at once ("stale delivery"): the ack is still
 * sent, but the broker may have restarted and cannot confirm it, so the
 * message may be redelivered. An ack waiting for its confirmation when
 * the connection drops returns MEMPHIS_ERR_NOT_CONNECTED at once too. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_msg_ack(memphis_msg_t *msg, memphis_error_t **err);
/* Acknowledges the message without waiting for the broker's confirmation:
 * the ack is only buffered on the connection (like nats.go's Msg.Ack), so
 * this never blocks. At-least-once: an ack lost with the connection means
 * a redelivery after max_ack_time. Closing the connection or destroying the
 * consumer writes buffered acks out first. */
MEMPHIS_API memphis_status_t memphis_msg_ack_nowait(memphis_msg_t *msg, memphis_error_t **err);
/* Type of the schema attached to the message's station as the connection
 * currently knows it: "json", "avro", "graphql", "protobuf", or "" when the
 * station has none. *type_out is malloc'd (memphis_free). */
MEMPHIS_API memphis_status_t memphis_msg_schema_type(const memphis_msg_t *msg, char **type_out, memphis_error_t **err);
/* Asks for redelivery now. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_msg_nack(memphis_msg_t *msg, memphis_error_t **err);
/* Asks for redelivery after delay_ms (if max deliveries is not reached). */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_msg_delay(memphis_msg_t *msg, int64_t delay_ms, memphis_error_t **err);
/* Sends the message to the dead-letter station with `reason` (may be ""). */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_msg_dead_letter(memphis_msg_t *msg, const char *reason, memphis_error_t **err);
/* Decodes the payload with the station's schema: *out is malloc'd text
 * (memphis_free): JSON for json/avro/protobuf, the query text for graphql,
 * the raw payload as text when the station has no schema. */
MEMPHIS_API memphis_status_t memphis_msg_deserialize(const memphis_msg_t *msg, char **out, memphis_error_t **err);
/* Releases the message. */
MEMPHIS_API memphis_status_t memphis_msg_destroy(memphis_msg_t *msg, memphis_error_t **err);

/* Acknowledges `count` messages in one call: all acks are sent at once and
 * their confirmations awaited together; returns the first failure (stale
 * deliveries as in memphis_msg_ack, at once). Invalid handles are reported
 * before anything is sent. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_msgs_ack(memphis_msg_t *const *msgs, size_t count, memphis_error_t **err);
/* memphis_msg_ack_nowait for `count` messages: every ack is buffered, none
 * awaited; returns the first failure. Invalid handles are reported before
 * anything is sent. */
MEMPHIS_API memphis_status_t memphis_msgs_ack_nowait(memphis_msg_t *const *msgs, size_t count, memphis_error_t **err);
/* Payloads of `count` messages in one call, so that bindings cross the
 * library boundary once per batch: data[i] and lens[i] receive what
 * memphis_msg_data would return for msgs[i] (borrowed until that message is
 * destroyed). An invalid handle fails the whole call; data/lens are then
 * left unspecified. */
MEMPHIS_API memphis_status_t memphis_msgs_data(memphis_msg_t *const *msgs, size_t count, const void **data, size_t *lens,
                                               memphis_error_t **err);
/* Destroys `count` messages and then frees the array itself, which must be
 * an array returned by memphis_consumer_fetch/memphis_fetch_messages (it is
 * passed to free()). NULL entries are skipped; the array may be NULL when
 * count == 0. To destroy messages of your own array, call memphis_msg_destroy
 * on each. */
MEMPHIS_API memphis_status_t memphis_msgs_destroy(memphis_msg_t **msgs, size_t count, memphis_error_t **err);

/* ------------------------------------------------------------------------ */
/* Event queue                                                               */
/* ------------------------------------------------------------------------ */

/* The second delivery path: instead of push callbacks on library threads,
 * producers and consumers can be pointed at a memphis_queue_t, and the
 * application takes their delivery reports and consume batches from it with
 * memphis_queue_poll on a thread of its own, in bulk. Bindings use this path
 * (a callback from a foreign thread is costly in Ruby/Python); C users may
 * prefer it to keep all work on their threads.
 *
 * The queue is bounded (capacity events). When it is full, the library
 * thread delivering the next event waits for room: delivery reports then
 * stop completing, the producer's in-flight window fills and nonblocking
 * produce applies its block_timeout_ms; a consume loop stops pulling. Nothing
 * grows without bound. A consume batch that is waiting for room is dropped
 * (its messages destroyed, so the broker redelivers them) when its consumer
 * is stopped or destroyed or its connection closed, so memphis_consumer_stop
 * and memphis_conn_close never wait for a poller.
 * memphis_producer_flush/destroy do wait for delivery reports to be queued:
 * keep polling on another thread while flushing.
 *
 * A queue may serve any number of producers and consumers and be polled
 * from any number of threads. Events of one producer or consumer arrive in
 * the order the push callbacks would have run. */

typedef enum memphis_event_kind {
    MEMPHIS_EVENT_DELIVERY = 1, /* delivery report of one nonblocking message */
    MEMPHIS_EVENT_CONSUME = 2,  /* a consume batch or a consume error */
    MEMPHIS_EVENT_STATS = 3     /* periodic statistics (memphis_conn_opts_set_stats_queue) */
} memphis_event_kind_t;

/* One event, filled in by memphis_queue_poll. Fields mean what the
 * arguments of memphis_delivery_cb / memphis_consume_cb mean:
 *   kind          MEMPHIS_EVENT_DELIVERY, MEMPHIS_EVENT_CONSUME or
 *                 MEMPHIS_EVENT_STATS.
 *   status        delivery: the message's result; consume: MEMPHIS_OK with
 *                 count > 0, MEMPHIS_ERR_NO_MESSAGES when the station is
 *                 drained, any other status a real failure; stats:
 *                 MEMPHIS_OK.
 *   error_message NULL when status is MEMPHIS_OK, else malloc'd text owned
 *                 by the caller: free with memphis_free.
 *   sequence      delivery: the stored message's stream sequence (0 on
 *                 failure); consume: 0.
 *   user_data     the pointer given to the *_to_queue call.
 *   msgs, count   consume: malloc'd array of count messages (NULL when
 *                 count == 0). The caller owns the array and the messages:
 *                 free with memphis_msgs_destroy, or keep the messages and
 *                 memphis_free the array. Delivery: msgs is NULL and count
 *                 carries the report's retry details, read with
 *                 memphis_event_retries / memphis_event_possible_duplicate
 *                 (count is 0 for a message sent once). Stats: NULL, 0.
 *   stats_json    stats: the connection's statistics document (see
 *                 memphis_conn_stats_json), malloc'd text owned by the
 *                 caller: free with memphis_free. NULL for other kinds.
 *   user_data     stats: the pointer given to
 *                 memphis_conn_opts_set_stats_queue. */
typedef struct memphis_event {
    memphis_event_kind_t kind;
    memphis_status_t status;
    char *error_message;
    uint64_t sequence;
    void *user_data;
    memphis_msg_t **msgs;
    size_t count;
    char *stats_json;
} memphis_event_t;

/* The retry count of a delivery event (see memphis_delivery_retries); 0 for
 * a consume event or NULL. Pure C; works after fork(). */
MEMPHIS_API int memphis_event_retries(const memphis_event_t *event);
/* Whether a delivery event's message may have been stored twice (see
 * memphis_delivery_possible_duplicate); false for a consume event or NULL.
 * Pure C; works after fork(). */
MEMPHIS_API bool memphis_event_possible_duplicate(const memphis_event_t *event);

/* Creates a queue holding at most `capacity` undelivered events (0 = the
 * default, 8192; at most 16777216). Destroy with memphis_queue_destroy. */
MEMPHIS_API memphis_status_t memphis_queue_new(size_t capacity, memphis_queue_t **out, memphis_error_t **err);

/* Moves up to `max` (>= 1) events into events[0..*count-1], in arrival
 * order. Waits for the first event up to timeout_ms (0 = do not wait, < 0 =
 * no limit); returns MEMPHIS_OK with *count == 0 on timeout or when woken
 * by memphis_queue_wake. A plain blocking call: bindings call it with their
 * interpreter lock released. Once the queue is closed and empty it returns
 * MEMPHIS_ERR_CLOSED at once (also to a poll blocked at that moment);
 * a destroyed queue gives MEMPHIS_ERR_INVALID_HANDLE. The events' owned
 * fields (error_message, msgs) pass to the caller, see memphis_event_t. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_queue_poll(memphis_queue_t *queue, memphis_event_t *events, size_t max, int64_t timeout_ms,
                                                                 size_t *count, memphis_error_t **err);

/* Makes one waiting memphis_queue_poll return now with *count == 0 (or the
 * next poll, if none is waiting): lets a polling thread check its stop flag. */
MEMPHIS_API memphis_status_t memphis_queue_wake(memphis_queue_t *queue, memphis_error_t **err);

/* Lets an event loop that waits on file descriptors (asyncio, libuv, epoll,
 * Ruby's IO.select) wait for this queue without a polling thread: once
 * enabled, the library writes the `size` bytes of `payload` to `fd` when an
 * event arrives in an "armed" queue, from the library thread that queued
 * it. Any memphis_queue_poll that finds the queue empty arms it, and so does
 * enabling (which writes at once if events are already waiting).
 * Use it like this: when fd is readable, read it until it is empty, then
 * call memphis_queue_poll with timeout_ms 0 until a poll returns fewer than
 * `max` events. An fd wake-up can be spurious (a poll then finds nothing).
 * fd should be nonblocking: a write that would block is skipped, since the
 * unread bytes already signal. payload: 1 to 8 bytes, copied (a pipe takes
 * one byte; an eventfd needs an 8-byte counter, e.g. the value 1).
 * fd = -1 disables it (payload may then be NULL). After disabling, or after
 * memphis_queue_destroy, returns the library never writes to fd again; fd
 * stays the caller's to close. Replaces an earlier fd. */
MEMPHIS_API memphis_status_t memphis_queue_set_wakeup_fd(memphis_queue_t *queue, int fd, const void *payload, size_t size,
                                                         memphis_error_t **err);

/* Stops accepting events: later events for this queue are dropped (consume
 * batches' messages destroyed). Events already queued can still be polled;
 * after them every poll returns MEMPHIS_ERR_CLOSED. Closing twice is OK. */
MEMPHIS_API memphis_status_t memphis_queue_close(memphis_queue_t *queue, memphis_error_t **err);

/* Closes the queue, releases every event still in it (error texts freed,
 * messages destroyed) and releases the handle. Producers and consumers still
 * pointed at it keep working; their events are dropped. A poll blocked in
 * the queue returns MEMPHIS_ERR_CLOSED. */
MEMPHIS_API memphis_status_t memphis_queue_destroy(memphis_queue_t *queue, memphis_error_t **err);

/* memphis_producer_produce_async, but the delivery report goes to `queue` as
 * a MEMPHIS_EVENT_DELIVERY event carrying user_data (once per station of the
 * producer). A non-OK return means no event will come for the message. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_produce_async_to_queue(memphis_producer_t *producer, const void *data, size_t len,
                                                                                      const memphis_produce_opts_t *opts, memphis_queue_t *queue,
                                                                                      void *user_data, int64_t block_timeout_ms, memphis_error_t **err);

/* memphis_producer_produce_batch, but each accepted message's report goes to
 * `queue` (user_data: NULL or an array of `count` pointers). */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_producer_produce_batch_to_queue(memphis_producer_t *producer, const void *const *data,
                                                                                      const size_t *lens, const memphis_produce_opts_t *opts, size_t count,
                                                                                      memphis_queue_t *queue, void *const *user_data,
                                                                                      int64_t block_timeout_ms, size_t *accepted, memphis_error_t **err);

/* memphis_consumer_consume, but every batch (or error) goes to `queue` as a
 * MEMPHIS_EVENT_CONSUME event carrying user_data. memphis_consumer_stop
 * ends it as usual: after stop returns no further event of this consumer
 * is queued. */
MEMPHIS_API MEMPHIS_BLOCKING memphis_status_t memphis_consumer_consume_to_queue(memphis_consumer_t *consumer, memphis_queue_t *queue, void *user_data,
                                                                                const char *partition_key, int partition_number, memphis_error_t **err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MEMPHIS_H */
