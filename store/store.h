/* SPDX-License-Identifier: MIT */
/* store.h: the SQLite database both processes share, and the only place SQL
 * lives (each family of tables has its own store_<family>.h).
 *
 * One struct store is one connection, used by one thread at a time: every
 * thread that touches the database opens its own (a connection or one of its
 * statements never crosses threads). The database runs in WAL mode with
 * synchronous=NORMAL, foreign keys on and a busy handler that waits in
 * microseconds up to 5 s, so the broker's plugin and the HTTP server can
 * write the same file: writers use store_begin() (BEGIN IMMEDIATE) and keep
 * transactions short. Within one process, store_begin() also takes a
 * process-wide writer lock that the transaction's end releases. Schema
 * migrations from schema/ are applied on open, tracked in PRAGMA
 * user_version; a database written by a newer ddlocal is refused untouched. */
#ifndef DD_STORE_STORE_H
#define DD_STORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct store;

/* Open (creating if needed) the database at path and bring its schema up to
 * date. On DD_OK *out owns a new connection: close it with store_close().
 * Errors: DD_ERR_TOO_NEW (schema newer than this build; file untouched),
 * DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM; eb says why and names the file.
 * Safe to call from two processes at once: both succeed. Any thread. */
int store_open(const char *path, struct store **out, struct dd_errbuf *eb);

/* Close a connection and finalize its statements. NULL is allowed. */
void store_close(struct store *s);

/* The schema version this build migrates to. Cannot fail. */
int store_schema_version(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. store_begin() first waits for the
 * process's writer lock (one write transaction at a time per process, any
 * number of databases), which is held until store_commit() ends the
 * transaction or store_rollback() or store_close() is called: a thread that
 * begins must end, on every path. store_rollback() cannot fail and may be
 * called when no transaction is open. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* A read transaction (BEGIN DEFERRED ... COMMIT) around several reads:
 * they see one snapshot and take the WAL's read lock once, not once each
 * (the lock is two fcntl calls under a mutex every thread of the process
 * shares). Returns whether it began one: false inside a transaction
 * already, or when BEGIN failed (the reads then run as before, each on its
 * own). Pass that to store_read_end(). The connection's thread. */
bool store_read_begin(struct store *s);
void store_read_end(struct store *s, bool began);

/* Group commit: one thread runs the write requests of several callers in
 * one transaction per database and commits them together.
 *
 * store_batch_begin() puts the calling thread in batch mode: from then on
 * its first store_begin() on a connection takes the writer lock and opens
 * the batch's transaction (BEGIN IMMEDIATE) on it, and every store_begin(),
 * store_commit() and store_rollback() becomes a SAVEPOINT, RELEASE and
 * ROLLBACK TO of one job's own work, so a job that fails undoes only its
 * own writes. After each job, store_batch_job_done() rolls back what the
 * job left open and returns DD_ERR_STORE when SQLite ended a transaction
 * of the batch early (the jobs before are then lost too), else DD_OK.
 * store_batch_commit() commits every database the batch wrote, releases
 * the writer lock and leaves batch mode: DD_OK means every job that ended
 * its savepoints is committed, an error that none may be acknowledged.
 * Nothing is durable before store_batch_commit() returns DD_OK.
 *
 * The connections a batch wrote do not checkpoint inside their commits.
 * store_batch_wal(), called after store_batch_commit(), calls fn(ctx,
 * path, frames) for each database of that batch, with the frames its WAL
 * holds; when fn returns true, it runs a PASSIVE checkpoint of that
 * database on the batch's connection (store_checkpoint()). This lets the
 * caller have most of a WAL checkpointed by another thread, on a
 * connection of its own, and run on the batch thread only the short
 * checkpoint of what is left, after which the next batch restarts the WAL
 * from its beginning (SQLite restarts it only when every frame has been
 * copied). path is borrowed for the call. A connection opened for the
 * batch thread must not be used for writing by other code paths of that
 * thread outside batches for long, since it no longer checkpoints by
 * itself. The calling thread only; store_open()'s own migration is never
 * part of a batch. */
void store_batch_begin(void);
int store_batch_job_done(void);
int store_batch_commit(void);
typedef bool (*store_wal_fn)(void *ctx, const char *path, int frames);
void store_batch_wal(store_wal_fn fn, void *ctx);

/* A PASSIVE checkpoint of s's database, which may run while another
 * connection (the batch thread's) writes: copies into the database file
 * the WAL frames no reader still needs, with an fdatasync of the WAL
 * before and of the database after, and never waits for a lock. *frames
 * is set to the frames the WAL held when it began (-1 on error).
 * DD_ERR_BUSY (not logged) when another connection is checkpointing,
 * DD_ERR_STORE (logged). s's owner thread. */
int store_checkpoint(struct store *s, int *frames);

/* PRAGMA data_version: changes whenever another connection commits. Cheap;
 * the plugin's engine thread polls it to notice the server's writes. */
int store_data_version(struct store *s, int64_t *out);

/* Let this connection cache up to mb MiB of pages (SQLite's default is
 * 2 MiB), for connections that write large transactions. Cannot fail in a
 * way that matters: the default stays on error. */
void store_set_cache_mb(struct store *s, int mb);

/* Heap bytes SQLite holds in this process, every connection's page cache
 * included (for the benchmark's memory figure). Any thread. */
size_t store_memory_used(void);

/* Empty every user-data table (all but the emulator_* ones and the schema)
 * in one transaction and bump the reset generation. */
int store_reset(struct store *s);

#endif
