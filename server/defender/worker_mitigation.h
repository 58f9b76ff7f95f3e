/* SPDX-License-Identifier: MIT */
/* worker_mitigation.h: the server's worker thread that runs Detect
 * mitigation tasks over time (store_mitigation_run_due), off the HTTP
 * threads. */
#ifndef DD_SERVER_WORKER_MITIGATION_H
#define DD_SERVER_WORKER_MITIGATION_H

#include "core/error.h"

struct server;
struct worker_mitigation;

/* Start the worker for srv (borrowed: it must outlive the worker). It
 * wakes every few tens of milliseconds, reads the emulated clock and
 * applies, in every partition, the executions that are due with
 * srv->mitigation_step_ms between them. On DD_OK *out owns the worker:
 * stop it with worker_mitigation_stop(). DD_ERR_NOMEM or DD_ERR_INTERNAL
 * (eb says why) when it cannot start. Main thread. */
int worker_mitigation_start(const struct server *srv, struct worker_mitigation **out,
                            struct dd_errbuf *eb);

/* Stop the worker (after the round in progress) and free it. NULL is
 * fine. Main thread; cannot fail. */
void worker_mitigation_stop(struct worker_mitigation *w);

#endif
