/* SPDX-License-Identifier: MIT */
/* judge.h: Detect's judging of one datapoint, from plain inputs.
 *
 * The engine thread (plugin/detect.c) gathers the inputs: the behavior, the
 * value of the datapoint, the bucket history of its metric, the values of
 * the other devices, the previous alarm state. This module turns them into
 * the value judged, the verdict, the transition and the next state. It owns
 * no data and keeps none between calls: the history rings and the states
 * are the caller's, passed in and updated in place.
 *
 * Pieces, in the order a datapoint meets them:
 * - the value of a device-side report for a behavior (judge_report_value);
 * - the bucket ring of a count metric and the value of a behavior's window
 *   over its last durationSeconds / 300 buckets (judge_ring_*), folded by
 *   core/metric.c's metric_window_value;
 * - the verdict and the alarm state machine of core/evaluate.c, for static,
 *   statistical (percentile of the peers) and ML behaviors (judge_datapoint).
 *
 * Pure: no I/O, no globals; any thread. @unittest test_judge.c */
#ifndef DD_CORE_JUDGE_H
#define DD_CORE_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/behavior.h"
#include "core/evaluate.h"
#include "core/metric.h"
#include "core/report.h"

/* Buckets of history a ring keeps: the longest duration, 3600 s / 300 s. */
#define JUDGE_RING 12
/* Datapoints the ML stand-in remembers per (thing, profile, behavior). */
#define JUDGE_ML_HISTORY 64

/* One slot of a ring of buckets: the bucket it holds and its statistics. A
 * zeroed slot holds no bucket. */
struct judge_bucket {
    int64_t end_ms;         /* the bucket's end; 0 = none */
    struct metric_stats st; /* its statistics */
};

/* The per-bucket statistics of one metric of one thing, by bucket end, with
 * room for the longest duration. A zeroed ring is empty. The engine keeps
 * smaller rings (judge_buckets_*), sized by the longest duration that
 * judges the metric. */
struct judge_ring {
    struct judge_bucket b[JUDGE_RING];
};

/* The ML stand-in's memory of a behavior's values for one thing: the last
 * JUDGE_ML_HISTORY values, oldest overwritten first. A zeroed one is empty. */
struct judge_ml {
    size_t n, head;
    double v[JUDGE_ML_HISTORY];
};

enum judge_verdict {
    JUDGE_NO_VERDICT = 0, /* nothing to judge against: no state change */
    JUDGE_COMPLIANT,
    JUDGE_VIOLATING,
};

/* One datapoint to judge. Everything is borrowed for the call. */
struct judge_input {
    const struct behavior *b;
    const struct metric_value *value; /* the datapoint */
    /* STATISTICAL only: the values of every device judged on this behavior
     * in the same window, this device's included, sorted ascending (NULL
     * when n_peers is 0). The threshold is the behavior's percentile of the
     * others. */
    const double *peers;
    size_t n_peers;
    /* MACHINE_LEARNING only: the behavior's model is not ACTIVE
     * (core/mlmodel.h), so the value joins the history without a verdict. */
    bool ml_inactive;
};

/* What the datapoint did. */
struct judge_result {
    enum judge_verdict verdict;
    enum evaluate_event event;   /* EVALUATE_EVENT_NONE without a verdict */
    struct evaluate_state state; /* the state after this datapoint */
    bool has_threshold;          /* STATISTICAL with enough peers */
    double threshold;            /* the resolved percentile, else 0 */
    bool has_band;               /* MACHINE_LEARNING with a verdict */
    double band_lo, band_hi;     /* the normal band the value was judged against */
};

/* The number of buckets behavior b judges: durationSeconds / 300, or 1
 * without a duration (or one out of 1..JUDGE_RING). Cannot fail. */
size_t judge_window_buckets(const struct behavior *b);

/* Store a closed bucket's statistics (a cloud-side metric: the broker counts
 * a whole bucket at once) in ring, replacing whatever the slot held. st is
 * borrowed. Cannot fail. */
void judge_ring_put(struct judge_ring *ring, int64_t end_ms, const struct metric_stats *st);

/* Fold one sample (a device-side report) into the bucket ending at end_ms,
 * starting that bucket afresh if its slot held an older one. Cannot fail. */
void judge_ring_add(struct judge_ring *ring, int64_t end_ms, uint64_t sample);

/* The value behavior b judges at the bucket ending at end_ms: the count
 * folded over the last judge_window_buckets(b) buckets of ring (buckets the
 * ring does not hold count as empty) by metric_window_value. On DD_OK *out
 * (cleared first) is a COUNT. DD_ERR_NOT_FOUND when no bucket holds a sample
 * (no datapoint); DD_ERR_INVALID when b's metric is not a count metric.
 * Allocates nothing. */
int judge_ring_value(const struct judge_ring *ring, const struct behavior *b, int64_t end_ms,
                     struct metric_value *out);

/* The same three on a ring of n slots (n >= 1) the caller sizes: slot
 * (end_ms / 300 s) % n holds a bucket, so the ring remembers the last n
 * buckets, and a window longer than n buckets finds the older ones empty.
 * judge_ring_* are these with n = JUDGE_RING. Cannot fail (value: as
 * judge_ring_value). @unittest test_judge.c test_buckets_sized */
void judge_buckets_put(struct judge_bucket *ring, size_t n, int64_t end_ms,
                       const struct metric_stats *st);
void judge_buckets_add(struct judge_bucket *ring, size_t n, int64_t end_ms, uint64_t sample);
int judge_buckets_value(const struct judge_bucket *ring, size_t n, const struct behavior *b,
                        int64_t end_ms, struct metric_value *out);

/* The same for a behavior of one bucket whose statistics are st, without a
 * ring (a 5-minute behavior keeps no history). */
int judge_bucket_value(const struct metric_stats *st, const struct behavior *b,
                       struct metric_value *out);

/* What device-side or custom report r says for behavior b. On DD_OK either
 * *sample is -1 and *out (cleared first) owns the whole value (port lists,
 * destination addresses, custom metrics: free it with
 * metric_value_cleanup), or *sample >= 0 is one sample of a count metric
 * for the caller to fold into the thing's ring (judge_ring_add) and judge
 * with judge_ring_value, and *out is empty. DD_ERR_NOT_FOUND when r carries
 * nothing for b (the block is absent, or a custom metric was reported with
 * another type); DD_ERR_NOMEM. r and b are borrowed. */
int judge_report_value(const struct behavior *b, const struct report *r, struct metric_value *out,
                       int64_t *sample);

/* A COUNT or NUMBER value as a double (lists give 0). Cannot fail. */
double judge_number(const struct metric_value *v);

/* Judge one datapoint against in->b from state prev, into *out (cleared
 * first; prev is read before, so it may point into *out).
 * - STATIC: against the behavior's value (core/evaluate.c's verdict);
 * - STATISTICAL: against the nearest-rank percentile of in->peers with this
 *   value left out; fewer than two others give no verdict;
 * - MACHINE_LEARNING: against the history in *ml (which must not be NULL for
 *   an ML behavior) and its band (out->band_lo, out->band_hi), then the
 *   value joins the history; before EVALUATE_ML_MIN_HISTORY values, or
 *   with in->ml_inactive, there is no verdict.
 * A value whose kind does not fit the operator gives no verdict. With a
 * verdict the state machine steps (toAlarm/toClear consecutive datapoints);
 * without one the state is carried over unchanged. ml may be NULL for other
 * behaviors. Returns DD_OK, or DD_ERR_INVALID when an argument is missing
 * (then *out is a no-verdict carrying prev). Allocates nothing. */
int judge_datapoint(const struct judge_input *in, const struct evaluate_state *prev,
                    struct judge_ml *ml, struct judge_result *out);

/* The datapoints table's word for a verdict: "no-verdict", "compliant" or
 * "violating". Never NULL. */
const char *judge_verdict_name(enum judge_verdict v);

#endif
