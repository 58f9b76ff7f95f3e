/* SPDX-License-Identifier: MIT */
/* store_audit_mitigation.h: audit mitigation actions tasks
 * (schema/031_audit_mitigation.sql, docs/audit.md).
 *
 * A task starts in one transaction: its row, a copy of the definitions of
 * the actions it uses and one execution per (finding, action), PENDING, or
 * SKIPPED for a suppressed finding. The audit worker applies the pending
 * ones as they fall due on the emulated clock (store_audit_mit_run_due),
 * so the task is IN_PROGRESS while they run and can be canceled; what is
 * due depends only on committed rows, so a restart resumes the task.
 * JSON columns hold text the server printed. Times are emulated epoch
 * milliseconds. */
#ifndef DD_STORE_AUDIT_MITIGATION_H
#define DD_STORE_AUDIT_MITIGATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

#define STORE_AUDIT_MIT_ID_SIZE 129 /* a 128-byte task id and its NUL */

/* The policy document REPLACE_DEFAULT_POLICY_VERSION makes the default:
 * it denies every IoT action. */
#define STORE_AUDIT_MIT_BLANK_POLICY                                                               \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Deny\",\"Action\":\"iot:*\","        \
    "\"Resource\":\"*\"}]}"

/* What StartAuditMitigationActionsTask asks for; every pointer borrowed.
 * At least one of audit_task_id, finding_ids and reason_filter is set. */
struct store_audit_mit_new {
    const char *task_id;
    const char *token;         /* clientRequestToken */
    const char *request;       /* canonical request text: equal text = a retry */
    const char *target;        /* the target JSON Describe echoes */
    const char *audit_task_id; /* NULL: findings of every audit task */
    const char *finding_ids;   /* JSON array of finding ids, NULL: no such filter */
    const char *reason_filter; /* JSON {check: [reasonCode]}, NULL: none */
    const char *mapping;       /* JSON {check: [actionName]} */
};

/* A task as Describe answers it. */
struct store_audit_mit_task {
    char task_id[STORE_AUDIT_MIT_ID_SIZE];
    char status[16];
    int64_t start_ms;
    int64_t end_ms; /* -1 while in progress */
    char *target;   /* owned: JSON */
    char *mapping;  /* owned: JSON */
    char *actions;  /* owned: JSON array of {name, id, roleArn, actionParams} */
    char *stats;    /* owned: JSON {check: TaskStatisticsForAuditCheck} */
};

/* Free what t owns and clear it; NULL is fine. */
void store_audit_mit_task_cleanup(struct store_audit_mit_task *t);

/* Whether an action of type action_type may act on check's findings
 * (core/audit.h audit_action_allowed). */
typedef bool (*store_audit_mit_allowed_fn)(const char *check, const char *action_type);

/* Start task t at now_ms in one transaction. *created is false when the
 * same id, token and request were stored already (a retry: nothing
 * changes). Errors: DD_ERR_EXISTS (the id is taken by another request),
 * DD_ERR_INVALID (an action that does not exist or does not fit its
 * check, by allowed; an audit task or finding that does not exist),
 * DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM; eb says why. */
int store_audit_mit_start(struct store *s, const struct store_audit_mit_new *t,
                          store_audit_mit_allowed_fn allowed, int64_t now_ms, bool *created,
                          struct dd_errbuf *eb);

/* Read task task_id into *out (cleared first; cleared on error).
 * DD_ERR_NOT_FOUND (eb), DD_ERR_NOMEM, DD_ERR_STORE. */
int store_audit_mit_get(struct store *s, const char *task_id, struct store_audit_mit_task *out,
                        struct dd_errbuf *eb);

/* CancelAuditMitigationActionsTask at now_ms: an IN_PROGRESS task becomes
 * CANCELED and its pending executions CANCELED; applied ones stay.
 * DD_ERR_NOT_FOUND, DD_ERR_INVALID (not in progress), DD_ERR_BUSY,
 * DD_ERR_STORE; eb says why. */
int store_audit_mit_cancel(struct store *s, const char *task_id, int64_t now_ms,
                           struct dd_errbuf *eb);

/* One row of a task listing: borrowed strings, valid for the call. A
 * non-zero return stops the walk and is returned. */
typedef int (*store_audit_mit_task_fn)(void *ctx, const char *task_id, const char *status,
                                       int64_t start_ms);

/* Tasks that started in [start_ms, end_ms], with status (NULL: any),
 * acting on a finding of audit task audit_task_id (NULL: any) or on
 * finding finding_id (NULL: any), by start time then id, after the key
 * after (store_audit_task_key(), NULL: from the start), at most limit + 1
 * rows. DD_ERR_STORE, DD_ERR_NOMEM or what row returns. */
int store_audit_mit_list(struct store *s, int64_t start_ms, int64_t end_ms, const char *status,
                         const char *audit_task_id, const char *finding_id, const char *after,
                         size_t limit, store_audit_mit_task_fn row, void *ctx);

/* One execution, as ListAuditMitigationActionsExecutions answers it;
 * borrowed strings (NULL when absent), valid for the call. */
struct store_audit_mit_execution {
    int64_t id; /* the resume key */
    const char *task_id, *finding_id, *action_name, *action_id, *status;
    int64_t start_ms;
    int64_t end_ms; /* -1 while pending */
    const char *error_code, *message;
};

typedef int (*store_audit_mit_execution_fn)(void *ctx, const struct store_audit_mit_execution *e);

/* The executions of task_id on finding_id with status (NULL: any), in the
 * order they run, with ids above after_id, at most limit + 1 rows.
 * DD_ERR_STORE, DD_ERR_NOMEM or what row returns. */
int store_audit_mit_executions(struct store *s, const char *task_id, const char *finding_id,
                               const char *status, int64_t after_id, size_t limit,
                               store_audit_mit_execution_fn row, void *ctx);

/* The audit worker: apply, at now_ms, the pending executions that are due
 * (the k-th of a task, by id, step_ms * k after the task started; at most
 * max). Each action changes the finding's resource through the store
 * functions of its family (certificate or CA certificate INACTIVE, things
 * of the certificate into groups, a blank default policy version, v2
 * logging on, the finding published to an SNS topic); then the execution
 * is COMPLETED, or FAILED with errorCode and message, which SKIPS the
 * finding's later actions. A task ends COMPLETED, or FAILED when one
 * failed, with its last execution. real_ms is the real time SNS
 * deliveries fall due. *ran counts them. DD_ERR_BUSY, DD_ERR_STORE,
 * DD_ERR_NOMEM (eb). A worker thread only. */
int store_audit_mit_run_due(struct store *s, int64_t now_ms, int64_t step_ms, int64_t real_ms,
                            size_t max, size_t *ran, struct dd_errbuf *eb);

#endif
