/* SPDX-License-Identifier: MIT */
/* writer.h: the server's write requests run on one thread, in group
 * commits (store_batch_begin() in store.h).
 *
 * An MHD worker hands a write request to writer_run() and waits. The
 * writer thread takes every request queued since its last commit, runs
 * each one (each in its own savepoints, so one that fails undoes only its
 * own writes), commits them together, and only then wakes their workers:
 * an answer is sent after its write is committed, as durable as a commit
 * of its own (WAL, synchronous=NORMAL). Then, with every caller answered,
 * it checkpoints the WAL when it has grown (docs/performance.md, "The write
 * path"). */
#ifndef DD_SERVER_WRITER_H
#define DD_SERVER_WRITER_H

#include "core/error.h"

struct writer;

/* One job: runs on the writer thread with arg, which the caller owns. */
typedef void (*writer_fn)(void *arg);

/* Start the writer thread. On DD_OK *out owns it: stop it with
 * writer_stop(). DD_ERR_NOMEM, DD_ERR_INTERNAL (no thread); eb says why.
 * Any thread. */
int writer_start(struct writer **out, struct dd_errbuf *eb);

/* Run fn(arg) on the writer thread in the next group commit and wait for
 * that commit. DD_OK when the commit succeeded (fn's writes, if it ended
 * them, are committed), DD_ERR_STORE when it failed (nothing fn did may be
 * acknowledged), DD_ERR_INTERNAL when fn could not be queued (it did not
 * run). fn must not wait for another thread that writes to the database,
 * nor for the broker. Any thread but the writer's own. */
int writer_run(struct writer *w, writer_fn fn, void *arg);

/* Stop the thread once the queued jobs are done, and free w. Callers of
 * writer_run() must be gone. NULL is allowed. */
void writer_stop(struct writer *w);

#endif
