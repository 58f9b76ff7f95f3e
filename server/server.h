/* SPDX-License-Identifier: MIT */
/* server.h: ddlocal-server's configuration and the services handlers share. */
#ifndef DD_SERVER_SERVER_H
#define DD_SERVER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/names.h"
#include "core/origin.h"
#include "core/sigv4.h"

/* How many --allow-host and --cors-origin values are kept. */
#define SERVER_MAX_LISTED 16

struct store;
struct request;
struct longpoll;

#define SERVER_MAX_CREDENTIALS 16
#define SERVER_SECRET_MAX      128

/* One --credentials KEY:SECRET pair (server/auth.c). */
struct server_credential {
    char id[SIGV4_KEY_MAX + 1];
    char secret[SERVER_SECRET_MAX + 1];
};

struct server {
    char db_path[512];
    char region[NAMES_REGION_MAX + 1];   /* the broker's partition, the default */
    char account[NAMES_ACCOUNT_LEN + 1]; /* for unsigned requests */
    char bind[64];
    unsigned port;               /* 0 = any free port (reported at start) */
    unsigned threads;            /* MHD worker threads */
    size_t max_body_bytes;       /* request-body ceiling, answered with 413 */
    unsigned advance_timeout_ms; /* how long POST /_ddlocal/clock waits */
    /* --mitigation-step-seconds: emulated time between the executions of
     * a Detect mitigation task (worker_mitigation.h), in ms; 0 = at once. */
    int64_t mitigation_step_ms;
    /* The browser guard (guard.h): Host names served besides the loopback
     * names and the bind address (--allow-host, the --public-url host),
     * and the web origins allowed to use the API (--cors-origin). Borrowed
     * from argv, or from public_host. */
    const char *allowed_hosts[SERVER_MAX_LISTED];
    size_t n_allowed_hosts;
    const char *cors_origins[SERVER_MAX_LISTED];
    size_t n_cors_origins;
    char public_host[ORIGIN_HOST_MAX + 1];
    /* --public-url as given ("" when not: http://127.0.0.1:PORT): the base
     * of the links in the SNS messages Publish writes into queues. */
    char public_url[512];
    /* --sqs-endpoint: sqs subscriptions deliver to that engine, through
     * the broker's delivery thread, instead of into this server's own
     * queues. */
    bool sqs_endpoint;
    bool verify_signatures; /* --verify-signatures: refuse unsigned requests */
    size_t n_credentials;
    struct server_credential credentials[SERVER_MAX_CREDENTIALS];
    /* The launcher's MQTT/TLS listener, which DescribeEndpoint's data
     * endpoints answer (core/endpoint.h); "" when there is none. */
    char mqtts_host[254];
    unsigned mqtts_port;
    struct longpoll *longpoll; /* owned by http.c: the parked long polls */
};

/* Milliseconds of real time (CLOCK_REALTIME). */
long long server_real_ms(void);

#endif
