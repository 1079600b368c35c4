/* Send-only acks (memphis_msg_ack_nowait, memphis_msgs_ack_nowait) and the
 * station schema type of a message (memphis_msg_schema_type). */
#include <string.h>

#include "harness.h"

/* Produces msg-0..msg-(n-1) synchronously, in order. */
static void produce_sync(memphis_conn_t *c, const char *station, int n)
{
    memphis_producer_t *p = test_producer(c, station, uname_("fill"));
    char buf[32];
    for (int i = 0; i < n; i++) {
        int len = snprintf(buf, sizeof buf, "msg-%d", i);
        OK(memphis_producer_produce(p, buf, (size_t)len, NULL, E));
    }
    OK(memphis_producer_destroy(p, E));
}

static bool has_data(memphis_msg_t *m, const char *want)
{
    const void *d;
    size_t l;
    OK(memphis_msg_data(m, &d, &l, E));
    return l == strlen(want) && memcmp(d, want, l) == 0;
}

MEMPHIS_TEST(ack_nowait, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    produce_sync(c, "c-nowait", 6);
    memphis_consumer_opts_t *o = NULL;
    memphis_consumer_t *k = NULL;
    OK(memphis_consumer_opts_new("c-nowait", "k", &o, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(o, 300, E));
    OK(memphis_consumer_opts_set_max_ack_time_ms(o, 1000, E));
    OK(memphis_consumer_create(c, o, &k, E));
    OK(memphis_consumer_opts_destroy(o, E));

    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 6, &n);
    CHECK(n == 6);
    /* msg-5 stays unacknowledged: its redelivery proves max_ack_time passed */
    memphis_msg_t *batch[6];
    size_t nb = 0;
    int control = -1;
    for (size_t i = 0; i < n; i++) {
        if (has_data(msgs[i], "msg-5"))
            control = (int)i;
        else if (i % 2 == 0)
            OK(memphis_msg_ack_nowait(msgs[i], E));
        else
            batch[nb++] = msgs[i];
    }
    CHECK(control >= 0);
    OK(memphis_msgs_ack_nowait(batch, nb, E));
    OK(memphis_msgs_ack_nowait(batch, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msgs_ack_nowait(NULL, 1, E));
    OK(memphis_msgs_destroy(msgs, n, E));

    /* only the control message comes back */
    msgs = fetch_n(k, 1, &n);
    CHECK(n == 1);
    CHECK(has_data(msgs[0], "msg-5"));
    OK(memphis_msg_ack_nowait(msgs[0], E));
    OK(memphis_msgs_destroy(msgs, n, E));

    memphis_msg_t *bogus = (memphis_msg_t *)(uintptr_t)12345;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_ack_nowait(bogus, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msgs_ack_nowait(&bogus, 1, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_conn_destroy(c, E));
}

MEMPHIS_TEST(msg_schema_type, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    OK(memphis_schema_create(c, "c-sch", "json", "{\"type\":\"object\"}", E));
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-typed", &so, E));
    OK(memphis_station_opts_set_schema_name(so, "c-sch", E));
    OK(memphis_station_create(c, so, &s, E));
    OK(memphis_station_opts_destroy(so, E));
    memphis_consumer_t *typed = test_consumer(c, "c-typed", "k");
    memphis_consumer_t *plain = test_consumer(c, "c-plain", "k");

    memphis_producer_t *p = test_producer(c, "c-typed", "p");
    OK(memphis_producer_produce(p, "{\"a\":1}", 7, NULL, E));
    OK(memphis_producer_destroy(p, E));
    produce_sync(c, "c-plain", 1);

    size_t n = 0;
    char *type = NULL;
    memphis_msg_t **msgs = fetch_n(typed, 1, &n);
    CHECK(n == 1);
    OK(memphis_msg_schema_type(msgs[0], &type, E));
    CHECK(strcmp(type, "json") == 0);
    memphis_free(type);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_schema_type(msgs[0], NULL, E));
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_destroy(msgs, n, E));

    msgs = fetch_n(plain, 1, &n);
    CHECK(n == 1);
    OK(memphis_msg_schema_type(msgs[0], &type, E));
    CHECK(strcmp(type, "") == 0);
    memphis_free(type);
    OK(memphis_msgs_ack(msgs, n, E));
    OK(memphis_msgs_destroy(msgs, n, E));

    memphis_msg_t *bogus = (memphis_msg_t *)(uintptr_t)12345;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_schema_type(bogus, &type, E));
    OK(memphis_consumer_destroy(typed, E));
    OK(memphis_consumer_destroy(plain, E));
    OK(memphis_station_destroy(s, E));
    OK(memphis_conn_destroy(c, E));
}
