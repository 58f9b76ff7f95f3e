/* SPDX-License-Identifier: MIT */
/* workers.h: the plugin's threads (engine, delivery), started in a file
 * descriptor table of their own.
 *
 * Linux counts references to an open file on every read, write and epoll
 * call only when the calling thread shares its descriptor table with
 * another thread. mosquitto's broker thread makes several such calls per
 * message; sharing its table with the plugin's threads cost it about 3 % of
 * its CPU in `make bench`. So a spawner thread first moves to a new table
 * holding only stdin, stdout and stderr, and creates the workers from
 * there: they share that table with each other, which SQLite needs (a
 * POSIX lock belongs to a table, and SQLite shares lock state between the
 * connections of one process).
 *
 * The rule this sets for every file in plugin/: a descriptor a worker uses
 * is opened and closed on a worker thread, and the broker thread neither
 * opens one for a worker nor uses one of theirs (the same number names
 * another file in its table). Workers and the broker thread talk through
 * memory only: mutexes, conditions, atomics.
 *
 * When the kernel refuses the new table (before Linux 5.9, or a seccomp
 * filter), the workers share the broker's: slower, equally correct under
 * the rule. */
#ifndef DD_PLUGIN_WORKERS_H
#define DD_PLUGIN_WORKERS_H

#include <pthread.h>
#include <stdbool.h>

#include "core/error.h"

struct workers;

/* Start the spawner and wait until it has its table. On DD_OK *out owns it:
 * workers_close(). Broker thread (init), before any worker descriptor is
 * opened. */
int workers_open(struct workers **out, struct dd_errbuf *eb);

/* Start a worker in the workers' table and wait until it has opened what it
 * owns: the new thread, named name (at most 15 bytes, as top -H and perf
 * show it), runs open(arg, eb) and, when that succeeds, run(arg).
 * On DD_OK the caller joins *thread. Otherwise the thread has ended, and
 * the error is open's (eb says why) or DD_ERR_INTERNAL when no thread could
 * be created. open cleans up after itself when it fails. Broker thread
 * (init). */
int workers_spawn(struct workers *w, pthread_t *thread, const char *name,
                  int (*open)(void *, struct dd_errbuf *), void *(*run)(void *), void *arg,
                  struct dd_errbuf *eb);

/* Whether the workers have a table of their own (false: the fallback). */
bool workers_separate(const struct workers *w);

/* Stop the spawner; the threads it created run on. NULL allowed. Broker
 * thread (init). */
void workers_close(struct workers *w);

#endif
