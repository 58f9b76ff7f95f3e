/* SPDX-License-Identifier: MIT */
/* watchset.h: the engine's view of the datapoint budget (core/keep.h): the
 * budget, whether the last window was over it, and the things that keep
 * every datapoint (watched or lately inspected, store_watch.h), read once
 * per window close. detect.c asks it about each judged datapoint.
 * Engine thread only. */
#ifndef DD_PLUGIN_WATCHSET_H
#define DD_PLUGIN_WATCHSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/judge.h"
#include "store/store.h"

struct watchset;

/* A new set with the budget (things whose every datapoint is kept;
 * SIZE_MAX: no bound), not bounded until watchset_load() says so. NULL
 * when out of memory. Free with watchset_free() (NULL allowed). */
struct watchset *watchset_new(size_t budget);
void watchset_free(struct watchset *ws);

/* Before a window of n_things things closing at now_ms: decide whether it
 * is over budget and, when it is, read the watched and inspected things
 * from s. On an error (DD_ERR_NOMEM, a store error) the set keeps every
 * datapoint of the window, as if it were not bounded. */
int watchset_load(struct watchset *ws, struct store *s, size_t n_things, int64_t now_ms);

/* Whether the datapoint of thing (borrowed) judged res from prev is
 * written (keep_datapoint() of core/keep.h). Cannot fail. */
bool watchset_keeps(const struct watchset *ws, const char *thing, const struct evaluate_state *prev,
                    const struct judge_result *res);

/* How many datapoints the set let go unwritten since it was made (for the
 * benchmark and the log). */
uint64_t watchset_skipped(const struct watchset *ws);

/* Count one datapoint left unwritten. */
void watchset_skip(struct watchset *ws);

#endif
