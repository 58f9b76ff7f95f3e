/* SPDX-License-Identifier: MIT */
/* store_audit.h: Device Defender Audit's account configuration, tasks and
 * findings (tables of schema/025_audit.sql).
 *
 * The server checks shapes and names (core/audit.h); these functions keep
 * the rules that need the stored state: the first configuration must enable
 * a check, a check a scheduled audit runs cannot be disabled, a task runs
 * only enabled checks. Each write is one transaction on the caller's
 * connection. */
#ifndef DD_STORE_AUDIT_H
#define DD_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "store/store.h"

/* One check of an update: enabled, and its configuration (a JSON object's
 * text, NULL: none). Strings borrowed. */
struct store_audit_check_set {
    const char *name;
    bool enabled;
    const char *configuration;
};

/* What UpdateAccountAuditConfiguration changes; NULL or false members stay
 * as they are. Strings borrowed. */
struct store_audit_config_update {
    const char *role_arn;
    bool set_target; /* the SNS target below replaces the stored one */
    const char *target_arn;
    const char *target_role_arn;
    bool target_enabled;
    const struct store_audit_check_set *checks;
    size_t n_checks;
};

/* One check as stored. */
struct store_audit_check_row {
    char name[AUDIT_CHECK_NAME_SIZE];
    bool enabled;
    char *configuration; /* owned, NULL when none */
};

/* The account's configuration. */
struct store_audit_config {
    bool configured;
    char *role_arn;        /* owned, NULL when none */
    char *target_arn;      /* owned, NULL when no SNS target */
    char *target_role_arn; /* owned */
    bool target_enabled;
    struct store_audit_check_row *checks; /* owned: the checks with a row */
    size_t n_checks;
};

/* Free what cfg owns and zero it; NULL allowed, cannot fail. */
void store_audit_config_cleanup(struct store_audit_config *cfg);

/* Apply u (borrowed). The first call must enable at least one check and
 * give a role; disabling a check a scheduled audit names is refused.
 * DD_ERR_INVALID (eb: why), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_config_update(struct store *s, const struct store_audit_config_update *u,
                              struct dd_errbuf *eb);

/* Read the configuration into *out (cleared first; clean up with
 * store_audit_config_cleanup(), also on error). DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_audit_config_get(struct store *s, struct store_audit_config *out);

/* DeleteAccountAuditConfiguration: forget the role, the target and every
 * check, and the scheduled audits when delete_scheduled. DD_ERR_NOT_FOUND
 * when nothing is configured, DD_ERR_INVALID when scheduled audits exist
 * and delete_scheduled is false (eb: why), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_config_delete(struct store *s, bool delete_scheduled, struct dd_errbuf *eb);


/* ---- tasks ---- */

#define STORE_AUDIT_TASK_ID_SIZE 41
#define STORE_AUDIT_MAX_RUNNING  10 /* on-demand tasks IN_PROGRESS at once (AWS's quota) */

/* One check of a task. */
struct store_audit_task_check {
    char name[AUDIT_CHECK_NAME_SIZE];
    char run_status[32];
    int64_t total, non_compliant, suppressed;
};

/* A task as DescribeAuditTask shows it. */
struct store_audit_task {
    char task_id[STORE_AUDIT_TASK_ID_SIZE];
    char task_type[32];
    char status[16];
    char *scheduled_audit_name; /* owned, NULL for on-demand tasks */
    int64_t start_ms;
    struct store_audit_task_check *checks; /* owned */
    size_t n_checks;
};

void store_audit_task_cleanup(struct store_audit_task *t);

/* Start task task_id (type ON_DEMAND_AUDIT_TASK or SCHEDULED_AUDIT_TASK;
 * scheduled_name NULL for on-demand) of the n checks names at now_ms: the
 * task is IN_PROGRESS until the audit worker runs it
 * (store_audit_run_next()). Every check must be enabled (DD_ERR_INVALID);
 * an on-demand task past STORE_AUDIT_MAX_RUNNING is DD_ERR_LIMIT (eb says
 * why). DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_task_start(struct store *s, const char *task_id, const char *type,
                           const char *scheduled_name, const char *const *names, size_t n,
                           int64_t now_ms, struct dd_errbuf *eb);

/* Read task task_id into *out (cleared first; clean up with
 * store_audit_task_cleanup(), also on error). DD_ERR_NOT_FOUND (eb),
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_audit_task_get(struct store *s, const char *task_id, struct store_audit_task *out,
                         struct dd_errbuf *eb);

/* CancelAuditTask: an IN_PROGRESS task becomes CANCELED, and its checks
 * not finished too. DD_ERR_NOT_FOUND, DD_ERR_INVALID when it is not in
 * progress (eb says why), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_task_cancel(struct store *s, const char *task_id, int64_t now_ms,
                            struct dd_errbuf *eb);

/* ListAuditTasks: the tasks started from start_ms to end_ms, of type and
 * status when not NULL, ordered by start time then id, after the key
 * after (NULL: from the first), each handed to row(ctx, id, type,
 * status) until it returns non-zero (which is returned). At most limit + 1
 * rows are read. DD_ERR_STORE. */
typedef int (*store_audit_task_fn)(void *ctx, const char *task_id, const char *type,
                                   const char *status, int64_t start_ms);
int store_audit_task_list(struct store *s, int64_t start_ms, int64_t end_ms, const char *type,
                          const char *status, const char *after, size_t limit,
                          store_audit_task_fn row, void *ctx);

/* The paging key of a task row (start time and id) into buf (size bytes). */
void store_audit_task_key(int64_t start_ms, const char *task_id, char *buf, size_t size);

/* Room for a certificate's issuer name or serial (store_audit_names_fn). */
#define STORE_AUDIT_NAME_SIZE 1024

/* The issuer name (RFC 2253) and serial (lowercase hex) of the
 * certificate pem into issuer and serial (sizes in bytes), as the CRL
 * rows of store_cacerts.h key them: the server's X.509 reader, handed to
 * the audit run, since the store never parses X.509. Non-zero when the
 * certificate cannot be read. */
typedef int (*store_audit_names_fn)(const char *pem, char *issuer, size_t issuer_size, char *serial,
                                    size_t serial_size);

/* The audit worker: run the oldest IN_PROGRESS task of this partition
 * (account, region: the ARNs and identifiers its checks build; names
 * reads a certificate's issuer and serial for the revocation checks, NULL:
 * none is revoked), reading
 * every resource in one read transaction and writing its findings, counts
 * and status in one write transaction at now_ms. *ran says whether there
 * was one. A task canceled meanwhile keeps its state. When the account's
 * SNS target is enabled, the completion notification is then published to
 * it (its deliveries due at real_ms, the wall clock). DD_ERR_BUSY,
 * DD_ERR_STORE, DD_ERR_NOMEM (eb says why). Audit worker thread. */
int store_audit_run_next(struct store *s, const char *account, const char *region, int64_t now_ms,
                         int64_t real_ms, store_audit_names_fn names, bool *ran,
                         struct dd_errbuf *eb);

/* ---- findings ---- */

/* One finding row, as a walk hands it: every string a view valid for the
 * call. */
struct store_audit_finding {
    int64_t seq; /* the paging key */
    const char *finding_id, *task_id, *check_name, *severity;
    int64_t task_start_ms, finding_ms;
    const char *resource; /* nonCompliantResource JSON */
    const char *related;  /* relatedResources JSON array, NULL when none */
    const char *reason_code, *reason;
    bool suppressed;
};

/* Which findings ListAuditFindings wants; NULL strings and a range of
 * has_range false do not filter. */
struct store_audit_finding_filter {
    const char *task_id, *check_name, *resource_key;
    bool has_range;
    int64_t start_ms, end_ms; /* of findingTime, inclusive */
    int suppressed;           /* -1: all, 0: unsuppressed only, 1: suppressed only */
};

typedef int (*store_audit_finding_fn)(void *ctx, const struct store_audit_finding *f);

/* The findings f selects, ordered by seq, after after_seq (0: from the
 * first), at most limit + 1 of them, each handed to row(ctx, finding)
 * until it returns non-zero (which is returned). DD_ERR_STORE. */
int store_audit_finding_list(struct store *s, const struct store_audit_finding_filter *f,
                             int64_t after_seq, size_t limit, store_audit_finding_fn row,
                             void *ctx);

/* Hand finding finding_id to row(ctx, finding). DD_ERR_NOT_FOUND (eb),
 * DD_ERR_STORE, or row's answer. */
int store_audit_finding_get(struct store *s, const char *finding_id, store_audit_finding_fn row,
                            void *ctx, struct dd_errbuf *eb);

/* ---- suppressions ---- */

/* A suppression to create or update. Strings borrowed; resource is the
 * resourceIdentifier's JSON, key its audit_resource_key(). */
struct store_audit_suppression_set {
    const char *check_name, *resource_key, *resource;
    bool has_expiration; /* expiration_ms is given */
    int64_t expiration_ms;
    bool has_indefinite; /* indefinite is given */
    bool indefinite;
    const char *description; /* NULL: none (create) or unchanged (update) */
    const char *client_request_token;
};

/* One suppression as a walk hands it: views valid for the call;
 * expiration_ms is -1 when there is none. */
struct store_audit_suppression {
    const char *check_name, *resource, *description;
    int64_t expiration_ms;
    bool indefinite;
};

typedef int (*store_audit_suppression_fn)(void *ctx, const struct store_audit_suppression *su);

/* CreateAuditSuppression. DD_ERR_EXISTS when the pair is suppressed
 * already (eb), DD_ERR_LIMIT past STORE_AUDIT_MAX_SUPPRESSIONS,
 * DD_ERR_BUSY, DD_ERR_STORE. */
#define STORE_AUDIT_MAX_SUPPRESSIONS 1000
int store_audit_suppression_create(struct store *s, const struct store_audit_suppression_set *su,
                                   struct dd_errbuf *eb);

/* UpdateAuditSuppression: the members given replace the stored ones.
 * DD_ERR_NOT_FOUND (eb), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_suppression_update(struct store *s, const struct store_audit_suppression_set *su,
                                   struct dd_errbuf *eb);

/* DeleteAuditSuppression; a missing one is DD_OK. DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_audit_suppression_delete(struct store *s, const char *check_name,
                                   const char *resource_key);

/* DescribeAuditSuppression: hand the suppression to row. DD_ERR_NOT_FOUND
 * (eb), DD_ERR_STORE. */
int store_audit_suppression_get(struct store *s, const char *check_name, const char *resource_key,
                                store_audit_suppression_fn row, void *ctx, struct dd_errbuf *eb);

/* ListAuditSuppressions: the suppressions still active at now_ms, of
 * check_name and resource_key when not NULL, by expiration (ascending or
 * not; indefinite ones last when ascending), from offset, at most limit +
 * 1. DD_ERR_STORE. */
int store_audit_suppression_list(struct store *s, const char *check_name, const char *resource_key,
                                 bool ascending, int64_t now_ms, int64_t offset, size_t limit,
                                 store_audit_suppression_fn row, void *ctx);

/* ---- scheduled audits ---- */

#define STORE_AUDIT_MAX_SCHEDULED 5 /* AWS's fixed quota */

/* A scheduled audit to store (create, update): strings borrowed. */
struct store_audit_scheduled_set {
    const char *name, *frequency;
    const char *day_of_month, *day_of_week; /* NULL unless the frequency takes it */
    const char *checks;                     /* JSON array of check names */
    const char *tags;                       /* JSON, NULL when none */
    int64_t next_ms;
};

/* A scheduled audit as stored. */
struct store_audit_scheduled {
    char *name;
    char *frequency;
    char *day_of_month; /* NULL unless MONTHLY */
    char *day_of_week;  /* NULL unless WEEKLY or BIWEEKLY */
    char *checks;       /* JSON array of check names */
    char *tags;         /* JSON, NULL when none */
    int64_t next_ms;    /* when it falls due next */
};

/* Free what a got row owns and zero it; NULL allowed, cannot fail. */
void store_audit_scheduled_cleanup(struct store_audit_scheduled *sa);

/* CreateScheduledAudit: every check named must be enabled (DD_ERR_INVALID),
 * the name free (DD_ERR_EXISTS), fewer than STORE_AUDIT_MAX_SCHEDULED
 * exist (DD_ERR_LIMIT); eb says why. DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_scheduled_create(struct store *s, const struct store_audit_scheduled_set *sa,
                                 const char *const *names, size_t n, struct dd_errbuf *eb);

/* UpdateScheduledAudit: replace every member of sa->name's row with sa's
 * (the caller merged them). DD_ERR_NOT_FOUND, DD_ERR_INVALID as create,
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_scheduled_update(struct store *s, const struct store_audit_scheduled_set *sa,
                                 const char *const *names, size_t n, struct dd_errbuf *eb);

/* Read scheduled audit name into *out (cleared first; clean up with
 * store_audit_scheduled_cleanup(), also on error). DD_ERR_NOT_FOUND (eb),
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_audit_scheduled_get(struct store *s, const char *name, struct store_audit_scheduled *out,
                              struct dd_errbuf *eb);

/* DeleteScheduledAudit. DD_ERR_NOT_FOUND (eb), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_scheduled_delete(struct store *s, const char *name, struct dd_errbuf *eb);

/* ListScheduledAudits: the names after after (NULL: from the first), at
 * most limit, with out->more. DD_ERR_STORE, DD_ERR_NOMEM. */
struct store_name_page;
int store_audit_scheduled_list(struct store *s, const char *after, size_t limit,
                               struct store_name_page *out);

/* The audit worker: start a SCHEDULED_AUDIT_TASK for every time a
 * scheduled audit fell due up to now_ms (a clock advanced by a week
 * starts seven daily ones, each with the time it fell due as its start),
 * and move each one's next time on. *started counts them. One
 * transaction. DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM (eb). */
int store_audit_scheduled_run_due(struct store *s, int64_t now_ms, size_t *started,
                                  struct dd_errbuf *eb);

#endif
