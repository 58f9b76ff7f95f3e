/* SPDX-License-Identifier: MIT */
/* test_busywait.c: the store's busy handler backoff (core/busywait.c): the
 * yields, the doubling sleeps, the cap, and the total timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/busywait.h"

static void test_next(void **state)
{
    static const struct {
        int count;
        int64_t waited_us, limit_us, want;
    } rows[] = {
        { 0, 0, 5000000, 0 }, /* first tries yield only */
        { 3, 0, 5000000, 0 },
        { 4, 5, 5000000, 10 }, /* then 10 us, doubling */
        { 5, 20, 5000000, 20 },
        { 6, 40, 5000000, 40 },
        { 10, 700, 5000000, 640 },
        { 11, 1400, 5000000, 1000 }, /* capped at 1 ms */
        { 1000000, 4000000, 5000000, 1000 },
        { 40, 4999500, 5000000, 500 }, /* never past the limit */
        { 40, 5000000, 5000000, -1 },  /* the limit reached: give up */
        { 0, 6000000, 5000000, -1 },
        { 0, 0, 0, -1 }, /* no waiting at all */
        { -1, 0, 5000000, -1 },
        { 0, -1, 5000000, -1 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(busywait_next_us(rows[i].count, rows[i].waited_us, rows[i].limit_us),
                         rows[i].want);
}

/* The sleeps add up to the limit: a writer never waits much longer, nor
 * gives up much sooner, than the timeout it was given. */
static void test_total(void **state)
{
    static const int64_t limits[] = { 1, 999, 5000000 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        int64_t waited = 0, d;
        int count = 0;

        while ((d = busywait_next_us(count, waited, limits[i])) >= 0) {
            waited += d;
            count++;
            assert_true(count < 10000000);
        }
        assert_int_equal(waited, limits[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_total),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
