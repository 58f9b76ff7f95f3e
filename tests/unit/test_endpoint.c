/* SPDX-License-Identifier: MIT */
/* test_endpoint.c: core/endpoint.c. The prefix's shape and stability, and
 * each endpoint type's address with and without a TLS listener, in both
 * partitions' domains, and buffers too small for it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/endpoint.h"
#include "core/error.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_prefix_shape_and_stability(void **state)
{
    static const char *const accounts[] = { "123456789012", "000000000000", "210987654321" };
    static const char *const regions[] = { "us-east-1", "eu-west-1", "cn-north-1" };
    char seen[N(accounts) * N(regions) * 3][ENDPOINT_PREFIX_LEN + 1];
    size_t a, r, t, i, n = 0;

    (void)state;
    for (a = 0; a < N(accounts); a++) {
        for (r = 0; r < N(regions); r++) {
            char data[ENDPOINT_PREFIX_LEN + 1], ats[ENDPOINT_PREFIX_LEN + 1];

            endpoint_prefix(ENDPOINT_DATA, accounts[a], regions[r], data);
            endpoint_prefix(ENDPOINT_DATA_ATS, accounts[a], regions[r], ats);
            assert_string_equal(data, ats); /* Data and Data-ATS share it */
            for (t = ENDPOINT_DATA_ATS; t <= ENDPOINT_JOBS; t++) {
                char again[ENDPOINT_PREFIX_LEN + 1];

                endpoint_prefix((enum endpoint_type)t, accounts[a], regions[r], seen[n]);
                endpoint_prefix((enum endpoint_type)t, accounts[a], regions[r], again);
                assert_string_equal(seen[n], again);
                assert_int_equal(strlen(seen[n]), ENDPOINT_PREFIX_LEN);
                assert_true(seen[n][0] >= 'a' && seen[n][0] <= 'z');
                assert_int_equal(strspn(seen[n], "abcdefghijklmnopqrstuvwxyz0123456789"),
                                 ENDPOINT_PREFIX_LEN);
                for (i = 0; i < n; i++)
                    if (strcmp(seen[i], seen[n]) == 0)
                        fail_msg(" repeats for %s %s type %zu", seen[n], accounts[a], regions[r],
                                 t);
                n++;
            }
        }
    }
}

struct address_row {
    enum endpoint_type type;
    const char *region;
    const char *tls_host;
    unsigned tls_port;
    const char *want; /* after the prefix of type for account 123456789012 when it
                       * starts with '-' or '.', else all of it */
};

static const struct address_row addresses[] = {
    { ENDPOINT_DATA_ATS, "us-east-1", "127.0.0.1", 8883, "127.0.0.1" },
    { ENDPOINT_DATA, "us-east-1", "127.0.0.1", 8883, "127.0.0.1" },
    { ENDPOINT_DATA_ATS, "us-east-1", "localhost", 28883, "localhost:28883" },
    { ENDPOINT_DATA, "eu-west-1", "ddlocal.example", 443, "ddlocal.example:443" },
    { ENDPOINT_DATA_ATS, "us-east-1", "::1", 28883, "[::1]:28883" },
    { ENDPOINT_DATA_ATS, "us-east-1", "::1", 8883, "::1" },
    /* No TLS listener: AWS's form. */
    { ENDPOINT_DATA_ATS, "us-east-1", NULL, 0, "-ats.iot.us-east-1.amazonaws.com" },
    { ENDPOINT_DATA_ATS, "us-east-1", "", 8883, "-ats.iot.us-east-1.amazonaws.com" },
    { ENDPOINT_DATA, "eu-west-1", NULL, 0, ".iot.eu-west-1.amazonaws.com" },
    { ENDPOINT_DATA_ATS, "cn-north-1", NULL, 0, "-ats.iot.cn-north-1.amazonaws.com.cn" },
    /* Credentials and jobs never reach the listener. */
    { ENDPOINT_CREDENTIALS, "us-east-1", "127.0.0.1", 8883,
      ".credentials.iot.us-east-1.amazonaws.com" },
    { ENDPOINT_JOBS, "eu-west-1", "127.0.0.1", 28883, ".jobs.iot.eu-west-1.amazonaws.com" },
    { ENDPOINT_JOBS, "cn-northwest-1", NULL, 0, ".jobs.iot.cn-northwest-1.amazonaws.com.cn" },
};

static void test_addresses(void **state)
{
    size_t r;

    (void)state;
    for (r = 0; r < N(addresses); r++) {
        const struct address_row *row = &addresses[r];
        char prefix[ENDPOINT_PREFIX_LEN + 1], want[ENDPOINT_ADDRESS_MAX], got[ENDPOINT_ADDRESS_MAX];
        int rc;

        endpoint_prefix(row->type, "123456789012", row->region, prefix);
        snprintf(want, sizeof(want), "%s%s", strchr("-.", row->want[0]) ? prefix : "", row->want);
        rc = endpoint_address(got, sizeof(got), row->type, "123456789012", row->region,
                              row->tls_host, row->tls_port);
        if (rc != DD_OK || strcmp(got, want) != 0)
            fail_msg("row %zu: rc %d, \"\", want \"\"", r, rc, got, want);
    }
}

static void test_too_small(void **state)
{
    char buf[64];
    size_t need;
    int rc;

    (void)state;
    rc = endpoint_address(buf, sizeof(buf), ENDPOINT_JOBS, "123456789012", "us-east-1", NULL, 0);
    assert_int_equal(rc, DD_OK);
    need = strlen(buf) + 1;
    memset(buf, '#', sizeof(buf));
    rc = endpoint_address(buf, need - 1, ENDPOINT_JOBS, "123456789012", "us-east-1", NULL, 0);
    assert_int_equal(rc, DD_ERR_TOO_LARGE);
    assert_string_equal(buf, "");
    assert_int_equal(buf[need - 1], '#'); /* nothing written past the buffer */
    rc = endpoint_address(buf, 10, ENDPOINT_DATA_ATS, "123456789012", "us-east-1",
                          "a-long-host-name.example", 28883);
    assert_int_equal(rc, DD_ERR_TOO_LARGE);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_shape_and_stability),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_too_small),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
