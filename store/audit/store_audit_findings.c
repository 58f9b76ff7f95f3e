/* SPDX-License-Identifier: MIT */
/* store_audit_findings.c: reading audit findings (see store_audit.h); the
 * audit run writes them (store_audit_run.c). */
#include <string.h>

#include "store/audit/store_audit.h"
#include "store/store_internal.h"

#define FINDING_COLUMNS                                                                            \
    "seq, finding_id, task_id, check_name, severity, task_start_ms, finding_ms, resource, "        \
    "related, reason_code, reason, suppressed"

struct walk {
    store_audit_finding_fn row;
    void *ctx;
};

static int finding_row(sqlite3_stmt *st, void *arg)
{
    const struct walk *w = arg;
    struct store_audit_finding f;
    int rc = store__columns(st, "IvvvvIIvvvvb", &f.seq, &f.finding_id, &f.task_id, &f.check_name,
                            &f.severity, &f.task_start_ms, &f.finding_ms, &f.resource, &f.related,
                            &f.reason_code, &f.reason, &f.suppressed);

    return rc ? rc : w->row(w->ctx, &f);
}

int store_audit_finding_list(struct store *s, const struct store_audit_finding_filter *f,
                             int64_t after_seq, size_t limit, store_audit_finding_fn row, void *ctx)
{
    struct walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s,
                     "SELECT " FINDING_COLUMNS " FROM audit_findings WHERE seq > ?1 "
                     "AND (?2 IS NULL OR task_id = ?2) AND (?3 IS NULL OR check_name = ?3) "
                     "AND (?4 IS NULL OR resource_key = ?4) "
                     "AND (NOT ?5 OR finding_ms BETWEEN ?6 AND ?7) "
                     "AND (?8 < 0 OR suppressed = ?8) ORDER BY seq LIMIT ?9",
                     &st, "IsssiIIiI", after_seq, f->task_id, f->check_name, f->resource_key,
                     f->has_range, f->start_ms, f->end_ms, f->suppressed, (int64_t)limit + 1);
    return rc ? rc : store__each(s, st, finding_row, &w, "audit findings");
}

int store_audit_finding_get(struct store *s, const char *finding_id, store_audit_finding_fn row,
                            void *ctx, struct dd_errbuf *eb)
{
    struct walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__one(s, "SELECT " FINDING_COLUMNS " FROM audit_findings WHERE finding_id = ?1", &st,
                    "audit finding", "s", finding_id);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "Audit finding %s does not exist", finding_id);
    if (rc)
        return rc;
    rc = finding_row(st, &w);
    sqlite3_reset(st);
    return rc;
}
