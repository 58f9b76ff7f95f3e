/* SPDX-License-Identifier: MIT */
/* evaluate.h: judging datapoints against behaviors.
 *
 * Four pure pieces the engine thread combines: the verdict (does one
 * datapoint violate a criteria?), CIDR parsing and containment for the set
 * operators, the per (thing, profile, behavior) alarm state machine, and the
 * two thresholds that are not written in the behavior: the statistical
 * percentile over peers and ddlocal's stand-in for ML Detect. The engine owns
 * the data (datapoints, peer values, history, the state rows); nothing here
 * allocates. */
#ifndef DD_CORE_EVALUATE_H
#define DD_CORE_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/metric.h"

/* A parsed address or network. A bare address is a /32 (IPv4) or /128 (IPv6)
 * network. Host bits past the prefix are kept but never compared. */
struct evaluate_cidr {
    int family;             /* 4 or 6 */
    unsigned prefix;        /* 0-32 or 0-128 */
    unsigned char addr[16]; /* network order; IPv4 uses the first 4 bytes */
};

/* What a datapoint did to a violation. */
enum evaluate_event {
    EVALUATE_EVENT_NONE = 0,          /* no transition */
    EVALUATE_EVENT_IN_ALARM,          /* a violation opened */
    EVALUATE_EVENT_ALARM_CLEARED,     /* it closed: enough compliant datapoints */
    EVALUATE_EVENT_ALARM_INVALIDATED, /* it closed: no longer monitored or no data */
};

/* The state of one (thing, profile, behavior). A zeroed struct is the start
 * state (NORMAL, no streak). The engine persists the three fields. */
struct evaluate_state {
    bool in_alarm;             /* a violation is open */
    unsigned streak_violating; /* consecutive violating datapoints while NORMAL */
    unsigned streak_compliant; /* consecutive compliant datapoints while in alarm */
};

/* mlDetectionConfig.confidenceLevel: HIGH is the least sensitive. */
enum evaluate_confidence {
    EVALUATE_CONFIDENCE_LOW = 0,
    EVALUATE_CONFIDENCE_MEDIUM,
    EVALUATE_CONFIDENCE_HIGH,
};

/* Datapoints of history the ML stand-in needs before it gives verdicts. */
#define EVALUATE_ML_MIN_HISTORY 12

/* Parse "a.b.c.d", "a.b.c.d/len", an IPv6 address or "v6/len" into *out
 * (zeroed first). s is borrowed and must not be NULL. Returns DD_OK or
 * DD_ERR_INVALID (not an address, prefix out of range or not decimal).
 * Pure: any thread. @unittest test_evaluate.c test_cidr_parse */
int evaluate_cidr_parse(const char *s, struct evaluate_cidr *out);

/* True when network inner lies wholly inside network outer: same family,
 * outer's prefix no longer than inner's, and the first outer->prefix bits
 * equal. Pure: any thread, cannot fail. */
bool evaluate_cidr_contains(const struct evaluate_cidr *outer, const struct evaluate_cidr *inner);

/* Judge one datapoint. The criteria describe normal behaviour, so *violates
 * is true when "datapoint op threshold" does NOT hold:
 * - numeric operators: COUNT and NUMBER values of either side compare as
 *   numbers (exactly when both are COUNT), e.g. less-than 10 violates at 10;
 * - in-cidr-set violates when some datapoint address lies inside none of the
 *   threshold networks; not-in-cidr-set when some address lies inside any;
 * - in-port-set / not-in-port-set and in-set / not-in-set (NUMBERS by exact
 *   equality, STRINGS byte for byte) the same way per element;
 * - an empty datapoint list is compliant.
 * Both values are borrowed. Returns DD_OK, or DD_ERR_INVALID (then *violates
 * is false) when the operator does not fit the value kinds or an address does
 * not parse. Pure: any thread. @unittest test_evaluate.c test_verdict_table */
int evaluate_violates(enum metric_op op, const struct metric_value *threshold,
                      const struct metric_value *datapoint, bool *violates);

/* Feed one judged datapoint to the state machine (see evaluate.c for the
 * diagram). to_alarm and to_clear are the behavior's effective consecutive
 * counts (1-10; values below 1 act as 1). st is updated in place. Returns the
 * transition. Pure: any thread, cannot fail. */
enum evaluate_event evaluate_step(struct evaluate_state *st, bool violating, int to_alarm,
                                  int to_clear);

/* Close an open violation without a datapoint (behavior changed or removed,
 * profile detached, two days without data). Resets st. Returns
 * EVALUATE_EVENT_ALARM_INVALIDATED if a violation was open, else
 * EVALUATE_EVENT_NONE. Pure: any thread, cannot fail. */
enum evaluate_event evaluate_invalidate(struct evaluate_state *st);

/* The nearest-rank percentile p (0-100) of peers[0..n): the values of the
 * other devices over the same window, the judged device excluded. Sorts peers
 * in place (the caller's scratch array; nothing is allocated). Returns DD_OK
 * with *out set; DD_ERR_STATE when n < 2 (too few peers: no verdict);
 * DD_ERR_INVALID when p is outside [0, 100] or any peer value is negative or
 * not a number (AWS offers no percentiles over negative values). *out is 0 on
 * error. Pure: any thread. */
int evaluate_percentile(double *peers, size_t n, double p, double *out);

/* The same nearest-rank percentile p of the values of sorted[0..n) (sorted
 * ascending) with one occurrence of self left out: the judged device among
 * all devices of the window, without copying or re-sorting per device.
 * Returns DD_OK with *out set; DD_ERR_STATE when fewer than 2 values remain;
 * DD_ERR_INVALID when p is outside [0, 100], a value is negative or not a
 * number, or self is not among the values. *out is 0 on error. Pure: any
 * thread, allocates nothing. */
int evaluate_percentile_excluding(const double *sorted, size_t n, double self, double p,
                                  double *out);

/* ddlocal's stand-in for an ML Detect model (NOT AWS's model, which is not
 * public): value is anomalous when it lies more than k standard deviations
 * from the mean of the device's own history[0..n), with k = 2 (LOW), 3
 * (MEDIUM) or 4 (HIGH). Returns DD_OK with *violates set; DD_ERR_STATE when
 * n < EVALUATE_ML_MIN_HISTORY (the "model" is still building: no verdict,
 * *violates false). history is borrowed. Pure: any thread. */
int evaluate_ml(const double *history, size_t n, double value, enum evaluate_confidence level,
                bool *violates);

/* The band of evaluate_ml(): values in [*lo, *hi] are normal, so the mean
 * of history[0..n) less and plus k standard deviations. DD_ERR_STATE (both
 * 0) when n < EVALUATE_ML_MIN_HISTORY. Pure: any thread. */
int evaluate_ml_band(const double *history, size_t n, enum evaluate_confidence level, double *lo,
                     double *hi);

#endif
