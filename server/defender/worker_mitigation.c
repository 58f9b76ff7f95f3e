/* SPDX-License-Identifier: MIT */
/* worker_mitigation.c: the thread that runs Detect mitigation tasks (see
 * worker_mitigation.h).
 *
 * StartDetectMitigationActionsTask only queues a task's executions; this
 * worker (server/worker.h) applies them as they fall due on the emulated
 * clock, one transaction each, in every partition. */
#include "server/defender/worker_mitigation.h"

#include <stdio.h>

#include "server/server.h"
#include "server/worker.h"
#include "store/defender/store_mitigation.h"
#include "store/iot/store_events.h"

#define RUN_EVERY_MS  20
#define MAX_PER_ROUND 100 /* executions per partition and round */

static void run_partition(const struct worker_round *r, struct store *s, const char *account,
                          const char *region)
{
    struct dd_errbuf eb = { { 0 } };
    size_t ran;
    int rc;

    /* The memberships an execution adds are announced (THING_GROUP_MEMBERSHIP
     * events) in this partition, at this round's emulated time. */
    store_events_request(s, account, region, r->now_ms);
    rc = store_mitigation_run_due(s, r->now_ms, r->srv->mitigation_step_ms, MAX_PER_ROUND, &ran,
                                  &eb);
    if (rc)
        fprintf(stderr, "ddlocal-server: mitigation tasks of %s/%s: %s\n", account, region,
                eb.msg[0] ? eb.msg : dd_strerror(rc));
}

int worker_mitigation_start(const struct server *srv, struct worker **out, struct dd_errbuf *eb)
{
    return worker_start(srv, "mitigation task", "dd-mitigation", RUN_EVERY_MS, run_partition, out,
                        eb);
}
