/* SPDX-License-Identifier: MIT */
/* test_metric.c: the metric catalogue row by row, MetricValue JSON in and out
 * (every constraint is an error row), deep copies, and window aggregation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/metric.h"
#include "tests/unit/alloc_fail.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The catalogue, stated one rule at a time as the reference states it
 * (sections 3 and 4) rather than row by row, so that a wrong cell in core's
 * table breaks a rule here. Every aws: metric, cloud-side first. */
static const char *const cloud_side[] = {
    "aws:num-messages-sent",       "aws:num-messages-received", "aws:num-authorization-failures",
    "aws:num-connection-attempts", "aws:num-disconnects",       "aws:disconnect-duration",
    "aws:message-byte-size",       "aws:source-ip-address",
};
static const char *const device_side[] = {
    "aws:all-bytes-out",
    "aws:all-bytes-in",
    "aws:all-packets-out",
    "aws:all-packets-in",
    "aws:num-listening-tcp-ports",
    "aws:num-listening-udp-ports",
    "aws:num-established-tcp-connections",
    "aws:listening-tcp-ports",
    "aws:listening-udp-ports",
    "aws:destination-ip-addresses",
};
/* The list metrics; every other aws: metric is a count. */
static const char *const cidr_metrics[] = { "aws:source-ip-address",
                                            "aws:destination-ip-addresses" };
static const char *const port_metrics[] = { "aws:listening-tcp-ports", "aws:listening-udp-ports" };
/* Only less-than and less-than-equals apply to disconnect-duration. */
static const char *const less_only[] = { "aws:disconnect-duration" };
/* No durationSeconds on these besides the lists; optional on one. */
static const char *const no_duration[] = { "aws:disconnect-duration", "aws:message-byte-size" };
static const char *const optional_duration[] = { "aws:num-established-tcp-connections" };
/* The metrics a TOPIC_FILTER or source-IP dimension applies to. */
static const char *const with_dimension[] = {
    "aws:num-messages-sent", "aws:num-messages-received", "aws:num-authorization-failures",
    "aws:message-byte-size", "aws:source-ip-address",
};
/* How a window folds its samples: counters add up, gauges keep the latest,
 * message sizes keep the extreme; lists are not aggregated. */
static const char *const agg_latest[] = {
    "aws:disconnect-duration",
    "aws:num-listening-tcp-ports",
    "aws:num-listening-udp-ports",
    "aws:num-established-tcp-connections",
};
static const char *const agg_extreme[] = { "aws:message-byte-size" };

/* Whether name is one of the n names in set. */
static bool in_set(const char *const *set, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(set[i], name) == 0)
            return true;
    return false;
}

#define IN(set, name) in_set((set), N(set), (name))

/* Check core's row for name against every rule above. */
static void assert_catalogue_row(const char *name, enum metric_side side)
{
    const struct metric_info *got = metric_find(name);
    bool cidrs = IN(cidr_metrics, name), ports = IN(port_metrics, name);
    bool numeric = !cidrs && !ports && !IN(less_only, name);

    assert_non_null(got);
    assert_string_equal(got->name, name);
    assert_int_equal(got->side, side);
    assert_int_equal(got->kind, cidrs   ? METRIC_KIND_CIDRS
                                : ports ? METRIC_KIND_PORTS
                                        : METRIC_KIND_COUNT);
    assert_int_equal(got->ops, cidrs     ? METRIC_OPS_CIDR_SET
                               : ports   ? METRIC_OPS_PORT_SET
                               : numeric ? METRIC_OPS_NUMERIC
                                         : METRIC_OPS_LESS);
    assert_int_equal(got->duration, cidrs || ports || IN(no_duration, name)
                                        ? METRIC_DURATION_FORBIDDEN
                                    : IN(optional_duration, name) ? METRIC_DURATION_OPTIONAL
                                                                  : METRIC_DURATION_REQUIRED);
    /* statisticalThreshold and ML detection: exactly the numeric metrics. */
    assert_int_equal(got->statistical, numeric);
    assert_int_equal(got->ml, numeric);
    assert_int_equal(got->dimension, IN(with_dimension, name));
    assert_int_equal(got->agg, cidrs || ports          ? METRIC_AGG_NONE
                               : IN(agg_latest, name)  ? METRIC_AGG_LATEST
                               : IN(agg_extreme, name) ? METRIC_AGG_EXTREME
                                                       : METRIC_AGG_SUM);
}

static void assert_row(const struct metric_info *got, const struct metric_info *want)
{
    assert_non_null(got);
    assert_int_equal(got->kind, want->kind);
    assert_int_equal(got->side, want->side);
    assert_int_equal(got->ops, want->ops);
    assert_int_equal(got->duration, want->duration);
    assert_int_equal(got->statistical, want->statistical);
    assert_int_equal(got->ml, want->ml);
    assert_int_equal(got->dimension, want->dimension);
    assert_int_equal(got->agg, want->agg);
}

static void test_catalogue(void **state)
{
    static const char *const unknown[] = { "aws:nope", "num-messages-sent", "",
                                           "aws:NUM-MESSAGES-SENT", "aws:" };
    size_t i;

    (void)state;
    for (i = 0; i < N(cloud_side); i++)
        assert_catalogue_row(cloud_side[i], METRIC_SIDE_CLOUD);
    for (i = 0; i < N(device_side); i++)
        assert_catalogue_row(device_side[i], METRIC_SIDE_DEVICE);
    for (i = 0; i < N(unknown); i++)
        assert_null(metric_find(unknown[i]));
}

static void test_custom_types(void **state)
{
    static const struct {
        const char *name;
        enum metric_custom_type type;
        struct metric_info want;
    } rows[] = {
        { "number",
          METRIC_CUSTOM_NUMBER,
          { "number", METRIC_KIND_NUMBER, METRIC_SIDE_CUSTOM, METRIC_OPS_NUMERIC,
            METRIC_DURATION_OPTIONAL, true, true, false, METRIC_AGG_NONE } },
        { "number-list",
          METRIC_CUSTOM_NUMBER_LIST,
          { "number-list", METRIC_KIND_NUMBERS, METRIC_SIDE_CUSTOM, METRIC_OPS_SET,
            METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_NONE } },
        { "string-list",
          METRIC_CUSTOM_STRING_LIST,
          { "string-list", METRIC_KIND_STRINGS, METRIC_SIDE_CUSTOM, METRIC_OPS_SET,
            METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_NONE } },
        { "ip-address-list",
          METRIC_CUSTOM_IP_ADDRESS_LIST,
          { "ip-address-list", METRIC_KIND_CIDRS, METRIC_SIDE_CUSTOM, METRIC_OPS_CIDR_SET,
            METRIC_DURATION_FORBIDDEN, false, false, false, METRIC_AGG_NONE } },
    };
    enum metric_custom_type t;
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        assert_int_equal(metric_custom_type_parse(rows[i].name, &t), DD_OK);
        assert_int_equal(t, rows[i].type);
        assert_string_equal(metric_custom_type_name(t), rows[i].name);
        assert_row(metric_custom_info(t), &rows[i].want);
    }
    t = METRIC_CUSTOM_STRING_LIST;
    assert_int_equal(metric_custom_type_parse("Number", &t), DD_ERR_INVALID);
    assert_int_equal(t, METRIC_CUSTOM_NUMBER);
}

static void test_operators_and_durations(void **state)
{
    static const char *const names[] = { "less-than",    "less-than-equals",
                                         "greater-than", "greater-than-equals",
                                         "in-cidr-set",  "not-in-cidr-set",
                                         "in-port-set",  "not-in-port-set",
                                         "in-set",       "not-in-set" };
    enum metric_op op;
    size_t i;

    (void)state;
    for (i = 0; i < N(names); i++) {
        assert_int_equal(metric_op_parse(names[i], &op), DD_OK);
        assert_int_equal(op, (enum metric_op)i);
        assert_string_equal(metric_op_name(op), names[i]);
    }
    op = METRIC_OP_IN_SET;
    assert_int_equal(metric_op_parse("equals", &op), DD_ERR_INVALID);
    assert_int_equal(op, METRIC_OP_LESS_THAN);
    for (i = 0; i < N(metric_durations); i++)
        assert_true(metric_duration_valid(metric_durations[i]));
    assert_false(metric_duration_valid(0));
    assert_false(metric_duration_valid(60));
    assert_false(metric_duration_valid(300.5));
    assert_false(metric_duration_valid(7200));
}

/* Valid MetricValues: JSON in, kind, JSON out (the canonical text). */
static const struct {
    const char *in;
    enum metric_kind kind;
    const char *out;
} good[] = {
    { "{\"count\":30}", METRIC_KIND_COUNT, "{\"count\":30}" },
    { "{\"count\":0}", METRIC_KIND_COUNT, "{\"count\":0}" },
    { "{\"count\":9007199254740992}", METRIC_KIND_COUNT, "{\"count\":9007199254740992}" },
    { "{\"number\":-71.5}", METRIC_KIND_NUMBER, "{\"number\":-71.5}" },
    { "{\"numbers\":[1,2.5]}", METRIC_KIND_NUMBERS, "{\"numbers\":[1,2.5]}" },
    { "{\"numbers\":[]}", METRIC_KIND_NUMBERS, "{\"numbers\":[]}" },
    { "{\"strings\":[\"a\",\"b c\"]}", METRIC_KIND_STRINGS, "{\"strings\":[\"a\",\"b c\"]}" },
    { "{\"cidrs\":[\"10.0.0.0/8\",\"::1\"]}", METRIC_KIND_CIDRS,
      "{\"cidrs\":[\"10.0.0.0/8\",\"::1\"]}" },
    { "{\"ports\":[0,22,65535]}", METRIC_KIND_PORTS, "{\"ports\":[0,22,65535]}" },
    { "{\"count\":5,\"unknown\":1,\"ports\":null}", METRIC_KIND_COUNT, "{\"count\":5}" },
};

static void test_value_round_trip(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(good); i++) {
        struct metric_value v, copy;
        struct dd_errbuf eb;
        cJSON *in = cJSON_Parse(good[i].in), *out;
        char *text;

        assert_non_null(in);
        assert_int_equal(metric_value_from_json(in, &v, &eb), DD_OK);
        assert_int_equal(v.kind, good[i].kind);
        assert_int_equal(metric_value_copy(&v, &copy), DD_OK);
        metric_value_cleanup(&v);
        out = metric_value_to_json(&copy);
        text = cJSON_PrintUnformatted(out);
        assert_string_equal(text, good[i].out);
        free(text);
        cJSON_Delete(out);
        cJSON_Delete(in);
        metric_value_cleanup(&copy);
        assert_int_equal(copy.kind, METRIC_KIND_NONE);
    }
    metric_value_cleanup(NULL);
}

/* Counts the engine sums up can pass 2^53; they still print digit for digit. */
static void test_big_count_prints_exactly(void **state)
{
    struct metric_value v = { .kind = METRIC_KIND_COUNT, .count = 12345678901234567891u };
    cJSON *out;
    char *text;

    (void)state;
    out = metric_value_to_json(&v);
    text = cJSON_PrintUnformatted(out);
    assert_string_equal(text, "{\"count\":12345678901234567891}");
    free(text);
    cJSON_Delete(out);
    v.count = 999999999999999u;
    out = metric_value_to_json(&v);
    text = cJSON_PrintUnformatted(out);
    assert_string_equal(text, "{\"count\":999999999999999}");
    free(text);
    cJSON_Delete(out);
}

/* metric_value_text writes what cJSON prints, or declines (0) and leaves it
 * to cJSON: one row per kind, edge and refusal. */
static char *text_strings[][3] = {
    { "10.0.0.0/8", "::1", NULL },
    { "a\"b", NULL, NULL },
    { "tab\there", NULL, NULL },
    { "back\\slash", NULL, NULL },
};

static const struct {
    struct metric_value v;
    size_t size;
    const char *want; /* NULL: declined */
} texts[] = {
    { { .kind = METRIC_KIND_COUNT, .count = 0 }, 40, "{\"count\":0}" },
    { { .kind = METRIC_KIND_COUNT, .count = 999999999999999u }, 40, "{\"count\":999999999999999}" },
    { { .kind = METRIC_KIND_COUNT, .count = UINT64_MAX }, 40, "{\"count\":18446744073709551615}" },
    { { .kind = METRIC_KIND_COUNT, .count = 123 }, 14, "{\"count\":123}" },
    { { .kind = METRIC_KIND_COUNT, .count = 1234 }, 14, NULL },
    { { .kind = METRIC_KIND_NUMBER, .number = 0 }, 40, "{\"number\":0}" },
    { { .kind = METRIC_KIND_NUMBER, .number = -0.0 }, 40, "{\"number\":-0}" },
    { { .kind = METRIC_KIND_NUMBER, .number = 512 }, 40, "{\"number\":512}" },
    { { .kind = METRIC_KIND_NUMBER, .number = -7 }, 40, "{\"number\":-7}" },
    { { .kind = METRIC_KIND_NUMBER, .number = 2147483646 }, 40, "{\"number\":2147483646}" },
    { { .kind = METRIC_KIND_NUMBER, .number = -2147483647 }, 40, "{\"number\":-2147483647}" },
    { { .kind = METRIC_KIND_NUMBER, .number = 2147483648.0 }, 40, "{\"number\":2147483648}" },
    { { .kind = METRIC_KIND_NUMBER, .number = 999999999999999.0 },
      40,
      "{\"number\":999999999999999}" },
    { { .kind = METRIC_KIND_NUMBER, .number = 1e15 }, 40, NULL },
    { { .kind = METRIC_KIND_NUMBER, .number = -1e15 }, 40, NULL },
    { { .kind = METRIC_KIND_NUMBER, .number = 0.5 }, 40, NULL },
    { { .kind = METRIC_KIND_NUMBER, .number = 100.25 }, 40, NULL },
    { { .kind = METRIC_KIND_CIDRS, .n = 2, .strings = text_strings[0] },
      40,
      "{\"cidrs\":[\"10.0.0.0/8\",\"::1\"]}" },
    { { .kind = METRIC_KIND_CIDRS, .n = 0, .strings = text_strings[0] }, 40, "{\"cidrs\":[]}" },
    { { .kind = METRIC_KIND_STRINGS, .n = 1, .strings = text_strings[0] },
      40,
      "{\"strings\":[\"10.0.0.0/8\"]}" },
    { { .kind = METRIC_KIND_CIDRS, .n = 2, .strings = text_strings[0] }, 30, NULL },
    { { .kind = METRIC_KIND_STRINGS, .n = 1, .strings = text_strings[1] }, 40, NULL },
    { { .kind = METRIC_KIND_STRINGS, .n = 1, .strings = text_strings[2] }, 40, NULL },
    { { .kind = METRIC_KIND_STRINGS, .n = 1, .strings = text_strings[3] }, 40, NULL },
    { { .kind = METRIC_KIND_NONE }, 40, NULL },
};

static void test_value_text(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(texts); i++) {
        char buf[64];
        size_t len = metric_value_text(&texts[i].v, buf, texts[i].size);
        cJSON *tree = metric_value_to_json(&texts[i].v);
        char *printed = cJSON_PrintUnformatted(tree);

        assert_non_null(printed);
        if (!texts[i].want) {
            assert_int_equal(len, 0);
        } else {
            assert_int_equal(len, strlen(texts[i].want));
            assert_string_equal(buf, texts[i].want);
            assert_string_equal(buf, printed); /* the text cJSON would print */
        }
        free(printed);
        cJSON_Delete(tree);
    }
}

/* Every constraint of MetricValue, one row each, with the reason's start. */
static const struct {
    const char *in;
    const char *why;
} bad[] = {
    { "[]", "value should be an object" },
    { "{}", "value should have exactly one" },
    { "{\"count\":1,\"number\":1}", "value should have exactly one" },
    { "{\"count\":-1}", "value.count should be an integer" },
    { "{\"count\":1.5}", "value.count should be an integer" },
    { "{\"count\":\"3\"}", "value.count should be an integer" },
    { "{\"count\":9007199254740994}", "value.count should be an integer" },
    { "{\"number\":\"x\"}", "value.number should be a number" },
    { "{\"number\":1e999}", "value.number should be a number" },
    { "{\"numbers\":1}", "value.numbers should be a list" },
    { "{\"numbers\":[1,\"a\"]}", "value.numbers elements should be numbers" },
    { "{\"ports\":[22,65536]}", "value.ports elements should be integers" },
    { "{\"ports\":[-1]}", "value.ports elements should be integers" },
    { "{\"ports\":[2.5]}", "value.ports elements should be integers" },
    { "{\"ports\":{}}", "value.ports should be a list" },
    { "{\"cidrs\":[\"1\"]}", "value.cidrs element 1 should be 2-43" },
    { "{\"cidrs\":[\"10.0.0.0/8\",\"host.example\"]}", "value.cidrs element host.example" },
    { "{\"cidrs\":[\"1111:2222:3333:4444:5555:6666:7777:8888/1280\"]}", "value.cidrs element" },
    { "{\"cidrs\":[7]}", "value.cidrs elements should be strings" },
    { "{\"strings\":[\"a\",1]}", "value.strings elements should be strings" },
};

static void test_value_errors(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(bad); i++) {
        struct metric_value v;
        struct dd_errbuf eb;
        cJSON *in = cJSON_Parse(bad[i].in);

        assert_non_null(in);
        memset(&v, 0xa5, sizeof(v));
        assert_int_equal(metric_value_from_json(in, &v, &eb), DD_ERR_INVALID);
        assert_int_equal(v.kind, METRIC_KIND_NONE);
        assert_null(v.strings);
        assert_null(v.numbers);
        assert_null(v.ports);
        if (strncmp(eb.msg, bad[i].why, strlen(bad[i].why)) != 0)
            fail_msg("row %zu: got \"%s\", want \"%s...\"", i, eb.msg, bad[i].why);
        cJSON_Delete(in);
    }
}

static int value_case(void *p)
{
    cJSON *in = cJSON_Parse(good[*(const size_t *)p].in), *out = NULL;
    struct metric_value v = { 0 }, copy = { 0 };
    int rc;

    if (!in)
        return DD_ERR_NOMEM;
    rc = metric_value_from_json(in, &v, NULL);
    if (!rc)
        rc = metric_value_copy(&v, &copy);
    if (!rc) {
        out = metric_value_to_json(&copy);
        rc = out ? DD_OK : DD_ERR_NOMEM;
    }
    cJSON_Delete(out);
    cJSON_Delete(in);
    metric_value_cleanup(&v);
    metric_value_cleanup(&copy);
    return rc;
}

static void test_value_alloc_fail(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(good); i++)
        alloc_fail_sweep(value_case, &i);
}

static void test_stats_add(void **state)
{
    struct metric_stats s = { 0 };

    (void)state;
    metric_stats_add(&s, 7);
    metric_stats_add(&s, 3);
    metric_stats_add(&s, 9);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.sum, 19);
    assert_int_equal(s.min, 3);
    assert_int_equal(s.max, 9);
    assert_int_equal(s.last, 9);
    metric_stats_add(&s, UINT64_MAX);
    assert_true(s.sum == UINT64_MAX);
}

/* Window rows: metric, operator, statistical, buckets, expected rc and value. */
static void test_window_value(void **state)
{
    static const struct metric_stats empty = { 0 };
    /* three buckets, oldest first: {n,sum,min,max,last} */
    static const struct metric_stats w[3] = {
        { 1, 10, 10, 10, 10 },
        { 0, 0, 0, 0, 0 },
        { 1, 4, 4, 4, 4 },
    };
    static const struct metric_stats sizes[2] = {
        { 3, 600, 100, 300, 200 },
        { 2, 90, 40, 50, 50 },
    };

    static const struct {
        const char *metric;
        enum metric_op op;
        bool statistical;
        const struct metric_stats *b;
        size_t n;
        int rc;
        uint64_t want;
    } rows[] = {
        { "aws:num-messages-sent", METRIC_OP_LESS_THAN, false, w, 3, DD_OK, 14 },
        { "aws:num-messages-sent", METRIC_OP_LESS_THAN, false, w + 2, 1, DD_OK, 4 },
        { "aws:num-messages-sent", METRIC_OP_LESS_THAN, false, &empty, 1, DD_ERR_NOT_FOUND, 0 },
        { "aws:num-messages-sent", METRIC_OP_LESS_THAN, false, w, 0, DD_ERR_INVALID, 0 },
        { "aws:num-listening-tcp-ports", METRIC_OP_LESS_THAN, false, w, 3, DD_OK, 4 },
        { "aws:num-listening-tcp-ports", METRIC_OP_LESS_THAN, false, w, 2, DD_OK, 10 },
        { "aws:message-byte-size", METRIC_OP_LESS_THAN, false, sizes, 2, DD_OK, 300 },
        { "aws:message-byte-size", METRIC_OP_LESS_THAN_EQUALS, false, sizes, 2, DD_OK, 300 },
        { "aws:message-byte-size", METRIC_OP_GREATER_THAN, false, sizes, 2, DD_OK, 40 },
        { "aws:message-byte-size", METRIC_OP_GREATER_THAN_EQUALS, false, sizes, 1, DD_OK, 100 },
        { "aws:message-byte-size", METRIC_OP_LESS_THAN, true, sizes, 2, DD_OK, 690 },
        { "aws:message-byte-size", METRIC_OP_LESS_THAN, false, &empty, 1, DD_ERR_NOT_FOUND, 0 },
        { "aws:listening-tcp-ports", METRIC_OP_IN_PORT_SET, false, w, 3, DD_ERR_INVALID, 0 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        uint64_t got = 99;

        assert_int_equal(metric_window_value(metric_find(rows[i].metric), rows[i].op,
                                             rows[i].statistical, rows[i].b, rows[i].n, &got),
                         rows[i].rc);
        if (got != rows[i].want)
            fail_msg("row %zu: got %llu, want %llu", i, (unsigned long long)got,
                     (unsigned long long)rows[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_catalogue),
        cmocka_unit_test(test_custom_types),
        cmocka_unit_test(test_operators_and_durations),
        cmocka_unit_test(test_value_round_trip),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_big_count_prints_exactly),
        cmocka_unit_test(test_value_text),
        cmocka_unit_test(test_value_alloc_fail),
        cmocka_unit_test(test_stats_add),
        cmocka_unit_test(test_window_value),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
