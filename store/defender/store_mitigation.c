/* SPDX-License-Identifier: MIT */
/* store_mitigation.c: mitigation actions, Detect mitigation tasks and their
 * executions (see store_mitigation.h).
 *
 * A task is written first as IN_PROGRESS (its executions refer to it), then
 * its violations are picked into memory before any execution runs: an
 * execution may roll back to its savepoint, which must not happen while a
 * read of the violations is still stepping. The definition of each action
 * is copied into the task with SQLite's JSON functions, so Describe shows
 * the actions as they were when the task ran, whatever happens to them
 * later. */
#include "store/defender/store_mitigation.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "core/mem.h"
#include "store/store_internal.h"

/* ---- cleanup ---- */

void store_mitigation_action_cleanup(struct store_mitigation_action *a)
{
    if (a)
        store__free_fields(a, sizeof(*a), 2, a->role_arn, a->params);
}

static void cleanup_action(void *item)
{
    store_mitigation_action_cleanup(item);
}

void store_mitigation_action_page_cleanup(struct store_mitigation_action_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->items, p->n, sizeof(*p->items), cleanup_action);
}

void store_mitigation_task_cleanup(struct store_mitigation_task *t)
{
    if (t)
        store__free_fields(t, sizeof(*t), 2, t->target, t->actions);
}

static void cleanup_task(void *item)
{
    store_mitigation_task_cleanup(item);
}

void store_mitigation_task_page_cleanup(struct store_mitigation_task_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->items, p->n, sizeof(*p->items), cleanup_task);
}

void store_mitigation_execution_cleanup(struct store_mitigation_execution *e)
{
    if (e)
        store__free_fields(e, sizeof(*e), 3, e->thing, e->error_code, e->message);
}

static void cleanup_execution(void *item)
{
    store_mitigation_execution_cleanup(item);
}

void store_mitigation_execution_page_cleanup(struct store_mitigation_execution_page *p)
{
    if (p)
        store__clear_page(p, sizeof(*p), p->items, p->n, sizeof(*p->items), cleanup_execution);
}

/* ---- actions ---- */

#define ACTION_COLUMNS "name, action_id, action_type, role_arn, params, created_ms, modified_ms"

static int read_action(sqlite3_stmt *st, void *item)
{
    struct store_mitigation_action *a = item;

    return store__columns(st, "sssSSII", a->name, sizeof(a->name), a->action_id,
                          sizeof(a->action_id), a->action_type, sizeof(a->action_type),
                          &a->role_arn, &a->params, &a->created_ms, &a->modified_ms);
}

static int action_read(struct store *s, const char *name, struct store_mitigation_action *out,
                       struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " ACTION_COLUMNS " FROM mitigation_actions WHERE name = ?";

    return store__get_named(s, sql, "read mitigation action", read_action, cleanup_action, out,
                            sizeof(*out), name, eb, "The mitigation action %s does not exist.",
                            name);
}

int store_mitigation_action_create(struct store *s, const struct store_mitigation_action_new *a,
                                   int64_t now_ms, struct store_mitigation_action *out,
                                   struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO mitigation_actions (name, action_id, action_type, role_arn, params, tags, "
        "created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
    struct dd_errbuf ignore;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = action_read(s, a->name, out, &ignore);
    if (!rc) {
        rc = dd_fail(eb, DD_ERR_EXISTS, "The mitigation action %s already exists.", a->name);
        store_rollback(s);
        return rc; /* *out holds the stored action */
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = store__run(s, sql, "create mitigation action", "ssssssI", a->name, a->action_id,
                        a->action_type, a->role_arn, a->params, a->tags, now_ms);
    if (!rc)
        rc = action_read(s, a->name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_mitigation_action_cleanup(out);
    return rc;
}

int store_mitigation_action_get(struct store *s, const char *name,
                                struct store_mitigation_action *out, struct dd_errbuf *eb)
{
    return action_read(s, name, out, eb);
}

int store_mitigation_action_update(struct store *s, const char *name, const char *role_arn,
                                   const char *params, const char *action_type, int64_t now_ms,
                                   struct store_mitigation_action *out, struct dd_errbuf *eb)
{
    static const char sql[] = "UPDATE mitigation_actions SET role_arn = coalesce(?2, role_arn), "
                              "params = coalesce(?3, params), modified_ms = ?4 WHERE name = ?1";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = action_read(s, name, out, eb);
    if (!rc && params && action_type && strcmp(out->action_type, action_type) != 0)
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The type of mitigation action %s is %s and cannot be changed to %s.", name,
                     out->action_type, action_type);
    store_mitigation_action_cleanup(out);
    if (!rc)
        rc = store__run(s, sql, "update mitigation action", "sssI", name, role_arn, params, now_ms);
    if (!rc)
        rc = action_read(s, name, out, eb);
    rc = store__finish(s, rc);
    if (rc)
        store_mitigation_action_cleanup(out);
    return rc;
}

int store_mitigation_action_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM mitigation_actions WHERE name = ?";
    int rc = store__run(s, sql, "delete mitigation action", "s", name);

    return rc ? dd_fail(eb, rc, "cannot delete the mitigation action") : DD_OK;
}

int store_mitigation_action_list(struct store *s, const char *action_type, const char *after,
                                 size_t limit, struct store_mitigation_action_page *out)
{
    static const char sql[] =
        "SELECT " ACTION_COLUMNS " FROM mitigation_actions "
        "WHERE (?1 IS NULL OR action_type = ?1) AND (?2 IS NULL OR name > ?2) "
        "ORDER BY name LIMIT ?3";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, sql, &st, "ssI", action_type, after, (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->items), read_action, cleanup_action, &items,
                        &out->n, &out->more, "list mitigation actions");
    out->items = items;
    return rc;
}

/* ---- tasks ---- */

#define TASK_COLUMNS                                                                               \
    "task_id, status, start_ms, end_ms, target, range_start_ms, range_end_ms, only_active, "       \
    "include_suppressed, actions, n_executed, n_skipped, n_failed"

static int read_task(sqlite3_stmt *st, void *item)
{
    struct store_mitigation_task *t = item;

    t->end_ms = store__int_or(st, 3, -1);
    t->has_range = sqlite3_column_type(st, 5) != SQLITE_NULL;
    return store__columns(st, "ssI-SIIbbSIII", t->task_id, sizeof(t->task_id), t->status,
                          sizeof(t->status), &t->start_ms, &t->target, &t->range_start_ms,
                          &t->range_end_ms, &t->only_active, &t->include_suppressed, &t->actions,
                          &t->n_executed, &t->n_skipped, &t->n_failed);
}

static int task_missing(struct dd_errbuf *eb, const char *task_id)
{
    return dd_fail(eb, DD_ERR_NOT_FOUND, "The mitigation actions task %s does not exist.", task_id);
}

int store_mitigation_task_get(struct store *s, const char *task_id,
                              struct store_mitigation_task *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT " TASK_COLUMNS " FROM detect_mitigation_tasks WHERE task_id = ?";
    int rc;

    rc = store__get(s, sql, "read mitigation task", read_task, cleanup_task, out, sizeof(*out), "s",
                    task_id);
    if (rc == DD_ERR_NOT_FOUND)
        rc = task_missing(eb, task_id);
    return rc;
}

int store_mitigation_task_list(struct store *s, int64_t start_ms, int64_t end_ms, int64_t after_ms,
                               const char *after_id, size_t limit,
                               struct store_mitigation_task_page *out)
{
    static const char sql[] =
        "SELECT " TASK_COLUMNS " FROM detect_mitigation_tasks "
        "WHERE start_ms BETWEEN ?1 AND ?2 "
        "AND (?4 IS NULL OR start_ms > ?3 OR (start_ms = ?3 AND task_id > ?4)) "
        "ORDER BY start_ms, task_id LIMIT ?5";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    rc =
        store__stmt(s, sql, &st, "IIIsI", start_ms, end_ms, after_ms, after_id, (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->items), read_task, cleanup_task, &items, &out->n,
                        &out->more, "list mitigation tasks");
    out->items = items;
    return rc;
}

int store_mitigation_task_cancel(struct store *s, const char *task_id, int64_t now_ms,
                                 struct dd_errbuf *eb)
{
    static const char status_sql[] = "SELECT status FROM detect_mitigation_tasks WHERE task_id = ?";
    static const char cancel_sql[] =
        "UPDATE detect_mitigation_tasks SET status = 'CANCELED', end_ms = ?2, "
        "n_skipped = n_skipped + changes() WHERE task_id = ?1";
    static const char skip_sql[] =
        "UPDATE detect_mitigation_executions SET status = 'SKIPPED', end_ms = ?2, "
        "message = 'The task was canceled before this execution ran.' "
        "WHERE task_id = ?1 AND status = 'IN_PROGRESS'";
    char status[16];
    sqlite3_stmt *st;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = store__one(s, status_sql, &st, "read mitigation task", "s", task_id);
    if (rc == DD_ERR_NOT_FOUND)
        rc = task_missing(eb, task_id);
    if (!rc) {
        store__copy_text(status, sizeof(status), st, 0);
        sqlite3_reset(st);
        if (strcmp(status, "IN_PROGRESS") != 0)
            rc = dd_fail(eb, DD_ERR_INVALID,
                         "The mitigation actions task %s cannot be canceled because it is not in "
                         "progress (its status is %s).",
                         task_id, status);
    }
    if (!rc)
        rc = store__run(s, skip_sql, "skip queued executions", "sI", task_id, now_ms);
    if (!rc)
        rc = store__run(s, cancel_sql, "cancel mitigation task", "sI", task_id, now_ms);
    return store__finish(s, rc);
}

/* ---- starting a task ---- */

/* An action of the task, as it is when the task starts. */
struct task_action {
    const char *name; /* borrowed from the request */
    char type[STORE_MITIGATION_TYPE_SIZE];
};

/* A violation the task acts on. */
struct picked {
    char id[STORE_MITIGATION_NAME_SIZE];
    char *thing; /* owned */
};

struct picked_list {
    size_t n, cap;
    struct picked *v; /* owned */
};

struct task_counts {
    int64_t executed, skipped, failed;
};

static void picked_list_cleanup(struct picked_list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        free(l->v[i].thing);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* A new task id, or a retry of a stored task (*retry). DD_ERR_EXISTS when
 * the id or the token belongs to another task. */
static int check_new_task(struct store *s, const struct store_mitigation_task_new *t, bool *retry,
                          struct dd_errbuf *eb)
{
    static const char id_sql[] =
        "SELECT client_request_token = ?2 AND request = ?3 FROM detect_mitigation_tasks "
        "WHERE task_id = ?1";
    static const char token_sql[] =
        "SELECT task_id FROM detect_mitigation_tasks WHERE client_request_token = ?";
    char other[STORE_MITIGATION_NAME_SIZE];
    sqlite3_stmt *st;
    int rc;

    *retry = false;
    rc = store__one(s, id_sql, &st, "find mitigation task", "sss", t->task_id,
                    t->client_request_token, t->request);
    if (rc == DD_OK) {
        *retry = sqlite3_column_int(st, 0) != 0;
        sqlite3_reset(st);
        if (*retry)
            return DD_OK;
        return dd_fail(eb, DD_ERR_EXISTS,
                       "A mitigation actions task with the id %s already exists.", t->task_id);
    }
    if (rc != DD_ERR_NOT_FOUND)
        return rc;
    rc = store__one(s, token_sql, &st, "find client request token", "s", t->client_request_token);
    if (rc == DD_OK) {
        store__copy_text(other, sizeof(other), st, 0);
        sqlite3_reset(st);
        return dd_fail(eb, DD_ERR_EXISTS,
                       "The client request token %s was already used by mitigation actions "
                       "task %s.",
                       t->client_request_token, other);
    }
    if (rc == DD_ERR_NOT_FOUND)
        rc = DD_OK;
    return rc;
}

static int insert_task(struct store *s, const struct store_mitigation_task_new *t, int64_t now_ms)
{
    static const char sql[] =
        "INSERT INTO detect_mitigation_tasks (task_id, client_request_token, request, status, "
        "start_ms, target, range_start_ms, range_end_ms, only_active, include_suppressed, "
        "actions) VALUES (?1, ?2, ?3, 'IN_PROGRESS', ?4, ?5, ?6, ?7, ?8, ?9, '[]')";
    sqlite3_stmt *st;
    int rc = store__stmt(s, sql, &st, "sssIs--ii", t->task_id, t->client_request_token, t->request,
                         now_ms, t->target, (int)t->only_active, (int)t->include_suppressed);

    if (rc)
        return rc;
    if (t->has_range) {
        sqlite3_bind_int64(st, 6, t->range_start_ms);
        sqlite3_bind_int64(st, 7, t->range_end_ms);
    }
    return store__step_done(s, st, "create mitigation task");
}

/* Find action name, note its type in *a and append its definition to the
 * task's actions. DD_ERR_INVALID when it does not exist. */
static int add_task_action(struct store *s, const char *task_id, const char *name,
                           struct task_action *a, struct dd_errbuf *eb)
{
    static const char type_sql[] = "SELECT action_type FROM mitigation_actions WHERE name = ?";
    static const char copy_sql[] =
        "UPDATE detect_mitigation_tasks SET actions = json_insert(actions, '$[#]', "
        "(SELECT json_object('name', name, 'id', action_id, 'roleArn', role_arn, "
        "'actionParams', json(params)) FROM mitigation_actions WHERE name = ?2)) "
        "WHERE task_id = ?1";
    sqlite3_stmt *st;
    int rc;

    a->name = name;
    a->type[0] = '\0';
    rc = store__one(s, type_sql, &st, "find mitigation action", "s", name);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, DD_ERR_INVALID, "The mitigation action %s does not exist.", name);
    if (rc)
        return rc;
    store__copy_text(a->type, sizeof(a->type), st, 0);
    sqlite3_reset(st);
    return store__run(s, copy_sql, "copy mitigation action", "ss", task_id, name);
}

/* DD_OK when the row that sql (one text parameter) looks for exists; else
 * DD_ERR_INVALID saying that the <what> <value> does not exist. */
static int must_exist(struct store *s, const char *sql, const char *value, const char *what,
                      struct dd_errbuf *eb)
{
    return store__require(s, sql, value, eb, DD_ERR_INVALID, "The %s %s does not exist.", what,
                          value);
}

static int picked_add(struct picked_list *l, const char *id, const char *thing)
{
    struct picked *grown;
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->v[i].id, id) == 0)
            return DD_OK; /* a repeated violation id acts once */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;

        grown = realloc(l->v, cap * sizeof(*grown));
        if (!grown)
            return DD_ERR_NOMEM;
        l->v = grown;
        l->cap = cap;
    }
    snprintf(l->v[l->n].id, sizeof(l->v[l->n].id), "%s", id);
    l->v[l->n].thing = dd_strdup(thing);
    if (!l->v[l->n].thing)
        return DD_ERR_NOMEM;
    l->n++;
    return DD_OK;
}

/* Append the violations that match the task's filters, with id one_id
 * (NULL = every violation of t->profile), in start order. */
static int pick_row(sqlite3_stmt *st, void *out)
{
    return picked_add(out, store__text(st, 0), store__text(st, 1));
}

/* Append the violations that match the task's filters, with id one_id
 * (NULL = every violation of t->profile), in start order. */
static int pick(struct store *s, const struct store_mitigation_task_new *t, const char *one_id,
                struct picked_list *out)
{
    static const char sql[] =
        "SELECT v.violation_id, v.thing_name FROM violations AS v "
        "WHERE (?1 IS NULL OR v.violation_id = ?1) AND (?2 IS NULL OR v.profile_name = ?2) "
        "AND (?3 IS NULL OR v.behavior_name = ?3) AND (?4 = 0 OR v.end_ms IS NULL) "
        "AND (?5 != 0 OR v.suppressed = 0) "
        "AND (?6 IS NULL OR EXISTS (SELECT 1 FROM violation_events AS e "
        "WHERE e.violation_id = v.violation_id AND e.time_ms BETWEEN ?6 AND ?7)) "
        "ORDER BY v.start_ms, v.violation_id";
    sqlite3_stmt *st;
    int rc =
        store__stmt(s, sql, &st, "sssii", one_id, one_id ? NULL : t->profile,
                    one_id ? NULL : t->behavior, (int)t->only_active, (int)t->include_suppressed);

    if (rc)
        return rc;
    if (t->has_range) {
        sqlite3_bind_int64(st, 6, t->range_start_ms);
        sqlite3_bind_int64(st, 7, t->range_end_ms);
    }
    return store__each(s, st, pick_row, out, "pick violations");
}

/* The violations the task's target names, checked to exist. */
static int pick_target(struct store *s, const struct store_mitigation_task_new *t,
                       struct picked_list *out, struct dd_errbuf *eb)
{
    static const char violation_sql[] = "SELECT 1 FROM violations WHERE violation_id = ?";
    static const char profile_sql[] = "SELECT 1 FROM security_profiles WHERE name = ?";
    size_t i;
    int rc = DD_OK;

    if (!t->n_violation_ids) {
        rc = must_exist(s, profile_sql, t->profile, "security profile", eb);
        return rc ? rc : pick(s, t, NULL, out);
    }
    for (i = 0; !rc && i < t->n_violation_ids; i++) {
        rc = must_exist(s, violation_sql, t->violation_ids[i], "violation", eb);
        if (!rc)
            rc = pick(s, t, t->violation_ids[i], out);
    }
    return rc;
}

/* The thing group names read so far by group_row (at most
 * STORE_MITIGATION_MAX_GROUPS; the actions were validated). */
struct group_names {
    char (*v)[STORE_MITIGATION_NAME_SIZE];
    size_t n;
};

static int group_row(sqlite3_stmt *st, void *arg)
{
    struct group_names *g = arg;

    if (g->n < STORE_MITIGATION_MAX_GROUPS)
        store__copy_text(g->v[g->n++], STORE_MITIGATION_NAME_SIZE, st, 0);
    return DD_OK;
}

/* Whether the task's copy of action has overrideDynamicGroups true: a
 * thing at its group limit then leaves its newest dynamic group to join
 * (device-defender.md, mitigation actions). */
static int action_override(struct store *s, const char *task_id, const char *action, bool *out)
{
    static const char sql[] =
        "SELECT coalesce(json_extract(a.value, "
        "'$.actionParams.addThingsToThingGroupParams.overrideDynamicGroups'), 0) "
        "FROM detect_mitigation_tasks AS t, json_each(t.actions) AS a "
        "WHERE t.task_id = ?1 AND json_extract(a.value, '$.name') = ?2";
    int64_t v = 0;
    int rc = store__int64(s, sql, "read overrideDynamicGroups", &v, "ss", task_id, action);

    *out = v != 0;
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}

/* The AWS error type an execution reports for a refused membership. */
static const char *execution_error_code(int rc)
{
    return rc == DD_ERR_NOT_FOUND ? "ResourceNotFoundException" : "InvalidRequestException";
}

/* A new execution row: finished at now_ms with status, or, with status
 * IN_PROGRESS, queued for the worker (no end time). */
static int insert_execution(struct store *s, const char *task_id, const struct picked *v,
                            const char *action, int64_t now_ms, const char *status,
                            const char *error_code, const char *message)
{
    static const char sql[] =
        "INSERT INTO detect_mitigation_executions (task_id, violation_id, action_name, "
        "thing_name, start_ms, end_ms, status, error_code, message) "
        "VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 = 'IN_PROGRESS' THEN NULL ELSE ?5 END, ?6, "
        "?7, ?8)";

    return store__run(s, sql, "record mitigation execution", "ssssItss", task_id, v->id, action,
                      v->thing, now_ms, status, error_code, message);
}

/* One execution of action a on violation v, as the task starts. Actions
 * of other types than ADD_THINGS_TO_THING_GROUP are SKIPPED at once; the
 * others are queued IN_PROGRESS for store_mitigation_run_due(). */
static int queue_execution(struct store *s, const char *task_id, const struct picked *v,
                           const struct task_action *a, int64_t now_ms, struct task_counts *counts)
{
    char skipped[200];

    if (strcmp(a->type, STORE_MITIGATION_ADD_THINGS) != 0) {
        snprintf(skipped, sizeof(skipped),
                 "The action type %s applies only to Audit findings; Detect mitigation runs "
                 "only %s actions.",
                 a->type, STORE_MITIGATION_ADD_THINGS);
        counts->skipped++;
        return insert_execution(s, task_id, v, a->name, now_ms, "SKIPPED", NULL, skipped);
    }
    return insert_execution(s, task_id, v, a->name, now_ms, "IN_PROGRESS", NULL, NULL);
}

/* Apply queued execution id (ADD_THINGS_TO_THING_GROUP of action on
 * thing): add the thing to each of the action's groups, as the task copied
 * them, behind a savepoint. A membership the registry refuses
 * (DD_ERR_NOT_FOUND, DD_ERR_INVALID) undoes this execution's other
 * memberships and makes it FAILED; any other error is returned. The row
 * and the task's statistics are updated at now_ms. */
static int apply_execution(struct store *s, int64_t id, const char *task_id, const char *action,
                           const char *thing, int64_t now_ms)
{
    static const char groups_sql[] =
        "SELECT g.value FROM detect_mitigation_tasks AS t, json_each(t.actions) AS a, "
        "json_each(a.value, '$.actionParams.addThingsToThingGroupParams.thingGroupNames') AS g "
        "WHERE t.task_id = ?1 AND json_extract(a.value, '$.name') = ?2 ORDER BY g.key";
    static const char savepoint_sql[] = "SAVEPOINT mitigation_execution";
    static const char rollback_sql[] = "ROLLBACK TO mitigation_execution";
    static const char release_sql[] = "RELEASE mitigation_execution";
    static const char done_sql[] =
        "UPDATE detect_mitigation_executions SET status = ?2, end_ms = ?3, error_code = ?4, "
        "message = ?5 WHERE id = ?1";
    static const char count_sql[] =
        "UPDATE detect_mitigation_tasks SET n_executed = n_executed + (?2 = 'SUCCESSFUL'), "
        "n_failed = n_failed + (?2 = 'FAILED') WHERE task_id = ?1";
    char groups[STORE_MITIGATION_MAX_GROUPS][STORE_MITIGATION_NAME_SIZE];
    struct group_names g = { groups, 0 };
    struct dd_errbuf why;
    sqlite3_stmt *st;
    const char *status;
    bool override = false;
    size_t i;
    int rc, refused = DD_OK;

    rc = store__stmt(s, groups_sql, &st, "ss", task_id, action);
    if (!rc)
        rc = store__each(s, st, group_row, &g, "read thing groups");
    if (!rc)
        rc = action_override(s, task_id, action, &override);
    if (!rc)
        rc = store__run(s, savepoint_sql, "savepoint", "");
    if (rc)
        return rc;
    dd_errbuf_clear(&why);
    for (i = 0; !rc && i < g.n; i++)
        rc = store__membership_add(s, thing, groups[i], override, &why);
    if (rc == DD_ERR_NOT_FOUND || rc == DD_ERR_INVALID) {
        refused = rc;
        rc = store__run(s, rollback_sql, "rollback to savepoint", "");
    }
    if (!rc)
        rc = store__run(s, release_sql, "release savepoint", "");
    if (rc)
        return rc;
    status = refused ? "FAILED" : "SUCCESSFUL";
    rc = store__run(s, done_sql, "finish mitigation execution", "ItIss", id, status, now_ms,
                    refused ? execution_error_code(refused) : NULL, refused ? why.msg : NULL);
    if (!rc)
        rc = store__run(s, count_sql, "count mitigation execution", "st", task_id, status);
    return rc;
}

/* End task_id at now_ms when none of its executions is still queued:
 * FAILED when one failed, else SUCCESSFUL. */
static int finish_if_done(struct store *s, const char *task_id, int64_t now_ms)
{
    static const char sql[] =
        "UPDATE detect_mitigation_tasks SET end_ms = ?2, "
        "status = CASE WHEN n_failed > 0 THEN 'FAILED' ELSE 'SUCCESSFUL' END "
        "WHERE task_id = ?1 AND status = 'IN_PROGRESS' AND NOT EXISTS (SELECT 1 FROM "
        "detect_mitigation_executions WHERE task_id = ?1 AND status = 'IN_PROGRESS')";

    return store__run(s, sql, "finish mitigation task", "sI", task_id, now_ms);
}

static int count_skipped(struct store *s, const char *task_id, const struct task_counts *c)
{
    static const char sql[] =
        "UPDATE detect_mitigation_tasks SET n_skipped = ?2 WHERE task_id = ?1";

    return store__run(s, sql, "count skipped executions", "sI", task_id, c->skipped);
}

int store_mitigation_task_start(struct store *s, const struct store_mitigation_task_new *t,
                                int64_t now_ms, bool *created, struct dd_errbuf *eb)
{
    struct task_action actions[STORE_MITIGATION_MAX_ACTIONS];
    struct picked_list picked = { 0 };
    struct task_counts counts = { 0 };
    bool retry;
    size_t i, j;
    int rc;

    assert(t->n_actions >= 1 && t->n_actions <= STORE_MITIGATION_MAX_ACTIONS);
    assert(t->n_violation_ids || t->profile);
    *created = false;
    rc = store__begin(s, eb);
    if (rc)
        return rc;
    rc = check_new_task(s, t, &retry, eb);
    if (rc || retry)
        goto out;
    rc = insert_task(s, t, now_ms);
    for (i = 0; !rc && i < t->n_actions; i++)
        rc = add_task_action(s, t->task_id, t->actions[i], &actions[i], eb);
    if (!rc)
        rc = pick_target(s, t, &picked, eb);
    for (i = 0; !rc && i < picked.n; i++)
        for (j = 0; !rc && j < t->n_actions; j++)
            rc = queue_execution(s, t->task_id, &picked.v[i], &actions[j], now_ms, &counts);
    if (!rc)
        rc = count_skipped(s, t->task_id, &counts);
    if (!rc)
        rc = finish_if_done(s, t->task_id, now_ms);
    if (!rc)
        rc = store_commit(s);
    if (!rc)
        *created = true;
out:
    if (rc || !*created)
        store_rollback(s);
    picked_list_cleanup(&picked);
    return rc;
}

int store_mitigation_run_due(struct store *s, int64_t now_ms, int64_t step_ms, size_t max,
                             size_t *ran, struct dd_errbuf *eb)
{
    /* The k-th execution of a task (k = 1, 2 ... by id) is due step_ms * k
     * after the task started; a restart finds the same ones due. */
    static const char due_sql[] =
        "SELECT * FROM (SELECT e.id, e.task_id, e.action_name, e.thing_name, t.start_ms + ?2 * "
        "(SELECT count(*) FROM detect_mitigation_executions AS x WHERE x.task_id = e.task_id "
        "AND x.id <= e.id) AS due FROM detect_mitigation_executions AS e "
        "JOIN detect_mitigation_tasks AS t ON t.task_id = e.task_id "
        "WHERE e.status = 'IN_PROGRESS' AND t.status = 'IN_PROGRESS') "
        "WHERE due <= ?1 ORDER BY id LIMIT 1";
    char task_id[STORE_MITIGATION_NAME_SIZE], action[STORE_MITIGATION_NAME_SIZE];
    sqlite3_stmt *st;
    char *thing = NULL;
    int64_t id, due_ms;
    int rc = DD_OK;

    *ran = 0;
    while (!rc && *ran < max) {
        rc = store__begin(s, eb);
        if (rc)
            break;
        rc = store__one(s, due_sql, &st, "find due mitigation execution", "II", now_ms, step_ms);
        if (rc == DD_ERR_NOT_FOUND) {
            store_rollback(s);
            rc = DD_OK;
            break;
        }
        if (!rc) {
            rc = store__columns(st, "IssSI", &id, task_id, sizeof(task_id), action, sizeof(action),
                                &thing, &due_ms);
            sqlite3_reset(st);
        }
        /* It ran at its due time, however late the worker saw it. */
        if (!rc)
            rc = apply_execution(s, id, task_id, action, thing, due_ms);
        if (!rc)
            rc = finish_if_done(s, task_id, due_ms);
        free(thing);
        thing = NULL;
        rc = store__finish(s, rc);
        if (!rc)
            (*ran)++;
    }
    return rc;
}

/* ---- executions ---- */

#define EXECUTION_COLUMNS                                                                          \
    "id, task_id, violation_id, action_name, thing_name, start_ms, end_ms, status, error_code, "   \
    "message"

static int read_execution(sqlite3_stmt *st, void *item)
{
    struct store_mitigation_execution *e = item;

    e->end_ms = store__int_or(st, 6, -1);
    return store__columns(st, "IsssSI-sSS", &e->id, e->task_id, sizeof(e->task_id), e->violation_id,
                          sizeof(e->violation_id), e->action_name, sizeof(e->action_name),
                          &e->thing, &e->start_ms, e->status, sizeof(e->status), &e->error_code,
                          &e->message);
}

int store_mitigation_execution_list(struct store *s,
                                    const struct store_mitigation_execution_filter *f,
                                    int64_t after_id, size_t limit,
                                    struct store_mitigation_execution_page *out)
{
    static const char sql[] =
        "SELECT " EXECUTION_COLUMNS " FROM detect_mitigation_executions "
        "WHERE (?1 IS NULL OR task_id = ?1) AND (?2 IS NULL OR violation_id = ?2) "
        "AND (?3 IS NULL OR thing_name = ?3) AND (?4 IS NULL OR start_ms BETWEEN ?4 AND ?5) "
        "AND id > ?6 ORDER BY id LIMIT ?7";
    struct store_mitigation_execution_filter none = { 0 };
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!f)
        f = &none;
    rc = store__stmt(s, sql, &st, "sss--II", f->task_id, f->violation_id, f->thing, after_id,
                     (int64_t)limit + 1);
    if (rc)
        return rc;
    if (f->has_range) {
        sqlite3_bind_int64(st, 4, f->start_ms);
        sqlite3_bind_int64(st, 5, f->end_ms);
    }
    rc = store__collect(s, st, limit, sizeof(*out->items), read_execution, cleanup_execution,
                        &items, &out->n, &out->more, "list mitigation executions");
    out->items = items;
    return rc;
}
