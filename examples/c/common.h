/* common.h - shared by the C examples: connection settings from the
 * environment (MEMPHIS_HOST, MEMPHIS_PORT, MEMPHIS_USERNAME,
 * MEMPHIS_PASSWORD) and error reporting. */
#ifndef MEMPHIS_EXAMPLE_COMMON_H
#define MEMPHIS_EXAMPLE_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "memphis.h"

static const char *env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

/* Prints the failure and exits when st is not MEMPHIS_OK. */
static void check(memphis_status_t st, memphis_error_t *err, const char *what)
{
    if (st == MEMPHIS_OK)
        return;
    fprintf(stderr, "%s failed: %s (%s)\n", what, memphis_error_message(err), memphis_status_name(st));
    memphis_error_free(err);
    exit(1);
}

static memphis_conn_t *connect_from_env(void)
{
    memphis_error_t *err = NULL;
    memphis_conn_opts_t *opts = NULL;
    memphis_conn_t *conn = NULL;
    check(memphis_conn_opts_new(&opts, &err), err, "options");
    check(memphis_conn_opts_set_host(opts, env_or("MEMPHIS_HOST", "localhost"), &err), err, "host");
    check(memphis_conn_opts_set_port(opts, atoi(env_or("MEMPHIS_PORT", "6666")), &err), err, "port");
    check(memphis_conn_opts_set_username(opts, env_or("MEMPHIS_USERNAME", "root"), &err), err, "username");
    check(memphis_conn_opts_set_password(opts, env_or("MEMPHIS_PASSWORD", "memphis"), &err), err, "password");
    check(memphis_connect(opts, &conn, &err), err, "connect");
    memphis_conn_opts_destroy(opts, NULL);
    return conn;
}

#endif
