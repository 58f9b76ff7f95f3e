/* SPDX-License-Identifier: MIT */
/* worker_mitigation.h: the server's worker thread that runs Detect
 * mitigation tasks over time (store_mitigation_run_due), off the HTTP
 * threads. */
#ifndef DD_SERVER_WORKER_MITIGATION_H
#define DD_SERVER_WORKER_MITIGATION_H

#include "core/error.h"

struct server;
struct worker;

/* Start the worker for srv (borrowed: it must outlive the worker). It
 * wakes every few tens of milliseconds, reads the emulated clock and
 * applies, in every partition, the executions that are due with
 * srv->mitigation_step_ms between them. On DD_OK *out owns the worker:
 * stop it with worker_stop() (server/worker.h). DD_ERR_NOMEM or
 * DD_ERR_INTERNAL (eb says why) when it cannot start. Main thread. */
int worker_mitigation_start(const struct server *srv, struct worker **out, struct dd_errbuf *eb);

#endif
