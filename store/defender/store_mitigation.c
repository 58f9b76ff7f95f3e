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

/* ---- small helpers ---- */

static int64_t col_ms_or_none(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

static int begin(struct store *s, struct dd_errbuf *eb)
{
    int rc = store_begin(s);

    return rc ? dd_fail(eb, rc, "cannot lock the database") : DD_OK;
}

/* Run one statement without parameters (savepoints). */
static int run(struct store *s, const char *sql, const char *what)
{
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    return rc ? rc : store__step_done(s, st, what);
}

/* A row reader for collect(): fills item from the current row. */
typedef int (*store_mitigation_read_fn)(sqlite3_stmt *st, void *item);
typedef void (*store_mitigation_cleanup_fn)(void *item);

/* Step st (a query for limit + 1 rows) into a new array of at most limit
 * items of size bytes each; *more says whether a row was left over. On
 * error every item is cleaned up and *items is NULL. */
static int collect(struct store *s, sqlite3_stmt *st, size_t limit, size_t size,
                   store_mitigation_read_fn read, store_mitigation_cleanup_fn cleanup, void **items,
                   size_t *n, bool *more, const char *what)
{
    unsigned char *arr = calloc(limit ? limit : 1, size);
    size_t i;
    int rc;

    *items = NULL;
    *n = 0;
    *more = false;
    if (!arr) {
        sqlite3_reset(st);
        return DD_ERR_NOMEM;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == limit) {
            *more = true;
            break;
        }
        rc = read(st, arr + *n * size);
        (*n)++;
        if (rc)
            goto out;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DD_OK : store__error(s, rc, what);
out:
    sqlite3_reset(st);
    if (rc) {
        for (i = 0; i < *n; i++)
            cleanup(arr + i * size);
        free(arr);
        *n = 0;
        *more = false;
        return rc;
    }
    *items = arr;
    return DD_OK;
}

/* ---- cleanup ---- */

void store_mitigation_action_cleanup(struct store_mitigation_action *a)
{
    if (!a)
        return;
    free(a->role_arn);
    free(a->params);
    memset(a, 0, sizeof(*a));
}

void store_mitigation_action_page_cleanup(struct store_mitigation_action_page *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        store_mitigation_action_cleanup(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

void store_mitigation_task_cleanup(struct store_mitigation_task *t)
{
    if (!t)
        return;
    free(t->target);
    free(t->actions);
    memset(t, 0, sizeof(*t));
}

void store_mitigation_task_page_cleanup(struct store_mitigation_task_page *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        store_mitigation_task_cleanup(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

void store_mitigation_execution_cleanup(struct store_mitigation_execution *e)
{
    if (!e)
        return;
    free(e->thing);
    free(e->error_code);
    free(e->message);
    memset(e, 0, sizeof(*e));
}

void store_mitigation_execution_page_cleanup(struct store_mitigation_execution_page *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->n; i++)
        store_mitigation_execution_cleanup(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

/* ---- actions ---- */

#define ACTION_COLUMNS "name, action_id, action_type, role_arn, params, created_ms, modified_ms"

static int read_action(sqlite3_stmt *st, void *item)
{
    struct store_mitigation_action *a = item;
    int rc;

    store__copy_text(a->name, sizeof(a->name), st, 0);
    store__copy_text(a->action_id, sizeof(a->action_id), st, 1);
    store__copy_text(a->action_type, sizeof(a->action_type), st, 2);
    a->created_ms = sqlite3_column_int64(st, 5);
    a->modified_ms = sqlite3_column_int64(st, 6);
    rc = store__dup_text(st, 3, &a->role_arn);
    if (!rc)
        rc = store__dup_text(st, 4, &a->params);
    return rc;
}

static void cleanup_action(void *item)
{
    store_mitigation_action_cleanup(item);
}

static int action_read(struct store *s, const char *name, struct store_mitigation_action *out,
                       struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT " ACTION_COLUMNS " FROM mitigation_actions WHERE name = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_action(st, out);
    else if (rc == SQLITE_DONE)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The mitigation action %s does not exist.", name);
    else
        rc = store__error(s, rc, "read mitigation action");
    sqlite3_reset(st);
    if (rc)
        store_mitigation_action_cleanup(out);
    return rc;
}

int store_mitigation_action_create(struct store *s, const struct store_mitigation_action_new *a,
                                   int64_t now_ms, struct store_mitigation_action *out,
                                   struct dd_errbuf *eb)
{
    static const char sql[] =
        "INSERT INTO mitigation_actions (name, action_id, action_type, role_arn, params, tags, "
        "created_ms, modified_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
    struct dd_errbuf ignore;
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = action_read(s, a->name, out, &ignore);
    if (!rc) {
        rc = dd_fail(eb, DD_ERR_EXISTS, "The mitigation action %s already exists.", a->name);
        goto out;
    }
    if (rc != DD_ERR_NOT_FOUND)
        goto out;
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, a->action_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, a->action_type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, a->role_arn, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, a->params, -1, SQLITE_TRANSIENT);
    store__bind_text_copy(st, 6, a->tags);
    sqlite3_bind_int64(st, 7, now_ms);
    rc = store__step_done(s, st, "create mitigation action");
    if (!rc)
        rc = action_read(s, a->name, out, eb);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        if (rc != DD_ERR_EXISTS)
            store_mitigation_action_cleanup(out);
    }
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
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = action_read(s, name, out, eb);
    if (rc)
        goto out;
    if (params && action_type && strcmp(out->action_type, action_type) != 0) {
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The type of mitigation action %s is %s and cannot be changed to %s.", name,
                     out->action_type, action_type);
        goto out;
    }
    store_mitigation_action_cleanup(out);
    rc = store__prepare(s, sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    store__bind_text_copy(st, 2, role_arn);
    store__bind_text_copy(st, 3, params);
    sqlite3_bind_int64(st, 4, now_ms);
    rc = store__step_done(s, st, "update mitigation action");
    if (!rc)
        rc = action_read(s, name, out, eb);
    if (!rc)
        rc = store_commit(s);
out:
    if (rc) {
        store_rollback(s);
        store_mitigation_action_cleanup(out);
    }
    return rc;
}

int store_mitigation_action_delete(struct store *s, const char *name, struct dd_errbuf *eb)
{
    static const char sql[] = "DELETE FROM mitigation_actions WHERE name = ?";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return dd_fail(eb, rc, "cannot delete the mitigation action");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    rc = store__step_done(s, st, "delete mitigation action");
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
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text_copy(st, 1, action_type);
    store__bind_text_copy(st, 2, after);
    sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
    rc = collect(s, st, limit, sizeof(*out->items), read_action, cleanup_action, &items, &out->n,
                 &out->more, "list mitigation actions");
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
    int rc;

    store__copy_text(t->task_id, sizeof(t->task_id), st, 0);
    store__copy_text(t->status, sizeof(t->status), st, 1);
    t->start_ms = sqlite3_column_int64(st, 2);
    t->end_ms = col_ms_or_none(st, 3);
    t->has_range = sqlite3_column_type(st, 5) != SQLITE_NULL;
    t->range_start_ms = sqlite3_column_int64(st, 5);
    t->range_end_ms = sqlite3_column_int64(st, 6);
    t->only_active = sqlite3_column_int(st, 7) != 0;
    t->include_suppressed = sqlite3_column_int(st, 8) != 0;
    t->n_executed = sqlite3_column_int64(st, 10);
    t->n_skipped = sqlite3_column_int64(st, 11);
    t->n_failed = sqlite3_column_int64(st, 12);
    rc = store__dup_text(st, 4, &t->target);
    if (!rc)
        rc = store__dup_text(st, 9, &t->actions);
    return rc;
}

static void cleanup_task(void *item)
{
    store_mitigation_task_cleanup(item);
}

int store_mitigation_task_get(struct store *s, const char *task_id,
                              struct store_mitigation_task *out, struct dd_errbuf *eb)
{
    static const char sql[] =
        "SELECT " TASK_COLUMNS " FROM detect_mitigation_tasks WHERE task_id = ?";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = read_task(st, out);
    else if (rc == SQLITE_DONE)
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The mitigation actions task %s does not exist.",
                     task_id);
    else
        rc = store__error(s, rc, "read mitigation task");
    sqlite3_reset(st);
    if (rc)
        store_mitigation_task_cleanup(out);
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
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_int64(st, 1, start_ms);
    sqlite3_bind_int64(st, 2, end_ms);
    sqlite3_bind_int64(st, 3, after_ms);
    store__bind_text_copy(st, 4, after_id);
    sqlite3_bind_int64(st, 5, (int64_t)limit + 1);
    rc = collect(s, st, limit, sizeof(*out->items), read_task, cleanup_task, &items, &out->n,
                 &out->more, "list mitigation tasks");
    out->items = items;
    return rc;
}

int store_mitigation_task_cancel(struct store *s, const char *task_id, int64_t now_ms,
                                 struct dd_errbuf *eb)
{
    static const char status_sql[] = "SELECT status FROM detect_mitigation_tasks WHERE task_id = ?";
    static const char cancel_sql[] =
        "UPDATE detect_mitigation_tasks SET status = 'CANCELED', end_ms = ?2 WHERE task_id = ?1";
    char status[16];
    sqlite3_stmt *st;
    int rc;

    rc = begin(s, eb);
    if (rc)
        return rc;
    rc = store__prepare(s, status_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        store__copy_text(status, sizeof(status), st, 0);
        rc = DD_OK;
    } else if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "The mitigation actions task %s does not exist.",
                     task_id);
    } else {
        rc = store__error(s, rc, "read mitigation task");
    }
    sqlite3_reset(st);
    if (rc)
        goto out;
    if (strcmp(status, "IN_PROGRESS") != 0) {
        rc = dd_fail(eb, DD_ERR_INVALID,
                     "The mitigation actions task %s cannot be canceled because it is not in "
                     "progress (its status is %s).",
                     task_id, status);
        goto out;
    }
    rc = store__prepare(s, cancel_sql, &st);
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now_ms);
    rc = store__step_done(s, st, "cancel mitigation task");
    if (!rc)
        rc = store_commit(s);
out:
    if (rc)
        store_rollback(s);
    return rc;
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
    rc = store__prepare(s, id_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, t->task_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->client_request_token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, t->request, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int(st, 0)) {
        *retry = true;
        rc = DD_OK;
    } else if (rc == SQLITE_ROW) {
        rc = dd_fail(eb, DD_ERR_EXISTS, "A mitigation actions task with the id %s already exists.",
                     t->task_id);
    } else {
        rc = rc == SQLITE_DONE ? DD_OK : store__error(s, rc, "find mitigation task");
    }
    sqlite3_reset(st);
    if (rc || *retry)
        return rc;

    rc = store__prepare(s, token_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, t->client_request_token, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        store__copy_text(other, sizeof(other), st, 0);
        rc = dd_fail(eb, DD_ERR_EXISTS,
                     "The client request token %s was already used by mitigation actions task %s.",
                     t->client_request_token, other);
    } else {
        rc = rc == SQLITE_DONE ? DD_OK : store__error(s, rc, "find client request token");
    }
    sqlite3_reset(st);
    return rc;
}

static int insert_task(struct store *s, const struct store_mitigation_task_new *t, int64_t now_ms)
{
    static const char sql[] =
        "INSERT INTO detect_mitigation_tasks (task_id, client_request_token, request, status, "
        "start_ms, target, range_start_ms, range_end_ms, only_active, include_suppressed, "
        "actions) VALUES (?1, ?2, ?3, 'IN_PROGRESS', ?4, ?5, ?6, ?7, ?8, ?9, '[]')";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, t->task_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, t->client_request_token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, t->request, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_text(st, 5, t->target, -1, SQLITE_TRANSIENT);
    if (t->has_range) {
        sqlite3_bind_int64(st, 6, t->range_start_ms);
        sqlite3_bind_int64(st, 7, t->range_end_ms);
    }
    sqlite3_bind_int(st, 8, t->only_active);
    sqlite3_bind_int(st, 9, t->include_suppressed);
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
    rc = store__prepare(s, type_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        store__copy_text(a->type, sizeof(a->type), st, 0);
        rc = DD_OK;
    } else if (rc == SQLITE_DONE) {
        rc = dd_fail(eb, DD_ERR_INVALID, "The mitigation action %s does not exist.", name);
    } else {
        rc = store__error(s, rc, "find mitigation action");
    }
    sqlite3_reset(st);
    if (rc)
        return rc;
    rc = store__prepare(s, copy_sql, &st);
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    return store__step_done(s, st, "copy mitigation action");
}

/* DD_OK when the row that sql (one text parameter) looks for exists; else
 * DD_ERR_INVALID saying that the <what> <value> does not exist. */
static int must_exist(struct store *s, const char *sql, const char *value, const char *what,
                      struct dd_errbuf *eb)
{
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, value, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return DD_OK;
    if (rc == SQLITE_DONE)
        return dd_fail(eb, DD_ERR_INVALID, "The %s %s does not exist.", what, value);
    return store__error(s, rc, "check mitigation target");
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
    int step, rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    store__bind_text_copy(st, 1, one_id);
    store__bind_text_copy(st, 2, one_id ? NULL : t->profile);
    store__bind_text_copy(st, 3, one_id ? NULL : t->behavior);
    sqlite3_bind_int(st, 4, t->only_active);
    sqlite3_bind_int(st, 5, t->include_suppressed);
    if (t->has_range) {
        sqlite3_bind_int64(st, 6, t->range_start_ms);
        sqlite3_bind_int64(st, 7, t->range_end_ms);
    }
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        rc = picked_add(out, (const char *)sqlite3_column_text(st, 0),
                        (const char *)sqlite3_column_text(st, 1));
        if (rc)
            break;
    }
    if (!rc && step != SQLITE_DONE)
        rc = store__error(s, step, "pick violations");
    sqlite3_reset(st);
    return rc;
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

/* The thingGroupNames of action name into groups (at most
 * STORE_MITIGATION_MAX_GROUPS; the caller validated the list). */
static int action_groups(struct store *s, const char *name,
                         char groups[STORE_MITIGATION_MAX_GROUPS][STORE_MITIGATION_NAME_SIZE],
                         size_t *n)
{
    static const char sql[] =
        "SELECT g.value FROM mitigation_actions AS a, "
        "json_each(a.params, '$.addThingsToThingGroupParams.thingGroupNames') AS g "
        "WHERE a.name = ? ORDER BY g.key";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < STORE_MITIGATION_MAX_GROUPS) {
        store__copy_text(groups[*n], STORE_MITIGATION_NAME_SIZE, st, 0);
        (*n)++;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? DD_OK : store__error(s, rc, "read thing groups");
    sqlite3_reset(st);
    return rc;
}

/* The AWS error type an execution reports for a refused membership. */
static const char *execution_error_code(int rc)
{
    return rc == DD_ERR_NOT_FOUND ? "ResourceNotFoundException" : "InvalidRequestException";
}

static int insert_execution(struct store *s, const char *task_id, const struct picked *v,
                            const char *action, int64_t now_ms, const char *status,
                            const char *error_code, const char *message)
{
    static const char sql[] =
        "INSERT INTO detect_mitigation_executions (task_id, violation_id, action_name, "
        "thing_name, start_ms, end_ms, status, error_code, message) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, v->id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, v->thing, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, now_ms);
    sqlite3_bind_text(st, 6, status, -1, SQLITE_STATIC);
    store__bind_text_copy(st, 7, error_code);
    store__bind_text_copy(st, 8, message);
    return store__step_done(s, st, "record mitigation execution");
}

/* One execution of action a on violation v. ADD_THINGS_TO_THING_GROUP adds
 * the thing to each group behind a savepoint: a membership the registry
 * refuses (DD_ERR_NOT_FOUND, DD_ERR_INVALID) undoes this execution's other
 * memberships and makes it FAILED; any other error ends the task. */
static int execute(struct store *s, const char *task_id, const struct picked *v,
                   const struct task_action *a, int64_t now_ms, struct task_counts *counts)
{
    static const char savepoint_sql[] = "SAVEPOINT mitigation_execution";
    static const char rollback_sql[] = "ROLLBACK TO mitigation_execution";
    static const char release_sql[] = "RELEASE mitigation_execution";
    char groups[STORE_MITIGATION_MAX_GROUPS][STORE_MITIGATION_NAME_SIZE];
    char skipped[200];
    struct dd_errbuf why;
    size_t n_groups, i;
    int rc, refused = DD_OK;

    if (strcmp(a->type, STORE_MITIGATION_ADD_THINGS) != 0) {
        snprintf(skipped, sizeof(skipped),
                 "The action type %s applies only to Audit findings; Detect mitigation runs "
                 "only %s actions.",
                 a->type, STORE_MITIGATION_ADD_THINGS);
        counts->skipped++;
        return insert_execution(s, task_id, v, a->name, now_ms, "SKIPPED", NULL, skipped);
    }
    rc = action_groups(s, a->name, groups, &n_groups);
    if (!rc)
        rc = run(s, savepoint_sql, "savepoint");
    if (rc)
        return rc;
    dd_errbuf_clear(&why);
    for (i = 0; !rc && i < n_groups; i++)
        rc = store__membership_add(s, v->thing, groups[i], &why);
    if (rc == DD_ERR_NOT_FOUND || rc == DD_ERR_INVALID) {
        refused = rc;
        rc = run(s, rollback_sql, "rollback to savepoint");
    }
    if (!rc)
        rc = run(s, release_sql, "release savepoint");
    if (rc)
        return rc;
    if (refused) {
        counts->failed++;
        return insert_execution(s, task_id, v, a->name, now_ms, "FAILED",
                                execution_error_code(refused), why.msg);
    }
    counts->executed++;
    return insert_execution(s, task_id, v, a->name, now_ms, "SUCCESSFUL", NULL, NULL);
}

static int finish_task(struct store *s, const char *task_id, int64_t now_ms,
                       const struct task_counts *c)
{
    static const char sql[] =
        "UPDATE detect_mitigation_tasks SET status = ?2, end_ms = ?3, n_executed = ?4, "
        "n_skipped = ?5, n_failed = ?6 WHERE task_id = ?1";
    sqlite3_stmt *st;
    int rc = store__prepare(s, sql, &st);

    if (rc)
        return rc;
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c->failed ? "FAILED" : "SUCCESSFUL", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now_ms);
    sqlite3_bind_int64(st, 4, c->executed);
    sqlite3_bind_int64(st, 5, c->skipped);
    sqlite3_bind_int64(st, 6, c->failed);
    return store__step_done(s, st, "finish mitigation task");
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
    rc = begin(s, eb);
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
            rc = execute(s, t->task_id, &picked.v[i], &actions[j], now_ms, &counts);
    if (!rc)
        rc = finish_task(s, t->task_id, now_ms, &counts);
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

/* ---- executions ---- */

#define EXECUTION_COLUMNS                                                                          \
    "id, task_id, violation_id, action_name, thing_name, start_ms, end_ms, status, error_code, "   \
    "message"

static int read_execution(sqlite3_stmt *st, void *item)
{
    struct store_mitigation_execution *e = item;
    int rc;

    e->id = sqlite3_column_int64(st, 0);
    store__copy_text(e->task_id, sizeof(e->task_id), st, 1);
    store__copy_text(e->violation_id, sizeof(e->violation_id), st, 2);
    store__copy_text(e->action_name, sizeof(e->action_name), st, 3);
    e->start_ms = sqlite3_column_int64(st, 5);
    e->end_ms = col_ms_or_none(st, 6);
    store__copy_text(e->status, sizeof(e->status), st, 7);
    rc = store__dup_text(st, 4, &e->thing);
    if (!rc)
        rc = store__dup_text(st, 8, &e->error_code);
    if (!rc)
        rc = store__dup_text(st, 9, &e->message);
    return rc;
}

static void cleanup_execution(void *item)
{
    store_mitigation_execution_cleanup(item);
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
    rc = store__prepare(s, sql, &st);
    if (rc)
        return rc;
    store__bind_text_copy(st, 1, f->task_id);
    store__bind_text_copy(st, 2, f->violation_id);
    store__bind_text_copy(st, 3, f->thing);
    if (f->has_range) {
        sqlite3_bind_int64(st, 4, f->start_ms);
        sqlite3_bind_int64(st, 5, f->end_ms);
    }
    sqlite3_bind_int64(st, 6, after_id);
    sqlite3_bind_int64(st, 7, (int64_t)limit + 1);
    rc = collect(s, st, limit, sizeof(*out->items), read_execution, cleanup_execution, &items,
                 &out->n, &out->more, "list mitigation executions");
    out->items = items;
    return rc;
}
