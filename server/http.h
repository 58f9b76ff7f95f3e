/* SPDX-License-Identifier: MIT */
/* http.h: the libmicrohttpd daemon (http.c), the top of server/: it collects
 * each request and hands it to the router. */
#ifndef DD_SERVER_HTTP_H
#define DD_SERVER_HTTP_H

#include <sys/socket.h>

#include "core/error.h"
#include "server/server.h"

struct MHD_Daemon;

/* Start the HTTP daemon on addr with srv->threads workers. srv must outlive
 * the daemon; srv->port is updated to the bound port (useful with port 0).
 * It also starts srv->longpoll, the parked long polls. Returns NULL when
 * the address cannot be bound or the thread cannot start (eb says why).
 * Stop it with http_stop(). Main thread. */
struct MHD_Daemon *http_start(struct server *srv, const struct sockaddr *addr,
                              struct dd_errbuf *eb);

/* Answer every parked long poll, stop the daemon d and srv->longpoll.
 * Main thread. */
void http_stop(struct server *srv, struct MHD_Daemon *d);

#endif
