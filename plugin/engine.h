/* SPDX-License-Identifier: MIT */
/* engine.h: the plugin's engine thread and the queues that connect it to the
 * broker thread.
 *
 * The broker thread reports progress ("every window that closed up to
 * emulated time T has been handed over") with engine_progress(); the engine
 * thread does the SQLite work, then records T as evaluated-until in the
 * heartbeat, which is what POST /_ddlocal/clock waits for. The engine polls
 * PRAGMA data_version to notice the server's writes (a clock change) and
 * publishes a new clock snapshot that the broker thread picks up at its next
 * tick. Work for the broker thread (log lines now; MQTT publishes later) is
 * queued and drained by engine_drain() on the broker thread. */
#ifndef DD_PLUGIN_ENGINE_H
#define DD_PLUGIN_ENGINE_H

#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "plugin/plugin.h"

/* Start the engine thread with its own connection to opt->db_path. On DD_OK
 * *out owns the engine: stop it with engine_stop(). Broker thread (init). */
int engine_start(const struct plugin_options *opt, const struct dd_clock *clock,
                 struct engine **out, struct dd_errbuf *eb);

/* Stop the thread after it has processed everything queued, write a last
 * heartbeat, print any queued log lines, and free the engine. NULL allowed.
 * Broker thread (cleanup). */
void engine_stop(struct engine *e);

/* Copy the clock snapshot into *clock when its generation differs from
 * *generation, and update *generation. Returns 1 when it copied, 0 when
 * nothing changed (the usual case: one atomic load, no lock). Broker thread. */
int engine_clock_refresh(struct engine *e, uint64_t *generation, struct dd_clock *clock);

/* Report that every window closing at or before emulated time now_ms has
 * been handed over. Allocates one queue item (not per message). Broker
 * thread. */
void engine_progress(struct engine *e, int64_t now_ms);

/* Print the log lines the engine queued, through mosquitto's logger. One
 * atomic load when there is nothing to do. Broker thread. */
void engine_drain(struct engine *e);

#endif
