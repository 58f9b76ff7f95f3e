/* SPDX-License-Identifier: MIT */
/* test_export.c: core/export.c. Rows give a metric's bucket statistics and
 * the value retained and exported for it (reference §10: counters summed,
 * message size as min/max/total, disconnect duration in seconds, retained
 * values in the metric's own kind); then the export document: its shape,
 * escaping, the optional dimension, the cut at EXPORT_PAYLOAD_MAX, and
 * allocation failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/export.h"
#include "core/metric.h"
#include "tests/unit/alloc_fail.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct value_row {
    const char *metric;
    struct metric_stats st;
    enum export_use use;
    int want_rc;
    enum metric_kind want_kind;
    uint64_t want_count;
    double want_numbers[3];
};

static const struct value_row value_rows[] = {
    /* counters: the bucket's total, retained and exported alike */
    { "aws:num-messages-sent",
      { 1, 7, 7, 7, 7 },
      EXPORT_RETAIN,
      DD_OK,
      METRIC_KIND_COUNT,
      7,
      { 0 } },
    { "aws:num-messages-sent",
      { 1, 7, 7, 7, 7 },
      EXPORT_PUBLISH,
      DD_OK,
      METRIC_KIND_COUNT,
      7,
      { 0 } },
    { "aws:num-authorization-failures",
      { 1, 0, 0, 0, 0 },
      EXPORT_PUBLISH,
      DD_OK,
      METRIC_KIND_COUNT,
      0,
      { 0 } },
    /* message size: the largest retained, min/max/total exported */
    { "aws:message-byte-size",
      { 3, 60, 5, 40, 15 },
      EXPORT_RETAIN,
      DD_OK,
      METRIC_KIND_COUNT,
      40,
      { 0 } },
    { "aws:message-byte-size",
      { 3, 60, 5, 40, 15 },
      EXPORT_PUBLISH,
      DD_OK,
      METRIC_KIND_NUMBERS,
      0,
      { 5, 40, 60 } },
    /* a gauge of the device side: its latest sample */
    { "aws:num-listening-tcp-ports",
      { 2, 9, 4, 5, 4 },
      EXPORT_PUBLISH,
      DD_OK,
      METRIC_KIND_COUNT,
      4,
      { 0 } },
    /* an empty bucket gives nothing */
    { "aws:num-messages-sent",
      { 0, 0, 0, 0, 0 },
      EXPORT_PUBLISH,
      DD_ERR_NOT_FOUND,
      METRIC_KIND_NONE,
      0,
      { 0 } },
    /* not a count metric */
    { "aws:source-ip-address",
      { 1, 1, 1, 1, 1 },
      EXPORT_PUBLISH,
      DD_ERR_INVALID,
      METRIC_KIND_NONE,
      0,
      { 0 } },
    { NULL, { 1, 1, 1, 1, 1 }, EXPORT_RETAIN, DD_ERR_INVALID, METRIC_KIND_NONE, 0, { 0 } },
};

static void test_values(void **state)
{
    size_t r, i;

    (void)state;
    for (r = 0; r < N(value_rows); r++) {
        const struct value_row *x = &value_rows[r];
        struct metric_value v = { .kind = METRIC_KIND_NUMBER, .count = 99 };
        int rc = export_bucket_value(x->metric ? metric_find(x->metric) : NULL, &x->st, x->use, &v);

        if (rc != x->want_rc || v.kind != x->want_kind || v.count != x->want_count)
            fail_msg("row %zu: rc %d kind %d count %llu", r, rc, (int)v.kind,
                     (unsigned long long)v.count);
        if (x->want_kind == METRIC_KIND_NUMBERS) {
            assert_int_equal(v.n, 3);
            for (i = 0; i < 3; i++)
                assert_true(v.numbers[i] == x->want_numbers[i]);
        }
        metric_value_cleanup(&v);
    }
}

struct duration_row {
    int64_t since, end;
    enum export_use use;
    uint64_t want;
};

static const struct duration_row duration_rows[] = {
    { 0, 600000, EXPORT_PUBLISH, 0 },        /* connected */
    { 300000, 900000, EXPORT_PUBLISH, 600 }, /* seconds exported */
    { 300000, 900000, EXPORT_RETAIN, 10 },   /* minutes retained */
    { 300000, 359999, EXPORT_RETAIN, 0 },    /* a part of a minute */
    { 900000, 300000, EXPORT_PUBLISH, 0 },   /* a clock that went back */
    { 1000, 2500, EXPORT_PUBLISH, 1 },       /* whole seconds */
};

static void test_durations(void **state)
{
    size_t r;

    (void)state;
    for (r = 0; r < N(duration_rows); r++) {
        const struct duration_row *x = &duration_rows[r];
        uint64_t got = export_disconnect_duration(x->since, x->end, x->use);

        if (got != x->want)
            fail_msg("row %zu: %llu", r, (unsigned long long)got);
    }
}

struct key_row {
    const char *metric, *dimension;
    bool not_in;
    size_t size;
    const char *want; /* NULL: does not fit */
};

static const struct key_row key_rows[] = {
    { "aws:num-messages-sent", NULL, false, 64, "aws:num-messages-sent" },
    { "aws:num-messages-sent", "T", false, 64, "aws:num-messages-sent|T|IN" },
    { "aws:num-messages-sent", "T", true, 64, "aws:num-messages-sent|T|NOT_IN" },
    { "aws:num-messages-sent", NULL, false, 21, NULL },
    { "aws:num-messages-sent", NULL, false, 22, "aws:num-messages-sent" },
};

static void test_keys(void **state)
{
    char key[64];
    size_t r;

    (void)state;
    for (r = 0; r < N(key_rows); r++) {
        const struct key_row *x = &key_rows[r];
        int n = export_retained_key(key, x->size, x->metric, x->dimension, x->not_in);

        if (!x->want) {
            assert_int_equal(n, -1);
            continue;
        }
        assert_int_equal(n, (int)strlen(x->want));
        assert_string_equal(key, x->want);
    }
}

static const struct counter_row {
    const char *metric;
    enum export_counter want;
} counter_rows[] = {
    { "aws:num-messages-sent", EXPORT_COUNTER_SENT },
    { "aws:num-messages-received", EXPORT_COUNTER_RECEIVED },
    { "aws:num-authorization-failures", EXPORT_COUNTER_AUTH_FAIL },
    { "aws:num-connection-attempts", EXPORT_COUNTER_CONNECTS },
    { "aws:num-disconnects", EXPORT_COUNTER_DISCONNECTS },
    /* not a plain counter: sizes keep their largest message, durations
     * are minutes, the rest are not cloud-side counters */
    { "aws:message-byte-size", EXPORT_COUNTER_NONE },
    { "aws:disconnect-duration", EXPORT_COUNTER_NONE },
    { "aws:source-ip-address", EXPORT_COUNTER_NONE },
    { "aws:all-bytes-out", EXPORT_COUNTER_NONE },
    { "aws:num-messages-sent ", EXPORT_COUNTER_NONE },
    { "", EXPORT_COUNTER_NONE },
    { NULL, EXPORT_COUNTER_NONE },
};

static void test_counters(void **state)
{
    size_t r;

    (void)state;
    for (r = 0; r < N(counter_rows); r++)
        if (export_counter_of(counter_rows[r].metric) != counter_rows[r].want)
            fail_msg("row %zu: %d", r, (int)export_counter_of(counter_rows[r].metric));
}

/* One document with two entries, the second with a dimension and a thing
 * name that needs escaping, parsed back. */
static void test_document(void **state)
{
    struct export_batch b;
    cJSON *doc, *m, *e;

    (void)state;
    export_batch_init(&b);
    assert_int_equal(export_batch_finish(&b), DD_OK); /* empty: no document */
    assert_int_equal(b.n_done, 0);
    assert_int_equal(export_batch_add(&b, "aws:num-messages-sent", "dev-1", "{\"count\":3}",
                                      1700000100000, NULL, false),
                     DD_OK);
    assert_int_equal(export_batch_add(&b, "aws:num-messages-received", "od\"d\\\n", "{\"count\":0}",
                                      1700000100000, "Topics", true),
                     DD_OK);
    assert_int_equal(export_batch_finish(&b), DD_OK);
    assert_int_equal(b.n_done, 1);
    doc = cJSON_Parse(b.done[0]);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItem(doc, "version")->valuestring, "1.0");
    m = cJSON_GetObjectItem(doc, "metrics");
    assert_int_equal(cJSON_GetArraySize(m), 2);
    e = cJSON_GetArrayItem(m, 0);
    assert_string_equal(cJSON_GetObjectItem(e, "name")->valuestring, "aws:num-messages-sent");
    assert_string_equal(cJSON_GetObjectItem(e, "thing")->valuestring, "dev-1");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "value"), "count")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(e, "version")->valueint, 1);
    assert_true(cJSON_GetObjectItem(e, "timestamp")->valuedouble == 1700000100000.0);
    assert_null(cJSON_GetObjectItem(e, "dimension"));
    e = cJSON_GetArrayItem(m, 1);
    assert_string_equal(cJSON_GetObjectItem(e, "thing")->valuestring, "od\"d\\\n");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(e, "dimension"), "name")->valuestring, "Topics");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(e, "dimension"), "operator")->valuestring,
        "NOT_IN");
    cJSON_Delete(doc);
    export_batch_cleanup(&b);
    export_batch_cleanup(NULL);
}

/* Entries past EXPORT_PAYLOAD_MAX start a new document; each document
 * parses and stays under the ceiling, and no entry is lost. */
static void test_cut(void **state)
{
    struct export_batch b;
    char thing[64];
    int i, total = 0;
    size_t d;

    (void)state;
    export_batch_init(&b);
    for (i = 0; i < 5000; i++) {
        snprintf(thing, sizeof(thing), "thing-%04d", i);
        assert_int_equal(export_batch_add(&b, "aws:num-messages-sent", thing, "{\"count\":12345}",
                                          1700000100000, "TopicFilter", false),
                         DD_OK);
    }
    assert_int_equal(export_batch_finish(&b), DD_OK);
    assert_true(b.n_done > 1);
    for (d = 0; d < b.n_done; d++) {
        cJSON *doc = cJSON_Parse(b.done[d]);

        assert_non_null(doc);
        assert_true(strlen(b.done[d]) <= EXPORT_PAYLOAD_MAX);
        total += cJSON_GetArraySize(cJSON_GetObjectItem(doc, "metrics"));
        cJSON_Delete(doc);
    }
    assert_int_equal(total, 5000);
    export_batch_cleanup(&b);
}

/* An entry larger than a document is refused and leaves the batch as it
 * was. */
static void test_too_large(void **state)
{
    struct export_batch b;
    size_t n = EXPORT_PAYLOAD_MAX;
    char *big = malloc(n + 1);

    (void)state;
    assert_non_null(big);
    memset(big, 'a', n);
    big[n] = '\0';
    export_batch_init(&b);
    assert_int_equal(export_batch_add(&b, "m", big, "{\"count\":1}", 1, NULL, false),
                     DD_ERR_TOO_LARGE);
    assert_int_equal(b.n_metrics, 0);
    assert_int_equal(export_batch_finish(&b), DD_OK);
    assert_int_equal(b.n_done, 0);
    export_batch_cleanup(&b);
    free(big);
}

static int alloc_case(void *ctx)
{
    struct export_batch b;
    struct metric_value v;
    int rc;

    (void)ctx;
    export_batch_init(&b);
    rc = export_bucket_value(metric_find("aws:message-byte-size"),
                             &(struct metric_stats){ 1, 5, 5, 5, 5 }, EXPORT_PUBLISH, &v);
    metric_value_cleanup(&v);
    if (!rc)
        rc = export_batch_add(&b, "m", "t", "{\"count\":1}", 1, NULL, false);
    if (!rc)
        rc = export_batch_finish(&b);
    export_batch_cleanup(&b);
    return rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    assert_true(alloc_fail_sweep(alloc_case, NULL) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),    cmocka_unit_test(test_durations),
        cmocka_unit_test(test_keys),      cmocka_unit_test(test_counters),
        cmocka_unit_test(test_document),  cmocka_unit_test(test_cut),
        cmocka_unit_test(test_too_large), cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
