/* SPDX-License-Identifier: MIT */
/* test_evaluate.c: CIDR parsing and containment (IPv4 and IPv6), the verdict
 * for every operator and value kind, the violation state machine, the
 * nearest-rank percentile and the ML stand-in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/evaluate.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/behavior_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_cidr_parse(void **state)
{
    static const struct {
        const char *in;
        int rc, family;
        unsigned prefix;
    } rows[] = {
        { "10.0.0.1", DD_OK, 4, 32 },
        { "10.0.0.0/8", DD_OK, 4, 8 },
        { "0.0.0.0/0", DD_OK, 4, 0 },
        { "192.168.1.77/24", DD_OK, 4, 24 },
        { "::1", DD_OK, 6, 128 },
        { "2001:db8::/32", DD_OK, 6, 32 },
        { "::/0", DD_OK, 6, 0 },
        { "::ffff:1.2.3.4", DD_OK, 6, 128 },
        { "2001:DB8::1/128", DD_OK, 6, 128 },
        { "", DD_ERR_INVALID, 0, 0 },
        { "1", DD_ERR_INVALID, 0, 0 },
        { "1.2.3", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.256", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.0/33", DD_ERR_INVALID, 0, 0 },
        { "::/129", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.0/", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.0/-1", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.0/ 8", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.0/0008", DD_ERR_INVALID, 0, 0 },
        { "10.0.0.0/8/8", DD_ERR_INVALID, 0, 0 },
        { "/8", DD_ERR_INVALID, 0, 0 },
        { "host.example", DD_ERR_INVALID, 0, 0 },
        { "1:2:3:4:5:6:7:8:9", DD_ERR_INVALID, 0, 0 },
        { "0000:0000:0000:0000:0000:0000:0000:0000:0000:0001", DD_ERR_INVALID, 0, 0 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct evaluate_cidr c;

        memset(&c, 0x5a, sizeof(c));
        if (evaluate_cidr_parse(rows[i].in, &c) != rows[i].rc)
            fail_msg("row %zu (%s): wrong rc", i, rows[i].in);
        assert_int_equal(c.family, rows[i].family);
        assert_int_equal(c.prefix, rows[i].prefix);
    }
}

static void test_cidr_contains(void **state)
{
    static const struct {
        const char *outer, *inner;
        bool in;
    } rows[] = {
        { "10.0.0.0/8", "10.1.2.3", true },
        { "10.0.0.0/8", "11.0.0.0", false },
        { "10.0.0.0/8", "10.0.0.0/8", true },
        { "10.0.0.0/8", "10.0.0.0/7", false },
        { "10.0.0.0/9", "10.127.255.255", true },
        { "10.0.0.0/9", "10.128.0.0", false },
        { "10.9.9.9/8", "10.1.1.1", true }, /* host bits past the prefix are ignored */
        { "0.0.0.0/0", "203.0.113.9", true },
        { "203.0.113.9", "203.0.113.9", true },
        { "203.0.113.9", "203.0.113.8", false },
        { "2001:db8::/32", "2001:db8:ffff::1", true },
        { "2001:db8::/32", "2001:db9::1", false },
        { "2001:db8::/33", "2001:db8:8000::", false },
        { "::/0", "::1", true },
        { "::/0", "10.0.0.1", false }, /* families never mix */
        { "0.0.0.0/0", "::ffff:10.0.0.1", false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct evaluate_cidr a, b;

        assert_int_equal(evaluate_cidr_parse(rows[i].outer, &a), DD_OK);
        assert_int_equal(evaluate_cidr_parse(rows[i].inner, &b), DD_OK);
        if (evaluate_cidr_contains(&a, &b) != rows[i].in)
            fail_msg("row %zu: %s contains %s", i, rows[i].outer, rows[i].inner);
    }
}

static char *set_v4[] = { "10.0.0.0/8", "192.168.1.0/24" };
static char *set_v6[] = { "2001:db8::/32" };
static char *dp_inside[] = { "10.1.2.3", "192.168.1.9/32" };
static char *dp_mixed[] = { "10.1.2.3", "8.8.8.8" };
static char *dp_outside[] = { "8.8.8.8", "1.1.1.1" };
static char *dp_v6[] = { "2001:db8::7" };
static char *dp_bad[] = { "10.1.2.3", "nonsense" };
static uint16_t ports_ok[] = { 8883, 443 };
static uint16_t ports_dp_in[] = { 443 };
static uint16_t ports_dp_mixed[] = { 443, 22 };
static uint16_t ports_dp_out[] = { 22 };
static double nums_set[] = { 1, 2.5 };
static double nums_in[] = { 2.5, 1 };
static double nums_mixed[] = { 2.5, 3 };
static char *strs_set[] = { "a", "b" };
static char *strs_in[] = { "b" };
static char *strs_mixed[] = { "b", "c" };

static void test_verdict_table(void **state)
{
    static const struct {
        enum metric_op op;
        struct metric_value threshold, datapoint;
        int rc;
        bool violates;
    } rows[] = {
        /* numeric: compliant iff "datapoint op threshold" holds */
        { METRIC_OP_LESS_THAN, COUNT(10), COUNT(54), DD_OK, true }, /* the workshop alert */
        { METRIC_OP_LESS_THAN, COUNT(10), COUNT(10), DD_OK, true },
        { METRIC_OP_LESS_THAN, COUNT(10), COUNT(9), DD_OK, false },
        { METRIC_OP_LESS_THAN_EQUALS, COUNT(10), COUNT(10), DD_OK, false },
        { METRIC_OP_LESS_THAN_EQUALS, COUNT(10), COUNT(11), DD_OK, true },
        { METRIC_OP_GREATER_THAN, COUNT(10), COUNT(0), DD_OK, true }, /* the CLI example */
        { METRIC_OP_GREATER_THAN, COUNT(10), COUNT(10), DD_OK, true },
        { METRIC_OP_GREATER_THAN, COUNT(10), COUNT(11), DD_OK, false },
        { METRIC_OP_GREATER_THAN_EQUALS, COUNT(10), COUNT(10), DD_OK, false },
        { METRIC_OP_GREATER_THAN_EQUALS, COUNT(10), COUNT(9), DD_OK, true },
        { METRIC_OP_LESS_THAN, COUNT(UINT64_MAX), COUNT(UINT64_MAX - 1), DD_OK, false },
        { METRIC_OP_LESS_THAN, NUMBER(71.5), NUMBER(71.4), DD_OK, false },
        { METRIC_OP_LESS_THAN, NUMBER(71.5), NUMBER(71.5), DD_OK, true },
        { METRIC_OP_GREATER_THAN_EQUALS, NUMBER(-1), NUMBER(-1.5), DD_OK, true },
        { METRIC_OP_LESS_THAN_EQUALS, NUMBER(90.5), COUNT(90), DD_OK, false }, /* percentile */
        { METRIC_OP_LESS_THAN_EQUALS, NUMBER(90.5), COUNT(91), DD_OK, true },
        /* CIDR sets */
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_inside), DD_OK, false },
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_mixed), DD_OK, true },
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_outside), DD_OK, true },
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v4), EMPTY(METRIC_KIND_CIDRS), DD_OK, false },
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_v6), DD_OK, true },
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v6), CIDRS(dp_v6), DD_OK, false },
        { METRIC_OP_IN_CIDR_SET, EMPTY(METRIC_KIND_CIDRS), CIDRS(dp_inside), DD_OK, true },
        { METRIC_OP_NOT_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_outside), DD_OK, false },
        { METRIC_OP_NOT_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_mixed), DD_OK, true },
        { METRIC_OP_NOT_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_inside), DD_OK, true },
        { METRIC_OP_NOT_IN_CIDR_SET, CIDRS(set_v6), CIDRS(dp_v6), DD_OK, true },
        { METRIC_OP_NOT_IN_CIDR_SET, CIDRS(set_v4), EMPTY(METRIC_KIND_CIDRS), DD_OK, false },
        { METRIC_OP_IN_CIDR_SET, CIDRS(set_v4), CIDRS(dp_bad), DD_ERR_INVALID, false },
        { METRIC_OP_IN_CIDR_SET, CIDRS(dp_bad), CIDRS(dp_inside), DD_ERR_INVALID, false },
        /* port sets: the troubleshooting FAQ's {8888} vs 443 is the 3rd row's shape */
        { METRIC_OP_IN_PORT_SET, PORTS(ports_ok), PORTS(ports_dp_in), DD_OK, false },
        { METRIC_OP_IN_PORT_SET, PORTS(ports_ok), PORTS(ports_dp_mixed), DD_OK, true },
        { METRIC_OP_IN_PORT_SET, PORTS(ports_dp_out), PORTS(ports_dp_in), DD_OK, true },
        { METRIC_OP_IN_PORT_SET, PORTS(ports_ok), EMPTY(METRIC_KIND_PORTS), DD_OK, false },
        { METRIC_OP_NOT_IN_PORT_SET, PORTS(ports_dp_out), PORTS(ports_dp_in), DD_OK, false },
        { METRIC_OP_NOT_IN_PORT_SET, PORTS(ports_dp_out), PORTS(ports_dp_mixed), DD_OK, true },
        { METRIC_OP_NOT_IN_PORT_SET, PORTS(ports_ok), EMPTY(METRIC_KIND_PORTS), DD_OK, false },
        /* custom number-list and string-list */
        { METRIC_OP_IN_SET, NUMS(nums_set), NUMS(nums_in), DD_OK, false },
        { METRIC_OP_IN_SET, NUMS(nums_set), NUMS(nums_mixed), DD_OK, true },
        { METRIC_OP_NOT_IN_SET, NUMS(nums_set), NUMS(nums_mixed), DD_OK, true },
        { METRIC_OP_NOT_IN_SET, NUMS(nums_set), EMPTY(METRIC_KIND_NUMBERS), DD_OK, false },
        { METRIC_OP_IN_SET, STRS(strs_set), STRS(strs_in), DD_OK, false },
        { METRIC_OP_IN_SET, STRS(strs_set), STRS(strs_mixed), DD_OK, true },
        { METRIC_OP_NOT_IN_SET, STRS(strs_set), STRS(strs_mixed), DD_OK, true },
        { METRIC_OP_NOT_IN_SET, STRS(strs_in), STRS(set_v4), DD_OK, false },
        { METRIC_OP_IN_SET, STRS(strs_set), EMPTY(METRIC_KIND_STRINGS), DD_OK, false },
        /* operator and kinds that do not fit */
        { METRIC_OP_LESS_THAN, COUNT(1), CIDRS(dp_inside), DD_ERR_INVALID, false },
        { METRIC_OP_LESS_THAN, PORTS(ports_ok), COUNT(1), DD_ERR_INVALID, false },
        { METRIC_OP_IN_CIDR_SET, PORTS(ports_ok), CIDRS(dp_inside), DD_ERR_INVALID, false },
        { METRIC_OP_IN_PORT_SET, PORTS(ports_ok), COUNT(443), DD_ERR_INVALID, false },
        { METRIC_OP_IN_SET, NUMS(nums_set), STRS(strs_in), DD_ERR_INVALID, false },
        { METRIC_OP_IN_SET, CIDRS(set_v4), CIDRS(dp_inside), DD_ERR_INVALID, false },
        { METRIC_OP_NOT_IN_SET, COUNT(1), COUNT(1), DD_ERR_INVALID, false },
        { METRIC_OP_GREATER_THAN, EMPTY(METRIC_KIND_NONE), COUNT(1), DD_ERR_INVALID, false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        bool v = !rows[i].violates;
        int rc = evaluate_violates(rows[i].op, &rows[i].threshold, &rows[i].datapoint, &v);

        if (rc != rows[i].rc || v != rows[i].violates)
            fail_msg("row %zu (%s): rc %d violates %d", i, metric_op_name(rows[i].op), rc, v);
    }
}

/* Feed a string of datapoints ('V' violating, 'c' compliant, 'x' invalidate)
 * and compare the events ('.' none, 'A' in-alarm, 'C' cleared, 'I'
 * invalidated). */
static void test_state_machine(void **state)
{
    static const struct {
        int to_alarm, to_clear;
        const char *in, *want;
    } rows[] = {
        { 1, 1, "VVcc", "A.C." },
        { 3, 1, "VVVV", "..A." },
        { 3, 1, "VVcVVcVVV", "........A" }, /* a compliant datapoint resets the streak */
        { 3, 2, "VVVcVcc", "..A...C" },     /* a violating one resets the clear streak */
        { 2, 3, "VVcccVVccc", ".A..C.A..C" },
        { 1, 1, "Vx", "AI" },
        { 2, 1, "Vxc", "..." }, /* invalidating outside an alarm: nothing; streak gone */
        { 2, 1, "VxV", "..." },
        { 0, 0, "Vc", "AC" }, /* below 1 acts as 1 */
        { 10, 10, "VVVVVVVVVV", ".........A" },
        { 1, 1, "ccc", "..." },
    };

    size_t i, j;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct evaluate_state st = { 0 };
        char got[32] = { 0 };

        for (j = 0; rows[i].in[j]; j++) {
            enum evaluate_event e;

            if (rows[i].in[j] == 'x')
                e = evaluate_invalidate(&st);
            else
                e = evaluate_step(&st, rows[i].in[j] == 'V', rows[i].to_alarm, rows[i].to_clear);
            got[j] = e == EVALUATE_EVENT_IN_ALARM            ? 'A'
                     : e == EVALUATE_EVENT_ALARM_CLEARED     ? 'C'
                     : e == EVALUATE_EVENT_ALARM_INVALIDATED ? 'I'
                                                             : '.';
        }
        if (strcmp(got, rows[i].want) != 0)
            fail_msg("row %zu: %s gave %s, want %s", i, rows[i].in, got, rows[i].want);
    }
}

static void test_percentile(void **state)
{
    static const struct {
        double p;
        size_t n;
        double values[10];
        int rc;
        double want;
    } rows[] = {
        { 50, 4, { 40, 10, 30, 20 }, DD_OK, 20 },
        { 90, 10, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, DD_OK, 9 },
        { 99, 10, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, DD_OK, 10 },
        { 10, 10, { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 }, DD_OK, 1 },
        { 0, 3, { 5, 3, 9 }, DD_OK, 3 },
        { 0.01, 3, { 5, 3, 9 }, DD_OK, 3 },
        { 100, 3, { 5, 3, 9 }, DD_OK, 9 },
        { 50, 2, { 7, 7 }, DD_OK, 7 },
        { 50, 1, { 7 }, DD_ERR_STATE, 0 },
        { 50, 0, { 0 }, DD_ERR_STATE, 0 },
        { 101, 3, { 1, 2, 3 }, DD_ERR_INVALID, 0 },
        { -1, 3, { 1, 2, 3 }, DD_ERR_INVALID, 0 },
        { 50, 3, { 1, -2, 3 }, DD_ERR_INVALID, 0 },
    };

    double big[1000];
    double out;
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        double v[10];

        memcpy(v, rows[i].values, sizeof(v));
        out = -1;
        assert_int_equal(evaluate_percentile(v, rows[i].n, rows[i].p, &out), rows[i].rc);
        if (out != rows[i].want)
            fail_msg("row %zu: got %g want %g", i, out, rows[i].want);
    }
    for (i = 0; i < N(big); i++)
        big[i] = (double)(N(big) - i);
    assert_int_equal(evaluate_percentile(big, N(big), 99.9, &out), DD_OK);
    assert_true(out == 999);
    assert_int_equal(evaluate_percentile(big, N(big), 99.99, &out), DD_OK);
    assert_true(out == 1000);
    assert_int_equal(evaluate_percentile(big, N(big), 0.1, &out), DD_OK);
    assert_true(out == 1);
}

/* Leaving one device out of a sorted fleet gives what evaluate_percentile()
 * gives for the others alone, for every device and several percentiles. */
static void test_percentile_excluding_matches_the_copy(void **state)
{
    static const double fleet[] = { 0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 34, 55 };
    static const double ps[] = { 0, 0.1, 10, 50, 90, 99.99, 100 };
    const size_t n = sizeof(fleet) / sizeof(fleet[0]);
    size_t i, j, k, m;
    double peers[12], want, got;

    (void)state;
    for (i = 0; i < n; i++) {
        for (k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
            for (j = 0, m = 0; j < n; j++)
                if (j != i)
                    peers[m++] = fleet[j];
            assert_int_equal(evaluate_percentile(peers, m, ps[k], &want), DD_OK);
            assert_int_equal(evaluate_percentile_excluding(fleet, n, fleet[i], ps[k], &got), DD_OK);
            assert_true(got == want);
        }
    }
    assert_int_equal(evaluate_percentile_excluding(fleet, 2, 0, 50, &got), DD_ERR_STATE);
    assert_int_equal(evaluate_percentile_excluding(fleet, n, 4, 50, &got), DD_ERR_INVALID);
    assert_true(got == 0);
    assert_int_equal(evaluate_percentile_excluding(fleet, n, 1, 101, &got), DD_ERR_INVALID);
    assert_int_equal(evaluate_percentile_excluding(fleet, n, -1, 50, &got), DD_ERR_INVALID);
}

static void test_ml_stand_in(void **state)
{
    /* mean 10, population standard deviation 1 */
    static const double hist[12] = { 9, 11, 9, 11, 9, 11, 9, 11, 9, 11, 9, 11 };
    static const double flat[12] = { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 };

    static const struct {
        const double *h;
        size_t n;
        double value;
        enum evaluate_confidence level;
        int rc;
        bool violates;
    } rows[] = {
        { hist, 12, 12.5, EVALUATE_CONFIDENCE_LOW, DD_OK, true },
        { hist, 12, 12.5, EVALUATE_CONFIDENCE_MEDIUM, DD_OK, false },
        { hist, 12, 13.5, EVALUATE_CONFIDENCE_MEDIUM, DD_OK, true },
        { hist, 12, 13.5, EVALUATE_CONFIDENCE_HIGH, DD_OK, false },
        { hist, 12, 14.5, EVALUATE_CONFIDENCE_HIGH, DD_OK, true },
        { hist, 12, 5.5, EVALUATE_CONFIDENCE_HIGH, DD_OK, true }, /* both directions */
        { hist, 12, 10, EVALUATE_CONFIDENCE_LOW, DD_OK, false },
        { flat, 12, 5, EVALUATE_CONFIDENCE_LOW, DD_OK, false },
        { flat, 12, 6, EVALUATE_CONFIDENCE_HIGH, DD_OK, true },
        { hist, 11, 100, EVALUATE_CONFIDENCE_LOW, DD_ERR_STATE, false },
        { hist, 0, 100, EVALUATE_CONFIDENCE_LOW, DD_ERR_STATE, false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        bool v = !rows[i].violates;

        assert_int_equal(evaluate_ml(rows[i].h, rows[i].n, rows[i].value, rows[i].level, &v),
                         rows[i].rc);
        if (v != rows[i].violates)
            fail_msg("row %zu: violates %d", i, v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_cidr_contains),
        cmocka_unit_test(test_verdict_table),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_ml_stand_in),
        cmocka_unit_test(test_percentile_excluding_matches_the_copy),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
