/* SPDX-License-Identifier: MIT */
/* test_sts.c: core/sts.c. The partition of each kind of region, and the
 * root identity GetCallerIdentity answers for good and bad accounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/sts.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct partition_row {
    const char *region;
    const char *want;
};

static const struct partition_row partitions[] = {
    { "us-east-1", "aws" },
    { "eu-west-1", "aws" },
    { "cn-north-1", "aws-cn" },
    { "cn-northwest-1", "aws-cn" },
    { "us-gov-west-1", "aws-us-gov" },
    { "us-iso-east-1", "aws-iso" },
    { "us-isob-east-1", "aws-iso-b" },
    { "us-isof-south-1", "aws" }, /* a prefix of no partition listed */
    { "cn", "aws" },              /* not the whole prefix */
    { "", "aws" },
    { NULL, "aws" },
};

static void test_partition(void **state)
{
    size_t r;

    (void)state;
    for (r = 0; r < N(partitions); r++)
        if (strcmp(sts_partition(partitions[r].region), partitions[r].want) != 0)
            fail_msg("%s: %s", partitions[r].region ? partitions[r].region : "(null)",
                     sts_partition(partitions[r].region));
}

struct identity_row {
    const char *account;
    const char *region;
    int want_rc;
    const char *want_arn; /* "" when the call fails */
};

static const struct identity_row identities[] = {
    { "123456789012", "us-east-1", DD_OK, "arn:aws:iam::123456789012:root" },
    { "000000000000", "eu-west-1", DD_OK, "arn:aws:iam::000000000000:root" },
    { "210987654321", "cn-north-1", DD_OK, "arn:aws-cn:iam::210987654321:root" },
    { "210987654321", "us-isob-east-1", DD_OK, "arn:aws-iso-b:iam::210987654321:root" },
    { "12345678901", "us-east-1", DD_ERR_INVALID, "" },   /* 11 digits */
    { "1234567890123", "us-east-1", DD_ERR_INVALID, "" }, /* 13 digits */
    { "12345678901a", "us-east-1", DD_ERR_INVALID, "" },
    { "", "us-east-1", DD_ERR_INVALID, "" },
    { NULL, "us-east-1", DD_ERR_INVALID, "" },
};

static void test_identity(void **state)
{
    size_t r;

    (void)state;
    for (r = 0; r < N(identities); r++) {
        const struct identity_row *row = &identities[r];
        struct sts_identity id;
        int rc;

        memset(&id, '#', sizeof(id));
        rc = sts_caller_identity(row->account, row->region, &id);
        if (rc != row->want_rc || strcmp(id.arn, row->want_arn) != 0)
            fail_msg("row %zu: rc %d, arn \"%s\"", r, rc, id.arn);
        /* The root user's id is its account; a failure leaves all cleared. */
        assert_string_equal(id.account, rc ? "" : row->account);
        assert_string_equal(id.user_id, rc ? "" : row->account);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partition),
        cmocka_unit_test(test_identity),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
