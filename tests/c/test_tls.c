/* TLS: mutual TLS against a broker serving certificates made on the fly
 * with the openssl command line tool (the case is skipped without it). */
#include <string.h>
#include <unistd.h>

#include "harness.h"

static void sh(const char *dir, const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof full, "cd '%s' && ( %s ) >/dev/null 2>&1", dir, cmd);
    if (system(full) != 0)
        test_fail(__FILE__, __LINE__, "command failed: %s", cmd);
}

/* A CA, a server certificate for 127.0.0.1 and two client certificates:
 * one signed by the CA, one self-signed (rejected by the broker). */
static void make_certs(const char *dir)
{
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "openssl req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj /CN=memphis-test-ca", ec);
    sh(dir, cmd);
    sh(dir, "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext");
    const char *names[] = {"server", "client"};
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "openssl req %s -keyout %s.key -out %s.csr -subj /CN=%s", ec, names[i], names[i], names[i]);
        sh(dir, cmd);
        snprintf(cmd, sizeof cmd,
                 "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out %s.pem -days 2 -extfile san.ext",
                 names[i], names[i]);
        sh(dir, cmd);
    }
    snprintf(cmd, sizeof cmd, "openssl req -x509 %s -keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue", ec);
    sh(dir, cmd);
}

static memphis_status_t tls_connect(struct broker *b, const char *dir, const char *cert, const char *key, memphis_conn_t **c)
{
    char cp[512], kp[512], ca[512];
    snprintf(cp, sizeof cp, "%s/%s", dir, cert);
    snprintf(kp, sizeof kp, "%s/%s", dir, key);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    memphis_conn_opts_t *o = test_conn_opts(b);
    OK(memphis_conn_opts_set_tls_cert_file(o, cp, E));
    OK(memphis_conn_opts_set_tls_key_file(o, kp, E));
    OK(memphis_conn_opts_set_tls_ca_file(o, ca, E));
    memphis_status_t st = memphis_connect(o, c, E);
    memphis_conn_opts_destroy(o, NULL);
    return st;
}

MEMPHIS_TEST(tls_mutual, "integration")
{
    if (system("openssl version >/dev/null 2>&1") != 0) {
        printf("SKIP: openssl not installed\n");
        exit(77);
    }
    char dir[] = "/tmp/memphis-ctest-tls-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    make_certs(dir);
    char cert[600], key[600], ca[600];
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    struct broker b;
    broker_start(&b, "--tls-cert", cert, "--tls-key", key, "--tls-ca", ca, NULL);

    memphis_conn_t *c = NULL;
    EXPECT_ST(MEMPHIS_OK, tls_connect(&b, dir, "client.pem", "client.key", &c));
    memphis_producer_t *p = test_producer(c, "c-tls", "p");
    OK(memphis_producer_produce(p, "secure", 6, NULL, E));
    OK(memphis_producer_destroy(p, E));
    OK(memphis_conn_destroy(c, E));

    /* a client certificate the broker's CA did not sign */
    memphis_status_t st = tls_connect(&b, dir, "rogue.pem", "rogue.key", &c);
    CHECK(st == MEMPHIS_ERR_TLS || st == MEMPHIS_ERR_UNREACHABLE || st == MEMPHIS_ERR_AUTH);
    CHECK(c == NULL);
    /* no TLS at all against a TLS-only broker */
    memphis_conn_opts_t *o = test_conn_opts(&b);
    st = memphis_connect(o, &c, E);
    CHECK(st != MEMPHIS_OK && c == NULL);
    memphis_conn_opts_destroy(o, NULL);
    broker_stop(&b);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    CHECK(system(rm) == 0);
}
