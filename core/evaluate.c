/* SPDX-License-Identifier: MIT */
/* evaluate.c: verdicts, CIDR containment, the violation state machine, the
 * statistical percentile and the ML stand-in (device-defender reference
 * sections 2.2, 7.2, 7.3 and 7.4).
 *
 * Everything works on borrowed data and allocates nothing, so the engine can
 * call it per datapoint without memory management and tests can call it with
 * literals. */
#include "core/evaluate.h"

#include <arpa/inet.h>
#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int evaluate_cidr_parse(const char *s, struct evaluate_cidr *out)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    unsigned max, prefix = 0;
    const char *p;

    memset(out, 0, sizeof(*out));
    if (len == 0 || len >= sizeof(addr))
        return DD_ERR_INVALID;
    memcpy(addr, s, len);
    addr[len] = '\0';
    if (inet_pton(AF_INET, addr, out->addr) == 1) {
        out->family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
        out->family = 6;
        max = 128;
    } else {
        memset(out, 0, sizeof(*out));
        return DD_ERR_INVALID;
    }
    if (!slash) {
        out->prefix = max;
        return DD_OK;
    }
    /* Decimal digits only, at most three: "/+8", "/ 8" and "/0008" fail. */
    for (p = slash + 1; *p; p++) {
        if (*p < '0' || *p > '9' || p - slash > 3) {
            memset(out, 0, sizeof(*out));
            return DD_ERR_INVALID;
        }
        prefix = prefix * 10 + (unsigned)(*p - '0');
    }
    if (p == slash + 1 || prefix > max) {
        memset(out, 0, sizeof(*out));
        return DD_ERR_INVALID;
    }
    out->prefix = prefix;
    return DD_OK;
}

bool evaluate_cidr_contains(const struct evaluate_cidr *outer, const struct evaluate_cidr *inner)
{
    unsigned whole = outer->prefix / 8, rest = outer->prefix % 8;
    unsigned char mask;

    /* Both were made by evaluate_cidr_parse: a prefix within the family. */
    assert(outer->prefix <= 8 * sizeof(outer->addr) && inner->prefix <= 8 * sizeof(inner->addr));
    if (outer->family != inner->family || outer->prefix > inner->prefix)
        return false;
    if (memcmp(outer->addr, inner->addr, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    mask = (unsigned char)(0xffu << (8 - rest));
    return (outer->addr[whole] & mask) == (inner->addr[whole] & mask);
}

static bool is_numeric(enum metric_kind k)
{
    return k == METRIC_KIND_COUNT || k == METRIC_KIND_NUMBER;
}

static double as_double(const struct metric_value *v)
{
    return v->kind == METRIC_KIND_COUNT ? (double)v->count : v->number;
}

/* Does "v op t" hold, for numeric values? */
static bool numeric_holds(enum metric_op op, const struct metric_value *v,
                          const struct metric_value *t)
{
    int cmp;

    if (v->kind == METRIC_KIND_COUNT && t->kind == METRIC_KIND_COUNT) {
        cmp = v->count < t->count ? -1 : v->count > t->count;
    } else {
        double a = as_double(v), b = as_double(t);

        if (isnan(a) || isnan(b))
            return false;
        cmp = a < b ? -1 : a > b;
    }
    switch (op) {
    case METRIC_OP_LESS_THAN:
        return cmp < 0;
    case METRIC_OP_LESS_THAN_EQUALS:
        return cmp <= 0;
    case METRIC_OP_GREATER_THAN:
        return cmp > 0;
    default:
        return cmp >= 0;
    }
}

/* Is element i of the datapoint a member of the threshold set? For CIDRs
 * membership means "inside one of the networks". */
static int member(const struct metric_value *t, const struct metric_value *v, size_t i, bool *in)
{
    struct evaluate_cidr addr, net;
    size_t j;

    assert(i < v->n && t->kind == v->kind);
    *in = false;
    if (v->kind == METRIC_KIND_CIDRS && evaluate_cidr_parse(v->strings[i], &addr))
        return DD_ERR_INVALID;
    for (j = 0; j < t->n && !*in; j++) {
        switch (v->kind) {
        case METRIC_KIND_CIDRS:
            if (evaluate_cidr_parse(t->strings[j], &net))
                return DD_ERR_INVALID;
            *in = evaluate_cidr_contains(&net, &addr);
            break;
        case METRIC_KIND_PORTS:
            *in = v->ports[i] == t->ports[j];
            break;
        case METRIC_KIND_NUMBERS:
            *in = v->numbers[i] == t->numbers[j];
            break;
        case METRIC_KIND_STRINGS:
            *in = strcmp(v->strings[i], t->strings[j]) == 0;
            break;
        default:
            return DD_ERR_INVALID;
        }
    }
    return DD_OK;
}

int evaluate_violates(enum metric_op op, const struct metric_value *threshold,
                      const struct metric_value *datapoint, bool *violates)
{
    enum metric_kind want = METRIC_KIND_NONE;
    bool in_op, in;
    size_t i;
    int rc;

    *violates = false;
    switch (op) {
    case METRIC_OP_LESS_THAN:
    case METRIC_OP_LESS_THAN_EQUALS:
    case METRIC_OP_GREATER_THAN:
    case METRIC_OP_GREATER_THAN_EQUALS:
        if (!is_numeric(threshold->kind) || !is_numeric(datapoint->kind))
            return DD_ERR_INVALID;
        *violates = !numeric_holds(op, datapoint, threshold);
        return DD_OK;
    case METRIC_OP_IN_CIDR_SET:
    case METRIC_OP_NOT_IN_CIDR_SET:
        want = METRIC_KIND_CIDRS;
        break;
    case METRIC_OP_IN_PORT_SET:
    case METRIC_OP_NOT_IN_PORT_SET:
        want = METRIC_KIND_PORTS;
        break;
    case METRIC_OP_IN_SET:
    case METRIC_OP_NOT_IN_SET:
        if (datapoint->kind == METRIC_KIND_NUMBERS || datapoint->kind == METRIC_KIND_STRINGS)
            want = datapoint->kind;
        break;
    }
    if (want == METRIC_KIND_NONE || threshold->kind != want || datapoint->kind != want)
        return DD_ERR_INVALID;
    in_op = op == METRIC_OP_IN_CIDR_SET || op == METRIC_OP_IN_PORT_SET || op == METRIC_OP_IN_SET;
    /* Check every element even after a violation is found, so that a bad
     * address anywhere in the datapoint is reported rather than masked. */
    for (i = 0; i < datapoint->n; i++) {
        rc = member(threshold, datapoint, i, &in);
        if (rc) {
            *violates = false;
            return rc;
        }
        if (in != in_op)
            *violates = true;
    }
    return DD_OK;
}

/* One datapoint toward leaving the current state: toward is whether it
 * counts (violating while NORMAL, compliant while in alarm) and *streak the
 * streak being built. A datapoint that does not count resets *streak; the
 * need-th in a row flips st->in_alarm and zeroes both streaks. True when the
 * state flipped. */
static bool streak_step(struct evaluate_state *st, bool toward, unsigned *streak, unsigned need)
{
    if (!toward) {
        *streak = 0;
        return false;
    }
    if (++*streak < need)
        return false;
    st->in_alarm = !st->in_alarm;
    st->streak_violating = 0;
    st->streak_compliant = 0;
    return true;
}

/* The violation state machine of one (thing, security profile, behavior).
 *
 *   NORMAL --violating dp--> streak_v += 1; if streak_v >= N: ALARM, emit in-alarm
 *   NORMAL --compliant dp--> streak_v = 0
 *   ALARM  --violating dp--> streak_c = 0 (the engine updates lastViolationValue/Time)
 *   ALARM  --compliant dp--> streak_c += 1; if streak_c >= M: NORMAL, emit alarm-cleared
 *   ALARM  --invalidation--> NORMAL, emit alarm-invalidated (evaluate_invalidate)
 *
 * N = consecutiveDatapointsToAlarm, M = consecutiveDatapointsToClear (both
 * default 1). "Consecutive" means an opposite datapoint resets the streak
 * being built. Only the three transitions produce events; every state change
 * is driven by a datapoint (no datapoint, no change), so a device that goes
 * quiet stays in alarm until invalidation. Entering either state zeroes both
 * streaks, so the next alarm needs N fresh violating datapoints. */
enum evaluate_event evaluate_step(struct evaluate_state *st, bool violating, int to_alarm,
                                  int to_clear)
{
    unsigned n = to_alarm < 1 ? 1u : (unsigned)to_alarm;
    unsigned m = to_clear < 1 ? 1u : (unsigned)to_clear;

    if (!st->in_alarm)
        return streak_step(st, violating, &st->streak_violating, n) ? EVALUATE_EVENT_IN_ALARM
                                                                    : EVALUATE_EVENT_NONE;
    return streak_step(st, !violating, &st->streak_compliant, m) ? EVALUATE_EVENT_ALARM_CLEARED
                                                                 : EVALUATE_EVENT_NONE;
}

enum evaluate_event evaluate_invalidate(struct evaluate_state *st)
{
    bool was = st->in_alarm;

    memset(st, 0, sizeof(*st));
    return was ? EVALUATE_EVENT_ALARM_INVALIDATED : EVALUATE_EVENT_NONE;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile: sort the n peer values ascending and take the
 * value at rank ceil(p/100 * n), counting from 1, with rank 0 raised to 1 (so
 * p0 is the minimum and p100 the maximum). The result is always one of the
 * peers' values: no interpolation, as AWS does not document one. The small
 * epsilon keeps p99.9 of 1000 peers at rank 999 despite binary rounding. */
int evaluate_percentile(double *peers, size_t n, double p, double *out)
{
    double r;
    size_t i, rank;

    *out = 0;
    if (!(p >= 0 && p <= 100))
        return DD_ERR_INVALID;
    for (i = 0; i < n; i++) {
        if (!(peers[i] >= 0))
            return DD_ERR_INVALID;
    }
    if (n < 2)
        return DD_ERR_STATE;
    qsort(peers, n, sizeof(*peers), cmp_double);
    r = ceil(p * (double)n / 100.0 - 1e-9);
    rank = r < 1 ? 1 : (size_t)r;
    if (rank > n)
        rank = n;
    assert(rank >= 1 && rank <= n);
    *out = peers[rank - 1];
    return DD_OK;
}

int evaluate_percentile_excluding(const double *sorted, size_t n, double self, double p,
                                  double *out)
{
    size_t lo = 0, hi = n, rank, peers;
    double r;

    *out = 0;
    if (!(p >= 0 && p <= 100) || (n && !(sorted[0] >= 0)) || !(self >= 0))
        return DD_ERR_INVALID;
    /* The first occurrence of self: equal values are interchangeable. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (sorted[mid] < self)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n || sorted[lo] != self)
        return DD_ERR_INVALID;
    peers = n - 1;
    if (peers < 2)
        return DD_ERR_STATE;
    r = ceil(p * (double)peers / 100.0 - 1e-9);
    rank = r < 1 ? 1 : (size_t)r;
    if (rank > peers)
        rank = peers;
    /* Rank among the others: past self's index it is one further on. */
    assert(rank >= 1 && rank <= peers && lo < n);
    *out = rank - 1 < lo ? sorted[rank - 1] : sorted[rank];
    return DD_OK;
}

/* The ML stand-in. AWS trains a model on 14 days of a device's datapoints and
 * does not publish it; ddlocal instead flags a value more than k population
 * standard deviations from the mean of the history it is given (Welford's
 * one-pass mean and variance). With a flat history (deviation 0) any other
 * value is anomalous. A tool for teaching and tests, not a model of AWS. */
int evaluate_ml_band(const double *history, size_t n, enum evaluate_confidence level, double *lo,
                     double *hi)
{
    double mean = 0, m2 = 0, sd, k;
    size_t i;

    *lo = *hi = 0;
    if (n < EVALUATE_ML_MIN_HISTORY)
        return DD_ERR_STATE;
    for (i = 0; i < n; i++) {
        double d = history[i] - mean;

        mean += d / (double)(i + 1);
        m2 += d * (history[i] - mean);
    }
    sd = sqrt(m2 / (double)n);
    k = level == EVALUATE_CONFIDENCE_LOW ? 2.0 : level == EVALUATE_CONFIDENCE_MEDIUM ? 3.0 : 4.0;
    *lo = mean - k * sd;
    *hi = mean + k * sd;
    return DD_OK;
}

int evaluate_ml(const double *history, size_t n, double value, enum evaluate_confidence level,
                bool *violates)
{
    double lo, hi;
    int rc = evaluate_ml_band(history, n, level, &lo, &hi);

    *violates = !rc && (value < lo || value > hi);
    return rc;
}
