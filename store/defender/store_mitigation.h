/* SPDX-License-Identifier: MIT */
/* store_mitigation.h: Device Defender mitigation actions and Detect
 * mitigation tasks (schema/009_mitigation.sql).
 *
 * A Detect mitigation task starts inside store_mitigation_task_start() and
 * runs over time in store_mitigation_run_due() (see "Detect mitigation
 * tasks" below). For ADD_THINGS_TO_THING_GROUP, an execution adds the
 * violation's thing to the action's thing groups with the registry's rules.
 * Each execution's memberships sit behind a savepoint, so an execution that
 * fails (a missing thing or group, the 10-group limit, a second group of one
 * hierarchy) leaves no membership behind and is recorded as FAILED, while
 * the rest of the task goes on. The other action types apply only to Audit
 * findings and are recorded as SKIPPED. Names, enums and JSON are checked
 * by the caller (core/names); JSON columns are stored as the caller printed
 * them. Times are emulated epoch milliseconds. */
#ifndef DD_STORE_MITIGATION_H
#define DD_STORE_MITIGATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

#define STORE_MITIGATION_NAME_SIZE   129 /* a 128-byte name or id and its NUL */
#define STORE_MITIGATION_UUID_SIZE   37
#define STORE_MITIGATION_TYPE_SIZE   32 /* the longest MitigationActionType and its NUL */
#define STORE_MITIGATION_MAX_ACTIONS 5  /* actions per task */
#define STORE_MITIGATION_MAX_GROUPS  10 /* thingGroupNames per action */

/* The one action type Detect runs. */
#define STORE_MITIGATION_ADD_THINGS "ADD_THINGS_TO_THING_GROUP"

struct store_mitigation_action {
    char name[STORE_MITIGATION_NAME_SIZE];
    char action_id[STORE_MITIGATION_UUID_SIZE];
    char action_type[STORE_MITIGATION_TYPE_SIZE];
    char *role_arn; /* owned */
    char *params;   /* owned: the actionParams object, JSON text */
    int64_t created_ms;
    int64_t modified_ms;
};

/* What CreateMitigationAction stores; every string borrowed. */
struct store_mitigation_action_new {
    const char *name;
    const char *action_id;   /* the UUID a new action gets */
    const char *action_type; /* follows from the params member */
    const char *role_arn;
    const char *params; /* JSON object text with one member */
    const char *tags;   /* JSON array text or NULL */
};

struct store_mitigation_action_page {
    size_t n;
    struct store_mitigation_action *items; /* owned */
    bool more;                             /* items[n-1].name is the resume key */
};

struct store_mitigation_task {
    char task_id[STORE_MITIGATION_NAME_SIZE];
    char status[16]; /* IN_PROGRESS | SUCCESSFUL | FAILED | CANCELED */
    int64_t start_ms;
    int64_t end_ms; /* -1 while in progress */
    char *target;   /* owned: DetectMitigationActionsTaskTarget JSON */
    bool has_range;
    int64_t range_start_ms;
    int64_t range_end_ms;
    bool only_active;
    bool include_suppressed;
    char *actions; /* owned: JSON array of MitigationAction as at the start */
    int64_t n_executed;
    int64_t n_skipped;
    int64_t n_failed;
};

/* What StartDetectMitigationActionsTask asks for; every pointer borrowed.
 * The target is violation_ids (n_violation_ids >= 1) or else profile with an
 * optional behavior. */
struct store_mitigation_task_new {
    const char *task_id;
    const char *client_request_token;
    const char *request; /* canonical text of the request: equal text = a retry */
    const char *target;  /* the target JSON that Describe echoes */
    const char *const *violation_ids;
    size_t n_violation_ids;
    const char *profile;
    const char *behavior; /* NULL = every behavior of profile */
    bool has_range;       /* only violations with an event in [start, end] */
    int64_t range_start_ms;
    int64_t range_end_ms;
    bool only_active;        /* only violations still in alarm */
    bool include_suppressed; /* also violations of behaviors with suppressAlerts */
    const char *const *actions;
    size_t n_actions; /* 1..STORE_MITIGATION_MAX_ACTIONS action names */
};

struct store_mitigation_task_page {
    size_t n;
    struct store_mitigation_task *items; /* owned */
    bool more;                           /* items[n-1] (start_ms, task_id) is the resume key */
};

struct store_mitigation_execution {
    int64_t id; /* the resume key of a listing */
    char task_id[STORE_MITIGATION_NAME_SIZE];
    char violation_id[STORE_MITIGATION_NAME_SIZE];
    char action_name[STORE_MITIGATION_NAME_SIZE];
    char *thing; /* owned */
    int64_t start_ms;
    int64_t end_ms;   /* -1 while in progress */
    char status[16];  /* IN_PROGRESS | SUCCESSFUL | FAILED | SKIPPED */
    char *error_code; /* owned, NULL when none */
    char *message;    /* owned, NULL when none */
};

/* ListDetectMitigationActionsExecutions filters; NULL strings and a false
 * has_range do not filter. */
struct store_mitigation_execution_filter {
    const char *task_id;
    const char *violation_id;
    const char *thing;
    bool has_range; /* executions that started in [start_ms, end_ms] */
    int64_t start_ms;
    int64_t end_ms;
};

struct store_mitigation_execution_page {
    size_t n;
    struct store_mitigation_execution *items; /* owned */
    bool more;                                /* items[n-1].id is the resume key */
};

/* Free what the structs own and clear them. NULL and cleared structs are
 * fine; cannot fail. */
void store_mitigation_action_cleanup(struct store_mitigation_action *a);
void store_mitigation_action_page_cleanup(struct store_mitigation_action_page *p);
void store_mitigation_task_cleanup(struct store_mitigation_task *t);
void store_mitigation_task_page_cleanup(struct store_mitigation_task_page *p);
void store_mitigation_execution_cleanup(struct store_mitigation_execution *e);
void store_mitigation_execution_page_cleanup(struct store_mitigation_execution_page *p);

/* ---- actions ---- */

/* CreateMitigationAction at now_ms in one transaction, read back into *out
 * (cleared first). When the name is taken: DD_ERR_EXISTS with the existing
 * action in *out (for resourceId and resourceArn). On DD_OK and
 * DD_ERR_EXISTS the caller cleans *out up with
 * store_mitigation_action_cleanup(); on other errors it stays cleared.
 * Errors: DD_ERR_EXISTS, DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE. */
int store_mitigation_action_create(struct store *s, const struct store_mitigation_action_new *a,
                                   int64_t now_ms, struct store_mitigation_action *out,
                                   struct dd_errbuf *eb);

/* Read action name into *out (cleared first, cleared on error; clean up with
 * store_mitigation_action_cleanup()). DD_ERR_NOT_FOUND, DD_ERR_NOMEM,
 * DD_ERR_STORE. */
int store_mitigation_action_get(struct store *s, const char *name,
                                struct store_mitigation_action *out, struct dd_errbuf *eb);

/* UpdateMitigationAction in one transaction: role_arn and params (with
 * action_type, the type its member gives) replace the stored ones when not
 * NULL. The type of an action never changes: another action_type is
 * DD_ERR_INVALID. The result lands in *out as store_mitigation_action_get()
 * gives it. Errors: DD_ERR_NOT_FOUND, DD_ERR_INVALID, DD_ERR_NOMEM,
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_mitigation_action_update(struct store *s, const char *name, const char *role_arn,
                                   const char *params, const char *action_type, int64_t now_ms,
                                   struct store_mitigation_action *out, struct dd_errbuf *eb);

/* DeleteMitigationAction. A missing action is DD_OK (the model has no
 * ResourceNotFound); tasks keep their copy of the definition. DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_mitigation_action_delete(struct store *s, const char *name, struct dd_errbuf *eb);

/* A page of actions of type action_type (NULL = all) sorted by name, after
 * the name after (NULL = from the start), at most limit (>= 1). *out is
 * cleared first; clean up with store_mitigation_action_page_cleanup().
 * DD_ERR_NOMEM, DD_ERR_STORE. */
int store_mitigation_action_list(struct store *s, const char *action_type, const char *after,
                                 size_t limit, struct store_mitigation_action_page *out);

/* ---- Detect mitigation tasks ----
 *
 * A task starts in one transaction (store_mitigation_task_start): its row,
 * its copy of the actions and one execution per (violation, action).
 * Executions of actions that apply only to Audit are SKIPPED at once; the
 * ADD_THINGS_TO_THING_GROUP ones wait IN_PROGRESS until a worker applies
 * them (store_mitigation_run_due), each in a transaction of its own and
 * paced on the emulated clock, so the task is IN_PROGRESS while they run
 * and can be canceled. Pacing depends only on committed times, so after a
 * restart the same executions are due and the task resumes. */

/* StartDetectMitigationActionsTask at now_ms in one transaction: the task
 * IN_PROGRESS with its executions queued (SUCCESSFUL at once when nothing
 * is left to run). *created is true when the task was made,
 * false when the same task id, token and request were already stored (a
 * client retry: nothing changes). Errors:
 *   DD_ERR_EXISTS   the task id is taken, or the token belongs to another
 *                   task (AWS TaskAlreadyExistsException);
 *   DD_ERR_INVALID  an action, a target violation id or the target profile
 *                   does not exist;
 *   DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE.
 * eb says why; on error nothing is written. */
int store_mitigation_task_start(struct store *s, const struct store_mitigation_task_new *t,
                                int64_t now_ms, bool *created, struct dd_errbuf *eb);

/* Read task task_id into *out (cleared first, cleared on error; clean up
 * with store_mitigation_task_cleanup()). DD_ERR_NOT_FOUND, DD_ERR_NOMEM,
 * DD_ERR_STORE. */
int store_mitigation_task_get(struct store *s, const char *task_id,
                              struct store_mitigation_task *out, struct dd_errbuf *eb);

/* A page of tasks that started in [start_ms, end_ms], by start time then
 * id, strictly after (after_ms, after_id) (after_id NULL = from the start),
 * at most limit (>= 1). *out cleared first;
 * store_mitigation_task_page_cleanup(). DD_ERR_NOMEM, DD_ERR_STORE. */
int store_mitigation_task_list(struct store *s, int64_t start_ms, int64_t end_ms, int64_t after_ms,
                               const char *after_id, size_t limit,
                               struct store_mitigation_task_page *out);

/* CancelDetectMitigationActionsTask at now_ms: an IN_PROGRESS task becomes
 * CANCELED, its queued executions SKIPPED (counted in actionsSkipped);
 * executions already applied stay. DD_ERR_NOT_FOUND for a missing
 * task, DD_ERR_INVALID for one that is not in progress, DD_ERR_BUSY,
 * DD_ERR_STORE; eb says why. */
int store_mitigation_task_cancel(struct store *s, const char *task_id, int64_t now_ms,
                                 struct dd_errbuf *eb);

/* Apply, at now_ms, the queued executions that are due: the k-th
 * execution of a task (by id, k from 1) is due step_ms * k after the task
 * started (step_ms 0: all at once). Each runs in its own transaction: the
 * thing joins the groups of the task's copy of the action (SUCCESSFUL), or
 * a refused membership leaves none behind (FAILED with errorCode and
 * message); the task's statistics follow, and the task ends (FAILED when
 * one failed, else SUCCESSFUL) with its last execution. Each execution's
 * end time is its due time, however late the worker runs it. At most max run;
 * *ran says how many. DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM (eb). A
 * worker thread, never an HTTP one. */
int store_mitigation_run_due(struct store *s, int64_t now_ms, int64_t step_ms, size_t max,
                             size_t *ran, struct dd_errbuf *eb);

/* A page of executions matching f (NULL = all) in the order they were
 * written, with ids above after_id (0 = from the start), at most limit
 * (>= 1). *out cleared first; store_mitigation_execution_page_cleanup().
 * DD_ERR_NOMEM, DD_ERR_STORE. */
int store_mitigation_execution_list(struct store *s,
                                    const struct store_mitigation_execution_filter *f,
                                    int64_t after_id, size_t limit,
                                    struct store_mitigation_execution_page *out);

#endif
