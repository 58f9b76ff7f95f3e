/* SPDX-License-Identifier: MIT */
/* clock.c: emulated time arithmetic (see clock.h for the model). */
#include "core/clock.h"

#include <assert.h>
#include <math.h>
#include <string.h>

#define MAX_ADVANCE_MS ((int64_t)10 * 366 * 24 * 3600 * 1000)

int clock_init(struct dd_clock *c, enum clock_mode mode, double scale, int64_t real_ms,
               int64_t start_ms, struct dd_errbuf *eb)
{
    if (mode == CLOCK_SCALED && (!isfinite(scale) || scale < 0.001 || scale > 100000.0))
        return dd_fail(eb, DD_ERR_INVALID, "time scale must be between 0.001 and 100000");
    c->mode = mode;
    c->scale = mode == CLOCK_SCALED ? scale : 1.0;
    c->anchor_real_ms = real_ms;
    c->anchor_emulated_ms = mode == CLOCK_REAL ? real_ms : start_ms;
    return DD_OK;
}

int64_t clock_now(const struct dd_clock *c, int64_t real_ms)
{
    switch (c->mode) {
    case CLOCK_REAL:
        return real_ms;
    case CLOCK_SCALED:
        /* A clock that reads before its anchor (a real clock stepped back)
         * holds still instead of running emulated time backwards. */
        if (real_ms <= c->anchor_real_ms)
            return c->anchor_emulated_ms;
        return c->anchor_emulated_ms + (int64_t)((double)(real_ms - c->anchor_real_ms) * c->scale);
    case CLOCK_MANUAL:
        return c->anchor_emulated_ms;
    }
    return real_ms;
}

int clock_advance(struct dd_clock *c, int64_t advance_ms, struct dd_errbuf *eb)
{
    if (c->mode != CLOCK_MANUAL)
        return dd_fail(eb, DD_ERR_STATE, "the clock is %s; only a manual clock can be advanced",
                       clock_mode_name(c->mode));
    if (advance_ms < 0 || advance_ms > MAX_ADVANCE_MS)
        return dd_fail(eb, DD_ERR_INVALID,
                       "advanceSeconds must be a number between 0 and 10 years of seconds");
    c->anchor_emulated_ms += advance_ms;
    return DD_OK;
}

int64_t clock_bucket_start(int64_t t_ms)
{
    int64_t r = t_ms % CLOCK_BUCKET_MS;
    int64_t start = r < 0 ? t_ms - r - CLOCK_BUCKET_MS : t_ms - r;

    /* Floor to a multiple, also below the epoch (C's % truncates). */
    assert(start <= t_ms && t_ms - start < CLOCK_BUCKET_MS && start % CLOCK_BUCKET_MS == 0);
    return start;
}

int64_t clock_bucket_end(int64_t t_ms)
{
    return clock_bucket_start(t_ms) + CLOCK_BUCKET_MS;
}

int64_t clock_buckets_closing(int64_t from_ms, int64_t to_ms)
{
    if (to_ms <= from_ms)
        return 0;
    /* Bucket ends are the multiples of 300 s; count those in (from, to]. */
    return (clock_bucket_start(to_ms) - clock_bucket_start(from_ms)) / CLOCK_BUCKET_MS;
}

int64_t clock_lag_ms(const struct dd_clock *c, int64_t real_ms, int64_t evaluated_until_ms)
{
    int64_t now = clock_now(c, real_ms);

    return now > evaluated_until_ms ? now - evaluated_until_ms : 0;
}

bool clock_lagging(const struct dd_clock *c, int64_t lag_ms)
{
    if (c->mode == CLOCK_MANUAL || lag_ms <= CLOCK_BUCKET_MS)
        return false;
    return (double)lag_ms / c->scale > (double)CLOCK_LAG_REAL_MS;
}

const char *clock_mode_name(enum clock_mode mode)
{
    switch (mode) {
    case CLOCK_REAL:
        return "real";
    case CLOCK_SCALED:
        return "scaled";
    case CLOCK_MANUAL:
        return "manual";
    }
    return "real";
}

int clock_mode_parse(const char *name, enum clock_mode *out)
{
    static const enum clock_mode modes[] = { CLOCK_REAL, CLOCK_SCALED, CLOCK_MANUAL };

    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (strcmp(name, clock_mode_name(modes[i])) == 0) {
            *out = modes[i];
            return DD_OK;
        }
    }
    return DD_ERR_INVALID;
}

void clock_timespec_add_ms(struct timespec *ts, long ms)
{
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}
