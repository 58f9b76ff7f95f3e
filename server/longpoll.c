/* SPDX-License-Identifier: MIT */
/* longpoll.c: the parked requests of longpoll.h and the one thread that
 * resumes them on time.
 *
 * A parked request is a suspended MHD connection plus its struct
 * longpoll_wait, which lives in the request (http.c's per-connection
 * state) and is linked into one list under one mutex. Whoever resumes a
 * connection unlinks its wait first, under the mutex, so a wait is resumed
 * exactly once and never touched after: once resumed, MHD may run the
 * request again, answer it and free it.
 *
 * Missed wakes: a handler reads the generation, looks for messages, finds
 * none and parks. A send that commits and wakes in between bumps the
 * generation, so longpoll_park sees the change and resumes at once; the
 * handler then runs again and finds the message. */
#include "server/longpoll.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "server/server.h"

struct longpoll {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* signalled on park, the last end, and free */
    pthread_t thread;
    struct longpoll_wait head; /* sentinel of the parked list (under lock) */
    uint64_t gen;              /* bumped by every wake (under lock) */
    size_t n_waits;            /* begun and not ended (under lock) */
    bool draining;             /* no more waiting (under lock) */
    bool quit;                 /* the thread must end (under lock) */
};

static void unlink_and_resume(struct longpoll_wait *w)
{
    struct MHD_Connection *conn = w->conn;

    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->conn = NULL;
    MHD_resume_connection(conn);
}

/* The waiter thread: resume each parked request at its periodic re-check
 * or its deadline, whichever comes first, and sleep until the next one. */
static void *longpoll_main(void *arg)
{
    struct longpoll *lp = arg;
    struct longpoll_wait *w, *next;
    struct timespec ts;
    int64_t now, due;

    pthread_mutex_lock(&lp->lock);
    while (!lp->quit) {
        now = server_real_ms();
        due = INT64_MAX;
        for (w = lp->head.next; w != &lp->head; w = next) {
            int64_t at = w->recheck_ms < w->real_end_ms ? w->recheck_ms : w->real_end_ms;

            next = w->next;
            if (now >= at)
                unlink_and_resume(w);
            else if (at < due)
                due = at;
        }
        if (due == INT64_MAX) {
            pthread_cond_wait(&lp->cond, &lp->lock);
            continue;
        }
        ts.tv_sec = (time_t)(due / 1000);
        ts.tv_nsec = (long)(due % 1000) * 1000000L;
        pthread_cond_timedwait(&lp->cond, &lp->lock, &ts);
    }
    pthread_mutex_unlock(&lp->lock);
    return NULL;
}

int longpoll_new(struct longpoll **out, struct dd_errbuf *eb)
{
    struct longpoll *lp;

    *out = NULL;
    lp = calloc(1, sizeof(*lp));
    if (!lp)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&lp->lock, NULL);
    pthread_cond_init(&lp->cond, NULL);
    lp->head.prev = lp->head.next = &lp->head;
    if (pthread_create(&lp->thread, NULL, longpoll_main, lp)) {
        pthread_cond_destroy(&lp->cond);
        pthread_mutex_destroy(&lp->lock);
        free(lp);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the long-polling thread");
    }
    (void)pthread_setname_np(lp->thread, "dd-longpoll"); /* for top -H and perf */
    *out = lp;
    return DD_OK;
}

void longpoll_drain(struct longpoll *lp, unsigned timeout_ms)
{
    struct timespec ts;
    int64_t end;

    if (!lp)
        return;
    end = server_real_ms() + timeout_ms;
    pthread_mutex_lock(&lp->lock);
    lp->draining = true;
    lp->gen++;
    while (lp->head.next != &lp->head)
        unlink_and_resume(lp->head.next);
    while (lp->n_waits > 0 && server_real_ms() < end) {
        ts.tv_sec = (time_t)(end / 1000);
        ts.tv_nsec = (long)(end % 1000) * 1000000L;
        pthread_cond_timedwait(&lp->cond, &lp->lock, &ts);
    }
    pthread_mutex_unlock(&lp->lock);
}

void longpoll_begin(struct longpoll *lp)
{
    pthread_mutex_lock(&lp->lock);
    lp->n_waits++;
    pthread_mutex_unlock(&lp->lock);
}

void longpoll_end(struct longpoll *lp)
{
    pthread_mutex_lock(&lp->lock);
    if (lp->n_waits > 0 && --lp->n_waits == 0)
        pthread_cond_broadcast(&lp->cond);
    pthread_mutex_unlock(&lp->lock);
}

void longpoll_free(struct longpoll *lp)
{
    if (!lp)
        return;
    longpoll_drain(lp, 0);
    pthread_mutex_lock(&lp->lock);
    lp->quit = true;
    pthread_cond_signal(&lp->cond);
    pthread_mutex_unlock(&lp->lock);
    pthread_join(lp->thread, NULL);
    pthread_cond_destroy(&lp->cond);
    pthread_mutex_destroy(&lp->lock);
    free(lp);
}

uint64_t longpoll_generation(struct longpoll *lp, bool *draining)
{
    uint64_t gen;

    pthread_mutex_lock(&lp->lock);
    gen = lp->gen;
    if (draining)
        *draining = lp->draining;
    pthread_mutex_unlock(&lp->lock);
    return gen;
}

void longpoll_park(struct longpoll *lp, struct longpoll_wait *w, struct MHD_Connection *conn)
{
    pthread_mutex_lock(&lp->lock);
    if (lp->draining || lp->gen != w->gen) {
        pthread_mutex_unlock(&lp->lock);
        MHD_resume_connection(conn);
        return;
    }
    w->conn = conn;
    w->recheck_ms = server_real_ms() + LONGPOLL_RECHECK_MS;
    w->prev = lp->head.prev;
    w->next = &lp->head;
    lp->head.prev->next = w;
    lp->head.prev = w;
    pthread_cond_signal(&lp->cond);
    pthread_mutex_unlock(&lp->lock);
}

void longpoll_wake(struct longpoll *lp, const char *key)
{
    struct longpoll_wait *w, *next;

    pthread_mutex_lock(&lp->lock);
    lp->gen++;
    for (w = lp->head.next; w != &lp->head; w = next) {
        next = w->next;
        if (!key || strcmp(w->key, key) == 0)
            unlink_and_resume(w);
    }
    pthread_mutex_unlock(&lp->lock);
}
