/* SPDX-License-Identifier: MIT */
/* store_mlmodel.h: the ML Detect models of schema/018_ml_models.sql, one
 * per (security profile, ML behavior). The engine thread writes them at
 * each window close (core/mlmodel.h decides); the server reads them for
 * GetBehaviorModelTrainingSummaries. Times are emulated epoch
 * milliseconds, 0 = not yet. */
#ifndef DD_STORE_MLMODEL_H
#define DD_STORE_MLMODEL_H

#include <stdbool.h>

#include "core/mlmodel.h"
#include "store/store.h"

/* A stored model: the lifecycle state, the percentage when it was written
 * and the slots as core/mlmodel's text (mlmodel_slots_parse reads it). */
struct store_mlmodel {
    struct mlmodel m; /* slots empty: they are in slots */
    double percentage;
    char slots[MLMODEL_SLOTS_TEXT_SIZE];
};

/* Write model m of (profile, behavior) with its percentage at the time.
 * DD_ERR_TOO_LARGE (cannot happen with MLMODEL_SLOTS_TEXT_SIZE),
 * DD_ERR_BUSY, DD_ERR_STORE. Engine thread. */
int store_mlmodel_put(struct store *s, const char *profile, const char *behavior,
                      const struct mlmodel *m, double percentage);

/* Read the model of (profile, behavior) into *out (cleared first; a zeroed
 * model, PENDING_BUILD with no dates, when none is stored: *found false).
 * DD_ERR_STORE. */
int store_mlmodel_get(struct store *s, const char *profile, const char *behavior,
                      struct store_mlmodel *out, bool *found);

#endif
