/* SPDX-License-Identifier: MIT */
/* store_emulator.h: the emulator's own rows: the shared clock, the plugin's
 * heartbeat and the reset generation. */
#ifndef DD_STORE_EMULATOR_H
#define DD_STORE_EMULATOR_H

#include <stdint.h>

#include "core/clock.h"
#include "store/store.h"

struct store_heartbeat {
    int64_t pid;
    int64_t written_real_ms;
    int64_t emulated_now_ms;
    int64_t evaluated_until_ms;
    int64_t synced_generation; /* the broker applied every commit before this sync */
};

/* Read the clock row into *out. DD_ERR_NOT_FOUND when no plugin has set the
 * clock yet. Inside a group commit the row is read once and kept until a
 * job writes it or rolls back (struct store's clock_cached). */
int store_clock_get(struct store *s, struct dd_clock *out);

/* Write the clock row (insert or replace). Call inside or outside a
 * transaction. */
int store_clock_put(struct store *s, const struct dd_clock *c);

/* Advance the manual clock by advance_ms and bump the sync generation, in
 * one transaction; give the new emulated time in *now_ms and the sync
 * generation in *sync_gen. DD_ERR_STATE when the clock is not manual,
 * DD_ERR_INVALID for a bad amount, DD_ERR_NOT_FOUND when no clock is set;
 * eb says why. */
int store_clock_advance(struct store *s, int64_t advance_ms, int64_t *now_ms, int64_t *sync_gen,
                        struct dd_errbuf *eb);

/* Bump the sync generation (its own transaction when none is open) and give
 * the new value. The broker reports it back in the heartbeat once it runs
 * with every commit made before. */
int store_sync_bump(struct store *s, int64_t *gen);

/* The current sync generation. */
int store_sync_generation(struct store *s, int64_t *gen);

/* Write the heartbeat row (insert or replace). */
int store_heartbeat_put(struct store *s, const struct store_heartbeat *hb);

/* Read the heartbeat; DD_ERR_NOT_FOUND when the plugin never wrote one. */
int store_heartbeat_get(struct store *s, struct store_heartbeat *out);

/* Record the server's pid (schema/039_server_pid.sql), or read it (0: no
 * server started on this database yet). The broker's delivery thread
 * sends it SIGURG after writing to a queue, to wake its long polls. */
int store_server_pid_put(struct store *s, int64_t pid);
int store_server_pid_get(struct store *s, int64_t *pid);

/* The reset generation (0 on a fresh database). */
int store_reset_generation(struct store *s, int64_t *out);

#endif
