/* SPDX-License-Identifier: MIT */
/* store_audit_scheduled.c: scheduled audits, and the tasks they start
 * when they fall due on the emulator's clock (see store_audit.h). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/ids.h"
#include "store/audit/store_audit.h"
#include "store/audit/store_audit_internal.h"
#include "store/iot/store_policies.h"
#include "store/store_internal.h"

#define MAX_RUNS_PER_ROUND 1000 /* tasks one schedule starts in one round */

void store_audit_scheduled_cleanup(struct store_audit_scheduled *sa)
{
    if (!sa)
        return;
    store__free_fields(sa, sizeof(*sa), 6, sa->name, sa->frequency, sa->day_of_month,
                       sa->day_of_week, sa->checks, sa->tags);
}

static int create_in(struct store *s, const struct store_audit_scheduled_set *sa,
                     const char *const *names, size_t n, struct dd_errbuf *eb)
{
    int64_t count = 0;
    int rc = store_audit__require_enabled(s, names, n, eb);

    if (!rc && store__exists(s, "SELECT 1 FROM audit_scheduled WHERE name = ?1", "scheduled audit",
                             "s", sa->name) == DD_OK)
        return dd_fail(eb, DD_ERR_EXISTS, "Scheduled audit %s already exists", sa->name);
    if (!rc)
        rc =
            store__int64(s, "SELECT count(*) FROM audit_scheduled", "scheduled audits", &count, "");
    if (!rc && count >= STORE_AUDIT_MAX_SCHEDULED)
        return dd_fail(eb, DD_ERR_LIMIT, "An account can have at most %d scheduled audits",
                       STORE_AUDIT_MAX_SCHEDULED);
    if (!rc)
        rc = store__run(s,
                        "INSERT INTO audit_scheduled (name, frequency, day_of_month, "
                        "day_of_week, checks, tags, created_ms, next_ms) VALUES (?1, ?2, ?3, "
                        "?4, ?5, ?6, ?7, ?7)",
                        "scheduled audit", "ssssssI", sa->name, sa->frequency, sa->day_of_month,
                        sa->day_of_week, sa->checks, sa->tags, sa->next_ms);
    return rc;
}

int store_audit_scheduled_create(struct store *s, const struct store_audit_scheduled_set *sa,
                                 const char *const *names, size_t n, struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    return rc ? rc : store__finish(s, create_in(s, sa, names, n, eb));
}

static int update_in(struct store *s, const struct store_audit_scheduled_set *sa,
                     const char *const *names, size_t n, struct dd_errbuf *eb)
{
    int rc = store__exists(s, "SELECT 1 FROM audit_scheduled WHERE name = ?1", "scheduled audit",
                           "s", sa->name);

    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "Scheduled audit %s does not exist", sa->name);
    if (!rc)
        rc = store_audit__require_enabled(s, names, n, eb);
    if (!rc)
        rc = store__run(s,
                        "UPDATE audit_scheduled SET frequency = ?2, day_of_month = ?3, "
                        "day_of_week = ?4, checks = ?5, next_ms = ?6 WHERE name = ?1",
                        "scheduled audit", "sssssI", sa->name, sa->frequency, sa->day_of_month,
                        sa->day_of_week, sa->checks, sa->next_ms);
    return rc;
}

int store_audit_scheduled_update(struct store *s, const struct store_audit_scheduled_set *sa,
                                 const char *const *names, size_t n, struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    return rc ? rc : store__finish(s, update_in(s, sa, names, n, eb));
}

static int read_scheduled(sqlite3_stmt *st, void *item)
{
    struct store_audit_scheduled *sa = item;

    return store__columns(st, "SSSSSSI", &sa->name, &sa->frequency, &sa->day_of_month,
                          &sa->day_of_week, &sa->checks, &sa->tags, &sa->next_ms);
}

static void cleanup_scheduled(void *item)
{
    store_audit_scheduled_cleanup(item);
}

#define SCHEDULED_COLUMNS "name, frequency, day_of_month, day_of_week, checks, tags, next_ms"

int store_audit_scheduled_get(struct store *s, const char *name, struct store_audit_scheduled *out,
                              struct dd_errbuf *eb)
{
    return store__get_named(s, "SELECT " SCHEDULED_COLUMNS " FROM audit_scheduled WHERE name = ?1",
                            "scheduled audit", read_scheduled, cleanup_scheduled, out, sizeof(*out),
                            name, eb, "Scheduled audit %s does not exist", name);
}

int store_audit_scheduled_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    int rc = store__exists(s, "SELECT 1 FROM audit_scheduled WHERE name = ?1", "scheduled audit",
                           "s", name);

    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, rc, "Scheduled audit %s does not exist", name);
    return rc ? rc
              : store__run(s, "DELETE FROM audit_scheduled WHERE name = ?1", "scheduled audit", "s",
                           name);
}

int store_audit_scheduled_list(struct store *s, const char *after, size_t limit,
                               struct store_name_page *out)
{
    return store__page(s,
                       "SELECT name FROM audit_scheduled WHERE ?1 IS NULL OR name > ?1 "
                       "ORDER BY name LIMIT ?2",
                       limit, out, "scheduled audits", "sI", after, (int64_t)limit + 1);
}

/* Start the runs of one due schedule up to now_ms and move it on. */
static int run_schedule(struct store *s, struct store_audit_scheduled *sa, int64_t now_ms,
                        size_t *started, struct dd_errbuf *eb)
{
    const char *names[AUDIT_N_CHECKS_MAX];
    struct audit_schedule sc;
    char id[IDS_HEX_SIZE(16)];
    cJSON *list = cJSON_Parse(sa->checks), *v;
    int64_t due = sa->next_ms;
    size_t n = 0, runs = 0;
    int rc;

    cJSON_ArrayForEach(v, list)
    {
        const struct audit_check *c = audit_check_find(cJSON_GetStringValue(v));

        if (c && n < AUDIT_N_CHECKS_MAX)
            names[n++] = c->name;
    }
    rc = audit_schedule_parse(sa->frequency, sa->day_of_week, sa->day_of_month, &sc, eb);
    while (!rc && due <= now_ms && runs++ < MAX_RUNS_PER_ROUND) {
        rc = ids_hex(id, sizeof(id), 16);
        if (!rc)
            rc = store_audit__task_insert(s, id, "SCHEDULED_AUDIT_TASK", sa->name, names, n, due,
                                          eb);
        if (rc == DD_ERR_INVALID) /* a check disabled since: this run fails to start */
            rc = DD_OK;
        else if (!rc)
            (*started)++;
        due = audit_schedule_next(&sc, due);
    }
    if (!rc)
        rc = store__run(s, "UPDATE audit_scheduled SET next_ms = ?2 WHERE name = ?1",
                        "scheduled audit", "sI", sa->name, due);
    cJSON_Delete(list);
    return rc;
}

static int due_in(struct store *s, int64_t now_ms, size_t *started, struct dd_errbuf *eb)
{
    struct store_audit_scheduled sa;
    sqlite3_stmt *st;
    int rc;

    for (;;) {
        memset(&sa, 0, sizeof(sa));
        rc = store__one(s,
                        "SELECT " SCHEDULED_COLUMNS " FROM audit_scheduled WHERE next_ms <= ?1 "
                        "ORDER BY next_ms, name LIMIT 1",
                        &st, "scheduled audits", "I", now_ms);
        if (rc)
            return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
        rc = read_scheduled(st, &sa);
        sqlite3_reset(st);
        if (!rc)
            rc = run_schedule(s, &sa, now_ms, started, eb);
        store_audit_scheduled_cleanup(&sa);
        if (rc)
            return rc;
    }
}

int store_audit_scheduled_run_due(struct store *s, int64_t now_ms, size_t *started,
                                  struct dd_errbuf *eb)
{
    int rc;

    *started = 0;
    rc = store__exists(s, "SELECT 1 FROM audit_scheduled WHERE next_ms <= ?1", "scheduled audits",
                       "I", now_ms);
    if (rc)
        return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
    rc = store__begin(s, eb);
    return rc ? rc : store__finish(s, due_in(s, now_ms, started, eb));
}
