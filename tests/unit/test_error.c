/* SPDX-License-Identifier: MIT */
/* test_error.c: dd_strerror() names every code; dd_fail() formats, truncates
 * and passes the code through; NULL buffers are allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/mem.h"
#include "tests/unit/alloc_fail.h"

static void test_every_code_has_a_name(void **state)
{
    int e;

    (void)state;
    for (e = DD_OK; e <= DD_ERR_INTERNAL; e++)
        assert_string_not_equal(dd_strerror(e), "unknown error");
    assert_string_equal(dd_strerror(-1), "unknown error");
    assert_string_equal(dd_strerror(DD_ERR_NOT_FOUND), "not found");
}

static void test_fail_formats_and_returns_code(void **state)
{
    struct dd_errbuf eb;
    char big[2000];

    (void)state;
    assert_int_equal(dd_fail(&eb, DD_ERR_INVALID, "field %s: %d", "thingName", 7), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "field thingName: 7");
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    dd_fail(&eb, DD_ERR_INVALID, "%s", big);
    assert_int_equal(strlen(eb.msg), sizeof(eb.msg) - 1);
    assert_int_equal(dd_fail(NULL, DD_ERR_STORE, "ignored"), DD_ERR_STORE);
    dd_errbuf_clear(&eb);
    assert_string_equal(eb.msg, "");
    dd_errbuf_clear(NULL);
}

static int strndup_case(void *ctx)
{
    char *copy = dd_strndup((const char *)ctx, 3);

    if (!copy)
        return DD_ERR_NOMEM;
    assert_string_equal(copy, "abc");
    free(copy);
    return DD_OK;
}

static void test_strndup_copies_and_fails_cleanly(void **state)
{
    (void)state;
    assert_int_equal(alloc_fail_sweep(strndup_case, (void *)"abcdef"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_a_name),
        cmocka_unit_test(test_fail_formats_and_returns_code),
        cmocka_unit_test(test_strndup_copies_and_fails_cleanly),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
