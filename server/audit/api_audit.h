/* SPDX-License-Identifier: MIT */
/* api_audit.h: what the audit handlers (server/audit/api_audit_*.c)
 * share: a request's targetCheckNames, and a task's per-check details and
 * statistics as AWS answers them. Any MHD worker thread. */
#ifndef DD_SERVER_API_AUDIT_H
#define DD_SERVER_API_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "server/request.h"
#include "store/audit/store_audit.h"

struct cJSON;

/* A task's TaskStatistics, counted from its checks' run statuses. */
struct api_audit_stats {
    int total, in_progress, waiting, compliant, non_compliant, failed, canceled;
};

/* targetCheckNames of body: a list of known check names, each kept once,
 * into names (AUDIT_N_CHECKS_MAX entries: static strings of the check
 * table) and *n. DD_ERR_INVALID (req->eb, AWS's message for an unknown
 * name). */
int api_audit_check_names(struct request *req, const struct cJSON *body, const char **names,
                          size_t *n);

/* Add check c's AuditCheckDetails members to o. DD_ERR_NOMEM. */
int api_audit_add_check_details(struct cJSON *o, const struct store_audit_task_check *c);

/* Count task t's statistics into *st. Cannot fail. */
void api_audit_task_statistics(const struct store_audit_task *t, struct api_audit_stats *st);

/* startTime and endTime (required) of a task listing's query into *start
 * and *end, and its taskStatus (NULL: absent) checked against the four
 * statuses audit tasks and audit mitigation tasks share. DD_ERR_INVALID
 * (req->eb). */
int api_audit_list_range(struct request *req, const char *status, int64_t *start, int64_t *end);

/* maxResults (NAMES_MAX_RESULTS, dflt when absent) and nextToken (a token
 * of a number made under scope) of a POST list body, as the audit lists
 * that take their input in the body (ListAuditFindings,
 * ListAuditSuppressions) page: into *limit and *after (0 without a
 * token). DD_ERR_INVALID (req->eb). */
int api_audit_body_page(struct request *req, const struct cJSON *body, const char *scope,
                        size_t dflt, size_t *limit, int64_t *after);

#endif
