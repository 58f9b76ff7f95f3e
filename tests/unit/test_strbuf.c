/* SPDX-License-Identifier: MIT */
/* test_strbuf.c: core/strbuf.c. Each row appends the same pieces into a
 * buffer of a given capacity and checks the text kept, the length counted
 * and the final check; then the measuring buffer (capacity 0) and a format
 * that cannot render. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include "core/strbuf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The pieces every row appends: "ab", then "-%d-" with 42, then "xyz" by
 * its first 3 bytes of "xyzzy", then "!" : "ab-42-xyz!" (10 bytes). */
static void append_all(struct strbuf *sb)
{
    strbuf_append(sb, "ab");
    strbuf_appendf(sb, "-%d-", 42);
    strbuf_append_n(sb, "xyzzy", 3);
    strbuf_append(sb, "!");
}

struct row {
    size_t cap;
    const char *want; /* the text kept */
    int want_rc;
};

static const struct row rows[] = {
    { 64, "ab-42-xyz!", DD_OK },
    { 11, "ab-42-xyz!", DD_OK },           /* exactly the text and its NUL */
    { 10, "ab-42-xyz", DD_ERR_TOO_LARGE }, /* one byte short: the last piece cut */
    { 9, "ab-42-xy", DD_ERR_TOO_LARGE },   /* cut inside append_n */
    { 5, "ab-4", DD_ERR_TOO_LARGE },       /* cut inside appendf */
    { 3, "ab", DD_ERR_TOO_LARGE },         /* the first piece just fits */
    { 2, "a", DD_ERR_TOO_LARGE },          /* cut inside the first piece */
    { 1, "", DD_ERR_TOO_LARGE },           /* room for the NUL only */
};

static void test_rows(void **state)
{
    char buf[64 + 8];
    size_t r;

    (void)state;
    for (r = 0; r < N(rows); r++) {
        struct strbuf sb;

        memset(buf, '#', sizeof(buf));
        strbuf_init(&sb, buf, rows[r].cap);
        append_all(&sb);
        if (strcmp(buf, rows[r].want) != 0 || strbuf_check(&sb) != rows[r].want_rc)
            fail_msg("cap %zu: \"%s\", rc %d", rows[r].cap, buf, strbuf_check(&sb));
        assert_int_equal(strbuf_len(&sb), 10);
        /* Nothing past the capacity was touched. */
        assert_int_equal(buf[rows[r].cap], '#');
    }
}

static void test_empty(void **state)
{
    char buf[4] = "###";
    struct strbuf sb;

    (void)state;
    strbuf_init(&sb, buf, sizeof(buf));
    assert_string_equal(buf, "");
    assert_int_equal(strbuf_check(&sb), DD_OK);
    assert_int_equal(strbuf_len(&sb), 0);
    strbuf_append(&sb, "");
    strbuf_appendf(&sb, "%s", "");
    strbuf_append_n(&sb, "abc", 0);
    assert_int_equal(strbuf_check(&sb), DD_OK);
    assert_string_equal(buf, "");
}

/* Capacity 0 (and a NULL buffer) measures: nothing is written. */
static void test_measure(void **state)
{
    char buf[11];
    struct strbuf sb;

    (void)state;
    strbuf_init(&sb, NULL, 0);
    append_all(&sb);
    assert_int_equal(strbuf_check(&sb), DD_ERR_TOO_LARGE);
    assert_int_equal(strbuf_len(&sb), 10);
    strbuf_init(&sb, buf, strbuf_len(&sb) + 1);
    append_all(&sb);
    assert_int_equal(strbuf_check(&sb), DD_OK);
    assert_string_equal(buf, "ab-42-xyz!");
}

/* After an overflow, later pieces are counted but not written, even ones
 * that would fit in what is left. */
static void test_after_overflow(void **state)
{
    char buf[6];
    struct strbuf sb;

    (void)state;
    strbuf_init(&sb, buf, sizeof(buf));
    strbuf_append(&sb, "abcdefgh");
    strbuf_append(&sb, "");
    assert_string_equal(buf, "abcde");
    strbuf_appendf(&sb, "%c", 'z');
    assert_string_equal(buf, "abcde");
    assert_int_equal(strbuf_len(&sb), 9);
    assert_int_equal(strbuf_check(&sb), DD_ERR_TOO_LARGE);
}

/* A text vsnprintf refuses: a wide character the C locale cannot
 * convert (EILSEQ). */
static void test_bad_format(void **state)
{
    static const wchar_t wide[] = { 0x263a, 0 };
    char buf[16];
    struct strbuf sb;

    (void)state;
    strbuf_init(&sb, buf, sizeof(buf));
    strbuf_append(&sb, "ok");
    strbuf_appendf(&sb, "%ls", wide);
    assert_int_equal(strbuf_check(&sb), DD_ERR_INVALID);
    assert_string_equal(buf, "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),       cmocka_unit_test(test_empty),
        cmocka_unit_test(test_measure),    cmocka_unit_test(test_after_overflow),
        cmocka_unit_test(test_bad_format),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
