/* SPDX-License-Identifier: MIT */
/* store_counts.c: row counts of Detect's tables (store_counts.h). */
#include "store/defender/store_counts.h"

#include <sqlite3.h>

#include "store/store_internal.h"

int store_counts_detect(struct store *s, int64_t *datapoints, int64_t *violations)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM datapoints), (SELECT count(*) FROM violations)";
    sqlite3_stmt *st;
    int rc;

    *datapoints = *violations = 0;
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = store__error(s, rc, "count datapoints and violations");
        goto out;
    }
    *datapoints = sqlite3_column_int64(st, 0);
    *violations = sqlite3_column_int64(st, 1);
    rc = DD_OK;
out:
    sqlite3_reset(st);
    return rc;
}
