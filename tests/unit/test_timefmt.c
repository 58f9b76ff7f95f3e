/* SPDX-License-Identifier: MIT */
/* test_timefmt.c: ISO 8601 and epoch-seconds parsing (fractions, offsets,
 * leap years, out-of-range fields), SNS and ISO formatting, and a sweep
 * that formats and re-parses days across four centuries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/timefmt.h"
#include "tests/unit/alloc_fail.h"

static const struct parse_ok {
    const char *text;
    int64_t ms;
} parse_ok[] = {
    { "2023-11-14T00:00:00Z", 1699920000000LL },
    { "2023-11-14t00:00:00z", 1699920000000LL },
    { "2023-11-15T00:00:00.500000Z", 1700006400500LL },
    { "2023-11-15T00:00:00.5Z", 1700006400500LL },
    { "2023-11-15T00:00:00.05Z", 1700006400050LL },
    { "2023-11-15T00:00:00.123456789Z", 1700006400123LL },
    { "2019-11-15T03:00:36.527Z", 1573786836527LL },
    { "2023-11-14T00:00:00+00:00", 1699920000000LL },
    { "2023-11-14T00:00:00-00:00", 1699920000000LL },
    { "2023-11-14T00:00:00+0000", 1699920000000LL },
    { "2023-11-14T02:30:00+02:30", 1699920000000LL },
    { "2023-11-13T19:00:00-05:00", 1699920000000LL },
    { "2023-11-14T00:00:00.000000+00:00", 1699920000000LL },
    { "2024-02-29T23:59:59.999Z", 1709251199999LL },
    { "2000-02-29T12:00:00Z", 951825600000LL },
    { "1970-01-01T00:00:00Z", 0 },
    { "1969-12-31T23:59:59.999Z", -1 },
    { "1600-03-01T00:00:00Z", -11670912000000LL },
    { "0001-01-01T00:00:00Z", -62135596800000LL },
    { "9999-12-31T23:59:59.999Z", 253402300799999LL },
    { "1700000000", 1700000000000LL },
    { "1700000000.5", 1700000000500LL },
    { "1700000000.123456", 1700000000123LL },
    { "0", 0 },
    { "253402300799", 253402300799000LL },
    { "2023", 2023000LL }, /* a bare number is epoch seconds, never a year */
};

static const char *const parse_bad[] = {
    "",
    "2023-11-14",                      /* no time */
    "2023-11-14T00:00:00",             /* no zone */
    "2023-11-14 00:00:00Z",            /* space separator */
    "2023-11-14T00:00Z",               /* no seconds */
    "2023-11-14T00:00:00.Z",           /* empty fraction */
    "2023-11-14T00:00:00.1234567890Z", /* ten fraction digits */
    "2023-11-14T00:00:00ZZ",           /* trailing text */
    "2023-11-14T00:00:00+01",          /* short offset */
    "2023-11-14T00:00:00+01:0",        /* short offset */
    "2023-11-14T00:00:00+24:00",       /* offset out of range */
    "2023-11-14T00:00:00+01:60",       /* offset out of range */
    "2023-13-01T00:00:00Z",            /* month 13 */
    "2023-00-01T00:00:00Z",            /* month 0 */
    "2023-11-00T00:00:00Z",            /* day 0 */
    "2023-11-31T00:00:00Z",            /* November has 30 days */
    "2023-02-29T00:00:00Z",            /* not a leap year */
    "1900-02-29T00:00:00Z",            /* centuries are not leap years */
    "2023-11-14T24:00:00Z",            /* hour 24 */
    "2023-11-14T23:60:00Z",            /* minute 60 */
    "2023-11-14T23:59:60Z",            /* no leap seconds */
    "0000-12-31T00:00:00Z",            /* year 0 */
    "0001-01-01T00:00:00+00:01",       /* before year 1 after the offset */
    "9999-12-31T23:59:59-00:01",       /* after year 9999 after the offset */
    "+2023-11-14T00:00:00Z",           /* signed year */
    "23-11-14T00:00:00Z",              /* two-digit year */
    "2023-1-14T00:00:00Z",             /* one-digit month */
    "-1",                              /* negative epoch */
    "1700000000.",                     /* empty fraction */
    "1.2.3",                           /* two dots */
    "253402300800",                    /* past 9999-12-31T23:59:59Z */
    "1234567890123",                   /* 13 digits */
    "1700000000e3",                    /* exponent */
    "2023-11-14T00:00:00Z\n",          /* trailing newline */
    "2023-11-14T00:00:00\xc3\xa9",     /* non-ASCII */
};

/* Parse text as a startTime: it must give want_rc and want_ms (0 when
 * refused, with a message naming the field). */
static void check_parse(const char *text, int want_rc, int64_t want_ms)
{
    struct dd_errbuf eb;
    int64_t ms = 42;

    dd_errbuf_clear(&eb);
    if (timefmt_parse("startTime", text, &ms, &eb) != want_rc || ms != want_ms)
        fail_msg("'%s': got %lld (%s)", text, (long long)ms, eb.msg);
    if (want_rc)
        assert_non_null(strstr(eb.msg, "for startTime"));
}

static void test_parse_ok(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(parse_ok) / sizeof(parse_ok[0]); i++)
        check_parse(parse_ok[i].text, DD_OK, parse_ok[i].ms);
}

static void test_parse_bad(void **state)
{
    struct dd_errbuf eb;
    int64_t ms;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(parse_bad) / sizeof(parse_bad[0]); i++)
        check_parse(parse_bad[i], DD_ERR_INVALID, 0);
    ms = 42;
    assert_int_equal(timefmt_parse("endTime", NULL, &ms, &eb), DD_ERR_INVALID);
    assert_int_equal(ms, 0);
    assert_string_equal(eb.msg, "Missing timestamp for endTime");
    assert_int_equal(timefmt_parse("startTime", "2023-02-29T00:00:00Z", &ms, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg,
                        "Invalid timestamp '2023-02-29T00:00:00Z' for startTime: no such date");
    /* Non-printable bytes are not echoed; a long text is shortened. */
    assert_int_equal(timefmt_parse("t", "2023\n\x01", &ms, &eb), DD_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "'2023?"
                                   "?'"));
    assert_int_equal(timefmt_parse("t",
                                   "2023-11-14T00:00:00Z00000000000000000000000000000000000000"
                                   "0000000000000000000000",
                                   &ms, &eb),
                     DD_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "...' for t"));
    assert_int_equal(timefmt_parse("t", "x", &ms, NULL), DD_ERR_INVALID);
}

static const struct format_case {
    int64_t ms;
    const char *millis;
    const char *seconds;
} format_cases[] = {
    { 1573786836527LL, "2019-11-15T03:00:36.527Z", "2019-11-15T03:00:36Z" },
    { 1709251199999LL, "2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59Z" },
    { 0, "1970-01-01T00:00:00.000Z", "1970-01-01T00:00:00Z" },
    { -1, "1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59Z" },
    { 1699920000005LL, "2023-11-14T00:00:00.005Z", "2023-11-14T00:00:00Z" },
    { -62167219200000LL, "0000-01-01T00:00:00.000Z", "0000-01-01T00:00:00Z" },
    { 253402300799999LL, "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59Z" },
    { 951825600000LL, "2000-02-29T12:00:00.000Z", "2000-02-29T12:00:00Z" },
};

static void test_format(void **state)
{
    char buf[TIMEFMT_MILLIS_SIZE], sbuf[TIMEFMT_SECONDS_SIZE];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]); i++) {
        assert_int_equal(timefmt_format_millis(format_cases[i].ms, buf, sizeof(buf)), DD_OK);
        assert_string_equal(buf, format_cases[i].millis);
        assert_int_equal(strlen(buf), TIMEFMT_MILLIS_SIZE - 1);
        assert_int_equal(timefmt_format_seconds(format_cases[i].ms, sbuf, sizeof(sbuf)), DD_OK);
        assert_string_equal(sbuf, format_cases[i].seconds);
        assert_int_equal(strlen(sbuf), TIMEFMT_SECONDS_SIZE - 1);
    }
    assert_int_equal(timefmt_format_millis(TIMEFMT_MAX_MS, buf, sizeof(buf)), DD_ERR_INVALID);
    assert_string_equal(buf, "");
    assert_int_equal(timefmt_format_millis(TIMEFMT_MIN_MS - 1, buf, sizeof(buf)), DD_ERR_INVALID);
    assert_int_equal(timefmt_format_seconds(INT64_MIN, sbuf, sizeof(sbuf)), DD_ERR_INVALID);
    assert_int_equal(timefmt_format_seconds(INT64_MAX, sbuf, sizeof(sbuf)), DD_ERR_INVALID);
    assert_int_equal(timefmt_format_millis(0, buf, sizeof(buf) - 1), DD_ERR_TOO_LARGE);
    assert_string_equal(buf, "");
    assert_int_equal(timefmt_format_seconds(0, sbuf, sizeof(sbuf) - 1), DD_ERR_TOO_LARGE);
    assert_string_equal(sbuf, "");
    assert_int_equal(timefmt_format_seconds(0, sbuf, 0), DD_ERR_TOO_LARGE);
}

/* Every day from 1800 to 2200 at a varying time of day: format, parse
 * back, and check days are consecutive (no calendar gaps or repeats). */
static void test_round_trip_sweep(void **state)
{
    char buf[TIMEFMT_MILLIS_SIZE], prev[TIMEFMT_MILLIS_SIZE] = "";
    struct dd_errbuf eb;
    int64_t start = -5364662400000LL; /* 1800-01-01 */
    int64_t day;

    (void)state;
    for (day = 0; day < 146097; day++) {
        int64_t ms = start + day * 86400000LL + (day * 7919) % 86400000LL, back;

        assert_int_equal(timefmt_format_millis(ms, buf, sizeof(buf)), DD_OK);
        assert_int_equal(timefmt_parse("t", buf, &back, &eb), DD_OK);
        assert_true(back == ms);
        assert_true(strcmp(prev, buf) < 0);
        memcpy(prev, buf, sizeof(buf));
    }
    prev[10] = '\0';
    assert_string_equal(prev, "2199-12-31");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_bad),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip_sweep),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
