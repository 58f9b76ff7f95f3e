/* SPDX-License-Identifier: MIT */
/* worker_mitigation.c: the thread that runs Detect mitigation tasks (see
 * worker_mitigation.h).
 *
 * StartDetectMitigationActionsTask only queues a task's executions; this
 * thread applies them as they fall due on the emulated clock, one
 * transaction each, in every partition. It polls (RUN_EVERY_MS of real
 * time) rather than being woken: a start, a clock advance and a restart
 * are all seen at the next round, and the due rule depends only on
 * committed times, so nothing is lost between rounds. It waits on a
 * condition variable so that stopping does not wait out a round's sleep. */
#include "server/defender/worker_mitigation.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "server/partitions.h"
#include "server/server.h"
#include "store/defender/store_mitigation.h"
#include "store/iot/store_events.h"

#define RUN_EVERY_MS  20
#define MAX_PER_ROUND 100 /* executions per partition and round */

struct worker_mitigation {
    const struct server *srv; /* borrowed */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop; /* under lock */
};

struct round {
    const struct server *srv;
    int64_t now_ms;
};

static int run_partition(void *ctx, struct store *s, const char *account, const char *region,
                         struct dd_errbuf *eb)
{
    const struct round *r = ctx;
    size_t ran;
    int rc;

    /* The memberships an execution adds are announced (THING_GROUP_MEMBERSHIP
     * events) in this partition, at this round's emulated time. */
    store_events_request(s, account, region, r->now_ms);
    rc =
        store_mitigation_run_due(s, r->now_ms, r->srv->mitigation_step_ms, MAX_PER_ROUND, &ran, eb);

    if (rc)
        fprintf(stderr, "ddlocal-server: mitigation tasks of %s/%s: %s\n", account, region,
                eb->msg[0] ? eb->msg : dd_strerror(rc));
    return DD_OK; /* the other partitions still run */
}

static void *worker_main(void *arg)
{
    struct worker_mitigation *w = arg;
    struct round r = { w->srv, 0 };
    struct dd_errbuf eb;
    struct timespec until;
    bool stop = false;

    while (!stop) {
        dd_errbuf_clear(&eb);
        if (partitions_now(w->srv, &r.now_ms, &eb) == DD_OK)
            partitions_each(w->srv, run_partition, &r, &eb);
        clock_gettime(CLOCK_REALTIME, &until);
        clock_timespec_add_ms(&until, RUN_EVERY_MS);
        pthread_mutex_lock(&w->lock);
        if (!w->stop)
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        stop = w->stop;
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

int worker_mitigation_start(const struct server *srv, struct worker_mitigation **out,
                            struct dd_errbuf *eb)
{
    struct worker_mitigation *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (!w)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    w->srv = srv;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the mitigation task worker");
    }
    *out = w;
    return DD_OK;
}

void worker_mitigation_stop(struct worker_mitigation *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
