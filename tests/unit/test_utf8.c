/* SPDX-License-Identifier: MIT */
/* test_utf8.c: the strict UTF-8 decoder: every sequence length at its
 * bounds, overlong forms, surrogates, code points past U+10FFFF, stray and
 * missing continuation bytes, and sequences cut by the end of the input. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/utf8.h"
#include "tests/unit/alloc_fail.h"

static const struct utf8_row {
    const char *s;
    bool ok;
    uint32_t cp; /* of the first sequence, when ok and s is not empty */
} rows[] = {
    { "", true, 0 },
    { "abc", true, 'a' },
    { "\x7f", true, 0x7F },
    { "\xc2\x80", true, 0x80 },
    { "\xc3\xa9", true, 0xE9 },
    { "\xe2\x82\xac", true, 0x20AC },
    { "\xed\x9f\xbf", true, 0xD7FF },
    { "\xee\x80\x80", true, 0xE000 },
    { "\xf0\x9f\x98\x80", true, 0x1F600 },
    { "\xf4\x8f\xbf\xbf", true, 0x10FFFF },
    { "\xc3", false, 0 },
    { "\xc0\xaf", false, 0 },
    { "\xc1\xbf", false, 0 },
    { "\xe0\x80\xaf", false, 0 },
    { "\xf0\x8f\xbf\xbf", false, 0 },
    { "\xed\xa0\x80", false, 0 },
    { "\xed\xbf\xbf", false, 0 },
    { "\xf4\x90\x80\x80", false, 0 },
    { "\xf5\x80\x80\x80", false, 0 },
    { "\x80", false, 0 },
    { "\xe2\x82", false, 0 },
    { "\xe2\x28\xac", false, 0 },
    { "a\xff", false, 'a' },
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (utf8_valid(rows[i].s, strlen(rows[i].s)) != rows[i].ok)
            fail_msg("row %zu", i);
}

static void test_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const unsigned char *s = (const unsigned char *)rows[i].s;
        size_t n = strlen(rows[i].s);
        uint32_t cp = 0xFFFFFFFFu;
        size_t len;

        if (n == 0)
            continue;
        len = utf8_decode(s, n, &cp);
        if (rows[i].ok && (len == 0 || len > n))
            fail_msg("row %zu: length %zu", i, len);
        if (rows[i].ok && cp != rows[i].cp)
            fail_msg("row %zu: code point %x", i, (unsigned)cp);
    }
}

/* U+0000 is a character like any other: callers that refuse it check it. */
static void test_nul(void **state)
{
    uint32_t cp = 1;

    (void)state;
    assert_true(utf8_valid("a\0b", 3));
    assert_int_equal(utf8_decode((const unsigned char *)"\0", 1, &cp), 1);
    assert_int_equal(cp, 0);
    /* A sequence cut by n is refused even when more bytes follow in memory. */
    assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 1, &cp), 0);
    assert_false(utf8_valid("\xc3\xa9", 1));
}

/* core/ is built with assert() on in every build the tests run (no NDEBUG):
 * a broken contract, here decoding zero bytes, must abort. The unit tests of
 * every module rely on that, so it is checked once here, in a child. */
static void test_asserts_are_on(void **state)
{
    uint32_t cp;
    int status;
    pid_t pid;

    (void)state;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0)
            dup2(null, STDERR_FILENO); /* the assert's message is expected */
        utf8_decode((const unsigned char *)"a", 0, &cp);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_asserts_are_on),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
