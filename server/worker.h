/* SPDX-License-Identifier: MIT */
/* worker.h: a server thread that does timed work in every partition,
 * off the HTTP threads: each round it reads the emulated clock and calls
 * its function with this thread's connection to each partition. The
 * Detect mitigation tasks (defender/worker_mitigation) and the audits
 * (audit/worker_audit) each run one. */
#ifndef DD_SERVER_WORKER_H
#define DD_SERVER_WORKER_H

#include <stdint.h>

#include "core/error.h"

struct server;
struct store;
struct worker;

/* What a round hands the worker's function, with each partition. */
struct worker_round {
    const struct server *srv; /* borrowed */
    int64_t now_ms;           /* the emulated clock at the round's start */
};

/* Called on the worker thread once per partition and round. Its error is
 * the function's to report: the other partitions run anyway. */
typedef void (*worker_fn)(const struct worker_round *r, struct store *s, const char *account,
                          const char *region);

/* Start a worker for srv (borrowed: it must outlive the worker) that runs
 * fn every every_ms of real time (what names it in errors, thread_name, at
 * most 15 bytes, in top -H and perf). On DD_OK *out
 * owns it: stop it with worker_stop(). DD_ERR_NOMEM or DD_ERR_INTERNAL (eb
 * says why). Main thread. */
int worker_start(const struct server *srv, const char *what, const char *thread_name, int every_ms,
                 worker_fn fn, struct worker **out, struct dd_errbuf *eb);

/* Stop the worker (after the round in progress) and free it. NULL is
 * fine. Main thread; cannot fail. */
void worker_stop(struct worker *w);

#endif
