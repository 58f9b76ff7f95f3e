/* SPDX-License-Identifier: MIT */
/* test_jsonscan.c: the strict JSON syntax check: every value kind, the
 * leniencies of cJSON it refuses (leading zeros, plus signs, trailing
 * text, lone surrogates, long numbers), the depth bound, and where a scan
 * stops for the error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/jsonscan.h"
#include "tests/unit/alloc_fail.h"

static const struct scan_row {
    const char *text;
    bool ok;
    size_t stop; /* when not ok */
} rows[] = {
    { "{}", true, 0 },
    { " [ 1 , -0.5e+3 , \"s\" , true , false , null ] ", true, 0 },
    { "{\"a\":{\"b\":[]}}", true, 0 },
    { "\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"", true, 0 },
    { "\"\\u0000\"", true, 0 },
    { "", false, 0 },
    { "   ", false, 3 },
    { "01", false, 1 },
    { "+1", false, 0 },
    { "1.", false, 2 },
    { "1e", false, 2 },
    { "[1,]", false, 3 },
    { "{\"a\" 1}", false, 5 },
    { "{a:1}", false, 1 },
    { "[1] x", false, 4 },
    { "tru", false, 0 },
    { "\"\\ud83d\"", false, 7 },
    { "\"\\ude00\"", false, 7 },
    { "\"\\x\"", false, 3 },
    { "\"\x01\"", false, 2 },
    { "\"open", false, 5 },
    { "123456789012345678901234567890123456789012345678901234567890123", true, 0 },
    { "1234567890123456789012345678901234567890123456789012345678901234", false, 64 },
};

static void test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        size_t stop = 999;
        bool deep = true;
        bool ok = jsonscan_check(rows[i].text, strlen(rows[i].text), 8, &stop, &deep);

        if (ok != rows[i].ok)
            fail_msg("row %zu: %s", i, ok ? "accepted" : "refused");
        if (!ok && (stop != rows[i].stop || deep))
            fail_msg("row %zu: stopped at %zu (too deep %d)", i, stop, deep);
    }
}

static void test_depth(void **state)
{
    char text[64];
    size_t stop;
    bool deep;

    (void)state;
    memset(text, '[', 4);
    memset(text + 4, ']', 4);
    assert_true(jsonscan_check(text, 8, 4, &stop, &deep));
    memset(text, '[', 5);
    memset(text + 5, ']', 5);
    assert_false(jsonscan_check(text, 10, 4, &stop, &deep));
    assert_true(deep);
    assert_int_equal(stop, 4);
    /* The length is the bound: the NUL after a value is not read. */
    assert_true(jsonscan_check("1x", 1, 4, NULL, NULL));
    assert_false(jsonscan_check(NULL, 0, 4, &stop, &deep));
    assert_int_equal(stop, 0);
    assert_false(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_depth),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
