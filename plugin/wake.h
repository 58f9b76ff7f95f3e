/* SPDX-License-Identifier: MIT */
/* wake.h: waking the broker's idle loop from the plugin's threads and from
 * the server.
 *
 * mosquitto 2.0's loop sleeps in epoll_wait for up to 100 ms when no client
 * is active, and the plugin's TICK runs only after it: a clock change, a
 * new configuration or a message the engine queued for the broker thread
 * waited for that sleep (docs/performance.md, "Alert latency"). The 2.0
 * plugin API has no way to add a descriptor to the loop or shorten its
 * timeout, but epoll_wait always returns EINTR when a signal handler runs
 * on its thread. So the engine wakes the broker thread with SIGURG
 * (pthread_kill), and the server, another process, with kill() on the pid
 * of the plugin's heartbeat: SIGURG is ignored by default, so a stale pid
 * is not hurt. The plugin's own threads block SIGURG, so a signal sent to
 * the process lands on the broker thread; its handler only notes it, and
 * the next TICK passes the note on to the engine (wake_taken). */
#ifndef DD_PLUGIN_WAKE_H
#define DD_PLUGIN_WAKE_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "core/error.h"

/* Install the SIGURG handler (SA_RESTART, so only epoll_wait and calls
 * like it are interrupted) and block SIGURG in the calling thread's mask
 * for threads it creates from now on: *saved receives the mask to restore
 * with wake_unblock() once the plugin's threads are started. DD_ERR_INTERNAL
 * when sigaction fails. Broker thread (init). */
int wake_install(sigset_t *saved, struct dd_errbuf *eb);

/* Restore the mask wake_install() saved. Broker thread (init). Cannot fail. */
void wake_unblock(const sigset_t *saved);

/* Put SIGURG back to its default (ignored), so that a signal arriving after
 * mosquitto has unloaded the plugin finds no handler in unmapped code. Call
 * once no plugin thread signals any more. Broker thread (cleanup). Cannot
 * fail. */
void wake_uninstall(void);

/* Interrupt the broker thread's wait so that its next TICK comes at once.
 * Any thread; async-signal-safe; cannot fail (an exited thread is ignored). */
void wake_broker(pthread_t broker);

/* Whether a SIGURG arrived since the last call (and clear the note).
 * Broker thread. */
bool wake_taken(void);

#endif
