/* SPDX-License-Identifier: MIT */
/* worker.c: the server's timed worker threads (see worker.h).
 *
 * A worker polls (every_ms of real time) rather than being woken: a new
 * task, a clock advance and a restart are all seen at the next round, and
 * what is due depends only on committed rows and times, so nothing is lost
 * between rounds. It waits on a condition variable so that stopping does
 * not wait out a round's sleep. */
#include "server/worker.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "server/partitions.h"
#include "server/server.h"

struct worker {
    const struct server *srv; /* borrowed */
    const char *what;         /* static */
    int every_ms;
    worker_fn fn;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop; /* under lock */
};

struct pass {
    const struct worker *w;
    struct worker_round round;
};

static int run_partition(void *ctx, struct store *s, const char *account, const char *region,
                         struct dd_errbuf *eb)
{
    const struct pass *p = ctx;

    (void)eb;
    p->w->fn(&p->round, s, account, region);
    return DD_OK; /* the other partitions still run */
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pass p = { w, { w->srv, 0 } };
    struct dd_errbuf eb;
    struct timespec until;
    bool stop = false;

    while (!stop) {
        dd_errbuf_clear(&eb);
        if (partitions_now(w->srv, &p.round.now_ms, &eb) == DD_OK &&
            partitions_each(w->srv, run_partition, &p, &eb) != DD_OK)
            fprintf(stderr, "ddlocal-server: %s: %s\n", w->what, eb.msg);
        clock_gettime(CLOCK_REALTIME, &until);
        clock_timespec_add_ms(&until, w->every_ms);
        pthread_mutex_lock(&w->lock);
        if (!w->stop)
            pthread_cond_timedwait(&w->wake, &w->lock, &until);
        stop = w->stop;
        pthread_mutex_unlock(&w->lock);
    }
    return NULL;
}

int worker_start(const struct server *srv, const char *what, const char *thread_name, int every_ms,
                 worker_fn fn, struct worker **out, struct dd_errbuf *eb)
{
    struct worker *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (!w)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    w->srv = srv;
    w->what = what;
    w->every_ms = every_ms;
    w->fn = fn;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the %s worker", what);
    }
    (void)pthread_setname_np(w->thread, thread_name); /* a name that fails costs nothing */
    *out = w;
    return DD_OK;
}

void worker_stop(struct worker *w)
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
