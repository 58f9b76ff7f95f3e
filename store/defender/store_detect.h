/* SPDX-License-Identifier: MIT */
/* store_detect.h: the rows Detect's engine reads and writes: security
 * profiles and their targets (read), evaluation states, datapoints,
 * violations, violation events and the alert outbox (written).
 *
 * The engine thread calls these inside its own transactions (one per window
 * close, store_begin/store_commit), so a crash loses at most the window that
 * was still open. Times are emulated epoch milliseconds. */
#ifndef DD_STORE_DETECT_H
#define DD_STORE_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Iteration callbacks return DD_OK to go on; any other value stops the walk
 * and is returned by the iterator. Strings are borrowed for the call. */
typedef int (*store_detect_profile_fn)(void *ctx, const char *name, const char *behaviors_json,
                                       const char *alert_targets_json);
typedef int (*store_detect_pair_fn)(void *ctx, const char *a, const char *b);
typedef int (*store_detect_name_fn)(void *ctx, const char *name);

/* Every TOPIC_FILTER dimension with its string values (a JSON array), by
 * name. */
int store_detect_each_dimension(struct store *s, store_detect_pair_fn fn, void *ctx);

/* Every custom metric (name, metric type), by name. */
int store_detect_each_custom_metric(struct store *s, store_detect_pair_fn fn, void *ctx);

/* Every security profile (alert_targets_json may be NULL). */
int store_detect_each_profile(struct store *s, store_detect_profile_fn fn, void *ctx);

/* What a security profile retains and exports, borrowed for the call:
 * additionalMetricsToRetain, additionalMetricsToRetainV2 and
 * metricsExportConfig as stored (each JSON text or NULL). */
typedef int (*store_detect_retain_fn)(void *ctx, const char *name, const char *metrics_json,
                                      const char *metrics_v2_json, const char *export_json);

/* Every security profile's retained metrics and export configuration, by
 * name. Returns DD_OK, the callback's non-zero value, or DD_ERR_STORE. */
int store_detect_each_profile_retain(struct store *s, store_detect_retain_fn fn, void *ctx);

/* Which things the security profiles target, the one reading both Detect
 * and the teaching views use: fn(ctx, profile, thing) once for every
 * registered thing a profile reaches through all/things,
 * all/registered-things, or thinggroup/G with the thing in G or in any
 * group below it; and fn(ctx, profile, NULL) once for every profile that
 * targets the things outside the registry (all/things or
 * all/unregistered-things). With only_thing non-NULL, only that thing's
 * pairs and the NULL rows are given. Rows come ordered by thing (NULL
 * first), then profile. Target ARNs are matched in the canonical form the
 * server stores, of region and account (borrowed). Returns DD_OK, the
 * value with which fn stopped the walk, DD_ERR_INVALID when region and
 * account are too long for an ARN, or a store error.
 * @unittest test_store_detect.c */
int store_detect_each_targeted(struct store *s, const char *region, const char *account,
                               const char *only_thing, store_detect_pair_fn fn, void *ctx);

/* Every registered thing name. */
int store_detect_each_thing(struct store *s, store_detect_name_fn fn, void *ctx);

struct store_behavior_state {
    bool in_alarm;
    unsigned streak_violating;
    unsigned streak_compliant;
    char violation_id[33]; /* "" when not in alarm */
    int64_t last_datapoint_ms;
};

/* The evaluation state of (thing, profile, behavior) into *out (zeroed
 * first); DD_ERR_NOT_FOUND when there is none yet. */
int store_detect_state_get(struct store *s, const char *thing, const char *profile,
                           const char *behavior, struct store_behavior_state *out);

/* Insert or replace the state. */
int store_detect_state_put(struct store *s, const char *thing, const char *profile,
                           const char *behavior, const struct store_behavior_state *st);

typedef int (*store_detect_state_fn)(void *ctx, const char *thing, const char *profile,
                                     const char *behavior, const struct store_behavior_state *st);

/* Every state that is in alarm. */
int store_detect_each_alarm(struct store *s, store_detect_state_fn fn, void *ctx);

/* Whether any state is in alarm, into *any. Store errors. */
int store_detect_any_alarm(struct store *s, bool *any);

/* Whether any state of a thing with a rowid above rowid (one registered
 * after it: store_snapshot_things_after) is in alarm, into *any: a thing
 * that reported, and alarmed, before it was registered. Store errors. */
int store_detect_any_alarm_after(struct store *s, int64_t rowid, bool *any);

/* Remove states whose (profile, behavior) no longer exists; the caller has
 * closed their violations first. */
int store_detect_state_delete(struct store *s, const char *thing, const char *profile,
                              const char *behavior);

/* The id of the datapoint series of (thing, profile, behavior) into *id,
 * created on first use (*created tells). Series are never deleted, so a
 * caller may cache the id for as long as its transaction commits. A state
 * is only ever written after its series exists (judged datapoints, and the
 * migration that introduced series), so a series just created has no
 * state to read. */
int store_detect_series(struct store *s, const char *thing, const char *profile,
                        const char *behavior, int64_t *id, bool *created);

struct store_datapoint {
    int64_t series; /* store_detect_series */
    int64_t time_ms;
    const char *value_json; /* MetricValue */
    bool has_threshold;
    double threshold;
    bool has_band; /* an ML verdict: the normal band it judged against */
    double band_lo, band_hi;
    const char *verdict; /* "compliant" | "violating" | "no-verdict" */
    unsigned streak_violating, streak_compliant;
    const char *event;       /* NULL or the event's wire name */
    int retained_metric;     /* core/export.h enum export_counter; 0: carries none */
    uint64_t retained_count; /* that counter's bucket total (schema/027) */
};

int store_detect_datapoint_add(struct store *s, const struct store_datapoint *dp);

/* Delete datapoints older than before_ms (retention). */
int store_detect_datapoints_prune(struct store *s, int64_t before_ms);

struct store_violation {
    const char *id, *thing, *profile, *behavior;
    const char *behavior_json; /* API order echo */
    const char *criteria_type; /* STATIC | STATISTICAL | MACHINE_LEARNING */
    bool suppressed;
    const char *confidence; /* NULL unless ML */
    int64_t start_ms;
    const char *value_json;
};

/* Open a violation (last violation = start). */
int store_detect_violation_open(struct store *s, const struct store_violation *v);

/* Record a further violating datapoint of an open violation. */
int store_detect_violation_touch(struct store *s, const char *id, int64_t time_ms,
                                 const char *value_json);

/* Close a violation with end_type "alarm-cleared" or "alarm-invalidated". */
int store_detect_violation_close(struct store *s, const char *id, int64_t time_ms,
                                 const char *end_type);

/* The behavior JSON a violation was opened with, in *json (the caller frees
 * it with free()); DD_ERR_NOT_FOUND for an unknown id. */
int store_detect_violation_behavior(struct store *s, const char *id, char **json);

/* Append a violation event; *event_id gets its row id. value_json NULL for
 * alarm-invalidated. */
int store_detect_event_add(struct store *s, const char *violation_id, const char *type,
                           int64_t time_ms, const char *value_json, int64_t *event_id);

/* Append an alert to the outbox. topic_arn may be NULL. */
int store_detect_alert_add(struct store *s, int64_t created_ms, const char *profile,
                           const char *topic_arn, const char *message, int64_t event_id);

#endif
