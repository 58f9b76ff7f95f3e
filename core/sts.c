/* SPDX-License-Identifier: MIT */
/* sts.c: the caller's identity (see sts.h). */
#include "core/sts.h"

#include <stdio.h>
#include <string.h>

const char *sts_partition(const char *region)
{
    /* Longest prefix first: us-isob- before us-iso-. */
    static const struct {
        const char *prefix;
        const char *partition;
    } partitions[] = {
        { "cn-", "aws-cn" },
        { "us-gov-", "aws-us-gov" },
        { "us-isob-", "aws-iso-b" },
        { "us-iso-", "aws-iso" },
    };

    size_t i;

    for (i = 0; region && i < sizeof(partitions) / sizeof(partitions[0]); i++)
        if (strncmp(region, partitions[i].prefix, strlen(partitions[i].prefix)) == 0)
            return partitions[i].partition;
    return "aws";
}

int sts_caller_identity(const char *account, const char *region, struct sts_identity *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    if (!account || strlen(account) != NAMES_ACCOUNT_LEN)
        return DD_ERR_INVALID;
    for (i = 0; i < NAMES_ACCOUNT_LEN; i++)
        if (account[i] < '0' || account[i] > '9')
            return DD_ERR_INVALID;
    memcpy(out->account, account, NAMES_ACCOUNT_LEN);
    memcpy(out->user_id, account, NAMES_ACCOUNT_LEN);
    /* The longest partition and a 12-digit account always fit. */
    snprintf(out->arn, sizeof(out->arn), "arn:%s:iam::%s:root", sts_partition(region), account);
    return DD_OK;
}
