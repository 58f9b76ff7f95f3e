/* SPDX-License-Identifier: MIT */
/* test_origin.c: the Host and Origin rules of core/origin.c, one table per
 * function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "core/origin.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_host_of(void **state)
{
    static const struct {
        const char *value;
        int rc;
        const char *host;
    } rows[] = {
        { "localhost:4566", DD_OK, "localhost" },
        { "LOCALHOST", DD_OK, "localhost" },
        { "127.0.0.1:80", DD_OK, "127.0.0.1" },
        { "[::1]:4566", DD_OK, "::1" },
        { "[::1]", DD_OK, "::1" },
        { "emulator:4566", DD_OK, "emulator" },
        { "Rebind.Example.COM:4566", DD_OK, "rebind.example.com" },
        { "", DD_ERR_INVALID, "" },
        { ":4566", DD_ERR_INVALID, "" },
        { "localhost:", DD_ERR_INVALID, "" },
        { "localhost:45x", DD_ERR_INVALID, "" },
        { "localhost:123456", DD_ERR_INVALID, "" },
        { "::1", DD_ERR_INVALID, "" },
        { "[::1", DD_ERR_INVALID, "" },
        { "[::1]x", DD_ERR_INVALID, "" },
        { "[]:80", DD_ERR_INVALID, "" },
        { "a b", DD_ERR_INVALID, "" },
        { "user@localhost", DD_ERR_INVALID, "" },
        { "evil/x", DD_ERR_INVALID, "" },
        { NULL, DD_ERR_INVALID, "" },
    };

    char host[ORIGIN_HOST_MAX + 1];
    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        memset(host, 'x', sizeof(host));
        assert_int_equal(origin_host_of(rows[i].value, host, sizeof(host)), rows[i].rc);
        assert_string_equal(host, rows[i].host);
    }
}

static void test_host_too_long(void **state)
{
    char value[300], host[ORIGIN_HOST_MAX + 1], small[8];

    (void)state;
    memset(value, 'a', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    assert_int_equal(origin_host_of(value, host, sizeof(host)), DD_ERR_INVALID);
    assert_int_equal(origin_host_of("localhost", small, sizeof(small)), DD_ERR_INVALID);
    value[ORIGIN_HOST_MAX] = '\0';
    assert_int_equal(origin_host_of(value, host, sizeof(host)), DD_OK);
}

static void test_host_served(void **state)
{
    static const char *const extra[] = { "emulator", "ddlocal.lan" };

    static const struct {
        const char *host, *bind;
        bool served;
    } rows[] = {
        { "localhost", "127.0.0.1", true },
        { "api.localhost", "127.0.0.1", true },
        { "127.0.0.1", "127.0.0.1", true },
        { "127.1.2.3", "127.0.0.1", true },
        { "::1", "127.0.0.1", true },
        { "emulator", "127.0.0.1", true },
        { "DDLOCAL.lan", "127.0.0.1", true },
        { "192.168.1.20", "192.168.1.20", true },
        { "192.168.1.20", "127.0.0.1", false },
        { "192.168.1.20", "0.0.0.0", true },
        { "fe80::1", "::", true },
        { "rebind.example.com", "0.0.0.0", false },
        { "rebind.example.com", "127.0.0.1", false },
        { "localhost.example.com", "127.0.0.1", false },
        { "xlocalhost", "127.0.0.1", false },
        { "128.0.0.1", "127.0.0.1", false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++)
        assert_int_equal(origin_host_served(rows[i].host, rows[i].bind, extra, N(extra)),
                         rows[i].served);
}

static void test_origins(void **state)
{
    static const char *const allowed[] = { "http://localhost:3000", "https://app.example" };
    static const char *const any[] = { "*" };

    static const struct {
        const char *origin, *host;
        bool same, listed, any;
    } rows[] = {
        { "http://localhost:4566", "localhost:4566", true, false, true },
        { "HTTP://LOCALHOST:4566", "localhost:4566", true, false, true },
        { "http://127.0.0.1:4566", "localhost:4566", false, false, true },
        { "http://localhost:3000", "localhost:4566", false, true, true },
        { "https://app.example", "localhost:4566", false, true, true },
        { "https://app.example.evil", "localhost:4566", false, false, true },
        { "https://localhost:4566", "localhost:4566", false, false, true },
        { "null", "localhost:4566", false, false, true },
        { "http://localhost:4566", NULL, false, false, true },
    };

    size_t i;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        assert_int_equal(origin_is_same(rows[i].origin, rows[i].host), rows[i].same);
        assert_int_equal(origin_is_listed(rows[i].origin, allowed, N(allowed)), rows[i].listed);
        assert_int_equal(origin_is_listed(rows[i].origin, any, N(any)), rows[i].any);
        assert_false(origin_is_listed(rows[i].origin, allowed, 0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_of),
        cmocka_unit_test(test_host_too_long),
        cmocka_unit_test(test_host_served),
        cmocka_unit_test(test_origins),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
