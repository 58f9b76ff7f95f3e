/* SPDX-License-Identifier: MIT */
/* clock.h: emulated time and the 5-minute buckets it is cut into.
 *
 * Emulated time is a pure function of a clock description and a real-time
 * reading, both given by the caller, so tests and fuzzers drive it:
 *
 *   real    emulated = real
 *   scaled  emulated = anchor_emulated + (real - anchor_real) * scale
 *   manual  emulated = anchor_emulated, moved only by clock_advance()
 *
 * All times are epoch milliseconds (int64). Cloud-side metrics are counted in
 * buckets of CLOCK_BUCKET_MS aligned on multiples of 300 s of emulated epoch
 * time; a bucket [start, end) is closed once emulated now >= end, and its
 * datapoints carry the time `end`. */
#ifndef DD_CORE_CLOCK_H
#define DD_CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/error.h"

#define CLOCK_BUCKET_MS ((int64_t)300000)

enum clock_mode {
    CLOCK_REAL,
    CLOCK_SCALED,
    CLOCK_MANUAL,
};

struct dd_clock {
    enum clock_mode mode;
    double scale;               /* emulated ms per real ms; 1 unless scaled */
    int64_t anchor_real_ms;     /* a real instant ... */
    int64_t anchor_emulated_ms; /* ... and the emulated time it maps to */
};

/* Set up c in the given mode, anchored so that emulated time at real_ms is
 * start_ms (ignored in real mode, where emulated time is real time). scale
 * must be a finite number in [0.001, 100000] and is forced to 1 outside
 * scaled mode. Returns DD_ERR_INVALID (with eb) for a bad scale. Pure. */
int clock_init(struct dd_clock *c, enum clock_mode mode, double scale, int64_t real_ms,
               int64_t start_ms, struct dd_errbuf *eb);

/* Emulated time at real time real_ms. Pure, cannot fail. */
int64_t clock_now(const struct dd_clock *c, int64_t real_ms);

/* Move a manual clock forward by advance_ms (>= 0). DD_ERR_STATE when the
 * clock is not manual, DD_ERR_INVALID for a negative or absurd (> 10 years)
 * advance; c is unchanged on error. Pure. */
int clock_advance(struct dd_clock *c, int64_t advance_ms, struct dd_errbuf *eb);

/* The start of the bucket holding emulated time t (floor to 300 s). Pure. */
int64_t clock_bucket_start(int64_t t_ms);

/* The end of the bucket holding t, i.e. the next multiple of 300 s strictly
 * after t. A bucket that ends at e holds [e - 300 s, e). Pure. */
int64_t clock_bucket_end(int64_t t_ms);

/* ts moved ms (>= 0) milliseconds later, its nanoseconds kept below a
 * second: the deadline of a timed wait (pthread_cond_timedwait). Pure,
 * cannot fail. */
void clock_timespec_add_ms(struct timespec *ts, long ms);

/* How many bucket ends lie in (from_ms, to_ms]: the buckets that close when
 * emulated time moves from from_ms to to_ms. 0 when to_ms <= from_ms. Pure. */
int64_t clock_buckets_closing(int64_t from_ms, int64_t to_ms);

/* How far behind the clock evaluation is lagging before it says so: more
 * than one bucket of emulated time, and more than this much real time (so a
 * huge scale's tick-sized steps are not a lag). */
#define CLOCK_LAG_REAL_MS ((int64_t)2000)

/* Emulated ms by which evaluated_until_ms trails clock c at real time
 * real_ms; 0 when it does not. Pure, cannot fail. */
int64_t clock_lag_ms(const struct dd_clock *c, int64_t real_ms, int64_t evaluated_until_ms);

/* Whether a lag of lag_ms emulated ms on clock c means the fleet cannot keep
 * up: over a bucket (CLOCK_BUCKET_MS) and over CLOCK_LAG_REAL_MS once divided
 * by the scale. Never on the manual clock, which moves only when told and
 * whose advance waits for the evaluation. Pure, cannot fail. */
bool clock_lagging(const struct dd_clock *c, int64_t lag_ms);

/* "real", "scaled" or "manual". Never NULL. */
const char *clock_mode_name(enum clock_mode mode);

/* Parse a mode name; DD_ERR_INVALID for anything else. */
int clock_mode_parse(const char *name, enum clock_mode *out);

#endif
