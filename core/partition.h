/* SPDX-License-Identifier: MIT */
/* partition.h: which account and region a request belongs to.
 *
 * AWS keeps IoT and SNS state per (account, region). A request names its
 * region in the SigV4 credential scope, AKID/YYYYMMDD/REGION/SERVICE/
 * aws4_request, carried by the Authorization header or by a presigned
 * query's X-Amz-Credential. The account is the access key id when that is
 * exactly 12 digits (the convention LocalStack users rely on), otherwise
 * the emulator's default. Nothing here verifies a signature; this only
 * reads where a request says it belongs. Pure: any thread. */
#ifndef DD_CORE_PARTITION_H
#define DD_CORE_PARTITION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/names.h"

/* The longest access key id we keep (AWS's are 16-128). */
#define PARTITION_AKID_MAX 128

struct partition_scope {
    char akid[PARTITION_AKID_MAX + 1];
    char date[9]; /* YYYYMMDD */
    char region[NAMES_REGION_MAX + 1];
    char service[33];
};

/* Split a credential, "AKID/YYYYMMDD/REGION/SERVICE/aws4_request" (len
 * bytes; it need not be NUL-terminated), into out. Returns DD_OK, or
 * DD_ERR_INVALID when it does not have that shape or a part is too long
 * (out is then cleared). The region is not checked here. */
int partition_scope_parse(const char *credential, size_t len, struct partition_scope *out);

/* The credential scope of an Authorization header value,
 * "AWS4-HMAC-SHA256 Credential=<credential>, SignedHeaders=..., ...".
 * DD_ERR_INVALID for another scheme or a malformed credential. */
int partition_scope_from_authorization(const char *header, struct partition_scope *out);

/* Whether region can name a partition: 1-32 of [a-z0-9-], starting with a
 * letter (every AWS region; the names ARNs carry). */
bool partition_region_ok(const char *region);

/* Whether akid is an account id: exactly 12 decimal digits. */
bool partition_is_account(const char *akid);

/* Partition databases: the home partition's is home_path (the broker's
 * and the server's --database); another's lives beside it, named
 * <home_path without .db>-<ACCOUNT>-<REGION>.db. The server and the
 * broker's delivery thread find them by these names. */

/* The database file of (account, region), which is not the home
 * partition, into buf. DD_ERR_TOO_LARGE when it does not fit. */
int partition_db_path(const char *home_path, const char *account, const char *region, char *buf,
                      size_t size);

/* The directory of home_path into buf ("." when it has none). Returns
 * DD_ERR_TOO_LARGE when it does not fit. */
int partition_db_dir(const char *home_path, char *buf, size_t size);

/* Whether name, a file of that directory, is another partition's
 * database; on true its account and region are in account and region. */
bool partition_db_name(const char *home_path, const char *name, char account[NAMES_ACCOUNT_LEN + 1],
                       char region[NAMES_REGION_MAX + 1]);

#endif
