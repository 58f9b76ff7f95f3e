/* SPDX-License-Identifier: MIT */
/* worker_audit.h: the server's worker thread that runs audit tasks
 * (store_audit_run_next) and starts the scheduled audits that fall due,
 * off the HTTP and broker threads. */
#ifndef DD_SERVER_WORKER_AUDIT_H
#define DD_SERVER_WORKER_AUDIT_H

#include "core/error.h"

struct server;
struct worker;

/* Start the audit worker for srv (borrowed: it must outlive the worker):
 * every few tens of milliseconds it runs, in every partition, the audit
 * tasks in progress. On DD_OK *out owns it: stop it with worker_stop()
 * (server/worker.h). DD_ERR_NOMEM, DD_ERR_INTERNAL (eb). Main thread. */
int worker_audit_start(const struct server *srv, struct worker **out, struct dd_errbuf *eb);

#endif
