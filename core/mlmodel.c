/* SPDX-License-Identifier: MIT */
/* mlmodel.c: the ML Detect model lifecycle (see mlmodel.h). */
#include "core/mlmodel.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mlmodel_params_aws(struct mlmodel_params *p)
{
    p->training_ms = (int64_t)MLMODEL_AWS_TRAINING_S * 1000;
    p->min_datapoints = MLMODEL_AWS_MIN_POINTS;
    p->refresh_ms = (int64_t)MLMODEL_AWS_REFRESH_S * 1000;
    p->expiry_ms = (int64_t)MLMODEL_AWS_EXPIRY_S * 1000;
}

int mlmodel_params_check(const struct mlmodel_params *p, struct dd_errbuf *eb)
{
    if (p->training_ms < (int64_t)MLMODEL_SLOTS * 1000)
        return dd_fail(eb, DD_ERR_INVALID, "the ML training period must be at least %d seconds",
                       MLMODEL_SLOTS);
    if (p->refresh_ms < 1000 || p->expiry_ms < 1000)
        return dd_fail(eb, DD_ERR_INVALID,
                       "the ML refresh and expiry periods must be at least a second");
    if (p->min_datapoints < 1)
        return dd_fail(eb, DD_ERR_INVALID, "the ML minimum of datapoints must be at least 1");
    if (p->training_ms / p->refresh_ms > MLMODEL_MAX_CHECKS)
        return dd_fail(eb, DD_ERR_INVALID,
                       "the ML training period may hold at most %d refresh periods",
                       MLMODEL_MAX_CHECKS);
    return DD_OK;
}

static int64_t slot_width(const struct mlmodel_params *p)
{
    return p->training_ms / MLMODEL_SLOTS;
}

uint64_t mlmodel_datapoints(const struct mlmodel *m, const struct mlmodel_params *p, int64_t now_ms)
{
    uint64_t sum = 0;
    size_t i;

    for (i = 0; i < MLMODEL_SLOTS; i++)
        if (m->n[i] && m->slot_ms[i] >= now_ms - p->training_ms && m->slot_ms[i] <= now_ms)
            sum += m->n[i];
    return sum;
}

double mlmodel_percentage(const struct mlmodel *m, const struct mlmodel_params *p, int64_t now_ms)
{
    uint64_t n = mlmodel_datapoints(m, p, now_ms);

    if (n >= p->min_datapoints)
        return 100.0;
    return (double)n * 100.0 / (double)p->min_datapoints;
}

/* One check at time t: the transitions of the file comment. */
static void check_at(struct mlmodel *m, const struct mlmodel_params *p, int64_t t)
{
    bool enough = mlmodel_datapoints(m, p, t) >= p->min_datapoints;
    /* The last success, or the end of the first training period. */
    int64_t since = m->refresh_ms ? m->refresh_ms : m->start_ms + p->training_ms;

    m->checked_ms = t;
    if (enough) {
        m->status = MLMODEL_ACTIVE;
        m->refresh_ms = t;
    } else if (m->status != MLMODEL_EXPIRED && t - since >= p->expiry_ms) {
        m->status = MLMODEL_EXPIRED;
    }
}

/* Checks happen at first + k * refresh_ms, first = start + training. The
 * loop runs once per due check while the window can still hold data; past
 * the newest datapoint's window every remaining check finds nothing, so
 * they are applied as one: only the expiry can still happen, at a check. */
bool mlmodel_advance(struct mlmodel *m, const struct mlmodel_params *p, int64_t now_ms)
{
    struct mlmodel before = *m;
    int64_t first, next, empty_from, k;

    if (!m->start_ms)
        return false;
    first = m->start_ms + p->training_ms;
    if (now_ms < first)
        return false;
    next = m->checked_ms < first
               ? first
               : first + ((m->checked_ms - first) / p->refresh_ms + 1) * p->refresh_ms;
    /* After empty_from no slot is inside the trailing window. */
    empty_from = m->last_data_ms + slot_width(p) + p->training_ms;
    while (next <= now_ms && next <= empty_from) {
        check_at(m, p, next);
        next += p->refresh_ms;
    }
    if (next <= now_ms) {
        int64_t since = m->refresh_ms ? m->refresh_ms : m->start_ms + p->training_ms;
        int64_t last = first + (now_ms - first) / p->refresh_ms * p->refresh_ms;

        /* The first check at or after since + expiry, when one is due. */
        k = (since + p->expiry_ms - first + p->refresh_ms - 1) / p->refresh_ms;
        if (m->status != MLMODEL_EXPIRED && first + k * p->refresh_ms <= last)
            m->status = MLMODEL_EXPIRED;
        m->checked_ms = last;
    }
    return m->status != before.status || m->refresh_ms != before.refresh_ms ||
           m->checked_ms != before.checked_ms;
}

void mlmodel_observe(struct mlmodel *m, const struct mlmodel_params *p, int64_t time_ms, uint64_t n)
{
    int64_t w = slot_width(p), start = time_ms / w * w;
    size_t i = (size_t)((time_ms / w) % MLMODEL_SLOTS);

    if (time_ms <= 0 || n == 0)
        return;
    if (m->slot_ms[i] > start)
        return; /* older than the window the ring holds */
    if (!m->start_ms) {
        m->start_ms = time_ms;
        m->checked_ms = 0;
    }
    if (m->slot_ms[i] != start) {
        m->slot_ms[i] = start;
        m->n[i] = 0;
    }
    m->n[i] += n;
    if (time_ms > m->last_data_ms)
        m->last_data_ms = time_ms;
}

bool mlmodel_judges(const struct mlmodel *m)
{
    return m->status == MLMODEL_ACTIVE;
}

static const char *const status_names[] = { "PENDING_BUILD", "ACTIVE", "EXPIRED" };

const char *mlmodel_status_name(enum mlmodel_status s)
{
    return (size_t)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s]
                                                                      : "PENDING_BUILD";
}

int mlmodel_status_parse(const char *s, enum mlmodel_status *out)
{
    size_t i;

    *out = MLMODEL_PENDING_BUILD;
    for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
        if (!strcmp(s, status_names[i])) {
            *out = (enum mlmodel_status)i;
            return DD_OK;
        }
    return DD_ERR_INVALID;
}

int mlmodel_slots_format(const struct mlmodel *m, char *buf, size_t size)
{
    size_t i, used = 0;
    int len;

    if (!size)
        return DD_ERR_TOO_LARGE;
    buf[0] = '\0';
    for (i = 0; i < MLMODEL_SLOTS; i++) {
        if (!m->n[i])
            continue;
        len = snprintf(buf + used, size - used, "%s%" PRId64 ":%" PRIu64, used ? " " : "",
                       m->slot_ms[i], m->n[i]);
        if (len < 0 || (size_t)len >= size - used) {
            buf[0] = '\0';
            return DD_ERR_TOO_LARGE;
        }
        used += (size_t)len;
    }
    return DD_OK;
}

int mlmodel_slots_parse(struct mlmodel *m, const struct mlmodel_params *params, const char *text)
{
    int64_t w = slot_width(params);
    const char *p = text;
    size_t used = 0, i;

    memset(m->slot_ms, 0, sizeof(m->slot_ms));
    memset(m->n, 0, sizeof(m->n));
    while (*p) {
        long long start;
        unsigned long long n;
        char *end;

        if (used == MLMODEL_SLOTS || *p < '0' || *p > '9')
            goto bad;
        start = strtoll(p, &end, 10);
        if (*end != ':' || end[1] < '0' || end[1] > '9')
            goto bad;
        n = strtoull(end + 1, &end, 10);
        if (start <= 0 || start % w || n == 0 || (*end && *end != ' ') || (*end == ' ' && !end[1]))
            goto bad;
        i = (size_t)((start / w) % MLMODEL_SLOTS);
        if (m->n[i])
            goto bad;
        m->slot_ms[i] = start;
        m->n[i] = n;
        used++;
        p = *end ? end + 1 : end;
    }
    return DD_OK;
bad:
    memset(m->slot_ms, 0, sizeof(m->slot_ms));
    memset(m->n, 0, sizeof(m->n));
    return DD_ERR_INVALID;
}
