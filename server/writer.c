/* SPDX-License-Identifier: MIT */
/* writer.c: the writer thread and its queue (see writer.h).
 *
 * Why one writer: the server's workers used to write each in its own
 * transaction on its own connection. Every commit then cost its own lock
 * calls, WAL page writes and, for the next writer, a page cache emptied by
 * the other connection's commit (docs/performance.md measured the calls).
 * One thread with one connection per database writes each page of a batch
 * once, locks once per batch, and keeps its cache. The queue is a list
 * guarded by one mutex; a job lives in its caller's storage (the request's
 * state) until its done function has run. */
#include "server/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "store/store.h"

/* A WAL this long after a batch is checkpointed (SQLite's own default
 * for its automatic checkpoints). */
#define WRITER_CHECKPOINT_FRAMES 1000

struct writer {
    pthread_mutex_t lock;
    pthread_cond_t work;            /* a job was queued, or stop */
    struct writer_job *head, *tail; /* queued, not yet taken; under lock */
    bool stop;                      /* under lock */
    bool joined;                    /* the thread has ended (writer_stop) */
    pthread_t thread;
};

/* Run one batch: the jobs from first on, linked by next. The writer
 * thread, or once it stopped a caller's. */
static void run_batch(struct writer_job *first)
{
    struct writer_job *j, *next;
    int rc = DD_OK;

    store_batch_begin();
    for (j = first; j; j = j->next) {
        j->fn(j->arg);
        if (store_batch_job_done())
            rc = DD_ERR_STORE; /* the jobs so far are lost with the transaction */
    }
    if (store_batch_commit())
        rc = DD_ERR_STORE;
    /* A job is its caller's again once done, so next is read before. */
    for (j = first; j; j = next) {
        next = j->next;
        j->done_fn(j->arg, rc);
    }
    store_batch_checkpoint(WRITER_CHECKPOINT_FRAMES);
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct writer_job *first;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->work, &w->lock);
        if (!w->head)
            break; /* stopping, and nothing queued */
        first = w->head;
        w->head = w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        run_batch(first);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int writer_start(struct writer **out, struct dd_errbuf *eb)
{
    struct writer *w;

    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w)) {
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the writer thread");
    }
    *out = w;
    return DD_OK;
}

/* Append job to w's queue and wake the writer; once the writer is
 * stopping, run it as a batch of its own on the calling thread instead. */
static void enqueue(struct writer *w, struct writer_job *job)
{
    pthread_mutex_lock(&w->lock);
    if (w->stop) {
        pthread_mutex_unlock(&w->lock);
        run_batch(job);
        return;
    }
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
}

void writer_queue(struct writer *w, struct writer_job *job, writer_fn fn, writer_done_fn done,
                  void *arg)
{
    *job = (struct writer_job){ .fn = fn, .done_fn = done, .arg = arg };
    enqueue(w, job);
}

void writer_stop(struct writer *w)
{
    if (!w || w->joined)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->joined = true;
}

void writer_free(struct writer *w)
{
    if (!w)
        return;
    writer_stop(w);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
