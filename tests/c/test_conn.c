/* Connection, station and schema cases against a real memphis-devbroker. */
#include <string.h>
#include <unistd.h>

#include "harness.h"

MEMPHIS_TEST(connect_close, "integration")
{
    struct broker *b = test_broker();
    memphis_conn_t *c = test_connect(b);
    bool up = false;
    OK(memphis_conn_is_connected(c, &up, E));
    CHECK(up);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_conn_is_connected(c, NULL, E));
    OK(memphis_conn_close(c, E));
    OK(memphis_conn_close(c, E)); /* idempotent */
    OK(memphis_conn_is_connected(c, &up, E));
    CHECK(!up);
    /* the closed connection refuses work with CLOSED */
    memphis_station_opts_t *so = NULL;
    memphis_station_t *st = NULL;
    OK(memphis_station_opts_new("after-close", &so, E));
    EXPECT_ST(MEMPHIS_ERR_CLOSED, memphis_station_create(c, so, &st, E));
    CHECK(st == NULL);
    OK(memphis_station_opts_destroy(so, E));
    OK(memphis_conn_destroy(c, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_destroy(c, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_conn_is_connected(c, &up, E));

    /* a connection token works too, and connect/close/connect in one process */
    memphis_conn_opts_t *o = NULL;
    OK(memphis_conn_opts_new(&o, E));
    OK(memphis_conn_opts_set_host(o, b->host, E));
    OK(memphis_conn_opts_set_port(o, b->port, E));
    OK(memphis_conn_opts_set_username(o, "root", E));
    OK(memphis_conn_opts_set_connection_token(o, "memphis", E));
    for (int i = 0; i < 2; i++) {
        OK(memphis_connect(o, &c, E));
        OK(memphis_conn_destroy(c, E));
    }
    OK(memphis_conn_opts_destroy(o, E));
}

MEMPHIS_TEST(connect_errors, "integration")
{
    struct broker *b = test_broker();
    memphis_conn_opts_t *o = test_conn_opts(b);
    memphis_conn_t *c = (memphis_conn_t *)(uintptr_t)1;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_connect(o, NULL, E));

    OK(memphis_conn_opts_set_password(o, "wrong", E));
    EXPECT_ST(MEMPHIS_ERR_AUTH, memphis_connect(o, &c, E));
    CHECK(c == NULL);
    CHECK(strlen(memphis_error_message(t_err)) > 0);

    /* both or neither of password/token: the SDK's documented message */
    OK(memphis_conn_opts_set_connection_token(o, "memphis", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_connect(o, &c, E));
    CHECK(strstr(memphis_error_message(t_err), "connection token / password") != NULL);
    OK(memphis_conn_opts_set_connection_token(o, "", E));
    OK(memphis_conn_opts_set_password(o, "memphis", E));

    OK(memphis_conn_opts_set_username(o, "", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_connect(o, &c, E));
    OK(memphis_conn_opts_set_username(o, "root", E));

    /* nothing listens on the broker's port once it is stopped */
    struct broker gone;
    broker_start(&gone, NULL);
    int dead_port = gone.port;
    broker_stop(&gone);
    OK(memphis_conn_opts_set_port(o, dead_port, E));
    EXPECT_ST(MEMPHIS_ERR_UNREACHABLE, memphis_connect(o, &c, E));

    /* TLS material that cannot be loaded */
    OK(memphis_conn_opts_set_port(o, b->port, E));
    OK(memphis_conn_opts_set_tls_cert_file(o, "/nonexistent/cert.pem", E));
    OK(memphis_conn_opts_set_tls_key_file(o, "/nonexistent/key.pem", E));
    OK(memphis_conn_opts_set_tls_ca_file(o, "/nonexistent/ca.pem", E));
    EXPECT_ST(MEMPHIS_ERR_TLS, memphis_connect(o, &c, E));
    OK(memphis_conn_opts_set_tls_ca_file(o, "", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_connect(o, &c, E));
    OK(memphis_conn_opts_destroy(o, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_connect(o, &c, E));
}

MEMPHIS_TEST(station_lifecycle, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *o = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-orders", &o, E));
    OK(memphis_station_opts_set_retention(o, MEMPHIS_RETENTION_MESSAGES, 1000, E));
    OK(memphis_station_opts_set_storage(o, MEMPHIS_STORAGE_MEMORY, E));
    OK(memphis_station_opts_set_idempotency_window_ms(o, 1000, E));
    OK(memphis_station_opts_set_send_poison_msg_to_dls(o, true, E));
    OK(memphis_station_opts_set_send_schema_failed_msg_to_dls(o, false, E));
    OK(memphis_station_opts_set_partitions_number(o, 2, E));
    OK(memphis_station_create(c, o, &s, E));
    CHECK(s != NULL);
    memphis_station_t *again = NULL;
    OK(memphis_station_create(c, o, &again, E)); /* existing station: success */
    CHECK(again != NULL && again != s);
    OK(memphis_station_free(again, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_free(again, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_create(c, o, NULL, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_create(c, NULL, &again, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_create(NULL, o, &again, E));

    /* the station works: a producer can use both partitions */
    memphis_producer_t *p = test_producer(c, "c-orders", "p1");
    memphis_produce_opts_t po;
    memphis_produce_opts_init(&po);
    po.partition_number = 2;
    OK(memphis_producer_produce(p, "x", 1, &po, E));
    po.partition_number = 3;
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_producer_produce(p, "x", 1, &po, E));
    OK(memphis_producer_destroy(p, E));

    OK(memphis_station_destroy(s, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_HANDLE, memphis_station_destroy(s, E));

    /* bad names give the broker's rule text */
    const char *bad[] = {"", "Has Space", "-leading", "trailing_", "bad#char",
                         "x12345678901234567890123456789012345678901234567890123456789012345678901234567890"
                         "1234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        OK(memphis_station_opts_set_name(o, bad[i], E));
        EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_station_create(c, o, &s, E));
        CHECK(strstr(memphis_error_message(t_err), "Station") != NULL);
    }
    OK(memphis_station_opts_destroy(o, E));
    OK(memphis_conn_destroy(c, E));
}

static const char *json_schema =
    "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}";

MEMPHIS_TEST(schemas, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-schema-st", &so, E));
    OK(memphis_station_create(c, so, &s, E));
    OK(memphis_station_opts_destroy(so, E));

    OK(memphis_schema_create(c, "c-json", "json", json_schema, E));
    OK(memphis_schema_create(c, "c-json", "json", json_schema, E)); /* same content: success */
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_create(c, "c-x", "yaml", json_schema, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_create(c, NULL, "json", json_schema, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_create(c, "c-x", NULL, json_schema, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_create(c, "c-x", "json", NULL, E));
    EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION, memphis_schema_create(c, "c-broken", "json", "{not json", E));

    char path[] = "/tmp/memphis-ctest-schema-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    CHECK(write(fd, json_schema, strlen(json_schema)) == (ssize_t)strlen(json_schema));
    close(fd);
    OK(memphis_schema_create_from_file(c, "c-json-file", "json", path, E));
    unlink(path);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_create_from_file(c, "c-json-2", "json", path, E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_create_from_file(c, "c-json-2", "json", NULL, E));

    OK(memphis_schema_enforce(c, "c-json", "c-schema-st", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_enforce(c, NULL, "c-schema-st", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_enforce(c, "c-json", NULL, E));
    EXPECT_ST(MEMPHIS_ERR_NOT_FOUND, memphis_schema_enforce(c, "c-no-such-schema", "c-schema-st", E));

    memphis_producer_t *p = test_producer(c, "c-schema-st", "p");
    const char *good = "{\"id\": 7}";
    OK(memphis_producer_produce(p, good, strlen(good), NULL, E));
    const char *bad = "{\"id\": \"seven\"}";
    EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION, memphis_producer_produce(p, bad, strlen(bad), NULL, E));
    /* nonblocking: validated before it is accepted, also with no wait */
    EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION, memphis_producer_produce_async(p, bad, strlen(bad), NULL, NULL, NULL, 0, E));
    OK(memphis_producer_produce_async(p, good, strlen(good), NULL, NULL, NULL, 0, E));
    OK(memphis_producer_flush(p, 30000, NULL, E));

    memphis_consumer_t *k = test_consumer(c, "c-schema-st", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 2, &n);
    CHECK(n == 2);
    char *text = NULL;
    OK(memphis_msg_deserialize(msgs[0], &text, E));
    CHECK(strstr(text, "\"id\"") != NULL && strstr(text, "7") != NULL);
    memphis_free(text);
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_msg_deserialize(msgs[0], NULL, E));
    OK(memphis_msgs_destroy(msgs, n, E));

    OK(memphis_schema_detach(c, "c-schema-st", E));
    EXPECT_ST(MEMPHIS_ERR_INVALID_ARGUMENT, memphis_schema_detach(c, NULL, E));
    OK(memphis_schema_attach(c, "c-json", "c-schema-st", E)); /* deprecated alias */
    OK(memphis_schema_detach(c, "c-schema-st", E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_station_free(s, E));
    OK(memphis_conn_destroy(c, E));
}

/* Protobuf: JSON input is converted to the wire format by the producer and
 * turned back into JSON by memphis_msg_deserialize. */
MEMPHIS_TEST(schemas_protobuf, "integration")
{
    memphis_conn_t *c = test_connect(test_broker());
    const char *proto = "syntax = \"proto3\";\nmessage Order {\n  int32 id = 1;\n  string name = 2;\n}\n";
    OK(memphis_schema_create(c, "c-proto", "protobuf", proto, E));
    memphis_station_opts_t *so = NULL;
    memphis_station_t *s = NULL;
    OK(memphis_station_opts_new("c-proto-st", &so, E));
    OK(memphis_station_opts_set_schema_name(so, "c-proto", E));
    OK(memphis_station_create(c, so, &s, E));
    OK(memphis_station_opts_destroy(so, E));
    memphis_producer_t *p = test_producer(c, "c-proto-st", "p");
    const char *order = "{\"id\": 5, \"name\": \"pen\"}";
    OK(memphis_producer_produce(p, order, strlen(order), NULL, E));
    const char *wrong = "{\"id\": \"five\"}";
    EXPECT_ST(MEMPHIS_ERR_SCHEMA_VALIDATION, memphis_producer_produce(p, wrong, strlen(wrong), NULL, E));

    memphis_consumer_t *k = test_consumer(c, "c-proto-st", "k");
    size_t n = 0;
    memphis_msg_t **msgs = fetch_n(k, 1, &n);
    CHECK(n == 1);
    const void *data;
    size_t len;
    OK(memphis_msg_data(msgs[0], &data, &len, E));
    CHECK(len > 0 && len < strlen(order)); /* binary protobuf, not the JSON */
    char *text = NULL;
    OK(memphis_msg_deserialize(msgs[0], &text, E));
    CHECK(strstr(text, "pen") != NULL && strstr(text, "5") != NULL);
    memphis_free(text);
    OK(memphis_msgs_destroy(msgs, n, E));
    OK(memphis_consumer_destroy(k, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_station_destroy(s, E));
    OK(memphis_conn_destroy(c, E));
}
