/* SPDX-License-Identifier: MIT */
/* sts.h: who the caller is, as STS GetCallerIdentity answers it, and the
 * AWS partition a region belongs to.
 *
 * ddlocal has no IAM: every access key is its account's root user (the
 * account being what the request's access key names, aws-fidelity.md 1.2),
 * so the identity is AWS's root shape: Arn arn:PARTITION:iam::ACCOUNT:root
 * and UserId the account id (reference/sqs.md 5). Pure: any thread. */
#ifndef DD_CORE_STS_H
#define DD_CORE_STS_H

#include "core/names.h"

#define STS_ARN_MAX 64

/* A GetCallerIdentity answer. */
struct sts_identity {
    char account[NAMES_ACCOUNT_LEN + 1];
    char user_id[NAMES_ACCOUNT_LEN + 1];
    char arn[STS_ARN_MAX + 1];
};

/* The partition of region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*,
 * "aws-iso" for us-iso-*, "aws-iso-b" for us-isob-*, else "aws". region
 * NULL is "aws". Never NULL (a static string). */
const char *sts_partition(const char *region);

/* The root identity of account (borrowed, 12 digits) in region's
 * partition into *out (cleared first). DD_ERR_INVALID when account is not
 * 12 digits (out stays cleared). */
int sts_caller_identity(const char *account, const char *region, struct sts_identity *out);

#endif
