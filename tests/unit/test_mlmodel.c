/* SPDX-License-Identifier: MIT */
/* test_mlmodel.c: the ML model lifecycle. Scripted timelines of datapoints
 * and checks (build after the training period with enough data, not
 * before; a short collection that waits, then expires; refreshes; expiry
 * when data stops, in the loop and in the fast path; a rebuild after
 * expiry), AWS's numbers, the parameter checks, the percentage, and the
 * slots' text round trip with its refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/mlmodel.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define S    1000 /* ms in a second */

/* Training 1400 s (slots of 100 s), 10 datapoints, refresh 300 s, expiry
 * 900 s. */
static const struct mlmodel_params small = { 1400 * S, 10, 300 * S, 900 * S };

/* One step of a timeline: n datapoints at t seconds (n = 0: only
 * advance), then the status, refresh date and percentage expected. */
struct step {
    int64_t t;
    uint64_t n;
    enum mlmodel_status status;
    int64_t refresh; /* seconds, 0 = never */
    double pct;
};

struct timeline {
    const char *name;
    struct step steps[12];
    size_t n_steps;
};

static const struct timeline timelines[] = {
    { "builds at the first check with enough data",
      { { 1000, 4, MLMODEL_PENDING_BUILD, 0, 40 },
        { 1500, 6, MLMODEL_PENDING_BUILD, 0, 100 },
        { 2399, 0, MLMODEL_PENDING_BUILD, 0, 100 }, /* the training period runs to 2400 */
        { 2400, 0, MLMODEL_ACTIVE, 2400, 100 } },
      4 },
    { "not enough data: waits, then expires after the expiry period",
      { { 1000, 3, MLMODEL_PENDING_BUILD, 0, 30 },
        { 2400, 0, MLMODEL_PENDING_BUILD, 0, 30 },
        { 3000, 0, MLMODEL_PENDING_BUILD, 0, 0 }, /* the slot at 1000 left the window */
        { 3299, 0, MLMODEL_PENDING_BUILD, 0, 0 },
        { 3300, 0, MLMODEL_EXPIRED, 0, 0 } },
      5 },
    { "refreshes at each check while data comes",
      { { 1000, 10, MLMODEL_PENDING_BUILD, 0, 100 },
        { 2400, 10, MLMODEL_ACTIVE, 2400, 100 },
        { 2700, 10, MLMODEL_ACTIVE, 2700, 100 },
        { 3000, 0, MLMODEL_ACTIVE, 3000, 100 } },
      4 },
    { "data stops: the model expires expiry after its last refresh",
      { { 1000, 10, MLMODEL_PENDING_BUILD, 0, 100 },
        { 2400, 0, MLMODEL_ACTIVE, 2400, 100 },
        { 2700, 0, MLMODEL_ACTIVE, 2400, 0 }, /* no data: the 2400 model stays */
        { 3299, 0, MLMODEL_ACTIVE, 2400, 0 },
        { 3300, 0, MLMODEL_EXPIRED, 2400, 0 } },
      5 },
    { "a long jump takes the fast path to EXPIRED",
      { { 1000, 10, MLMODEL_PENDING_BUILD, 0, 100 }, { 1000000, 0, MLMODEL_EXPIRED, 2400, 0 } },
      2 },
    { "data back after expiry rebuilds the model",
      { { 1000, 10, MLMODEL_PENDING_BUILD, 0, 100 },
        { 100000, 10, MLMODEL_EXPIRED, 2400, 100 },
        { 100200, 0, MLMODEL_ACTIVE, 100200, 100 } },
      3 },
    { "no datapoint: nothing happens", { { 5000, 0, MLMODEL_PENDING_BUILD, 0, 0 } }, 1 },
};

static void test_timelines(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < N(timelines); i++) {
        struct mlmodel m = { 0 };

        for (j = 0; j < timelines[i].n_steps; j++) {
            const struct step *st = &timelines[i].steps[j];

            mlmodel_advance(&m, &small, st->t * S);
            mlmodel_observe(&m, &small, st->t * S, st->n);
            if (m.status != st->status || m.refresh_ms != st->refresh * S ||
                mlmodel_percentage(&m, &small, st->t * S) != st->pct)
                fail_msg("%s, step %zu: %s refresh %lld pct %g", timelines[i].name, j,
                         mlmodel_status_name(m.status), (long long)m.refresh_ms,
                         mlmodel_percentage(&m, &small, st->t * S));
            assert_true(mlmodel_judges(&m) == (st->status == MLMODEL_ACTIVE));
        }
    }
}

static void test_start_and_changes(void **state)
{
    struct mlmodel m = { 0 };

    (void)state;
    assert_false(mlmodel_advance(&m, &small, 10 * S));
    mlmodel_observe(&m, &small, 1000 * S, 1);
    mlmodel_observe(&m, &small, 1100 * S, 1);
    assert_int_equal(m.start_ms, 1000 * S);
    assert_int_equal(m.last_data_ms, 1100 * S);
    assert_false(mlmodel_advance(&m, &small, 2000 * S)); /* no check due */
    assert_true(mlmodel_advance(&m, &small, 2400 * S));  /* a check ran */
    assert_false(mlmodel_advance(&m, &small, 2500 * S)); /* none since */
    /* Old data (before the ring's window) and empty counts are ignored. */
    mlmodel_observe(&m, &small, 2500 * S, 1);
    mlmodel_observe(&m, &small, 1100 * S, 5);
    mlmodel_observe(&m, &small, 2600 * S, 0);
    assert_int_equal(mlmodel_datapoints(&m, &small, 2600 * S), 1);
}

static void test_aws_numbers(void **state)
{
    struct mlmodel_params p;
    struct mlmodel m = { 0 };
    struct dd_errbuf eb;
    int64_t day = 24 * 3600 * (int64_t)S, t;

    (void)state;
    mlmodel_params_aws(&p);
    assert_int_equal(mlmodel_params_check(&p, &eb), DD_OK);
    assert_int_equal(p.training_ms, 14 * day);
    assert_int_equal(p.min_datapoints, 25000);
    /* 10 devices, one datapoint each per 5 minutes: 2880 a day. */
    for (t = day; t < 15 * day; t += 300 * S) {
        mlmodel_advance(&m, &p, t);
        mlmodel_observe(&m, &p, t, 10);
        if (t < 15 * day - 300 * S)
            assert_int_equal(m.status, MLMODEL_PENDING_BUILD);
    }
    mlmodel_advance(&m, &p, 15 * day);
    assert_int_equal(m.status, MLMODEL_ACTIVE);
    assert_int_equal(m.refresh_ms, 15 * day);
}

static void test_params_check(void **state)
{
    static const struct {
        struct mlmodel_params p;
        int rc;
    } rows[] = {
        { { 1400 * S, 10, 300 * S, 900 * S }, DD_OK },
        { { 13 * S, 10, 300 * S, 900 * S }, DD_ERR_INVALID },
        { { 1400 * S, 0, 300 * S, 900 * S }, DD_ERR_INVALID },
        { { 1400 * S, 10, 0, 900 * S }, DD_ERR_INVALID },
        { { 1400 * S, 10, 300 * S, 999 }, DD_ERR_INVALID },
        { { 100000 * S, 10, 1 * S, 900 * S }, DD_ERR_INVALID },
    };
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++)
        assert_int_equal(mlmodel_params_check(&rows[i].p, &eb), rows[i].rc);
}

static void test_status_names(void **state)
{
    static const char *const names[] = { "PENDING_BUILD", "ACTIVE", "EXPIRED" };
    enum mlmodel_status s;
    size_t i;

    (void)state;
    for (i = 0; i < N(names); i++) {
        assert_int_equal(mlmodel_status_parse(names[i], &s), DD_OK);
        assert_string_equal(mlmodel_status_name(s), names[i]);
    }
    assert_int_equal(mlmodel_status_parse("active", &s), DD_ERR_INVALID);
    assert_int_equal(s, MLMODEL_PENDING_BUILD);
}

static void test_slots_text(void **state)
{
    static const struct {
        const char *text;
        int rc;
    } rows[] = {
        { "", DD_OK },
        { "1000000:4 1100000:6", DD_OK },
        { "1000000:4 2400000:6", DD_ERR_INVALID }, /* the same slot twice */
        { "1000001:4", DD_ERR_INVALID },           /* not on the slot width */
        { "1000000:0", DD_ERR_INVALID },
        { "1000000:", DD_ERR_INVALID },
        { "1000000:4 ", DD_ERR_INVALID },
        { "-100000:4", DD_ERR_INVALID },
        { "1000000;4", DD_ERR_INVALID },
    };
    struct mlmodel m = { 0 }, back = { 0 };
    char buf[MLMODEL_SLOTS_TEXT_SIZE], tiny[8];
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        memset(&m, 0xff, sizeof(m));
        assert_int_equal(mlmodel_slots_parse(&m, &small, rows[i].text), rows[i].rc);
        if (rows[i].rc)
            assert_int_equal(mlmodel_datapoints(&m, &small, 2000 * S), 0);
    }
    memset(&m, 0, sizeof(m));
    mlmodel_observe(&m, &small, 1000 * S, 4);
    mlmodel_observe(&m, &small, 1150 * S, 6);
    assert_int_equal(mlmodel_slots_format(&m, buf, sizeof(buf)), DD_OK);
    assert_string_equal(buf, "1000000:4 1100000:6");
    assert_int_equal(mlmodel_slots_parse(&back, &small, buf), DD_OK);
    assert_memory_equal(back.slot_ms, m.slot_ms, sizeof(m.slot_ms));
    assert_memory_equal(back.n, m.n, sizeof(m.n));
    assert_int_equal(mlmodel_slots_format(&m, tiny, sizeof(tiny)), DD_ERR_TOO_LARGE);
    assert_string_equal(tiny, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timelines),    cmocka_unit_test(test_start_and_changes),
        cmocka_unit_test(test_aws_numbers),  cmocka_unit_test(test_params_check),
        cmocka_unit_test(test_status_names), cmocka_unit_test(test_slots_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
