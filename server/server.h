/* SPDX-License-Identifier: MIT */
/* server.h: ddlocal-server's configuration and the services handlers share. */
#ifndef DD_SERVER_SERVER_H
#define DD_SERVER_SERVER_H

#include <stddef.h>

#include "core/error.h"
#include "core/names.h"

struct store;
struct request;

struct server {
    char db_path[512];
    char region[NAMES_REGION_MAX + 1];   /* the broker's partition, the default */
    char account[NAMES_ACCOUNT_LEN + 1]; /* for unsigned requests */
    char bind[64];
    unsigned port;               /* 0 = any free port (reported at start) */
    unsigned threads;            /* MHD worker threads */
    size_t max_body_bytes;       /* request-body ceiling, answered with 413 */
    unsigned advance_timeout_ms; /* how long POST /_ddlocal/clock waits */
    /* The launcher's MQTT/TLS listener, which DescribeEndpoint's data
     * endpoints answer (core/endpoint.h); "" when there is none. */
    char mqtts_host[254];
    unsigned mqtts_port;
};

/* This worker thread's own database connection, opened on first use and
 * closed when the thread exits. NULL when it cannot be opened (eb says why).
 * Any MHD worker thread; the connection never leaves it. */
struct store *server_store(const struct server *srv, struct dd_errbuf *eb);

/* Milliseconds of real time (CLOCK_REALTIME). */
long long server_real_ms(void);

#endif
