/* SPDX-License-Identifier: MIT */
/* http_daemon.h: starting libmicrohttpd for the server (http.c). */
#ifndef DD_SERVER_HTTP_DAEMON_H
#define DD_SERVER_HTTP_DAEMON_H

#include <sys/socket.h>

#include "core/error.h"
#include "server/server.h"

struct MHD_Daemon;

/* Start the HTTP daemon on addr with srv->threads workers. srv must outlive
 * the daemon; srv->port is updated to the bound port (useful with port 0).
 * Returns NULL when the address cannot be bound (eb says why). Stop it with
 * MHD_stop_daemon(). Main thread. */
struct MHD_Daemon *http_start(struct server *srv, const struct sockaddr *addr,
                              struct dd_errbuf *eb);

#endif
