/* SPDX-License-Identifier: MIT */
/* test_store_retained.c: retained metric values on real SQLite (:memory:
 * with every migration): rows written as the engine writes them
 * (store_detect_series + store_detect_datapoint_add on the thing's retained
 * series), read back by key with store_retained_each (time range, offset
 * and limit, other keys and things, judged series left out), and each
 * profile's retained metrics and export configuration
 * (store_detect_each_profile_retain). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/defender/store_detect.h"
#include "store/defender/store_retained.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A datapoint of thing's series (profile, profile); counter and count, when
 * counter is not 0, are the counter total it carries. */
static void add_carrier(struct store *s, const char *thing, const char *profile, int64_t time_ms,
                        const char *json, int counter, uint64_t count)
{
    struct store_datapoint dp = { .time_ms = time_ms,
                                  .value_json = json,
                                  .verdict = "no-verdict",
                                  .retained_metric = counter,
                                  .retained_count = count };
    bool created;

    assert_int_equal(store_detect_series(s, thing, profile, profile, &dp.series, &created), DD_OK);
    assert_int_equal(store_detect_datapoint_add(s, &dp), DD_OK);
}

static void add_row(struct store *s, const char *thing, const char *profile, int64_t time_ms,
                    const char *json)
{
    add_carrier(s, thing, profile, time_ms, json, 0, 0);
}

/* "time=value;" per row. */
static int collect(void *ctx, int64_t time_ms, const char *value_json)
{
    char *out = ctx;
    size_t len = strlen(out);

    snprintf(out + len, 1024 - len, "%lld=%s;", (long long)time_ms, value_json);
    return DD_OK;
}

static struct store *open_rows(void)
{
    struct store *s = store_fixture_open();

    add_row(s, "dev", "", 300000, "{\"aws:num-messages-sent\":{\"count\":1}}");
    add_row(s, "dev", "", 600000,
            "{\"aws:num-messages-sent\":{\"count\":2},"
            "\"aws:num-messages-sent|T|IN\":{\"count\":0}}");
    add_row(s, "dev", "", 601234, "{\"aws:all-bytes-out\":{\"count\":7}}");
    add_row(s, "dev", "", 900000, "{\"aws:num-messages-sent\":{\"count\":3}}");
    add_row(s, "other", "", 600000, "{\"aws:num-messages-sent\":{\"count\":9}}");
    /* A judged series of the same thing: not a retained value. */
    add_row(s, "dev", "P", 600000, "{\"aws:num-messages-sent\":{\"count\":8}}");
    /* Judged datapoints that carry a counter's total (schema/027): sent
     * (1) by P's, received (2) by Q's over a longer duration; another
     * thing's. */
    add_carrier(s, "dev", "P", 1200000, "{\"count\":8}", 1, 4);
    add_carrier(s, "dev", "Q", 1200000, "{\"count\":20}", 2, 0);
    add_carrier(s, "dev", "P", 1500000, "{\"count\":8}", 1, 5);
    add_carrier(s, "other", "P", 1200000, "{\"count\":1}", 1, 1);
    return s;
}

struct row {
    const char *thing, *key;
    int counter; /* enum export_counter */
    int64_t from, to, offset;
    int limit;
    const char *want;
};

static const struct row rows[] = {
    { "dev", "aws:num-messages-sent", 1, 0, 1000000, 0, 10,
      "300000={\"count\":1};600000={\"count\":2};900000={\"count\":3};" },
    /* the rows and the carried totals, in time order */
    { "dev", "aws:num-messages-sent", 1, 0, 2000000, 0, 10,
      "300000={\"count\":1};600000={\"count\":2};900000={\"count\":3};"
      "1200000={\"count\":4};1500000={\"count\":5};" },
    { "dev", "aws:num-messages-sent", 1, 1000000, 2000000, 1, 10, "1500000={\"count\":5};" },
    /* a carried zero; without the counter's number, no carried total */
    { "dev", "aws:num-messages-received", 2, 0, 2000000, 0, 10, "1200000={\"count\":0};" },
    { "dev", "aws:num-messages-sent", 0, 1000001, 2000000, 0, 10, "" },
    { "other", "aws:num-messages-sent", 1, 1000000, 2000000, 0, 10, "1200000={\"count\":1};" },
    /* inclusive at both ends */
    { "dev", "aws:num-messages-sent", 1, 600000, 900000, 0, 10,
      "600000={\"count\":2};900000={\"count\":3};" },
    { "dev", "aws:num-messages-sent", 1, 600001, 899999, 0, 10, "" },
    /* offset and limit: the pages of a listing */
    { "dev", "aws:num-messages-sent", 1, 0, 1000000, 1, 1, "600000={\"count\":2};" },
    { "dev", "aws:num-messages-sent", 1, 0, 1000000, 3, 10, "" },
    /* a dimension's key; a device report's time */
    { "dev", "aws:num-messages-sent|T|IN", 0, 0, 1000000, 0, 10, "600000={\"count\":0};" },
    { "dev", "aws:all-bytes-out", 0, 0, 1000000, 0, 10, "601234={\"count\":7};" },
    /* another thing; an unknown thing and key; a range outside every row */
    { "other", "aws:num-messages-sent", 1, 0, 1000000, 0, 10, "600000={\"count\":9};" },
    { "nobody", "aws:num-messages-sent", 1, 0, 1000000, 0, 10, "" },
    { "dev", "aws:num-disconnects", 0, 0, 1000000, 0, 10, "" },
    { "dev", "aws:num-messages-sent", 1, 5000000000, 6000000000, 0, 10, "" },
};

static void test_rows(void **state)
{
    struct store *s = open_rows();
    char out[1024];
    size_t r;

    (void)state;
    for (r = 0; r < N(rows); r++) {
        const struct row *x = &rows[r];

        out[0] = '\0';
        assert_int_equal(store_retained_each(s, x->thing, x->key, x->counter, x->from, x->to,
                                             x->offset, x->limit, collect, out),
                         DD_OK);
        if (strcmp(out, x->want) != 0)
            fail_msg("row %zu: %s", r, out);
    }
    store_close(s);
}

static int stop(void *ctx, int64_t time_ms, const char *value_json)
{
    (void)ctx;
    (void)time_ms;
    (void)value_json;
    return DD_ERR_LIMIT;
}

static void test_stop(void **state)
{
    struct store *s = open_rows();

    (void)state;
    assert_int_equal(
        store_retained_each(s, "dev", "aws:num-messages-sent", 1, 0, 1000000, 0, 10, stop, NULL),
        DD_ERR_LIMIT);
    store_close(s);
}

static int retain_row(void *ctx, const char *name, const char *metrics, const char *metrics_v2,
                      const char *export_json)
{
    char *out = ctx;
    size_t len = strlen(out);

    snprintf(out + len, 1024 - len, "%s|%s|%s|%s;", name, metrics ? metrics : "-",
             metrics_v2 ? metrics_v2 : "-", export_json ? export_json : "-");
    return DD_OK;
}

static void test_profile_retain(void **state)
{
    struct store *s = store_fixture_open();
    char out[1024] = "";

    (void)state;
    store_fixture_exec(
        s, "INSERT INTO security_profiles (name, additional_metrics, additional_metrics_v2, "
           "metrics_export, created_ms, modified_ms) VALUES "
           "('B', NULL, '[{\"metric\":\"aws:num-disconnects\",\"exportMetric\":true}]', "
           "'{\"mqttTopic\":\"x\",\"roleArn\":\"r\"}', 0, 0), ('A', '[\"aws:num-messages-sent\"]', "
           "NULL, NULL, 0, 0);");
    assert_int_equal(store_detect_each_profile_retain(s, retain_row, out), DD_OK);
    assert_string_equal(out, "A|[\"aws:num-messages-sent\"]|-|-;"
                             "B|-|[{\"metric\":\"aws:num-disconnects\",\"exportMetric\":true}]|"
                             "{\"mqttTopic\":\"x\",\"roleArn\":\"r\"};");
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_profile_retain),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
