/* SPDX-License-Identifier: MIT */
/* partition.c: the credential scope of a request (see partition.h). */
#include "core/partition.h"

#include <stdio.h>
#include <string.h>

static int copy_part(char *dst, size_t size, const char *src, size_t len)
{
    if (len == 0 || len >= size)
        return DD_ERR_INVALID;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return DD_OK;
}

int partition_scope_parse(const char *credential, size_t len, struct partition_scope *out)
{
    static const char terminator[] = "aws4_request";
    const char *p = credential, *end = credential + len, *slash[4];
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    /* The access key id may not contain '/', so the first four slashes
     * split the five parts. */
    for (i = 0; i < 4; i++) {
        slash[i] = memchr(p, '/', (size_t)(end - p));
        if (!slash[i])
            return DD_ERR_INVALID;
        p = slash[i] + 1;
    }
    if ((size_t)(end - p) != sizeof(terminator) - 1 ||
        memcmp(p, terminator, sizeof(terminator) - 1) != 0)
        return DD_ERR_INVALID;
    rc = copy_part(out->akid, sizeof(out->akid), credential, (size_t)(slash[0] - credential));
    if (!rc)
        rc = copy_part(out->date, sizeof(out->date), slash[0] + 1,
                       (size_t)(slash[1] - slash[0] - 1));
    if (!rc)
        rc = copy_part(out->region, sizeof(out->region), slash[1] + 1,
                       (size_t)(slash[2] - slash[1] - 1));
    if (!rc)
        rc = copy_part(out->service, sizeof(out->service), slash[2] + 1,
                       (size_t)(slash[3] - slash[2] - 1));
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

int partition_scope_from_authorization(const char *header, struct partition_scope *out)
{
    static const char scheme[] = "AWS4-HMAC-SHA256 ";
    static const char key[] = "Credential=";
    const char *p, *end;

    memset(out, 0, sizeof(*out));
    if (!header || strncmp(header, scheme, sizeof(scheme) - 1) != 0)
        return DD_ERR_INVALID;
    /* The parameters are comma-separated, with or without spaces, in any
     * order; Credential= starts one of them. */
    for (p = header + sizeof(scheme) - 1; *p; p++) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, key, sizeof(key) - 1) == 0) {
            p += sizeof(key) - 1;
            end = p + strcspn(p, ", ");
            return partition_scope_parse(p, (size_t)(end - p), out);
        }
        p += strcspn(p, ",");
        if (!*p)
            break;
    }
    return DD_ERR_INVALID;
}

bool partition_region_ok(const char *region)
{
    size_t i, n = strlen(region);

    if (n == 0 || n > NAMES_REGION_MAX || region[0] < 'a' || region[0] > 'z')
        return false;
    for (i = 0; i < n; i++) {
        char c = region[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return false;
    }
    return true;
}

bool partition_is_account(const char *akid)
{
    size_t i;

    for (i = 0; i < NAMES_ACCOUNT_LEN; i++)
        if (akid[i] < '0' || akid[i] > '9')
            return false;
    return akid[NAMES_ACCOUNT_LEN] == '\0';
}

/* The length of path without a trailing ".db". */
static size_t stem_len(const char *path)
{
    size_t n = strlen(path);

    return n > 3 && strcmp(path + n - 3, ".db") == 0 ? n - 3 : n;
}

int partition_db_path(const char *home_path, const char *account, const char *region, char *buf,
                      size_t size)
{
    int n =
        snprintf(buf, size, "%.*s-%s-%s.db", (int)stem_len(home_path), home_path, account, region);

    return n < 0 || (size_t)n >= size ? DD_ERR_TOO_LARGE : DD_OK;
}

int partition_db_dir(const char *home_path, char *buf, size_t size)
{
    const char *slash = strrchr(home_path, '/');
    int n;

    if (!slash)
        n = snprintf(buf, size, ".");
    else if (slash == home_path)
        n = snprintf(buf, size, "/");
    else
        n = snprintf(buf, size, "%.*s", (int)(slash - home_path), home_path);
    return n < 0 || (size_t)n >= size ? DD_ERR_TOO_LARGE : DD_OK;
}

bool partition_db_name(const char *home_path, const char *name, char account[NAMES_ACCOUNT_LEN + 1],
                       char region[NAMES_REGION_MAX + 1])
{
    const char *slash = strrchr(home_path, '/');
    const char *stem = slash ? slash + 1 : home_path;
    size_t stem_n = stem_len(home_path) - (size_t)(stem - home_path);
    size_t n = strlen(name), region_n;

    account[0] = region[0] = '\0';
    if (n < stem_n + 1 + NAMES_ACCOUNT_LEN + 1 + 1 + 3 || strncmp(name, stem, stem_n) != 0 ||
        name[stem_n] != '-' || name[stem_n + 1 + NAMES_ACCOUNT_LEN] != '-' ||
        strcmp(name + n - 3, ".db") != 0)
        return false;
    region_n = n - 3 - (stem_n + 2 + NAMES_ACCOUNT_LEN);
    if (region_n > NAMES_REGION_MAX)
        return false;
    snprintf(account, NAMES_ACCOUNT_LEN + 1, "%.*s", NAMES_ACCOUNT_LEN, name + stem_n + 1);
    snprintf(region, NAMES_REGION_MAX + 1, "%.*s", (int)region_n,
             name + stem_n + 2 + NAMES_ACCOUNT_LEN);
    if (partition_is_account(account) && partition_region_ok(region))
        return true;
    account[0] = region[0] = '\0';
    return false;
}
