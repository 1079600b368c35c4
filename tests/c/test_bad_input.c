/* Bad input against a live broker: payloads holding NUL bytes arrive
 * exactly as sent; option values and per-message options the sdk refuses
 * fail with MEMPHIS_ERR_INVALID_ARGUMENT and the sdk's text at the call
 * that uses them; and after each refusal the connection still produces and
 * fetches. (A C string ends at its first NUL, so NUL inside names, ids or
 * headers cannot reach the library from C; bindings refuse such strings.) */
#include <string.h>

#include "harness.h"

/* One produce and one fetch on a fresh station: the connection still works. */
static void still_works(memphis_conn_t *c)
{
    const char *st = uname_("after");
    memphis_producer_t *p = test_producer(c, st, "p");
    OK(memphis_producer_produce(p, "ok", 2, NULL, E));
    memphis_consumer_t *k = test_consumer(c, st, "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 1, &n);
    CHECK(n == 1);
    const void *data;
    size_t len;
    OK(memphis_msg_data(msgs[0], &data, &len, E));
    CHECK(len == 2 && memcmp(data, "ok", 2) == 0);
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
}

static void expect_text(const char *want, int line)
{
    if (strstr(memphis_error_message(t_err), want) == NULL)
        test_fail(__FILE__, line, "message %s, want it to contain %s", memphis_error_message(t_err), want);
}
#define EXPECT_TEXT(want) expect_text(want, __LINE__)

MEMPHIS_TEST(payload_with_nul_bytes_round_trips, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    const char *st = uname_("nul");
    memphis_producer_t *p = test_producer(c, st, "p");
    static const char payload[] = {'a', 0, 'b', 0, 0, 'c', 0};
    OK(memphis_producer_produce(p, payload, sizeof payload, NULL, E));
    OK(memphis_producer_produce_async(p, payload, sizeof payload, NULL, NULL, NULL, -1, E));
    const void *data[2] = {payload, payload + 1};
    size_t lens[2] = {sizeof payload, sizeof payload - 1};
    OK(memphis_producer_produce_batch(p, data, lens, NULL, 2, NULL, NULL, -1, NULL, E));
    OK(memphis_producer_flush(p, -1, NULL, E));
    memphis_consumer_t *k = test_consumer(c, st, "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 4, &n);
    CHECK(n == 4);
    for (size_t i = 0; i < n; i++) {
        const void *d;
        size_t len;
        OK(memphis_msg_data(msgs[i], &d, &len, E));
        const char *want = i == 3 ? payload + 1 : payload;
        size_t want_len = i == 3 ? sizeof payload - 1 : sizeof payload;
        CHECK(len == want_len && memcmp(d, want, len) == 0);
    }
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    memphis_conn_destroy(c, NULL);
}

/* Consumer option values: stored by the setters, refused by create. */
MEMPHIS_TEST(consumer_option_values_checked_at_create, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    static const struct {
        int batch, deliveries;
        uint64_t start;
        int64_t last;
        const char *text;
    } cases[] = {
        {0, 10, 1, -1, "Batch size can not be greater than"},
        {1 << 20, 10, 1, -1, "Batch size can not be greater than"},
        {10, 0, 1, -1, "max_msg_deliveries must be between 1 and 10"},
        {10, 11, 1, -1, "max_msg_deliveries must be between 1 and 10"},
        {10, 10, 0, -1, "has to be a positive number"},
        {10, 10, 1, -2, "min value for LastMessages is -1"},
        {10, 10, 3, 2, "can't contain both"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memphis_consumer_opts_t *o = NULL;
        OK(memphis_consumer_opts_new(uname_("st"), "c", &o, E));
        OK(memphis_consumer_opts_set_batch_size(o, cases[i].batch, E));
        OK(memphis_consumer_opts_set_max_msg_deliveries(o, cases[i].deliveries, E));
        OK(memphis_consumer_opts_set_start_consume_from_sequence(o, cases[i].start, E));
        OK(memphis_consumer_opts_set_last_messages(o, cases[i].last, E));
        memphis_consumer_t *k = NULL;
        EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_create(c, o, &k, E));
        EXPECT_TEXT(cases[i].text);
        CHECK(k == NULL);
        OK(memphis_consumer_opts_destroy(o, E));
        still_works(c);
    }
    memphis_conn_destroy(c, NULL);
}

MEMPHIS_TEST(station_and_producer_option_values_checked_at_create, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new(uname_("st"), &so, E));
    OK(memphis_station_opts_set_retention(so, MEMPHIS_RETENTION_BYTES, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_create(c, so, &s, E));
    EXPECT_TEXT("retention value must not be negative");
    OK(memphis_station_opts_set_retention(so, MEMPHIS_RETENTION_BYTES, 1000, E));
    OK(memphis_station_opts_set_partitions_number(so, 10001, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_create(c, so, &s, E));
    EXPECT_TEXT("partitions number must be between 1 and 10000");
    OK(memphis_station_opts_set_partitions_number(so, 1, E));
    OK(memphis_station_opts_set_idempotency_window_ms(so, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_create(c, so, &s, E));
    EXPECT_TEXT("idempotency window must not be negative");
    OK(memphis_station_opts_destroy(so, E));
    still_works(c);

    memphis_producer_opts_t *po = NULL;
    memphis_producer_t *p = NULL;
    OK(memphis_producer_opts_new(uname_("st"), "p", &po, E));
    OK(memphis_producer_opts_set_max_in_flight(po, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_create(c, po, &p, E));
    OK(memphis_producer_opts_set_max_in_flight(po, 10, E));
    OK(memphis_producer_opts_set_ack_wait_ms(po, -1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_create(c, po, &p, E));
    OK(memphis_producer_opts_destroy(po, E));
    still_works(c);
    memphis_conn_destroy(c, NULL);
}

/* Per-message options and headers the sdk refuses; the message is not sent. */
MEMPHIS_TEST(produce_options_refused, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    const char *st = uname_("opts");
    memphis_producer_t *p = test_producer(c, st, "p");
    memphis_produce_opts_t o;
    memphis_produce_opts_init(&o);
    o.partition_number = 5; /* the station has one partition */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, "x", 1, &o, E));
    EXPECT_TEXT("Partition number is out of range");
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce_async(p, "x", 1, &o, NULL, NULL, -1, E));
    EXPECT_TEXT("Partition number is out of range");
    memphis_produce_opts_init(&o);
    o.msg_id = "id\r\nInjected: 1"; /* travels as a header value */
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_producer_produce(p, "x", 1, &o, E));
    memphis_produce_opts_init(&o);
    o.msg_id = "caf\xc3"; /* not UTF-8 */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, "x", 1, &o, E));
    EXPECT_TEXT("msg_id is not valid UTF-8");
    memphis_produce_opts_init(&o);
    o.partition_key = "\xff";
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, "x", 1, &o, E));
    EXPECT_TEXT("partition_key is not valid UTF-8");

    memphis_consumer_t *k = test_consumer(c, st, "k");
    memphis_msg_t **msgs = NULL;
    size_t n = 9;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 1 << 20, NULL, 0, &msgs, &n, E));
    EXPECT_TEXT("Batch size can not be greater than");
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_fetch(k, 0, NULL, 2, &msgs, &n, E));
    EXPECT_TEXT("Partition number is out of range");
    CHECK(msgs == NULL && n == 0);
    OK(memphis_consumer_fetch(k, 0, NULL, 0, &msgs, &n, E)); /* waits the consumer's 500 ms */
    CHECK(n == 0 && msgs == NULL); /* nothing refused was stored */
    OK(memphis_producer_produce(p, "y", 1, NULL, E));
    msgs = fetch_n(k, 1, &n);
    CHECK(n == 1);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_delay(msgs[0], -1, E));
    EXPECT_TEXT("delay must not be negative");
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_dead_letter(msgs[0], "\xfe", E));
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    still_works(c);
    memphis_conn_destroy(c, NULL);
}
