/* SPDX-License-Identifier: MIT */
/* judge.c: the value, verdict and next state of one Detect datapoint (see
 * judge.h).
 *
 * Windows: a behavior with durationSeconds D judges, at every bucket close,
 * the last D / 300 buckets (DESIGN.md's sliding reading). A thing's buckets
 * live in a ring of n slots indexed by bucket number modulo n, each slot
 * tagged with the end of the bucket it holds; a slot whose tag is not the
 * bucket asked for is an empty bucket (the thing sent nothing then, or the
 * slot was reused by a later bucket). So the ring needs no clearing when
 * time jumps: stale slots simply stop matching.
 *
 * Verdicts and the alarm state machine are core/evaluate.c's; this file only
 * picks the threshold each criteria type compares against and carries the
 * state across a datapoint that gives no verdict. */
#include "core/judge.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"

size_t judge_window_buckets(const struct behavior *b)
{
    int k = b->has_duration ? b->duration_seconds / METRIC_BUCKET_SECONDS : 1;

    return k < 1 || k > JUDGE_RING ? 1 : (size_t)k;
}

static size_t ring_index(int64_t end_ms, size_t n)
{
    return (size_t)(end_ms / CLOCK_BUCKET_MS) % n;
}

void judge_buckets_put(struct judge_bucket *ring, size_t n, int64_t end_ms,
                       const struct metric_stats *st)
{
    struct judge_bucket *slot = &ring[ring_index(end_ms, n)];

    slot->end_ms = end_ms;
    slot->st = *st;
}

void judge_buckets_add(struct judge_bucket *ring, size_t n, int64_t end_ms, uint64_t sample)
{
    struct judge_bucket *slot = &ring[ring_index(end_ms, n)];

    if (slot->end_ms != end_ms) {
        slot->end_ms = end_ms;
        memset(&slot->st, 0, sizeof(slot->st));
    }
    metric_stats_add(&slot->st, sample);
}

void judge_ring_put(struct judge_ring *ring, int64_t end_ms, const struct metric_stats *st)
{
    judge_buckets_put(ring->b, JUDGE_RING, end_ms, st);
}

void judge_ring_add(struct judge_ring *ring, int64_t end_ms, uint64_t sample)
{
    judge_buckets_add(ring->b, JUDGE_RING, end_ms, sample);
}

/* Fold buckets[0..k) for b into a COUNT value. */
static int window_value(const struct metric_stats *buckets, size_t k, const struct behavior *b,
                        struct metric_value *out)
{
    uint64_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!b->info)
        return DD_ERR_INVALID;
    rc = metric_window_value(b->info, b->op, b->type == BEHAVIOR_TYPE_STATISTICAL, buckets, k, &n);
    if (rc)
        return rc;
    out->kind = METRIC_KIND_COUNT;
    out->count = n;
    return DD_OK;
}

int judge_buckets_value(const struct judge_bucket *ring, size_t n, const struct behavior *b,
                        int64_t end_ms, struct metric_value *out)
{
    struct metric_stats win[JUDGE_RING];
    size_t k = judge_window_buckets(b), j;

    /* The k buckets ending at end_ms, oldest first. */
    for (j = 0; j < k; j++) {
        int64_t e = end_ms - (int64_t)(k - 1 - j) * CLOCK_BUCKET_MS;
        const struct judge_bucket *slot = &ring[ring_index(e, n)];

        if (slot->end_ms == e)
            win[j] = slot->st;
        else
            memset(&win[j], 0, sizeof(win[j]));
    }
    return window_value(win, k, b, out);
}

int judge_ring_value(const struct judge_ring *ring, const struct behavior *b, int64_t end_ms,
                     struct metric_value *out)
{
    return judge_buckets_value(ring->b, JUDGE_RING, b, end_ms, out);
}

int judge_bucket_value(const struct metric_stats *st, const struct behavior *b,
                       struct metric_value *out)
{
    return window_value(st, 1, b, out);
}

/* The value of custom metric b->metric in r, if it was reported with the
 * behavior's type: copied through a borrowed view of the report's arrays. */
static int custom_value(const struct behavior *b, const struct report *r, struct metric_value *out)
{
    static const struct {
        enum report_custom_kind kind;
        enum metric_kind value;
    } kinds[] = {
        { REPORT_CUSTOM_NUMBER, METRIC_KIND_NUMBER },
        { REPORT_CUSTOM_NUMBER_LIST, METRIC_KIND_NUMBERS },
        { REPORT_CUSTOM_STRING_LIST, METRIC_KIND_STRINGS },
        { REPORT_CUSTOM_IP_LIST, METRIC_KIND_CIDRS },
    };

    struct metric_value view = { 0 };
    size_t i, k;

    for (i = 0; i < r->n_custom; i++) {
        const struct report_custom *c = &r->custom[i];

        if (strcmp(c->name, b->metric) != 0)
            continue;
        for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (kinds[k].kind == c->kind && kinds[k].value == b->info->kind)
                break;
        if (k == sizeof(kinds) / sizeof(kinds[0]))
            return DD_ERR_NOT_FOUND; /* reported with another type */
        view.kind = b->info->kind;
        if (view.kind == METRIC_KIND_NUMBER) {
            out->kind = METRIC_KIND_NUMBER;
            out->number = c->n_values ? c->numbers[0] : 0;
            return DD_OK;
        }
        view.n = c->n_values;
        view.numbers = c->numbers;
        view.strings = c->strings;
        return metric_value_copy(&view, out);
    }
    return DD_ERR_NOT_FOUND;
}

/* The remote addresses of the established connections, as CIDRS. */
static int connection_addresses(const struct report_connections *c, struct metric_value *out)
{
    struct metric_value v = { .kind = METRIC_KIND_CIDRS };
    int rc = DD_OK;
    size_t i;

    if (c->n_items) {
        v.strings = calloc(c->n_items, sizeof(*v.strings));
        if (!v.strings)
            return DD_ERR_NOMEM;
    }
    for (i = 0; i < c->n_items; i++) {
        v.strings[i] = dd_strdup(c->items[i].remote_ip);
        v.n = i + 1;
        if (!v.strings[i]) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    *out = v;
    memset(&v, 0, sizeof(v));
out:
    metric_value_cleanup(&v);
    return rc;
}

/* The one sample a report gives a device-side count metric m, or -1. */
static int64_t report_sample(const char *m, const struct report *r)
{
    const struct report_network_stats *ns = &r->network_stats;

    if (strcmp(m, "aws:num-listening-tcp-ports") == 0)
        return r->blocks & REPORT_HAS_TCP_PORTS ? r->tcp_ports.total : -1;
    if (strcmp(m, "aws:num-listening-udp-ports") == 0)
        return r->blocks & REPORT_HAS_UDP_PORTS ? r->udp_ports.total : -1;
    if (strcmp(m, "aws:num-established-tcp-connections") == 0)
        return r->blocks & REPORT_HAS_CONNECTIONS ? r->connections.total : -1;
    if (strcmp(m, "aws:all-bytes-in") == 0)
        return ns->present & REPORT_STAT_BYTES_IN ? ns->bytes_in : -1;
    if (strcmp(m, "aws:all-bytes-out") == 0)
        return ns->present & REPORT_STAT_BYTES_OUT ? ns->bytes_out : -1;
    if (strcmp(m, "aws:all-packets-in") == 0)
        return ns->present & REPORT_STAT_PACKETS_IN ? ns->packets_in : -1;
    if (strcmp(m, "aws:all-packets-out") == 0)
        return ns->present & REPORT_STAT_PACKETS_OUT ? ns->packets_out : -1;
    return -1;
}

int judge_report_value(const struct behavior *b, const struct report *r, struct metric_value *out,
                       int64_t *sample)
{
    const char *m = b->metric;
    bool tcp = strcmp(m, "aws:listening-tcp-ports") == 0;

    memset(out, 0, sizeof(*out));
    *sample = -1;
    if (tcp || strcmp(m, "aws:listening-udp-ports") == 0) {
        const struct report_ports *pp = tcp ? &r->tcp_ports : &r->udp_ports;
        struct metric_value view = { .kind = METRIC_KIND_PORTS };

        if (!(r->blocks & (tcp ? REPORT_HAS_TCP_PORTS : REPORT_HAS_UDP_PORTS)))
            return DD_ERR_NOT_FOUND;
        view.n = pp->n_ports;
        view.ports = pp->ports;
        return metric_value_copy(&view, out);
    }
    if (strcmp(m, "aws:destination-ip-addresses") == 0) {
        if (!(r->blocks & REPORT_HAS_CONNECTIONS))
            return DD_ERR_NOT_FOUND;
        return connection_addresses(&r->connections, out);
    }
    if (!b->info)
        return DD_ERR_NOT_FOUND;
    if (b->info->side == METRIC_SIDE_CUSTOM)
        return custom_value(b, r, out);
    if (b->info->side != METRIC_SIDE_DEVICE)
        return DD_ERR_NOT_FOUND;
    *sample = report_sample(m, r);
    return *sample >= 0 ? DD_OK : DD_ERR_NOT_FOUND;
}

double judge_number(const struct metric_value *v)
{
    if (v->kind == METRIC_KIND_COUNT)
        return (double)v->count;
    return v->kind == METRIC_KIND_NUMBER ? v->number : 0;
}

/* The ML stand-in: judge value against the history's band (unless the
 * model is inactive: DD_ERR_STATE, no verdict), then remember it. */
static int judge_ml(struct judge_ml *ml, double value, enum evaluate_confidence level,
                    bool inactive, bool *violating, struct judge_result *out)
{
    double hist[JUDGE_ML_HISTORY];
    size_t i;
    int rc;

    for (i = 0; i < ml->n; i++)
        hist[i] = ml->v[(ml->head + JUDGE_ML_HISTORY - ml->n + i) % JUDGE_ML_HISTORY];
    rc = inactive ? DD_ERR_STATE
                  : evaluate_ml_band(hist, ml->n, level, &out->band_lo, &out->band_hi);
    if (!rc) {
        out->has_band = true;
        *violating = value < out->band_lo || value > out->band_hi;
    }
    ml->v[ml->head] = value;
    ml->head = (ml->head + 1) % JUDGE_ML_HISTORY;
    if (ml->n < JUDGE_ML_HISTORY)
        ml->n++;
    return rc;
}

int judge_datapoint(const struct judge_input *in, const struct evaluate_state *prev,
                    struct judge_ml *ml, struct judge_result *out)
{
    struct evaluate_state st;
    const struct behavior *b;
    bool violating = false;
    int rc;

    st = *prev;
    memset(out, 0, sizeof(*out));
    out->state = st;
    if (!in->b || !in->value)
        return DD_ERR_INVALID;
    b = in->b;
    switch (b->type) {
    case BEHAVIOR_TYPE_STATIC:
        rc = evaluate_violates(b->op, &b->value, in->value, &violating);
        break;
    case BEHAVIOR_TYPE_STATISTICAL: {
        struct metric_value t = { .kind = METRIC_KIND_NUMBER };

        rc = in->peers
                 ? evaluate_percentile_excluding(in->peers, in->n_peers, judge_number(in->value),
                                                 b->percentile, &t.number)
                 : DD_ERR_STATE;
        if (rc)
            break;
        out->has_threshold = true;
        out->threshold = t.number;
        rc = evaluate_violates(b->op, &t, in->value, &violating);
        break;
    }
    case BEHAVIOR_TYPE_MACHINE_LEARNING:
        if (!ml)
            return DD_ERR_INVALID;
        rc = judge_ml(ml, judge_number(in->value), b->confidence, in->ml_inactive, &violating, out);
        break;
    default:
        return DD_ERR_INVALID;
    }
    if (rc)
        return DD_OK; /* no verdict: the state stays as it was */
    out->verdict = violating ? JUDGE_VIOLATING : JUDGE_COMPLIANT;
    out->event = evaluate_step(&st, violating, behavior_to_alarm(b), behavior_to_clear(b));
    out->state = st;
    return DD_OK;
}

const char *judge_verdict_name(enum judge_verdict v)
{
    switch (v) {
    case JUDGE_COMPLIANT:
        return "compliant";
    case JUDGE_VIOLATING:
        return "violating";
    case JUDGE_NO_VERDICT:
        break;
    }
    return "no-verdict";
}
