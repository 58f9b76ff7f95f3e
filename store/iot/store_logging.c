/* SPDX-License-Identifier: MIT */
/* store_logging.c: the logging_options and logging_levels tables (see
 * store_logging.h). */
#include "store/iot/store_logging.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

void store_logging_options_cleanup(struct store_logging_options *o)
{
    if (o)
        store__free_fields(o, sizeof(*o), 1, o->role_arn);
}

static void cleanup_level(void *item)
{
    struct store_logging_level *l = item;

    store__free_fields(l, sizeof(*l), 1, l->target_name);
}

void store_logging_level_page_cleanup(struct store_logging_level_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->v, p->n, sizeof(*p->v), cleanup_level);
}

int store_logging_set(struct store *s, int version, const char *role_arn, const char *log_level,
                      bool disable_all_logs, int64_t now_ms)
{
    static const char sql[] = "INSERT OR REPLACE INTO logging_options (version, role_arn, "
                              "log_level, disable_all_logs, modified_ms) VALUES (?, ?, ?, ?, ?)";

    return store__run(s, sql, "set logging options", "issiI", version, role_arn, log_level,
                      version == 2 && disable_all_logs, now_ms);
}

static int read_options(sqlite3_stmt *st, void *item)
{
    struct store_logging_options *o = item;

    return store__columns(st, "SsbI", &o->role_arn, o->log_level, sizeof(o->log_level),
                          &o->disable_all_logs, &o->modified_ms);
}

static void cleanup_options(void *item)
{
    store_logging_options_cleanup(item);
}

int store_logging_get(struct store *s, int version, struct store_logging_options *out)
{
    static const char sql[] = "SELECT role_arn, log_level, disable_all_logs, modified_ms "
                              "FROM logging_options WHERE version = ?";

    return store__get(s, sql, "read logging options", read_options, cleanup_options, out,
                      sizeof(*out), "i", version);
}

int store_logging_level_set(struct store *s, const char *target_type, const char *target_name,
                            const char *log_level)
{
    static const char sql[] = "INSERT OR REPLACE INTO logging_levels (target_type, target_name, "
                              "log_level) VALUES (?, ?, ?)";

    return store__run(s, sql, "set logging level", "sss", target_type, target_name, log_level);
}

int store_logging_level_delete(struct store *s, const char *target_type, const char *target_name)
{
    static const char sql[] =
        "DELETE FROM logging_levels WHERE target_type = ? AND target_name = ?";

    return store__run(s, sql, "delete logging level", "ss", target_type, target_name);
}

static int read_level(sqlite3_stmt *st, void *item)
{
    struct store_logging_level *l = item;

    return store__columns(st, "sSs", l->target_type, sizeof(l->target_type), &l->target_name,
                          l->log_level, sizeof(l->log_level));
}

int store_logging_level_list(struct store *s, const char *target_type, const char *after,
                             size_t limit, struct store_logging_level_page *out)
{
    static const char sql[] = "SELECT target_type, target_name, log_level FROM logging_levels "
                              "WHERE (?1 IS NULL OR target_type = ?1) "
                              "AND target_type || '/' || target_name > ?2 "
                              "ORDER BY target_type || '/' || target_name LIMIT ?3";
    sqlite3_stmt *st;
    void *items = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, sql, &st, "ssI", target_type, after ? after : "", (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->v), read_level, cleanup_level, &items, &out->n,
                        &out->more, "list logging levels");
    out->v = items;
    return rc;
}

void store_logging_level_key(const struct store_logging_level *l, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", l->target_type, l->target_name ? l->target_name : "");
}

int store_logging_enabled(struct store *s, bool *enabled)
{
    /* v2 on: set, not disableAllLogs, default level not DISABLED; v1 on:
     * set with a level other than DISABLED (none given counts as on). */
    static const char sql[] =
        "SELECT 1 FROM logging_options WHERE (version = 2 AND disable_all_logs = 0 AND "
        "(log_level IS NULL OR log_level <> 'DISABLED')) OR "
        "(version = 1 AND (log_level IS NULL OR log_level <> 'DISABLED'))";

    return store__found(store__exists(s, sql, "read logging state", ""), enabled);
}
