/* Cases that need no broker: version, status texts, error objects, options
 * defaults and setters, handle validation, NULL arguments, fork. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

MEMPHIS_TEST(version, "unit")
{
    CHECK(memphis_version() == MEMPHIS_VERSION);
    CHECK(strcmp(memphis_version_str(), MEMPHIS_VERSION_STR) == 0);
    CHECK((MEMPHIS_VERSION >> 24) == MEMPHIS_VERSION_MAJOR);
}

MEMPHIS_TEST(status_texts, "unit")
{
    const memphis_status_t *all = NULL;
    size_t n = memphis_status_list(&all);
    CHECK(n >= 19 && all != NULL);
    CHECK(all[0] == MEMPHIS_OK);
    for (size_t i = 0; i < n; i++) {
        CHECK(strncmp(memphis_status_name(all[i]), "MEMPHIS_", 8) == 0);
        CHECK(strcmp(memphis_status_str(all[i]), "unknown status") != 0);
        if (i > 0)
            CHECK(all[i] > all[i - 1]);
    }
    /* stable values: bindings and programs persist these numbers */
    CHECK(MEMPHIS_ERR_TIMEOUT == 3 && MEMPHIS_ERR_QUEUE_FULL == 13 && MEMPHIS_ERR_INTERNAL == 16);
    CHECK(MEMPHIS_ERR_INVALID_HANDLE == 100 && MEMPHIS_ERR_FORKED == 101);
    CHECK(strcmp(memphis_status_name(MEMPHIS_ERR_AUTH), "MEMPHIS_ERR_AUTH") == 0);
    CHECK(strcmp(memphis_status_name((memphis_status_t)12345), "MEMPHIS_ERR_UNKNOWN") == 0);
    CHECK(strcmp(memphis_status_str((memphis_status_t)-7), "unknown status") == 0);
    CHECK(memphis_status_list(NULL) == n);
}

MEMPHIS_TEST(error_objects, "unit")
{
    CHECK(memphis_error_status(NULL) == MEMPHIS_ERR_INVALID_ARGUMENT);
    CHECK(strcmp(memphis_error_message(NULL), "") == 0);
    memphis_error_free(NULL);
    memphis_free(NULL);

    memphis_error_t *err = (memphis_error_t *)0x1; /* must be overwritten */
    memphis_conn_opts_t *o = NULL;
    CHECK(memphis_conn_opts_new(&o, &err) == MEMPHIS_OK);
    CHECK(err == NULL); /* success clears *err */
    CHECK(memphis_conn_opts_set_host(o, NULL, &err) == MEMPHIS_ERR_INVALID_ARGUMENT);
    CHECK(err != NULL && memphis_error_status(err) == MEMPHIS_ERR_INVALID_ARGUMENT);
    CHECK(strstr(memphis_error_message(err), "host") != NULL);
    memphis_error_free(err);
    /* err may always be NULL */
    CHECK(memphis_conn_opts_set_host(o, NULL, NULL) == MEMPHIS_ERR_INVALID_ARGUMENT);
    CHECK(memphis_conn_opts_destroy(o, NULL) == MEMPHIS_OK);

    memphis_produce_opts_t po;
    memset(&po, 0x7f, sizeof po);
    memphis_produce_opts_init(&po);
    CHECK(po.headers == NULL && po.msg_id == NULL && po.partition_key == NULL);
    CHECK(po.partition_number == 0 && po.ack_wait_ms == 0);
    memphis_produce_opts_init(NULL);
}

MEMPHIS_TEST(conn_options, "unit")
{
    memphis_conn_opts_t *o = NULL;
    OK(memphis_conn_opts_new(&o, E));
    int i = 0;
    int64_t ms = 0;
    bool b = false;
    char *s = NULL;
    /* defaults come from the Go core (documented Python API defaults) */
    OK(memphis_conn_opts_get_port(o, &i, E));
    CHECK(i == 6666);
    OK(memphis_conn_opts_get_account_id(o, &i, E));
    CHECK(i == 1);
    OK(memphis_conn_opts_get_reconnect(o, &b, E));
    CHECK(b);
    OK(memphis_conn_opts_get_max_reconnect(o, &i, E));
    CHECK(i == 10);
    OK(memphis_conn_opts_get_reconnect_interval_ms(o, &ms, E));
    CHECK(ms == 1500);
    OK(memphis_conn_opts_get_timeout_ms(o, &ms, E));
    CHECK(ms == 1500);
    OK(memphis_conn_opts_get_unbuffered_writes(o, &b, E));
    CHECK(!b);
    OK(memphis_conn_opts_get_host(o, &s, E));
    CHECK(strcmp(s, "") == 0);
    memphis_free(s);

    OK(memphis_conn_opts_set_host(o, "broker.local", E));
    OK(memphis_conn_opts_get_host(o, &s, E));
    CHECK(strcmp(s, "broker.local") == 0);
    memphis_free(s);
    OK(memphis_conn_opts_set_username(o, "app", E));
    OK(memphis_conn_opts_get_username(o, &s, E));
    CHECK(strcmp(s, "app") == 0);
    memphis_free(s);
    OK(memphis_conn_opts_set_port(o, 7777, E));
    OK(memphis_conn_opts_set_account_id(o, 42, E));
    OK(memphis_conn_opts_set_reconnect(o, false, E));
    OK(memphis_conn_opts_set_max_reconnect(o, -1, E));
    OK(memphis_conn_opts_set_reconnect_interval_ms(o, 10, E));
    OK(memphis_conn_opts_set_timeout_ms(o, 2500, E));
    OK(memphis_conn_opts_set_unbuffered_writes(o, true, E));
    OK(memphis_conn_opts_set_password(o, "pw", E));
    OK(memphis_conn_opts_set_connection_token(o, "", E));
    OK(memphis_conn_opts_set_tls_cert_file(o, "/c", E));
    OK(memphis_conn_opts_set_tls_key_file(o, "/k", E));
    OK(memphis_conn_opts_set_tls_ca_file(o, "/ca", E));
    OK(memphis_conn_opts_get_port(o, &i, E));
    CHECK(i == 7777);
    OK(memphis_conn_opts_get_account_id(o, &i, E));
    CHECK(i == 42);
    OK(memphis_conn_opts_get_reconnect(o, &b, E));
    CHECK(!b);
    OK(memphis_conn_opts_get_max_reconnect(o, &i, E));
    CHECK(i == -1);
    OK(memphis_conn_opts_get_reconnect_interval_ms(o, &ms, E));
    CHECK(ms == 10);
    OK(memphis_conn_opts_get_timeout_ms(o, &ms, E));
    CHECK(ms == 2500);
    OK(memphis_conn_opts_get_unbuffered_writes(o, &b, E));
    CHECK(b);

    /* a duration the library cannot hold is refused at once */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_timeout_ms(o, INT64_MAX, E));
    CHECK(strstr(memphis_error_message(t_err), "timeout_ms is out of range") != NULL);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_host(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_username(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_password(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_connection_token(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_tls_cert_file(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_tls_key_file(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_tls_ca_file(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_host(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_username(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_port(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_account_id(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_reconnect(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_max_reconnect(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_reconnect_interval_ms(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_timeout_ms(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_get_unbuffered_writes(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_new(NULL, E));
    /* values survive failed setters */
    OK(memphis_conn_opts_get_timeout_ms(o, &ms, E));
    CHECK(ms == 2500);
    OK(memphis_conn_opts_destroy(o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_opts_destroy(o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_opts_get_port(o, &i, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_opts_set_port(o, 1, E));
}

/* Option values are checked by the call that uses them, with the sdk's
 * texts: connect refuses before any network use. */
MEMPHIS_TEST(connect_checks_option_values, "unit")
{
    static const struct {
        const char *what, *text;
    } cases[] = {
        {"port 0", "port must be between 1 and 65535"},
        {"port 70000", "port must be between 1 and 65535"},
        {"max reconnect -2", "max reconnect must be -1 (unlimited) or more"},
        {"timeout -1", "must not be negative"},
        {"account id -1", "account id must not be negative"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memphis_conn_opts_t *o = NULL;
        OK(memphis_conn_opts_new(&o, E));
        OK(memphis_conn_opts_set_host(o, "127.0.0.1", E));
        OK(memphis_conn_opts_set_username(o, "root", E));
        OK(memphis_conn_opts_set_password(o, "memphis", E));
        switch (k) { /* the setters store what they get */
        case 0: OK(memphis_conn_opts_set_port(o, 0, E)); break;
        case 1: OK(memphis_conn_opts_set_port(o, 70000, E)); break;
        case 2: OK(memphis_conn_opts_set_max_reconnect(o, -2, E)); break;
        case 3: OK(memphis_conn_opts_set_timeout_ms(o, -1, E)); break;
        case 4: OK(memphis_conn_opts_set_account_id(o, -1, E)); break;
        }
        memphis_conn_t *c = (memphis_conn_t *)(uintptr_t)1;
        EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_connect(o, &c, E));
        if (strstr(memphis_error_message(t_err), cases[k].text) == NULL)
            test_fail(__FILE__, __LINE__, "%s: message %s", cases[k].what, memphis_error_message(t_err));
        CHECK(c == NULL);
        OK(memphis_conn_opts_destroy(o, E));
    }
}

/* Text must be UTF-8: it travels in JSON and headers, where other bytes
 * would be replaced. The error names the parameter. */
MEMPHIS_TEST(text_must_be_utf8, "unit")
{
    const char *bad = "caf\xc3"; /* a cut multi-byte sequence */
    memphis_conn_opts_t *o = NULL;
    OK(memphis_conn_opts_new(&o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_password(o, bad, E));
    CHECK(strstr(memphis_error_message(t_err), "password is not valid UTF-8") != NULL);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_opts_set_host(o, "\xff", E));
    OK(memphis_conn_opts_set_tls_ca_file(o, "/tmp/\xff.pem", E)); /* a path is passed as it is */
    OK(memphis_conn_opts_set_password(o, "caf\xc3\xa9", E)); /* valid UTF-8 is fine */
    OK(memphis_conn_opts_destroy(o, E));
    memphis_station_opts_t *so = NULL;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_new(bad, &so, E));
    CHECK(strstr(memphis_error_message(t_err), "name is not valid UTF-8") != NULL);
    memphis_headers_t *h = NULL;
    OK(memphis_headers_new(&h, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_add(h, "k", bad, E));
    CHECK(strstr(memphis_error_message(t_err), "value is not valid UTF-8") != NULL);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_add(h, bad, "v", E));
    OK(memphis_headers_destroy(h, E));
}

MEMPHIS_TEST(station_opts, "unit")
{
    memphis_station_opts_t *o = NULL;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_new(NULL, &o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_new("x", NULL, E));
    OK(memphis_station_opts_new("orders", &o, E));
    char *s = NULL;
    memphis_retention_t rt;
    int64_t rv = 0, ms = 0;
    memphis_storage_t sto;
    int i = 0;
    bool b = false;
    OK(memphis_station_opts_get_name(o, &s, E));
    CHECK(strcmp(s, "orders") == 0);
    memphis_free(s);
    OK(memphis_station_opts_get_retention(o, &rt, &rv, E));
    CHECK(rt == MEMPHIS_RETENTION_MESSAGE_AGE_SEC && rv == 604800);
    OK(memphis_station_opts_get_storage(o, &sto, E));
    CHECK(sto == MEMPHIS_STORAGE_FILE);
    OK(memphis_station_opts_get_replicas(o, &i, E));
    CHECK(i == 1);
    OK(memphis_station_opts_get_idempotency_window_ms(o, &ms, E));
    CHECK(ms == 120000);
    OK(memphis_station_opts_get_send_poison_msg_to_dls(o, &b, E));
    CHECK(b);
    OK(memphis_station_opts_get_send_schema_failed_msg_to_dls(o, &b, E));
    CHECK(b);
    OK(memphis_station_opts_get_tiered_storage_enabled(o, &b, E));
    CHECK(!b);
    OK(memphis_station_opts_get_partitions_number(o, &i, E));
    CHECK(i == 1);
    OK(memphis_station_opts_get_schema_name(o, &s, E));
    CHECK(strcmp(s, "") == 0);
    memphis_free(s);
    OK(memphis_station_opts_get_dls_station(o, &s, E));
    CHECK(strcmp(s, "") == 0);
    memphis_free(s);

    OK(memphis_station_opts_set_name(o, "other", E));
    OK(memphis_station_opts_set_retention(o, MEMPHIS_RETENTION_MESSAGES, 100, E));
    OK(memphis_station_opts_set_storage(o, MEMPHIS_STORAGE_MEMORY, E));
    OK(memphis_station_opts_set_replicas(o, 1, E));
    OK(memphis_station_opts_set_idempotency_window_ms(o, 5000, E));
    OK(memphis_station_opts_set_schema_name(o, "sch", E));
    OK(memphis_station_opts_set_send_poison_msg_to_dls(o, false, E));
    OK(memphis_station_opts_set_send_schema_failed_msg_to_dls(o, false, E));
    OK(memphis_station_opts_set_tiered_storage_enabled(o, true, E));
    OK(memphis_station_opts_set_partitions_number(o, 3, E));
    OK(memphis_station_opts_set_dls_station(o, "dls", E));
    OK(memphis_station_opts_get_retention(o, &rt, &rv, E));
    CHECK(rt == MEMPHIS_RETENTION_MESSAGES && rv == 100);
    OK(memphis_station_opts_get_storage(o, &sto, E));
    CHECK(sto == MEMPHIS_STORAGE_MEMORY);
    OK(memphis_station_opts_get_partitions_number(o, &i, E));
    CHECK(i == 3);
    OK(memphis_station_opts_get_tiered_storage_enabled(o, &b, E));
    CHECK(b);
    OK(memphis_station_opts_get_dls_station(o, &s, E));
    CHECK(strcmp(s, "dls") == 0);
    memphis_free(s);

    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_set_retention(o, (memphis_retention_t)9, 1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_set_storage(o, (memphis_storage_t)-1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_set_name(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_set_schema_name(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_set_dls_station(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_retention(o, NULL, &rv, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_retention(o, &rt, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_storage(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_name(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_replicas(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_idempotency_window_ms(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_schema_name(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_send_poison_msg_to_dls(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_send_schema_failed_msg_to_dls(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_tiered_storage_enabled(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_partitions_number(o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_opts_get_dls_station(o, NULL, E));
    OK(memphis_station_opts_destroy(o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_opts_destroy(o, E));
}

MEMPHIS_TEST(producer_consumer_opts, "unit")
{
    memphis_producer_opts_t *po = NULL;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_new(NULL, "p", &po, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_new("s", NULL, &po, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_new("s", "p", NULL, E));
    OK(memphis_producer_opts_new("s1", "p", &po, E));
    size_t n = 0;
    int i = 0;
    int64_t ms = 0;
    char *s = NULL;
    OK(memphis_producer_opts_get_station_count(po, &n, E));
    CHECK(n == 1);
    OK(memphis_producer_opts_add_station(po, "s2", E));
    OK(memphis_producer_opts_get_station_count(po, &n, E));
    CHECK(n == 2);
    OK(memphis_producer_opts_get_station(po, 1, &s, E));
    CHECK(strcmp(s, "s2") == 0);
    memphis_free(s);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_station(po, 2, &s, E));
    OK(memphis_producer_opts_get_max_in_flight(po, &i, E));
    CHECK(i == 4000);
    OK(memphis_producer_opts_get_ack_wait_ms(po, &ms, E));
    CHECK(ms == 15000);
    OK(memphis_producer_opts_set_name(po, "q", E));
    OK(memphis_producer_opts_get_name(po, &s, E));
    CHECK(strcmp(s, "q") == 0);
    memphis_free(s);
    OK(memphis_producer_opts_set_max_in_flight(po, 7, E));
    OK(memphis_producer_opts_set_ack_wait_ms(po, 900, E));
    OK(memphis_producer_opts_get_max_in_flight(po, &i, E));
    CHECK(i == 7);
    OK(memphis_producer_opts_get_ack_wait_ms(po, &ms, E));
    CHECK(ms == 900);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_add_station(po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_set_name(po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_name(po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_station_count(po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_station(po, 0, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_max_in_flight(po, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_opts_get_ack_wait_ms(po, NULL, E));
    OK(memphis_producer_opts_destroy(po, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_opts_destroy(po, E));

    memphis_consumer_opts_t *co = NULL;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_new(NULL, "c", &co, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_new("s", NULL, &co, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_new("s", "c", NULL, E));
    OK(memphis_consumer_opts_new("s", "c", &co, E));
    uint64_t u = 0;
    OK(memphis_consumer_opts_get_station_name(co, &s, E));
    CHECK(strcmp(s, "s") == 0);
    memphis_free(s);
    OK(memphis_consumer_opts_get_name(co, &s, E));
    CHECK(strcmp(s, "c") == 0);
    memphis_free(s);
    OK(memphis_consumer_opts_get_group(co, &s, E));
    CHECK(strcmp(s, "") == 0);
    memphis_free(s);
    OK(memphis_consumer_opts_get_pull_interval_ms(co, &ms, E));
    CHECK(ms == 1000);
    OK(memphis_consumer_opts_get_batch_size(co, &i, E));
    CHECK(i == 10);
    OK(memphis_consumer_opts_get_batch_max_wait_ms(co, &ms, E));
    CHECK(ms == 5000);
    OK(memphis_consumer_opts_get_max_ack_time_ms(co, &ms, E));
    CHECK(ms == 30000);
    OK(memphis_consumer_opts_get_max_msg_deliveries(co, &i, E));
    CHECK(i == 10);
    OK(memphis_consumer_opts_get_start_consume_from_sequence(co, &u, E));
    CHECK(u == 1);
    OK(memphis_consumer_opts_get_last_messages(co, &ms, E));
    CHECK(ms == -1);
    OK(memphis_consumer_opts_set_station_name(co, "t", E));
    OK(memphis_consumer_opts_set_name(co, "d", E));
    OK(memphis_consumer_opts_set_group(co, "g", E));
    OK(memphis_consumer_opts_set_pull_interval_ms(co, 10, E));
    OK(memphis_consumer_opts_set_batch_size(co, 1234, E));
    OK(memphis_consumer_opts_set_batch_max_wait_ms(co, 100, E));
    OK(memphis_consumer_opts_set_max_ack_time_ms(co, 2000, E));
    OK(memphis_consumer_opts_set_max_msg_deliveries(co, 3, E));
    OK(memphis_consumer_opts_set_start_consume_from_sequence(co, 5, E));
    OK(memphis_consumer_opts_set_last_messages(co, 0, E));
    OK(memphis_consumer_opts_get_group(co, &s, E));
    CHECK(strcmp(s, "g") == 0);
    memphis_free(s);
    OK(memphis_consumer_opts_get_batch_size(co, &i, E));
    CHECK(i == 1234);
    OK(memphis_consumer_opts_get_start_consume_from_sequence(co, &u, E));
    CHECK(u == 5);
    OK(memphis_consumer_opts_get_last_messages(co, &ms, E));
    CHECK(ms == 0);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_set_pull_interval_ms(co, INT64_MIN, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_set_group(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_set_name(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_set_station_name(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_station_name(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_name(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_group(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_pull_interval_ms(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_batch_size(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_batch_max_wait_ms(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_max_ack_time_ms(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_max_msg_deliveries(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_start_consume_from_sequence(co, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_opts_get_last_messages(co, NULL, E));
    OK(memphis_consumer_opts_destroy(co, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_opts_destroy(co, E));
}

MEMPHIS_TEST(headers_object, "unit")
{
    memphis_headers_t *h = NULL;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_new(NULL, E));
    OK(memphis_headers_new(&h, E));
    size_t n = 9;
    OK(memphis_headers_count(h, &n, E));
    CHECK(n == 0);
    OK(memphis_headers_add(h, "k", "v", E));
    OK(memphis_headers_add(h, "k2", "", E));
    OK(memphis_headers_add(h, "k", "v2", E));
    OK(memphis_headers_count(h, &n, E));
    CHECK(n == 2);
    char *v = NULL;
    OK(memphis_headers_get(h, "k", &v, E));
    CHECK(strcmp(v, "v2") == 0);
    memphis_free(v);
    EXPECT_ST(MEMPHIS_ERR_NOT_FOUND, memphis_headers_get(h, "nope", &v, E));
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_headers_add(h, "$memphis_producedBy", "x", E));
    CHECK(strstr(memphis_error_message(t_err), "$memphis") != NULL);
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_headers_add(h, "", "x", E));
    /* what a "key: value" header line cannot carry */
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_headers_add(h, "a b", "x", E));
    CHECK(strstr(memphis_error_message(t_err), "printable ASCII without spaces or ':'") != NULL);
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_headers_add(h, "a:b", "x", E));
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_headers_add(h, "a\tb", "x", E));
    EXPECT_ST(MEMPHIS_ERR_HEADER, memphis_headers_add(h, "k", "a\r\nInjected: 1", E));
    CHECK(strstr(memphis_error_message(t_err), "line break or NUL") != NULL);
    OK(memphis_headers_count(h, &n, E));
    CHECK(n == 2); /* refused headers were not kept */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_add(h, NULL, "x", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_add(h, "a", NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_get(h, NULL, &v, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_get(h, "k", NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_headers_count(h, NULL, E));
    OK(memphis_headers_destroy(h, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_headers_destroy(h, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_headers_add(h, "a", "b", E));
}

static void never_called(memphis_msg_t **msgs, size_t count, memphis_status_t st, const char *err, void *ud)
{
    test_fail(__FILE__, __LINE__, "callback of an invalid consumer ran");
}

/* Handles that were never issued, of the wrong type, or destroyed. */
MEMPHIS_TEST(invalid_handles, "unit")
{
    memphis_conn_t *bogus = (memphis_conn_t *)(uintptr_t)0x1234;
    memphis_conn_t *null_conn = NULL;
    bool b;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_is_connected(bogus, &b, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_is_connected(null_conn, &b, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_close(bogus, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_destroy(NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_connect(NULL, (memphis_conn_t **)&bogus, E));
    CHECK(bogus == NULL); /* out-parameters are cleared on failure */

    /* a live handle of another type */
    memphis_headers_t *h = NULL;
    OK(memphis_headers_new(&h, E));
    memphis_conn_t *wrong = (memphis_conn_t *)(void *)h;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_is_connected(wrong, &b, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_destroy(wrong, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_opts_destroy((memphis_conn_opts_t *)(void *)h, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_destroy((memphis_msg_t *)(void *)h, E));
    OK(memphis_headers_count(h, &(size_t){0}, E)); /* still alive after the misuse */
    OK(memphis_headers_destroy(h, E));

    memphis_station_t *st = (memphis_station_t *)(uintptr_t)0xdeadbeef;
    memphis_producer_t *p = (memphis_producer_t *)(uintptr_t)0x10;
    memphis_consumer_t *c = (memphis_consumer_t *)(uintptr_t)~(uintptr_t)0;
    memphis_msg_t *m = (memphis_msg_t *)(uintptr_t)0x0900000000000001ull;
    memphis_msg_t *ms[2] = {m, m};
    memphis_msg_t **out = NULL;
    size_t n;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_destroy(st, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_free(st, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce(p, "x", 1, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce_async(p, "x", 1, NULL, NULL, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_flush(p, 0, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_destroy(p, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_fetch(c, 1, NULL, 0, &out, &n, E));
    CHECK(out == NULL && n == 0);
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_stop(c, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_destroy(c, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_ack(m, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_nack(m, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_delay(m, 1, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_dead_letter(m, "r", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_destroy(m, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msgs_ack(ms, 2, E));
    const void *data;
    size_t len;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_data(m, &data, &len, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_schema_detach(bogus, "s", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_schema_create(bogus, "s", "json", "{}", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_schema_create_from_file(bogus, "s", "json", "/x", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_schema_enforce(bogus, "s", "t", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_schema_attach(bogus, "s", "t", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_consumer_consume(c, NULL, NULL, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_consume(c, never_called, NULL, NULL, 0, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce_batch(p, NULL, NULL, NULL, 0, NULL, NULL, 0, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_header_count(m, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_sequence(m, &(uint64_t){0}, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_msg_deserialize(m, &(char *){NULL}, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_opts_set_name(NULL, "x", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_opts_set_name(NULL, "x", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_consumer_opts_set_name(NULL, "x", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_headers_count(NULL, &n, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_produce(bogus, "s", "p", "x", 1, NULL, E));

    /* a bad headers handle inside produce options */
    memphis_produce_opts_t po;
    memphis_produce_opts_init(&po);
    po.headers = (const memphis_headers_t *)(uintptr_t)0x77;
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_producer_produce(p, "x", 1, &po, E));
}

static volatile int child_ok;

MEMPHIS_TEST(fork_child, "unit")
{
    /* the parent has used the library (Go runtime running) */
    memphis_headers_t *h = NULL;
    OK(memphis_headers_new(&h, E));
    pid_t pid = fork();
    if (pid == 0) {
        /* In the child: no call may enter the Go runtime (it would hang). */
        alarm(20);
        memphis_error_t *err = NULL;
        memphis_conn_opts_t *o = NULL;
        if (memphis_conn_opts_new(&o, &err) != MEMPHIS_ERR_FORKED)
            _exit(2);
        if (memphis_error_status(err) != MEMPHIS_ERR_FORKED || !strstr(memphis_error_message(err), "fork"))
            _exit(3);
        memphis_error_free(err);
        if (memphis_headers_destroy(h, NULL) != MEMPHIS_ERR_FORKED)
            _exit(4);
        if (memphis_conn_destroy(NULL, NULL) != MEMPHIS_ERR_FORKED)
            _exit(5);
        /* pure C helpers still work */
        if (memphis_version() != MEMPHIS_VERSION || strcmp(memphis_status_name(MEMPHIS_ERR_FORKED), "MEMPHIS_ERR_FORKED"))
            _exit(6);
        _exit(0);
    }
    CHECK(pid > 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        test_fail(__FILE__, __LINE__, "child failed: exited=%d code=%d signal=%d", WIFEXITED(status),
                  WEXITSTATUS(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    /* the parent is unaffected */
    OK(memphis_headers_destroy(h, E));
    (void)child_ok;
}
