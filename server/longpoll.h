/* SPDX-License-Identifier: MIT */
/* longpoll.h: requests that wait for something without holding a worker
 * thread (SQS ReceiveMessage's WaitTimeSeconds). A handler that has nothing
 * to answer yet leaves its response unset and asks to wait (request_wait);
 * http.c then suspends the MHD connection and parks it here. The connection
 * is resumed, and its handler run again from the start, when a handler
 * wakes its key (a send to the queue), when anything wakes every waiter (a
 * clock change, a reset), at each periodic re-check (rows another process
 * wrote, time passing on a scaled clock), or at its real-time deadline.
 * One thread serves every waiter: a thousand waits cost memory, not
 * threads. */
#ifndef DD_SERVER_LONGPOLL_H
#define DD_SERVER_LONGPOLL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

struct MHD_Connection;
struct longpoll;

/* How often a parked request is run again even when nothing woke it. */
#define LONGPOLL_RECHECK_MS 250
#define LONGPOLL_KEY_MAX    320

/* One request's wait, kept in the request's own storage (struct request).
 * The fields after key belong to longpoll.c. */
struct longpoll_wait {
    bool started;                      /* the handler began waiting (the ends are set) */
    int64_t real_end_ms;               /* wall-clock end of the wait */
    int64_t emu_end_ms;                /* emulated end of the wait */
    uint64_t gen;                      /* longpoll_generation() before the handler ran */
    char key[LONGPOLL_KEY_MAX];        /* what wakes it early, e.g. a queue ARN */
    struct MHD_Connection *conn;       /* borrowed while parked */
    int64_t recheck_ms;                /* next periodic run, real ms */
    struct longpoll_wait *prev, *next; /* the parked list */
};

/* Start the waiter thread. On DD_OK *out owns it: stop it with
 * longpoll_free(). DD_ERR_NOMEM, or DD_ERR_INTERNAL when no thread can be
 * started (eb says why). Main thread. */
int longpoll_new(struct longpoll **out, struct dd_errbuf *eb);

/* Resume every parked request, make every later wait end at once, and
 * give the resumed requests up to timeout_ms to be answered, so the
 * daemon can be stopped (MHD refuses to stop with suspended connections)
 * without cutting them off. lp may be NULL. Main thread, before
 * MHD_stop_daemon. */
void longpoll_drain(struct longpoll *lp, unsigned timeout_ms);

/* Stop the thread and free lp (NULL-safe). Call after the daemon stopped. */
void longpoll_free(struct longpoll *lp);

/* A counter bumped by every wake; record it before running a handler that
 * may wait, in w->gen. *draining (when not NULL) says whether waits must
 * end at once (the server is stopping). Any thread. */
uint64_t longpoll_generation(struct longpoll *lp, bool *draining);

/* Count a wait that has begun (its request may be parked from now on), and
 * one whose request is over (answered or closed): longpoll_drain waits for
 * the count to fall to zero. Any thread; cannot fail. */
void longpoll_begin(struct longpoll *lp);
void longpoll_end(struct longpoll *lp);

/* Park w, whose connection conn the caller (an MHD worker, in its access
 * handler) has just suspended. When a wake happened since w->gen was read,
 * or the server is stopping, conn is resumed at once instead. w must stay
 * valid until conn is resumed (it lives in the request). Cannot fail. */
void longpoll_park(struct longpoll *lp, struct longpoll_wait *w, struct MHD_Connection *conn);

/* Resume the parked requests waiting on key, or every one when key is
 * NULL. Any thread; cannot fail. */
void longpoll_wake(struct longpoll *lp, const char *key);

#endif
