/* SPDX-License-Identifier: MIT */
/* test_keep.c: which datapoints a large fleet keeps (core/keep.c): every
 * one up to the budget and for watched or inspected things; beyond it only
 * those that matter to a violation (violating, a transition, in alarm
 * before or after, the first compliant one after a violating streak), and
 * never a steady compliant or no-verdict one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/keep.h"

static void test_bounded(void **state)
{
    static const struct {
        size_t n, budget;
        bool want;
    } rows[] = {
        { 0, 0, false },        { 1, 0, true },           { 10000, 10000, false },
        { 10001, 10000, true }, { 1000000, 10000, true }, { 5, SIZE_MAX, false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(keep_bounded(rows[i].n, rows[i].budget), rows[i].want);
}

#define V JUDGE_VIOLATING
#define C JUDGE_COMPLIANT
#define N JUDGE_NO_VERDICT

static void test_datapoint(void **state)
{
    static const struct {
        bool bounded, thing_kept;
        struct evaluate_state prev;
        enum judge_verdict verdict;
        enum evaluate_event event;
        struct evaluate_state after;
        bool want;
    } rows[] = {
        /* Not bounded, or a watched/inspected thing: everything. */
        { false, false, { false, 0, 3 }, C, EVALUATE_EVENT_NONE, { false, 0, 4 }, true },
        { false, false, { false, 0, 0 }, N, EVALUATE_EVENT_NONE, { false, 0, 0 }, true },
        { true, true, { false, 0, 3 }, C, EVALUATE_EVENT_NONE, { false, 0, 4 }, true },
        { true, true, { false, 0, 0 }, N, EVALUATE_EVENT_NONE, { false, 0, 0 }, true },
        /* Bounded: a steady compliant thing, or one without a verdict, keeps nothing. */
        { true, false, { false, 0, 0 }, C, EVALUATE_EVENT_NONE, { false, 0, 0 }, false },
        { true, false, { false, 0, 0 }, N, EVALUATE_EVENT_NONE, { false, 0, 0 }, false },
        /* A violating verdict, the first of a streak or not. */
        { true, false, { false, 0, 0 }, V, EVALUATE_EVENT_NONE, { false, 1, 0 }, true },
        { true, false, { false, 1, 0 }, V, EVALUATE_EVENT_IN_ALARM, { true, 0, 0 }, true },
        /* A compliant one after a violating streak (the verdict changed). */
        { true, false, { false, 1, 0 }, C, EVALUATE_EVENT_NONE, { false, 0, 0 }, true },
        /* In alarm: the compliant ones on the way to clearing it, and the clearing one. */
        { true, false, { true, 0, 0 }, C, EVALUATE_EVENT_NONE, { true, 0, 1 }, true },
        { true, false, { true, 0, 1 }, C, EVALUATE_EVENT_ALARM_CLEARED, { false, 0, 0 }, true },
        { true, false, { true, 0, 0 }, N, EVALUATE_EVENT_NONE, { true, 0, 0 }, true },
        /* After the clear, compliant again: nothing. */
        { true, false, { false, 0, 0 }, C, EVALUATE_EVENT_NONE, { false, 0, 0 }, false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct judge_result res = { 0 };

        res.verdict = rows[i].verdict;
        res.event = rows[i].event;
        res.state = rows[i].after;
        assert_int_equal(keep_datapoint(rows[i].bounded, rows[i].thing_kept, &rows[i].prev, &res),
                         rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_datapoint),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
