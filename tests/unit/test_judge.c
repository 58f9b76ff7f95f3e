/* SPDX-License-Identifier: MIT */
/* test_judge.c: Detect's judging of one datapoint: the window of a behavior
 * over its buckets (sums over several buckets, gauges, extremes, missing
 * buckets), the value a device report gives each behavior, the verdict for
 * every operator, the consecutive datapoints to alarm and to clear, the
 * statistical percentile of the peers, the ML stand-in's confidence levels,
 * missing data, every error path, and allocation failure in the report
 * values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/judge.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/behavior_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct behavior_context ctx = { fixture_customs, FIXTURE_N(fixture_customs), NULL, 0 };

/* One behavior from the JSON text of its object; free with
 * behavior_list_free(). */
static struct behavior_list *behavior_of(const char *text)
{
    char buf[1024];
    struct behavior_list *list = NULL;
    struct dd_errbuf eb;
    cJSON *root;

    snprintf(buf, sizeof(buf), "[%s]", text);
    root = cJSON_Parse(buf);
    assert_non_null(root);
    if (behavior_list_parse(root, &ctx, &list, &eb))
        fail_msg("%s: %s", text, eb.msg);
    cJSON_Delete(root);
    assert_int_equal(list->n, 1);
    return list;
}

/* A static behavior on metric: "op" against value (a MetricValue object),
 * with the rest of the criteria in extra (",..." or ""). */
#define STATIC(metric, op, value, extra)                                                           \
    "{\"name\":\"b\",\"metric\":\"" metric "\",\"criteria\":{\"comparisonOperator\":\"" op         \
    "\",\"value\":" value extra "}}"

/* A 5-minute static behavior on messages sent: "op" 10. */
#define SENT10(op) STATIC("aws:num-messages-sent", op, "{\"count\":10}", ",\"durationSeconds\":300")

/* ---- windows ------------------------------------------------------------ */

static void test_window_buckets(void **state)
{
    static const struct {
        const char *behavior;
        size_t k;
    } rows[] = {
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"),
          1 },
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":900"),
          3 },
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}",
                 ",\"durationSeconds\":3600"),
          12 },
        { STATIC("aws:message-byte-size", "less-than", "{\"count\":1}", ""), 1 },
        { STATIC("aws:num-established-tcp-connections", "less-than", "{\"count\":1}", ""), 1 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct behavior_list *l = behavior_of(rows[i].behavior);

        if (judge_window_buckets(&l->items[0]) != rows[i].k)
            fail_msg("row %zu: %zu buckets", i, judge_window_buckets(&l->items[0]));
        behavior_list_free(l);
    }
}

/* Bucket ends used below: T is a bucket end, T - B the one before it. */
#define B CLOCK_BUCKET_MS
#define T ((int64_t)1700000100000)

/* A bucket of the ring: its end and its samples (0 ends the list). */
struct bucket {
    int64_t end_ms;
    uint64_t samples[4];
    size_t n;
};

static void test_ring_value(void **state)
{
    static const struct {
        const char *behavior;
        struct bucket buckets[6];
        size_t n_buckets;
        int64_t at;
        int rc;
        uint64_t count;
    } rows[] = {
        /* a counter sums the buckets of its duration, oldest to newest */
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":900"),
          { { T - 2 * B, { 5 }, 1 }, { T - B, { 7 }, 1 }, { T, { 11 }, 1 } },
          3,
          T,
          DD_OK,
          23 },
        /* ... and no further back than its duration */
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":600"),
          { { T - 2 * B, { 5 }, 1 }, { T - B, { 7 }, 1 }, { T, { 11 }, 1 } },
          3,
          T,
          DD_OK,
          18 },
        /* a missing bucket counts as empty */
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":900"),
          { { T - 2 * B, { 5 }, 1 }, { T, { 11 }, 1 } },
          2,
          T,
          DD_OK,
          16 },
        /* a slot holding a bucket a whole ring older is not this bucket */
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":900"),
          { { T - 13 * B, { 100 }, 1 }, { T, { 11 }, 1 } },
          2,
          T,
          DD_OK,
          11 },
        /* an hour: twelve buckets */
        { STATIC("aws:all-bytes-in", "less-than", "{\"count\":1}", ",\"durationSeconds\":3600"),
          { { T - 11 * B, { 1 }, 1 }, { T - 6 * B, { 2, 3 }, 2 }, { T, { 4 }, 1 } },
          3,
          T,
          DD_OK,
          10 },
        /* a gauge takes the newest sample of the window */
        { STATIC("aws:num-listening-tcp-ports", "less-than", "{\"count\":1}",
                 ",\"durationSeconds\":900"),
          { { T - 2 * B, { 9 }, 1 }, { T - B, { 4, 6 }, 2 } },
          2,
          T,
          DD_OK,
          6 },
        /* message sizes: the largest under less-than, the smallest under
         * greater-than */
        { STATIC("aws:message-byte-size", "less-than", "{\"count\":1}", ""),
          { { T, { 30, 700, 5 }, 3 } },
          1,
          T,
          DD_OK,
          700 },
        { STATIC("aws:message-byte-size", "greater-than-equals", "{\"count\":1}", ""),
          { { T, { 30, 700, 5 }, 3 } },
          1,
          T,
          DD_OK,
          5 },
        /* a statistical rule on sizes sums them */
        { "{\"name\":\"b\",\"metric\":\"aws:message-byte-size\",\"criteria\":{"
          "\"comparisonOperator\":\"less-than\",\"durationSeconds\":300,"
          "\"statisticalThreshold\":{\"statistic\":\"p90\"}}}",
          { { T, { 30, 700, 5 }, 3 } },
          1,
          T,
          DD_OK,
          735 },
        /* missing data: no bucket of the window holds a sample */
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":600"),
          { { T - 2 * B, { 5 }, 1 } },
          1,
          T,
          DD_ERR_NOT_FOUND,
          0 },
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"),
          { { 0 } },
          0,
          T,
          DD_ERR_NOT_FOUND,
          0 },
        /* a list metric has no window value */
        { STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443]}", ""),
          { { T, { 1 }, 1 } },
          1,
          T,
          DD_ERR_INVALID,
          0 },
    };

    size_t i, j, k;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct behavior_list *l = behavior_of(rows[i].behavior);
        struct judge_ring ring;
        struct metric_value v;
        int rc;

        memset(&ring, 0, sizeof(ring));
        for (j = 0; j < rows[i].n_buckets; j++)
            for (k = 0; k < rows[i].buckets[j].n; k++)
                judge_ring_add(&ring, rows[i].buckets[j].end_ms, rows[i].buckets[j].samples[k]);
        memset(&v, 0x5a, sizeof(v));
        rc = judge_ring_value(&ring, &l->items[0], rows[i].at, &v);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d", i, rc);
        assert_int_equal(v.kind, rc ? METRIC_KIND_NONE : METRIC_KIND_COUNT);
        if (v.count != rows[i].count)
            fail_msg("row %zu: count %llu", i, (unsigned long long)v.count);
        behavior_list_free(l);
    }
}

/* A ring of n slots remembers the last n buckets: a window of up to n
 * buckets sums as with a full ring, a longer one finds the older buckets
 * empty, and a slot reused by a later bucket starts afresh. */
#define SENT_FOR(secs)                                                                             \
    STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":" #secs)

static void test_buckets_sized(void **state)
{
    static const struct {
        size_t n;             /* slots */
        const char *behavior; /* SENT_FOR(durationSeconds) */
        int64_t at;           /* the bucket judged */
        uint64_t count;       /* the value expected */
        int rc;
    } rows[] = {
        /* buckets T-2B..T+B hold 1, 2, 4 and 8 (added in that order) */
        { 3, SENT_FOR(900), T + B, 14, DD_OK },       /* T-B..T+B */
        { 3, SENT_FOR(600), T + B, 12, DD_OK },       /* T..T+B */
        { 3, SENT_FOR(1800), T + B, 14, DD_OK },      /* T-2B was overwritten by T+B */
        { 3, SENT_FOR(900), T, 6, DD_OK },            /* T-2B is gone: T-B and T only */
        { 2, SENT_FOR(900), T + B, 12, DD_OK },       /* two slots: T and T+B */
        { 1, SENT_FOR(300), T + B, 8, DD_OK },        /* one slot: the newest bucket */
        { 1, SENT_FOR(300), T, 0, DD_ERR_NOT_FOUND }, /* overwritten by T+B */
        { 12, SENT_FOR(1800), T + B, 15, DD_OK },     /* all four */
        { 3, SENT_FOR(900), T + 5 * B, 0, DD_ERR_NOT_FOUND },
    };

    size_t i, j;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct behavior_list *l = behavior_of(rows[i].behavior);
        struct judge_bucket ring[JUDGE_RING];
        struct metric_value v;
        int rc;

        memset(ring, 0, sizeof(ring));
        for (j = 0; j < 4; j++)
            judge_buckets_add(ring, rows[i].n, T + ((int64_t)j - 2) * B, (uint64_t)1 << j);
        memset(&v, 0x5a, sizeof(v));
        rc = judge_buckets_value(ring, rows[i].n, &l->items[0], rows[i].at, &v);
        if (rc != rows[i].rc)
            fail_msg("row %zu: rc %d", i, rc);
        if (!rc && v.count != rows[i].count)
            fail_msg("row %zu: count %llu", i, (unsigned long long)v.count);
        behavior_list_free(l);
    }
}

static void test_ring_put_and_bucket(void **state)
{
    struct behavior_list *l15 = behavior_of(
        STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":900"));
    struct behavior_list *l5 = behavior_of(
        STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"));
    struct metric_stats a = { 0 }, b = { 0 }, empty = { 0 };
    struct judge_ring ring;
    struct metric_value v;

    (void)state;
    memset(&ring, 0, sizeof(ring));
    metric_stats_add(&a, 40);
    metric_stats_add(&b, 2);
    /* put replaces a slot whole, where add folds into it */
    judge_ring_put(&ring, T - B, &a);
    judge_ring_put(&ring, T, &a);
    judge_ring_put(&ring, T, &b);
    assert_int_equal(judge_ring_value(&ring, &l15->items[0], T, &v), DD_OK);
    assert_int_equal(v.count, 42);
    judge_ring_add(&ring, T, 3);
    assert_int_equal(judge_ring_value(&ring, &l15->items[0], T, &v), DD_OK);
    assert_int_equal(v.count, 45);
    /* a later bucket in the same slot starts afresh */
    judge_ring_add(&ring, T + JUDGE_RING * B, 1);
    assert_int_equal(judge_ring_value(&ring, &l5->items[0], T + JUDGE_RING * B, &v), DD_OK);
    assert_int_equal(v.count, 1);
    /* one bucket without a ring */
    assert_int_equal(judge_bucket_value(&a, &l5->items[0], &v), DD_OK);
    assert_int_equal(v.kind, METRIC_KIND_COUNT);
    assert_int_equal(v.count, 40);
    assert_int_equal(judge_bucket_value(&empty, &l5->items[0], &v), DD_ERR_NOT_FOUND);
    assert_int_equal(v.kind, METRIC_KIND_NONE);
    behavior_list_free(l15);
    behavior_list_free(l5);
}

/* ---- report values ------------------------------------------------------ */

static uint16_t tcp_ports[] = { 443, 8883 };
static struct report_connection conns[] = { { "10.0.0.7", 443 }, { "2001:db8::1", 8883 } };
static double fan[] = { 1234.5 };
static double files[] = { 3, 4.5 };
static char *services[] = { "sshd", "mosquitto" };
static char *peer_ips[] = { "10.1.1.1" };
static struct report_custom custom[] = {
    { "fan_rpm", REPORT_CUSTOM_NUMBER, 1, fan, NULL },
    { "open_files", REPORT_CUSTOM_NUMBER_LIST, 2, files, NULL },
    { "services", REPORT_CUSTOM_STRING_LIST, 2, NULL, services },
    { "peers", REPORT_CUSTOM_IP_LIST, 1, NULL, peer_ips },
};
/* fan_rpm reported as a list: another type than defined */
static struct report_custom custom_wrong[] = {
    { "fan_rpm", REPORT_CUSTOM_NUMBER_LIST, 2, files, NULL },
};

static const struct report full = {
    .blocks = REPORT_HAS_METRICS | REPORT_HAS_CUSTOM | REPORT_HAS_NETWORK_STATS |
              REPORT_HAS_TCP_PORTS | REPORT_HAS_UDP_PORTS | REPORT_HAS_CONNECTIONS,
    .network_stats = { REPORT_STAT_BYTES_IN | REPORT_STAT_BYTES_OUT | REPORT_STAT_PACKETS_IN |
                           REPORT_STAT_PACKETS_OUT,
                       100, 200, 3, 4 },
    .tcp_ports = { tcp_ports, 2, 5, true },
    .udp_ports = { NULL, 0, 0, false },
    .connections = { conns, 2, 2, false },
    .custom = custom,
    .n_custom = N(custom),
};
static const struct report bare = { .blocks = REPORT_HAS_METRICS };
static const struct report wrong_type = {
    .blocks = REPORT_HAS_CUSTOM,
    .custom = custom_wrong,
    .n_custom = N(custom_wrong),
};

static const struct {
    const char *behavior;
    const struct report *r;
    int rc;
    int64_t sample;        /* -1: a whole value */
    enum metric_kind kind; /* of the whole value */
    size_t n;
    const char *first; /* the first string, or the number as text */
} report_rows[] = {
    { STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443]}", ""), &full, DD_OK, -1,
      METRIC_KIND_PORTS, 2, "443" },
    { STATIC("aws:listening-udp-ports", "in-port-set", "{\"ports\":[443]}", ""), &full, DD_OK, -1,
      METRIC_KIND_PORTS, 0, NULL },
    { STATIC("aws:destination-ip-addresses", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
      &full, DD_OK, -1, METRIC_KIND_CIDRS, 2, "10.0.0.7" },
    { STATIC("aws:num-listening-tcp-ports", "less-than", "{\"count\":1}",
             ",\"durationSeconds\":300"),
      &full, DD_OK, 5, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:num-listening-udp-ports", "less-than", "{\"count\":1}",
             ",\"durationSeconds\":300"),
      &full, DD_OK, 0, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:num-established-tcp-connections", "less-than", "{\"count\":1}", ""), &full, DD_OK,
      2, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:all-bytes-in", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"), &full,
      DD_OK, 100, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:all-bytes-out", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"), &full,
      DD_OK, 200, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:all-packets-in", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"), &full,
      DD_OK, 3, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:all-packets-out", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"),
      &full, DD_OK, 4, METRIC_KIND_NONE, 0, NULL },
    { STATIC("fan_rpm", "less-than", "{\"number\":1}", ""), &full, DD_OK, -1, METRIC_KIND_NUMBER, 0,
      "1234.5" },
    { STATIC("open_files", "in-set", "{\"numbers\":[1]}", ""), &full, DD_OK, -1,
      METRIC_KIND_NUMBERS, 2, "3" },
    { STATIC("services", "in-set", "{\"strings\":[\"sshd\"]}", ""), &full, DD_OK, -1,
      METRIC_KIND_STRINGS, 2, "sshd" },
    { STATIC("peers", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""), &full, DD_OK, -1,
      METRIC_KIND_CIDRS, 1, "10.1.1.1" },
    /* missing data: the report has no such block, or no such metric */
    { STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443]}", ""), &bare,
      DD_ERR_NOT_FOUND, -1, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:destination-ip-addresses", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
      &bare, DD_ERR_NOT_FOUND, -1, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:num-listening-tcp-ports", "less-than", "{\"count\":1}",
             ",\"durationSeconds\":300"),
      &bare, DD_ERR_NOT_FOUND, -1, METRIC_KIND_NONE, 0, NULL },
    { STATIC("aws:all-bytes-in", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"), &bare,
      DD_ERR_NOT_FOUND, -1, METRIC_KIND_NONE, 0, NULL },
    { STATIC("fan_rpm", "less-than", "{\"number\":1}", ""), &bare, DD_ERR_NOT_FOUND, -1,
      METRIC_KIND_NONE, 0, NULL },
    /* a custom metric reported with another type than it was defined with */
    { STATIC("fan_rpm", "less-than", "{\"number\":1}", ""), &wrong_type, DD_ERR_NOT_FOUND, -1,
      METRIC_KIND_NONE, 0, NULL },
    /* a cloud-side metric is never in a report */
    { STATIC("aws:num-messages-sent", "less-than", "{\"count\":1}", ",\"durationSeconds\":300"),
      &full, DD_ERR_NOT_FOUND, -1, METRIC_KIND_NONE, 0, NULL },
};

static void first_text(const struct metric_value *v, char *buf, size_t size)
{
    buf[0] = '\0';
    if (v->kind == METRIC_KIND_NUMBER)
        snprintf(buf, size, "%g", v->number);
    else if (v->n && v->kind == METRIC_KIND_PORTS)
        snprintf(buf, size, "%u", (unsigned)v->ports[0]);
    else if (v->n && v->kind == METRIC_KIND_NUMBERS)
        snprintf(buf, size, "%g", v->numbers[0]);
    else if (v->n && (v->kind == METRIC_KIND_STRINGS || v->kind == METRIC_KIND_CIDRS))
        snprintf(buf, size, "%s", v->strings[0]);
}

static void test_report_value(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(report_rows); i++) {
        struct behavior_list *l = behavior_of(report_rows[i].behavior);
        struct metric_value v;
        int64_t sample = 77;
        char text[64];
        int rc;

        memset(&v, 0x5a, sizeof(v));
        rc = judge_report_value(&l->items[0], report_rows[i].r, &v, &sample);
        if (rc != report_rows[i].rc || sample != report_rows[i].sample)
            fail_msg("row %zu: rc %d sample %lld", i, rc, (long long)sample);
        if (v.kind != report_rows[i].kind || v.n != report_rows[i].n)
            fail_msg("row %zu: kind %d n %zu", i, (int)v.kind, v.n);
        first_text(&v, text, sizeof(text));
        if (strcmp(text, report_rows[i].first ? report_rows[i].first : "") != 0)
            fail_msg("row %zu: first %s", i, text);
        metric_value_cleanup(&v);
        behavior_list_free(l);
    }
}

static int report_case(void *p)
{
    const struct behavior *b = p;
    struct metric_value v;
    int64_t sample;
    int rc = judge_report_value(b, &full, &v, &sample);

    if (rc)
        assert_int_equal(v.kind, METRIC_KIND_NONE);
    metric_value_cleanup(&v);
    return rc;
}

static void test_report_alloc_fail(void **state)
{
    static const char *const lists[] = {
        STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443]}", ""),
        STATIC("aws:destination-ip-addresses", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
        STATIC("open_files", "in-set", "{\"numbers\":[1]}", ""),
        STATIC("services", "in-set", "{\"strings\":[\"sshd\"]}", ""),
        STATIC("peers", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
    };
    size_t i;

    (void)state;
    for (i = 0; i < N(lists); i++) {
        struct behavior_list *l = behavior_of(lists[i]);

        if (alloc_fail_sweep(report_case, &l->items[0]) < 1)
            fail_msg("row %zu allocated nothing", i);
        behavior_list_free(l);
    }
}

/* ---- verdicts ----------------------------------------------------------- */

static uint16_t dp_ports_in[] = { 443 };
static uint16_t dp_ports_out[] = { 22, 443 };
static char *dp_ip_in[] = { "10.1.2.3" };
static char *dp_ip_out[] = { "8.8.8.8" };
static char *dp_strs_in[] = { "sshd" };
static char *dp_strs_out[] = { "telnetd" };
static double dp_nums_in[] = { 1 };
static double dp_nums_out[] = { 2 };


#define V  JUDGE_VIOLATING
#define C  JUDGE_COMPLIANT
#define NV JUDGE_NO_VERDICT

static void test_operators(void **state)
{
    static const struct {
        const char *behavior;
        struct metric_value value;
        enum judge_verdict verdict;
    } rows[] = {
        { SENT10("less-than"), COUNT(9), C },
        { SENT10("less-than"), COUNT(10), V },
        { SENT10("less-than-equals"), COUNT(10), C },
        { SENT10("less-than-equals"), COUNT(11), V },
        { SENT10("greater-than"), COUNT(11), C },
        { SENT10("greater-than"), COUNT(10), V },
        { SENT10("greater-than-equals"), COUNT(10), C },
        { SENT10("greater-than-equals"), COUNT(9), V },
        { STATIC("fan_rpm", "less-than", "{\"number\":1800.5}", ""), NUMBER(1800.4), C },
        { STATIC("fan_rpm", "less-than", "{\"number\":1800.5}", ""), NUMBER(1800.5), V },
        { STATIC("aws:source-ip-address", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
          CIDRS(dp_ip_in), C },
        { STATIC("aws:source-ip-address", "in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
          CIDRS(dp_ip_out), V },
        { STATIC("aws:source-ip-address", "not-in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
          CIDRS(dp_ip_out), C },
        { STATIC("aws:source-ip-address", "not-in-cidr-set", "{\"cidrs\":[\"10.0.0.0/8\"]}", ""),
          CIDRS(dp_ip_in), V },
        { STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443,8883]}", ""),
          PORTS(dp_ports_in), C },
        { STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443,8883]}", ""),
          PORTS(dp_ports_out), V },
        { STATIC("aws:listening-tcp-ports", "not-in-port-set", "{\"ports\":[22]}", ""),
          PORTS(dp_ports_in), C },
        { STATIC("aws:listening-tcp-ports", "not-in-port-set", "{\"ports\":[22]}", ""),
          PORTS(dp_ports_out), V },
        { STATIC("services", "in-set", "{\"strings\":[\"sshd\"]}", ""), STRS(dp_strs_in), C },
        { STATIC("services", "in-set", "{\"strings\":[\"sshd\"]}", ""), STRS(dp_strs_out), V },
        { STATIC("open_files", "not-in-set", "{\"numbers\":[2]}", ""), NUMS(dp_nums_in), C },
        { STATIC("open_files", "not-in-set", "{\"numbers\":[2]}", ""), NUMS(dp_nums_out), V },
        /* a value whose kind does not fit the operator gives no verdict */
        { STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443]}", ""), COUNT(443),
          NV },
        { SENT10("less-than"), CIDRS(dp_ip_in), NV },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct behavior_list *l = behavior_of(rows[i].behavior);
        struct judge_input in = { .b = &l->items[0], .value = &rows[i].value };
        struct evaluate_state prev = { 0 };
        struct judge_result res;

        assert_int_equal(judge_datapoint(&in, &prev, NULL, &res), DD_OK);
        if (res.verdict != rows[i].verdict)
            fail_msg("row %zu: verdict %s", i, judge_verdict_name(res.verdict));
        /* toAlarm defaults to 1: a violating datapoint opens at once */
        assert_int_equal(res.event, res.verdict == V ? EVALUATE_EVENT_IN_ALARM : 0);
        assert_int_equal(res.state.in_alarm, res.verdict == V);
        assert_false(res.has_threshold);
        behavior_list_free(l);
    }
}

/* A run of datapoints through one behavior: each step's value, and the
 * verdict, event and counters it leaves. */
struct step {
    uint64_t count;
    enum judge_verdict verdict;
    enum evaluate_event event;
    bool in_alarm;
    unsigned streak_violating, streak_compliant;
};

#define IN  EVALUATE_EVENT_IN_ALARM
#define CLR EVALUATE_EVENT_ALARM_CLEARED

static void test_consecutive(void **state)
{
    static const struct {
        const char *behavior;
        struct step steps[10];
        size_t n;
    } rows[] = {
        /* toAlarm 2, toClear 3; a compliant datapoint breaks the run */
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":10}",
                 ",\"durationSeconds\":300,\"consecutiveDatapointsToAlarm\":2,"
                 "\"consecutiveDatapointsToClear\":3"),
          { { 20, V, 0, false, 1, 0 },
            { 5, C, 0, false, 0, 0 },
            { 20, V, 0, false, 1, 0 },
            { 20, V, IN, true, 0, 0 },
            { 20, V, 0, true, 0, 0 },
            { 5, C, 0, true, 0, 1 },
            { 5, C, 0, true, 0, 2 },
            { 20, V, 0, true, 0, 0 },
            { 5, C, 0, true, 0, 1 },
            { 5, C, 0, true, 0, 2 } },
          10 },
        { STATIC("aws:num-messages-sent", "less-than", "{\"count\":10}",
                 ",\"durationSeconds\":300,\"consecutiveDatapointsToAlarm\":1,"
                 "\"consecutiveDatapointsToClear\":2"),
          { { 20, V, IN, true, 0, 0 },
            { 5, C, 0, true, 0, 1 },
            { 5, C, CLR, false, 0, 0 },
            { 5, C, 0, false, 0, 0 },
            { 10, V, IN, true, 0, 0 } },
          5 },
        /* the defaults are 1 and 1 */
        { STATIC("aws:num-messages-sent", "greater-than", "{\"count\":0}",
                 ",\"durationSeconds\":300"),
          { { 0, V, IN, true, 0, 0 }, { 1, C, CLR, false, 0, 0 }, { 0, V, IN, true, 0, 0 } },
          3 },
    };

    size_t i, j;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        struct behavior_list *l = behavior_of(rows[i].behavior);
        struct evaluate_state st = { 0 };

        for (j = 0; j < rows[i].n; j++) {
            const struct step *s = &rows[i].steps[j];
            struct metric_value v = COUNT(s->count);
            struct judge_input in = { .b = &l->items[0], .value = &v };
            struct judge_result res;

            assert_int_equal(judge_datapoint(&in, &st, NULL, &res), DD_OK);
            if (res.verdict != s->verdict || res.event != s->event ||
                res.state.in_alarm != s->in_alarm ||
                res.state.streak_violating != s->streak_violating ||
                res.state.streak_compliant != s->streak_compliant)
                fail_msg("row %zu step %zu: %s event %d alarm %d streaks %u/%u", i, j,
                         judge_verdict_name(res.verdict), (int)res.event, res.state.in_alarm,
                         res.state.streak_violating, res.state.streak_compliant);
            st = res.state;
        }
        behavior_list_free(l);
    }
}

static const double peers_ten[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 100 };
static const double peers_two[] = { 4, 9 };
static const double peers_three[] = { 4, 9, 12 };

static void test_statistical(void **state)
{
    static const struct {
        const char *statistic, *op;
        uint64_t value;
        const double *peers;
        size_t n_peers;
        enum judge_verdict verdict;
        bool has_threshold;
        double threshold;
    } rows[] = {
        /* p90 of the ten others is 9 */
        { "p90", "less-than-equals", 100, peers_ten, N(peers_ten), V, true, 9 },
        { "p90", "less-than-equals", 5, peers_ten, N(peers_ten), C, true, 10 },
        { "p50", "less-than", 3, peers_ten, N(peers_ten), C, true, 6 },
        { "p50", "greater-than", 3, peers_ten, N(peers_ten), V, true, 6 },
        { "p0", "greater-than-equals", 1, peers_ten, N(peers_ten), V, true, 2 },
        { "p100", "less-than-equals", 100, peers_ten, N(peers_ten), V, true, 10 },
        { "p99.9", "less-than-equals", 9, peers_three, N(peers_three), C, true, 12 },
        /* fewer than two others: no verdict, no threshold */
        { "p90", "less-than-equals", 9, peers_two, N(peers_two), NV, false, 0 },
        { "p90", "less-than-equals", 9, NULL, 0, NV, false, 0 },
        /* the value is not among the peers: no verdict */
        { "p90", "less-than-equals", 50, peers_ten, N(peers_ten), NV, false, 0 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        char text[512];
        struct behavior_list *l;
        struct metric_value v = COUNT(rows[i].value);
        struct judge_input in = { .value = &v, .peers = rows[i].peers, .n_peers = rows[i].n_peers };
        struct evaluate_state prev = { .streak_violating = 0 };
        struct judge_result res;

        snprintf(text, sizeof(text),
                 "{\"name\":\"b\",\"metric\":\"aws:num-messages-sent\",\"criteria\":{"
                 "\"comparisonOperator\":\"%s\",\"durationSeconds\":300,"
                 "\"statisticalThreshold\":{\"statistic\":\"%s\"}}}",
                 rows[i].op, rows[i].statistic);
        l = behavior_of(text);
        in.b = &l->items[0];
        assert_int_equal(judge_datapoint(&in, &prev, NULL, &res), DD_OK);
        if (res.verdict != rows[i].verdict || res.has_threshold != rows[i].has_threshold ||
            res.threshold != rows[i].threshold)
            fail_msg("row %zu: %s threshold %d %g", i, judge_verdict_name(res.verdict),
                     res.has_threshold, res.threshold);
        if (res.verdict == NV)
            assert_int_equal(res.event, EVALUATE_EVENT_NONE);
        behavior_list_free(l);
    }
}

static void test_ml(void **state)
{
    static const struct {
        const char *level;
        size_t history; /* values of 10 and 12 alternating: mean 11, deviation 1 */
        double value;
        bool inactive; /* the model is not ACTIVE (core/mlmodel) */
        enum judge_verdict verdict;
        double lo, hi; /* the band, when there is a verdict */
    } rows[] = {
        { "LOW", 12, 13.5, false, V, 9, 13 },
        { "MEDIUM", 12, 13.5, false, C, 8, 14 },
        { "HIGH", 12, 13.5, false, C, 7, 15 },
        { "LOW", 12, 14.5, false, V, 9, 13 },
        { "MEDIUM", 12, 14.5, false, V, 8, 14 },
        { "HIGH", 12, 14.5, false, C, 7, 15 },
        { "HIGH", 12, 15.5, false, V, 7, 15 },
        { "HIGH", 12, 11, false, C, 7, 15 },
        { "LOW", 12, 12.5, false, C, 9, 13 },
        { "LOW", 64, 13.5, false, V, 9, 13 },
        { "MEDIUM", 64, 6.5, false, V, 8, 14 },
        /* the stand-in is still building its history: no verdict */
        { "LOW", 11, 100, false, NV, 0, 0 },
        { "LOW", 0, 100, false, NV, 0, 0 },
        /* the model is PENDING_BUILD or EXPIRED: no verdict, the value is kept */
        { "LOW", 12, 100, true, NV, 0, 0 },
        { "LOW", 64, 11, true, NV, 0, 0 },
    };

    size_t i, j;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        char text[512];
        struct behavior_list *l;
        struct metric_value v = NUMBER(rows[i].value);
        struct judge_input in = { .value = &v, .ml_inactive = rows[i].inactive };
        struct evaluate_state prev = { 0 };
        struct judge_result res;
        struct judge_ml ml;

        snprintf(text, sizeof(text),
                 "{\"name\":\"b\",\"metric\":\"fan_rpm\",\"criteria\":{"
                 "\"mlDetectionConfig\":{\"confidenceLevel\":\"%s\"}}}",
                 rows[i].level);
        l = behavior_of(text);
        in.b = &l->items[0];
        memset(&ml, 0, sizeof(ml));
        /* the history goes in through judging, as the engine feeds it */
        for (j = 0; j < rows[i].history; j++) {
            struct metric_value h = NUMBER(j % 2 ? 12 : 10);
            struct judge_input hin = { .b = in.b, .value = &h };

            assert_int_equal(judge_datapoint(&hin, &prev, &ml, &res), DD_OK);
        }
        assert_int_equal(ml.n, rows[i].history);
        assert_int_equal(judge_datapoint(&in, &prev, &ml, &res), DD_OK);
        if (res.verdict != rows[i].verdict)
            fail_msg("row %zu: %s", i, judge_verdict_name(res.verdict));
        assert_true(res.has_band == (rows[i].verdict != NV));
        assert_true(res.band_lo == rows[i].lo && res.band_hi == rows[i].hi);
        /* the judged value joins the history, which keeps at most 64 */
        assert_int_equal(ml.n, rows[i].history < JUDGE_ML_HISTORY ? rows[i].history + 1
                                                                  : JUDGE_ML_HISTORY);
        assert_true(ml.v[(ml.head + JUDGE_ML_HISTORY - 1) % JUDGE_ML_HISTORY] == rows[i].value);
        behavior_list_free(l);
    }
}

/* A datapoint without a verdict leaves the state as it was. */
static void test_no_verdict_keeps_state(void **state)
{
    struct behavior_list *l = behavior_of(
        STATIC("aws:listening-tcp-ports", "in-port-set", "{\"ports\":[443]}",
               ",\"consecutiveDatapointsToAlarm\":3,\"consecutiveDatapointsToClear\":3"));
    struct metric_value v = COUNT(1);
    struct judge_input in = { .b = &l->items[0], .value = &v };
    const struct evaluate_state prev[] = {
        { false, 2, 0 },
        { true, 0, 2 },
    };
    struct judge_result res;
    size_t i;

    (void)state;
    for (i = 0; i < N(prev); i++) {
        assert_int_equal(judge_datapoint(&in, &prev[i], NULL, &res), DD_OK);
        assert_int_equal(res.verdict, NV);
        assert_int_equal(res.event, EVALUATE_EVENT_NONE);
        assert_memory_equal(&res.state, &prev[i], sizeof(prev[i]));
    }
    /* prev may be the result's own state */
    res.state = prev[0];
    assert_int_equal(judge_datapoint(&in, &res.state, NULL, &res), DD_OK);
    assert_memory_equal(&res.state, &prev[0], sizeof(prev[0]));
    behavior_list_free(l);
}

static void test_errors(void **state)
{
    struct behavior_list *ml = behavior_of("{\"name\":\"b\",\"metric\":\"fan_rpm\",\"criteria\":{"
                                           "\"mlDetectionConfig\":{\"confidenceLevel\":\"LOW\"}}}");
    struct behavior_list *st = behavior_of(SENT10("less-than"));
    struct metric_value v = COUNT(20);
    const struct evaluate_state prev = { true, 0, 1 };
    struct behavior bad;

    const struct {
        const struct behavior *b;
        const struct metric_value *value;
    } rows[] = {
        { NULL, &v },            /* no behavior */
        { &st->items[0], NULL }, /* no value */
        { &ml->items[0], &v },   /* an ML behavior without its history */
        { &bad, &v },            /* a criteria type out of range */
    };

    size_t i;

    (void)state;
    bad = st->items[0];
    bad.type = (enum behavior_type)7;
    for (i = 0; i < N(rows); i++) {
        struct judge_input in = { .b = rows[i].b, .value = rows[i].value };
        struct judge_result res;

        memset(&res, 0x5a, sizeof(res));
        if (judge_datapoint(&in, &prev, NULL, &res) != DD_ERR_INVALID)
            fail_msg("row %zu: not refused", i);
        assert_int_equal(res.verdict, NV);
        assert_int_equal(res.event, EVALUATE_EVENT_NONE);
        assert_false(res.has_threshold);
        assert_memory_equal(&res.state, &prev, sizeof(prev));
    }
    assert_string_equal(judge_verdict_name(NV), "no-verdict");
    assert_string_equal(judge_verdict_name(C), "compliant");
    assert_string_equal(judge_verdict_name(V), "violating");
    assert_string_equal(judge_verdict_name((enum judge_verdict)9), "no-verdict");
    behavior_list_free(ml);
    behavior_list_free(st);
}

static void test_number(void **state)
{
    static const struct {
        struct metric_value v;
        double want;
    } rows[] = {
        { COUNT(7), 7 },
        { NUMBER(2.5), 2.5 },
        { NUMS(dp_nums_out), 0 },
        { { .kind = METRIC_KIND_NONE }, 0 },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++)
        assert_true(judge_number(&rows[i].v) == rows[i].want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_buckets),
        cmocka_unit_test(test_ring_value),
        cmocka_unit_test(test_ring_put_and_bucket),
        cmocka_unit_test(test_buckets_sized),
        cmocka_unit_test(test_report_value),
        cmocka_unit_test(test_report_alloc_fail),
        cmocka_unit_test(test_operators),
        cmocka_unit_test(test_consecutive),
        cmocka_unit_test(test_statistical),
        cmocka_unit_test(test_ml),
        cmocka_unit_test(test_no_verdict_keeps_state),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_number),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
