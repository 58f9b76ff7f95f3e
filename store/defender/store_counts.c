/* SPDX-License-Identifier: MIT */
/* store_counts.c: row counts of Detect's tables (store_counts.h). */
#include "store/defender/store_counts.h"

#include <sqlite3.h>

#include "store/store_internal.h"

int store_counts_detect(struct store *s, int64_t *datapoints, int64_t *violations)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM datapoints), (SELECT count(*) FROM violations)";

    *datapoints = *violations = 0;
    return store__row(s, sql, "count datapoints and violations", "II", datapoints, violations);
}
