/* SPDX-License-Identifier: MIT */
/* store_violations.h: what the HTTP API reads of the engine's records
 * (ListActiveViolations, ListViolationEvents, the /_ddlocal/datapoints
 * teaching view) and the one thing it writes there: a violation's
 * verification state (PutVerificationStateOnViolation).
 *
 * The engine writes these tables (store_detect.h). Listings page by key
 * (the sort columns of the last row returned), not by offset, so rows the
 * engine adds between two pages neither repeat nor push others out. Times
 * are emulated epoch milliseconds. */
#ifndef DD_STORE_VIOLATIONS_H
#define DD_STORE_VIOLATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* The filters ListActiveViolations and ListViolationEvents share; every
 * string borrowed, NULL = no filter. */
struct store_violation_filter {
    const char *thing;
    const char *profile;
    const char *criteria_type;      /* STATIC | STATISTICAL | MACHINE_LEARNING */
    bool only_suppressed;           /* listSuppressedAlerts=true */
    const char *verification_state; /* a never-set state counts as UNKNOWN */
};

/* One violation with its event, as a listing hands it to the callback.
 * Every string is borrowed for the call; NULL means not set. */
struct store_violation_row {
    const char *id;
    const char *thing;
    const char *profile;
    const char *behavior_json; /* the stored API-order echo */
    const char *criteria_type; /* STATIC | STATISTICAL | MACHINE_LEARNING */
    bool suppressed;
    const char *confidence; /* ML only */
    int64_t start_ms;
    int64_t last_violation_ms;
    const char *last_value_json; /* MetricValue */
    const char *verification_state;
    const char *verification_description;
    /* ListViolationEvents only (zero / NULL for active violations): */
    int64_t event_id;
    const char *event_type; /* in-alarm | alarm-cleared | alarm-invalidated */
    int64_t event_ms;
    const char *event_value_json; /* NULL for alarm-invalidated */
};

/* Return DD_OK to go on; anything else stops the walk and is returned. */
typedef int (*store_violation_fn)(void *ctx, const struct store_violation_row *row);

/* A position in a listing: the sort key of the last row returned. */
struct store_violation_cursor {
    int64_t ms;     /* start_ms (active) or event time (events) */
    const char *id; /* violation id (active); borrowed */
    int64_t seq;    /* event id (events) */
};

/* Active violations (end_ms NULL) matching f, ordered by start time then
 * violation id, strictly after *after (NULL = from the start), at most
 * limit. Errors: the callback's, DD_ERR_STORE. */
int store_violations_active(struct store *s, const struct store_violation_filter *f,
                            const struct store_violation_cursor *after, int limit,
                            store_violation_fn fn, void *ctx);

/* Violation events with start_ms <= time <= end_ms whose violation matches
 * f, ordered by time then event id, strictly after *after (NULL = from the
 * start), at most limit. Errors: the callback's, DD_ERR_STORE. */
int store_violation_events(struct store *s, const struct store_violation_filter *f,
                           int64_t start_ms, int64_t end_ms,
                           const struct store_violation_cursor *after, int limit,
                           store_violation_fn fn, void *ctx);

/* Set the verification state and description (NULL clears it) of a
 * violation, active or closed, in one transaction. Errors: DD_ERR_NOT_FOUND
 * (eb: "Violation ID cannot be found."), DD_ERR_BUSY, DD_ERR_STORE. */
int store_violation_verify(struct store *s, const char *id, const char *state,
                           const char *description, struct dd_errbuf *eb);

/* One datapoint of the teaching view; strings borrowed for the call. */
struct store_datapoint_row {
    const char *thing;
    const char *profile;
    const char *behavior;
    int64_t time_ms;
    const char *value_json; /* MetricValue */
    bool has_threshold;
    double threshold;
    bool has_band; /* an ML verdict: the normal band the value was judged against */
    double band_lo, band_hi;
    const char *verdict; /* compliant | violating | no-verdict */
    int64_t streak_violating;
    int64_t streak_compliant;
    const char *event; /* NULL when the datapoint changed no state */
};

typedef int (*store_datapoint_fn)(void *ctx, const struct store_datapoint_row *row);

/* The datapoints of thing (not NULL), optionally of one profile and one
 * behavior (NULL = all), in time order (then profile, behavior, insertion).
 * Errors: the callback's, DD_ERR_STORE. */
int store_datapoints_each(struct store *s, const char *thing, const char *profile,
                          const char *behavior, store_datapoint_fn fn, void *ctx);

#endif
