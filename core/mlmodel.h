/* SPDX-License-Identifier: MIT */
/* mlmodel.h: the lifecycle of an ML Detect model, one per ML behavior of a
 * security profile, on the emulator's clock.
 *
 * AWS does not publish its models; it documents when one exists. The first
 * model is built once a training period (14 days) has passed since the
 * first datapoint and the trailing training period holds at least a
 * minimum of datapoints (25,000), counted over every device the behavior
 * judges. Models are rebuilt daily on the trailing period; a build that
 * fails for want of data is retried daily, and after 30 days the model
 * stops: EXPIRED. This module follows that timetable with the numbers as
 * parameters (struct mlmodel_params), so a test can shorten it:
 *
 *   PENDING_BUILD --(a check finds enough data)--> ACTIVE
 *   PENDING_BUILD --(no success for expiry after the training period)--> EXPIRED
 *   ACTIVE --(a check finds enough data)--> ACTIVE, refreshed
 *   ACTIVE --(no successful refresh for expiry)--> EXPIRED
 *   EXPIRED --(a check finds enough data again)--> ACTIVE
 *
 * Checks happen at start + training + k * refresh (k >= 0). Datapoints are
 * counted in MLMODEL_SLOTS slots of training / MLMODEL_SLOTS each (a day
 * with AWS's numbers), so "the trailing training period" is the slots that
 * began less than one training period before the check. Only an ACTIVE
 * model judges (mlmodel_judges): no verdicts while PENDING_BUILD or
 * EXPIRED.
 *
 * Pure: no I/O, no globals, time comes in as arguments; any thread.
 * @unittest test_mlmodel.c */
#ifndef DD_CORE_MLMODEL_H
#define DD_CORE_MLMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define MLMODEL_SLOTS 14

/* AWS's documented numbers, the defaults of the settings. */
#define MLMODEL_AWS_TRAINING_S (14 * 24 * 3600)
#define MLMODEL_AWS_MIN_POINTS 25000
#define MLMODEL_AWS_REFRESH_S  (24 * 3600)
#define MLMODEL_AWS_EXPIRY_S   (30 * 24 * 3600)
#define MLMODEL_MAX_CHECKS     10000 /* training / refresh at most */

/* A buffer this size holds mlmodel_slots_format()'s text. */
#define MLMODEL_SLOTS_TEXT_SIZE (MLMODEL_SLOTS * 42 + 1)

enum mlmodel_status {
    MLMODEL_PENDING_BUILD = 0,
    MLMODEL_ACTIVE,
    MLMODEL_EXPIRED,
};

struct mlmodel_params {
    int64_t training_ms;     /* the training period and trailing window */
    uint64_t min_datapoints; /* datapoints a build needs in the window */
    int64_t refresh_ms;      /* time between checks */
    int64_t expiry_ms;       /* time without a successful check before EXPIRED */
};

/* One model. A zeroed one has seen no datapoint. */
struct mlmodel {
    enum mlmodel_status status;
    int64_t start_ms;               /* trainingDataCollectionStartDate; 0 = no datapoint yet */
    int64_t refresh_ms;             /* lastModelRefreshDate; 0 = never built */
    int64_t checked_ms;             /* the last check applied; 0 = none */
    int64_t last_data_ms;           /* the newest datapoint's time */
    int64_t slot_ms[MLMODEL_SLOTS]; /* the start of the slot each holds; 0 = empty */
    uint64_t n[MLMODEL_SLOTS];      /* datapoints in it */
};

/* AWS's numbers into *p. Cannot fail. */
void mlmodel_params_aws(struct mlmodel_params *p);

/* DD_OK when p is usable: every period at least a second, min_datapoints
 * >= 1, training at least MLMODEL_SLOTS seconds and training / refresh at
 * most MLMODEL_MAX_CHECKS. DD_ERR_INVALID otherwise, eb says which. */
int mlmodel_params_check(const struct mlmodel_params *p, struct dd_errbuf *eb);

/* Apply every check due up to now_ms (see the file comment). Call it before
 * mlmodel_observe() at the same time, so a check sees only earlier data.
 * Returns true when the model changed (status, refresh date or last check),
 * for the caller to persist it. Cannot fail. */
bool mlmodel_advance(struct mlmodel *m, const struct mlmodel_params *p, int64_t now_ms);

/* Count n datapoints at time_ms (the first one starts the collection).
 * Times before the newest slot's window are ignored. Cannot fail. */
void mlmodel_observe(struct mlmodel *m, const struct mlmodel_params *p, int64_t time_ms,
                     uint64_t n);

/* The datapoints counted in the training period before now_ms. */
uint64_t mlmodel_datapoints(const struct mlmodel *m, const struct mlmodel_params *p,
                            int64_t now_ms);

/* datapointsCollectionPercentage at now_ms: the trailing datapoints over
 * the minimum, at most 100. */
double mlmodel_percentage(const struct mlmodel *m, const struct mlmodel_params *p, int64_t now_ms);

/* True when the model may give verdicts: it is ACTIVE. */
bool mlmodel_judges(const struct mlmodel *m);

/* The API's word for a status: "PENDING_BUILD", "ACTIVE" or "EXPIRED". */
const char *mlmodel_status_name(enum mlmodel_status s);

/* The status named s into *out; DD_ERR_INVALID for another word. */
int mlmodel_status_parse(const char *s, enum mlmodel_status *out);

/* The slots as text ("start:n" pairs separated by spaces, empty slots left
 * out) into buf of size bytes, for the store. DD_ERR_TOO_LARGE when it does
 * not fit (buf is then ""). */
int mlmodel_slots_format(const struct mlmodel *m, char *buf, size_t size);

/* Read mlmodel_slots_format()'s text, written under the same params, back
 * into m's slots (cleared first). DD_ERR_INVALID for anything else, such as
 * a slot start that is not on p's slot width (the slots are then cleared).
 * p and text are borrowed. */
int mlmodel_slots_parse(struct mlmodel *m, const struct mlmodel_params *p, const char *text);

#endif
