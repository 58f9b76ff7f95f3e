/* SPDX-License-Identifier: MIT */
/* writer.h: the server's write requests run on one thread, in group
 * commits (store_batch_begin() in store.h).
 *
 * An MHD worker suspends a write request's connection and queues it
 * (writer_queue) and returns to other connections. The writer
 * thread takes every request queued since its last commit, runs each one
 * (each in its own savepoints, so one that fails undoes only its own
 * writes), commits them together, and only then ends them (resuming their
 * connections):
 * an answer is sent after its write is committed, as durable as a commit
 * of its own (WAL, synchronous=NORMAL). A checkpointer thread, started
 * and stopped with the writer, copies a WAL that has grown into its
 * database on a connection of its own, beside the writer's batches; the
 * writer, between batches, copies only the few frames written meanwhile,
 * so the next batch restarts the WAL (docs/performance.md, "The tail of a
 * write"). */
#ifndef DD_SERVER_WRITER_H
#define DD_SERVER_WRITER_H

#include "core/error.h"

struct writer;

/* One job: runs on the writer thread with arg, which the caller owns. */
typedef void (*writer_fn)(void *arg);

/* The end of a queued job (writer_queue): runs on the writer thread once
 * the job's group commit is over, with DD_OK when the commit succeeded
 * (the job's writes, if it ended them, are committed), or DD_ERR_STORE
 * when it failed (nothing the job did may be acknowledged). */
typedef void (*writer_done_fn)(void *arg, int rc);

/* A queued job, in its caller's storage; the fields are writer.c's. */
struct writer_job {
    writer_fn fn;
    writer_done_fn done_fn;
    void *arg;               /* borrowed from the caller */
    struct writer_job *next; /* the queue's link, under the writer's lock until taken */
};

/* Start the writer thread and its checkpointer. On DD_OK *out owns them:
 * stop them with writer_free(). DD_ERR_NOMEM, DD_ERR_INTERNAL (no
 * thread); eb says why.
 * Any thread. */
int writer_start(struct writer **out, struct dd_errbuf *eb);

/* Queue fn(arg) for the next group commit and return at once: done(arg,
 * rc) runs on the writer thread (or, once it stopped, on the caller's)
 * when that commit is over (fn ran before).
 * job must live until then. fn must not wait for another thread that
 * writes to the database, nor for the broker. Cannot fail. Any thread but
 * the writer's own. */
void writer_queue(struct writer *w, struct writer_job *job, writer_fn fn, writer_done_fn done,
                  void *arg);

/* Stop the threads once the queued jobs are done (their done functions
 * have run). Later jobs run at once, each a batch of its own, on the
 * thread that hands them over. Idempotent; NULL is allowed. */
void writer_stop(struct writer *w);

/* Stop w if it runs, and free it. Nobody may use w any more. NULL is
 * allowed. */
void writer_free(struct writer *w);

#endif
