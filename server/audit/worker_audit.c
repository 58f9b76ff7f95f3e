/* SPDX-License-Identifier: MIT */
/* worker_audit.c: the thread that runs audit tasks (see worker_audit.h).
 *
 * StartOnDemandAuditTask only records a task IN_PROGRESS; this worker
 * (server/worker.h) runs it, one task per partition and round, so a task
 * is IN_PROGRESS for as long as its checks really take, and one left
 * IN_PROGRESS by a restart is run when the server is back. Each round
 * also starts the tasks of the scheduled audits that fell due on the
 * emulated clock, and applies the audit mitigation executions that are
 * due (store_audit_mitigation.h). */
#include "server/audit/worker_audit.h"

#include <stdbool.h>
#include <stdio.h>

#include "server/iot/ca.h"
#include "server/server.h"
#include "server/worker.h"
#include "store/audit/store_audit.h"
#include "store/audit/store_audit_mitigation.h"
#include "store/iot/store_events.h"

#define RUN_EVERY_MS  20
#define MAX_PER_ROUND 100 /* mitigation executions per partition and round */

static void run_partition(const struct worker_round *r, struct store *s, const char *account,
                          const char *region)
{
    struct dd_errbuf eb = { { 0 } };
    size_t started, n_mit;
    bool ran;
    int rc;

    rc = store_audit_scheduled_run_due(s, r->now_ms, &started, &eb);
    if (!rc)
        rc = store_audit_run_next(s, account, region, r->now_ms, server_real_ms(),
                                  ca_cert_issuer_serial, &ran, &eb);
    /* Then the audit mitigation executions that fell due, paced as the
     * Detect ones; the memberships they add are announced in this
     * partition at this round's time. */
    store_events_request(s, account, region, r->now_ms);
    if (!rc)
        rc = store_audit_mit_run_due(s, r->now_ms, r->srv->mitigation_step_ms, server_real_ms(),
                                     MAX_PER_ROUND, &n_mit, &eb);
    if (rc)
        fprintf(stderr, "ddlocal-server: audit tasks of %s/%s: %s\n", account, region,
                eb.msg[0] ? eb.msg : dd_strerror(rc));
}

int worker_audit_start(const struct server *srv, struct worker **out, struct dd_errbuf *eb)
{
    return worker_start(srv, "audit", "dd-audit", RUN_EVERY_MS, run_partition, out, eb);
}
