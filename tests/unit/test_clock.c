/* SPDX-License-Identifier: MIT */
/* test_clock.c: emulated time in the three modes, bucket alignment, and the
 * buckets that close across a manual jump of many hours. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/clock.h"
#include "tests/unit/alloc_fail.h"

#define T0  ((int64_t)1574254200000) /* a bucket boundary (300 s multiple) */
#define MIN ((int64_t)60000)

static void test_now_per_mode(void **state)
{
    static const struct {
        enum clock_mode mode;
        double scale;
        int64_t start, real_elapsed, want;
    } rows[] = {
        { CLOCK_REAL, 1.0, 0, 5000, T0 + 5000 },
        { CLOCK_REAL, 60.0, 0, 5000, T0 + 5000 },      /* scale ignored when real */
        { CLOCK_SCALED, 60.0, T0, 5000, T0 + 300000 }, /* 5 s real = 5 min */
        { CLOCK_SCALED, 0.5, T0, 10000, T0 + 5000 },   /* slower than real */
        { CLOCK_SCALED, 1000.0, T0, 1, T0 + 1000 },
        { CLOCK_SCALED, 60.0, T0, -5000, T0 },  /* real clock stepped back */
        { CLOCK_MANUAL, 1.0, T0, 3600000, T0 }, /* manual time never runs */
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct dd_clock c;

        assert_int_equal(clock_init(&c, rows[i].mode, rows[i].scale, T0, rows[i].start, NULL),
                         DD_OK);
        assert_int_equal(clock_now(&c, T0 + rows[i].real_elapsed), rows[i].want);
    }
}

static void test_bad_scale_rejected(void **state)
{
    static const double bad[] = { 0.0, -1.0, 0.0009, 100001.0, NAN, INFINITY };
    struct dd_errbuf eb;
    struct dd_clock c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(clock_init(&c, CLOCK_SCALED, bad[i], T0, T0, &eb), DD_ERR_INVALID);
        assert_string_equal(eb.msg, "time scale must be between 0.001 and 100000");
    }
}

static void test_advance(void **state)
{
    struct dd_errbuf eb;
    struct dd_clock c;

    (void)state;
    assert_int_equal(clock_init(&c, CLOCK_MANUAL, 1.0, T0, T0, NULL), DD_OK);
    assert_int_equal(clock_advance(&c, 300000, &eb), DD_OK);
    assert_int_equal(clock_now(&c, 0), T0 + 300000);
    assert_int_equal(clock_advance(&c, 0, &eb), DD_OK);
    assert_int_equal(clock_advance(&c, -1, &eb), DD_ERR_INVALID);
    assert_int_equal(clock_now(&c, 0), T0 + 300000);

    assert_int_equal(clock_init(&c, CLOCK_SCALED, 60.0, T0, T0, NULL), DD_OK);
    assert_int_equal(clock_advance(&c, 1000, &eb), DD_ERR_STATE);
    assert_string_equal(eb.msg, "the clock is scaled; only a manual clock can be advanced");
    assert_int_equal(clock_now(&c, T0), T0);
}

static void test_bucket_alignment(void **state)
{
    static const struct {
        int64_t t, start, end;
    } rows[] = {
        { T0, T0, T0 + 300000 }, /* a boundary opens a bucket */
        { T0 + 1, T0, T0 + 300000 },
        { T0 + 299999, T0, T0 + 300000 },
        { T0 + 300000, T0 + 300000, T0 + 600000 },
        { 0, 0, 300000 },
        { -1, -300000, 0 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        assert_int_equal(clock_bucket_start(rows[i].t), rows[i].start);
        assert_int_equal(clock_bucket_end(rows[i].t), rows[i].end);
    }
}

static void test_buckets_closing_across_jumps(void **state)
{
    static const struct {
        int64_t from, to, n;
    } rows[] = {
        { T0, T0, 0 },
        { T0, T0 + 299999, 0 },
        { T0, T0 + 300000, 1 }, /* one advance of 300 s closes one bucket */
        { T0 + 1000, T0 + 300000, 1 },
        { T0 + 299999, T0 + 300001, 1 },
        { T0, T0 + 9 * 3600000, 108 },                    /* a 9-hour manual jump */
        { T0 + 150000, T0 + 48 * 3600000 + 150000, 576 }, /* two days, mid-bucket */
        { T0 + 300000, T0, 0 },                           /* never backwards */
    };
    struct dd_clock c;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(clock_buckets_closing(rows[i].from, rows[i].to), rows[i].n);

    /* A manual jump of many hours reports every bucket in between. */
    assert_int_equal(clock_init(&c, CLOCK_MANUAL, 1.0, 0, T0 + 10 * MIN, NULL), DD_OK);
    assert_int_equal(clock_advance(&c, 7 * 3600000, NULL), DD_OK);
    assert_int_equal(clock_buckets_closing(T0 + 10 * MIN, clock_now(&c, 0)), 84);
}

static void test_mode_names_round_trip(void **state)
{
    static const char *const names[] = { "real", "scaled", "manual" };
    enum clock_mode m;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        assert_int_equal(clock_mode_parse(names[i], &m), DD_OK);
        assert_string_equal(clock_mode_name(m), names[i]);
    }
    assert_int_equal(clock_mode_parse("fast", &m), DD_ERR_INVALID);
    assert_int_equal(clock_mode_parse("", &m), DD_ERR_INVALID);
}

static void test_timespec_add_ms(void **state)
{
    static const struct {
        long sec, nsec, ms;
        long want_sec, want_nsec;
    } rows[] = {
        { 5, 0, 0, 5, 0 },
        { 5, 0, 20, 5, 20000000 },
        { 5, 990000000, 20, 6, 10000000 },
        { 5, 999999999, 1, 6, 999999 },
        { 5, 500000000, 2500, 8, 0 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct timespec ts = { rows[i].sec, rows[i].nsec };

        clock_timespec_add_ms(&ts, rows[i].ms);
        assert_int_equal(ts.tv_sec, rows[i].want_sec);
        assert_int_equal(ts.tv_nsec, rows[i].want_nsec);
    }
}

/* clock_lag_ms and clock_lagging: a lag needs more than a bucket of
 * emulated time and more than CLOCK_LAG_REAL_MS of real time; never manual. */
static void test_lag(void **state)
{
    static const struct {
        enum clock_mode mode;
        double scale;
        int64_t real_elapsed, evaluated; /* evaluated: emulated ms after T0 */
        int64_t want_lag;
        bool want_lagging;
    } rows[] = {
        { CLOCK_REAL, 1.0, 5000, 5000, 0, false },                /* up to date */
        { CLOCK_REAL, 1.0, 5000, 9000, 0, false },                /* ahead counts as 0 */
        { CLOCK_REAL, 1.0, 24000, 0, 24000, false },              /* slow, under a bucket */
        { CLOCK_REAL, 1.0, 300000, 0, 300000, false },            /* exactly a bucket */
        { CLOCK_REAL, 1.0, 300001, 0, 300001, true },             /* over a bucket */
        { CLOCK_SCALED, 100000.0, 1000, 0, 100000000, false },    /* a tick at a huge scale */
        { CLOCK_SCALED, 100000.0, 2000, 0, 200000000, false },    /* exactly the real limit */
        { CLOCK_SCALED, 100000.0, 3000, 0, 300000000, true },     /* 3 s real behind */
        { CLOCK_SCALED, 60.0, 4000, 0, 240000, false },           /* 4 s real, under a bucket */
        { CLOCK_SCALED, 60.0, 6000, 0, 360000, true },            /* 6 s real, over a bucket */
        { CLOCK_SCALED, 60.0, 6000, 360000, 0, false },           /* caught up */
        { CLOCK_MANUAL, 1.0, 9000000, -3600000, 3600000, false }, /* manual never lags */
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct dd_clock c;
        int64_t lag;

        assert_int_equal(clock_init(&c, rows[i].mode, rows[i].scale, T0, T0, NULL), DD_OK);
        lag = clock_lag_ms(&c, T0 + rows[i].real_elapsed, T0 + rows[i].evaluated);
        assert_int_equal(lag, rows[i].want_lag);
        assert_int_equal(clock_lagging(&c, lag), rows[i].want_lagging);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_now_per_mode),
        cmocka_unit_test(test_bad_scale_rejected),
        cmocka_unit_test(test_advance),
        cmocka_unit_test(test_bucket_alignment),
        cmocka_unit_test(test_buckets_closing_across_jumps),
        cmocka_unit_test(test_mode_names_round_trip),
        cmocka_unit_test(test_timespec_add_ms),
        cmocka_unit_test(test_lag),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
