/* SPDX-License-Identifier: MIT */
/* engine.h: the plugin's engine thread and the queues that connect it to the
 * broker thread.
 *
 * Broker thread -> engine: closed windows (engine_window), MQTT messages the
 * plugin serves (device metrics reports, shadow requests: engine_message),
 * and progress ("every window closing at or before T has been handed over":
 * engine_progress). The engine does all SQLite work in order, then records T
 * as evaluated-until in the heartbeat, which is what POST /_ddlocal/clock
 * waits for.
 *
 * Engine -> broker thread: messages to publish (replies to devices, the
 * server's MQTT outbox) and log lines, drained by engine_drain() at TICK,
 * because mosquitto's API may only be called on the broker thread. The
 * engine also polls PRAGMA data_version to notice the server's commits (a
 * clock change, a new profile, outbox rows) and publishes a new clock
 * snapshot for the broker thread. */
#ifndef DD_PLUGIN_ENGINE_H
#define DD_PLUGIN_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "plugin/clients.h"
#include "plugin/plugin.h"
#include "plugin/workers.h"

/* Start the engine thread among the workers, with its own connection to
 * opt->db_path (opened and closed on that thread). On DD_OK *out owns the
 * engine: stop it with engine_stop(). Broker thread (init). */
int engine_start(const struct plugin_options *opt, const struct dd_clock *clock, struct workers *w,
                 struct engine **out, struct dd_errbuf *eb);

/* Stop the thread after it has processed everything queued, write a last
 * heartbeat, publish nothing more, print queued log lines, and free the
 * engine. NULL allowed. Broker thread (cleanup). */
void engine_stop(struct engine *e);

/* Copy the clock snapshot into *clock when its generation differs from
 * *generation, and update *generation. Returns 1 when it copied, 0 when
 * nothing changed (the usual case: one atomic load, no lock). Broker thread. */
int engine_clock_refresh(struct engine *e, uint64_t *generation, struct dd_clock *clock);

struct broker_config;

/* The newest configuration snapshot when its generation differs from
 * *generation (which is updated), else NULL. The caller owns the returned
 * snapshot (config_free). One atomic load when nothing changed. Broker
 * thread. */
struct broker_config *engine_config_take(struct engine *e, uint64_t *generation);

/* Hand the snapshot old (owned; NULL allowed), replaced by one
 * engine_config_take() returned, to the engine thread to free: freeing a
 * large fleet's snapshot would hold up the broker's loop. Cannot fail.
 * Broker thread. */
void engine_config_retire(struct engine *e, struct broker_config *old);

/* The broker thread now runs with the snapshot of sync generation gen: the
 * engine reports it in the heartbeat after the work queued before. Broker
 * thread. */
void engine_synced(struct engine *e, int64_t gen);

/* Hand a closed window to the engine, which evaluates it, then keeps it
 * for engine_window_spent(). Broker thread. */
void engine_window(struct engine *e, struct client_window *w);

/* The last window the engine has finished with, or NULL: the caller owns
 * it (clients_window_reuse() fills it again; free() frees it). One atomic
 * load when there is none. Broker thread. */
struct client_window *engine_window_spent(struct engine *e);

/* Queue a copy of an MQTT message on a topic the plugin serves, received at
 * emulated time now_ms. Out of memory drops it (logged). Broker thread. */
void engine_message(struct engine *e, const char *topic, const void *payload, size_t len,
                    int64_t now_ms);

/* Queue that MQTT client id (borrowed, copied) connected, or disconnected
 * for reason (AWS's disconnectReason, copied), at emulated time now_ms, for
 * the fleet index's connectivity record and Audit's connection history. A
 * connect carries the TLS client's certificate id cert (copied; NULL when
 * none) and whether it took over a connection of the same id. Out of
 * memory drops it (logged). Broker thread. */
void engine_connectivity(struct engine *e, const char *id, bool connected, const char *reason,
                         const char *cert, bool taken_over, int64_t now_ms);

/* Report that every window closing at or before emulated time now_ms has
 * been handed over. Broker thread. */
void engine_progress(struct engine *e, int64_t now_ms);

/* The server signalled (wake.h) that it committed something the engine
 * must see, such as a clock change: look at PRAGMA data_version now rather
 * than at the next poll. Broker thread. Cannot fail. */
void engine_poke(struct engine *e);

struct delivery;

/* Wake delivery d (borrowed, NULL for none) after each window's commit, so
 * its alerts go out at once. Set it to NULL before stopping d. Broker
 * thread. Cannot fail. */
void engine_set_delivery(struct engine *e, struct delivery *d);

/* Publish the messages and print the log lines the engine queued. One atomic
 * load when there is nothing to do. Broker thread. */
void engine_drain(struct engine *e);

/* Payload bytes one engine_drain() publishes at most (one message more
 * than this is still published whole when it is the first of the tick). */
#define ENGINE_DRAIN_BYTES (256 * 1024)

#endif
