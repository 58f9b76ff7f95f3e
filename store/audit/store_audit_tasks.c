/* SPDX-License-Identifier: MIT */
/* store_audit_tasks.c: audit tasks and their checks (see store_audit.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/audit/store_audit.h"
#include "store/audit/store_audit_internal.h"
#include "store/store_internal.h"

void store_audit_task_cleanup(struct store_audit_task *t)
{
    if (!t)
        return;
    free(t->scheduled_audit_name);
    free(t->checks);
    memset(t, 0, sizeof(*t));
}

int store_audit__require_enabled(struct store *s, const char *const *names, size_t n,
                                 struct dd_errbuf *eb)
{
    size_t i;
    int rc = DD_OK;

    for (i = 0; !rc && i < n; i++) {
        rc = store__exists(s, "SELECT 1 FROM audit_checks WHERE check_name = ?1 AND enabled",
                           "audit check", "s", names[i]);
        if (rc == DD_ERR_NOT_FOUND)
            return dd_fail(eb, DD_ERR_INVALID, "Check %s is not enabled", names[i]);
    }
    return rc;
}

int store_audit__task_insert(struct store *s, const char *task_id, const char *type,
                             const char *scheduled_name, const char *const *names, size_t n,
                             int64_t now_ms, struct dd_errbuf *eb)
{
    int64_t running = 0;
    size_t i;
    int rc = store_audit__require_enabled(s, names, n, eb);

    if (!rc && !scheduled_name)
        rc = store__int64(s,
                          "SELECT count(*) FROM audit_tasks WHERE status = 'IN_PROGRESS' AND "
                          "task_type = 'ON_DEMAND_AUDIT_TASK'",
                          "audit tasks", &running, "");
    if (!rc && running >= STORE_AUDIT_MAX_RUNNING)
        return dd_fail(eb, DD_ERR_LIMIT, "Too many on-demand audit tasks in progress (%d)",
                       STORE_AUDIT_MAX_RUNNING);
    if (!rc)
        rc = store__run(s,
                        "INSERT INTO audit_tasks (task_id, task_type, status, "
                        "scheduled_audit_name, start_ms) VALUES (?1, ?2, 'IN_PROGRESS', ?3, ?4)",
                        "audit task", "sssI", task_id, type, scheduled_name, now_ms);
    for (i = 0; !rc && i < n; i++)
        rc = store__run(s,
                        "INSERT OR IGNORE INTO audit_task_checks (task_id, check_name, "
                        "run_status) VALUES (?1, ?2, 'IN_PROGRESS')",
                        "audit task check", "ss", task_id, names[i]);
    return rc;
}

int store_audit_task_start(struct store *s, const char *task_id, const char *type,
                           const char *scheduled_name, const char *const *names, size_t n,
                           int64_t now_ms, struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    return store__finish(
        s, store_audit__task_insert(s, task_id, type, scheduled_name, names, n, now_ms, eb));
}

static int read_task(sqlite3_stmt *st, void *item)
{
    struct store_audit_task *t = item;

    return store__columns(st, "sssSI", t->task_id, sizeof(t->task_id), t->task_type,
                          sizeof(t->task_type), t->status, sizeof(t->status),
                          &t->scheduled_audit_name, &t->start_ms);
}

static void cleanup_task(void *item)
{
    store_audit_task_cleanup(item);
}

static int read_check(sqlite3_stmt *st, void *item)
{
    struct store_audit_task_check *c = item;

    return store__columns(st, "ssIII", c->name, sizeof(c->name), c->run_status,
                          sizeof(c->run_status), &c->total, &c->non_compliant, &c->suppressed);
}

int store_audit_task_get(struct store *s, const char *task_id, struct store_audit_task *out,
                         struct dd_errbuf *eb)
{
    sqlite3_stmt *st;
    void *items = NULL;
    bool more;
    int rc;

    rc = store__get_named(s,
                          "SELECT task_id, task_type, status, scheduled_audit_name, start_ms "
                          "FROM audit_tasks WHERE task_id = ?1",
                          "audit task", read_task, cleanup_task, out, sizeof(*out), task_id, eb,
                          "Audit task %s does not exist", task_id);
    if (!rc)
        rc = store__stmt(s,
                         "SELECT check_name, run_status, total, non_compliant, suppressed "
                         "FROM audit_task_checks WHERE task_id = ?1 ORDER BY check_name",
                         &st, "s", task_id);
    if (!rc)
        rc = store__collect(s, st, AUDIT_N_CHECKS_MAX, sizeof(struct store_audit_task_check),
                            read_check, NULL, &items, &out->n_checks, &more, "audit task checks");
    out->checks = items;
    if (rc)
        store_audit_task_cleanup(out);
    return rc;
}

static int cancel_in(struct store *s, const char *task_id, int64_t now_ms, struct dd_errbuf *eb)
{
    char status[16];
    sqlite3_stmt *st;
    int rc;

    rc = store__one(s, "SELECT status FROM audit_tasks WHERE task_id = ?1", &st, "audit task", "s",
                    task_id);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "Audit task %s does not exist", task_id);
    if (rc)
        return rc;
    store__copy_text(status, sizeof(status), st, 0);
    sqlite3_reset(st);
    if (strcmp(status, "IN_PROGRESS") != 0)
        return dd_fail(eb, DD_ERR_INVALID, "Audit task %s is %s, not IN_PROGRESS", task_id, status);
    rc = store__run(s, "UPDATE audit_tasks SET status = 'CANCELED', end_ms = ?2 WHERE task_id = ?1",
                    "audit task", "sI", task_id, now_ms);
    if (!rc)
        rc = store__run(s,
                        "UPDATE audit_task_checks SET run_status = 'CANCELED' WHERE task_id = ?1 "
                        "AND run_status IN ('IN_PROGRESS', 'WAITING_FOR_DATA_COLLECTION')",
                        "audit task checks", "s", task_id);
    return rc;
}

int store_audit_task_cancel(struct store *s, const char *task_id, int64_t now_ms,
                            struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    return store__finish(s, cancel_in(s, task_id, now_ms, eb));
}

void store_audit_task_key(int64_t start_ms, const char *task_id, char *buf, size_t size)
{
    snprintf(buf, size, "%020" PRId64 "/%s", start_ms, task_id);
}

struct list_walk {
    store_audit_task_fn row;
    void *ctx;
};

static int list_row(sqlite3_stmt *st, void *arg)
{
    struct list_walk *w = arg;

    return w->row(w->ctx, store__text(st, 0), store__text(st, 1), store__text(st, 2),
                  sqlite3_column_int64(st, 3));
}

int store_audit_task_list(struct store *s, int64_t start_ms, int64_t end_ms, const char *type,
                          const char *status, const char *after, size_t limit,
                          store_audit_task_fn row, void *ctx)
{
    struct list_walk w = { row, ctx };
    sqlite3_stmt *st;
    int rc;

    rc = store__stmt(s,
                     "SELECT task_id, task_type, status, start_ms FROM audit_tasks "
                     "WHERE start_ms >= ?1 AND start_ms <= ?2 "
                     "AND (?3 IS NULL OR task_type = ?3) AND (?4 IS NULL OR status = ?4) "
                     "AND (?5 IS NULL OR printf('%020d/%s', start_ms, task_id) > ?5) "
                     "ORDER BY start_ms, task_id LIMIT ?6",
                     &st, "IIsssI", start_ms, end_ms, type, status, after, (int64_t)limit + 1);
    return rc ? rc : store__each(s, st, list_row, &w, "audit tasks");
}
