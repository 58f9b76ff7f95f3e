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
 * state) until its done function has run.
 *
 * Why a checkpointer thread beside it: a PASSIVE checkpoint of 1,000 WAL
 * frames (its page copies and two fdatasync calls) took 10 to 28 ms, and
 * run on the writer between batches it held up every request queued
 * meanwhile: it was most of the registry writes' p99
 * (docs/performance.md, "The tail of a write"). In WAL mode a checkpoint
 * runs beside a writer, so the checkpointer does it on a connection of its
 * own, told by the writer which databases' WAL has grown. */
#include "server/writer.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/partitions.h"
#include "store/store.h"

/* A WAL this long after a batch is handed to the checkpointer (SQLite's
 * own default for its automatic checkpoints), until a checkpoint lets the
 * writer restart it. */
#define WRITER_CHECKPOINT_FRAMES 1000

/* A WAL this long is checkpointed by the writer after every batch until
 * it restarts, as every batch's commit did before the checkpointer: a
 * reader that keeps the WAL from restarting (the broker's engine reading
 * the registry after each write) is then given every chance to let go. */
#define WRITER_CHECKPOINT_FORCE_FRAMES 4000

/* The checkpointer copies a WAL again while its last pass found this many
 * new frames or more, WRITER_CHECKPOINT_PASSES passes at most, so that
 * what is left for the writer to copy is short. */
#define WRITER_TAIL_FRAMES       64
#define WRITER_CHECKPOINT_PASSES 4

/* Where a database's checkpoint stands. */
enum writer_ckpt {
    WRITER_CKPT_IDLE,    /* nothing to do */
    WRITER_CKPT_DUE,     /* its WAL grew: the checkpointer is to copy it */
    WRITER_CKPT_RUNNING, /* the checkpointer is copying it */
    WRITER_CKPT_PASSED,  /* it did: the writer checkpoints what came since */
};

/* A database the writer wrote, as the checkpointer knows it. */
struct writer_db {
    char path[512];         /* as the writer's connection opened it; set once */
    enum writer_ckpt state; /* under ckpt_lock */
    struct store *s;        /* owned: the checkpointer's connection, NULL until used */
};

struct writer {
    pthread_mutex_t lock;
    pthread_cond_t work;            /* a job was queued, or stop */
    struct writer_job *head, *tail; /* queued, not yet taken; under lock */
    bool stop;                      /* under lock, and under ckpt_lock */
    bool joined;                    /* the threads have ended (writer_stop) */
    bool checkpointing;             /* the checkpointer thread runs */
    pthread_mutex_t ckpt_lock;
    pthread_cond_t due; /* a database became due, or stop */
    int n_dbs;          /* entries of dbs in use; under ckpt_lock */
    struct writer_db dbs[PARTITIONS_MAX];
    pthread_t thread, checkpointer;
};

/* store_wal_fn, after each batch: hand path's database to the checkpointer
 * while its WAL holds WRITER_CHECKPOINT_FRAMES, and once the checkpointer
 * has copied it, return true to checkpoint the frames written since on the
 * writer's connection (a short one: then the next batch restarts the
 * WAL); and after every batch while the WAL is longer than
 * WRITER_CHECKPOINT_FORCE_FRAMES. The writer thread, or once it stopped a
 * caller's: then the checkpointer has stopped too, and only that forced
 * checkpoint runs, on the caller's connection. */
static bool wal_seen(void *arg, const char *path, int frames)
{
    struct writer *w = arg;
    struct writer_db *d;
    bool now = false;
    int i;

    pthread_mutex_lock(&w->ckpt_lock);
    for (i = 0; i < w->n_dbs && strcmp(w->dbs[i].path, path) != 0; i++)
        ;
    if (i == w->n_dbs) {
        if (i == PARTITIONS_MAX || (size_t)snprintf(w->dbs[i].path, sizeof(w->dbs[i].path), "%s",
                                                    path) >= sizeof(w->dbs[i].path))
            goto out;
        w->n_dbs++;
    }
    d = &w->dbs[i];
    if (d->state == WRITER_CKPT_PASSED) {
        d->state = WRITER_CKPT_IDLE;
        now = true;
    } else {
        now = frames >= WRITER_CHECKPOINT_FORCE_FRAMES;
        if (d->state == WRITER_CKPT_IDLE && frames >= WRITER_CHECKPOINT_FRAMES) {
            d->state = WRITER_CKPT_DUE;
            pthread_cond_signal(&w->due);
        }
    }
out:
    pthread_mutex_unlock(&w->ckpt_lock);
    return now;
}

/* The checkpointer thread: copies the WAL of each database due into the
 * database file, on its own connections, which it closes when it stops. */
static void *checkpointer_main(void *arg)
{
    struct writer *w = arg;
    struct dd_errbuf eb;
    struct writer_db *d;
    int i, pass, frames, last;

    pthread_mutex_lock(&w->ckpt_lock);
    while (!w->stop) {
        for (i = 0; i < w->n_dbs && w->dbs[i].state != WRITER_CKPT_DUE; i++)
            ;
        if (i == w->n_dbs) {
            pthread_cond_wait(&w->due, &w->ckpt_lock);
            continue;
        }
        d = &w->dbs[i];
        d->state = WRITER_CKPT_RUNNING;
        pthread_mutex_unlock(&w->ckpt_lock);
        if (!d->s && store_open(d->path, &d->s, &eb))
            fprintf(stderr, "ddlocal: the checkpointer cannot open %s: %s\n", d->path, eb.msg);
        for (pass = 0, last = -1; d->s && pass < WRITER_CHECKPOINT_PASSES; pass++) {
            if (store_checkpoint(d->s, &frames))
                break;
            /* fewer frames than before: the writer restarted the WAL */
            if (last >= 0 && (frames < last || frames - last < WRITER_TAIL_FRAMES))
                break;
            last = frames;
        }
        pthread_mutex_lock(&w->ckpt_lock);
        d->state = WRITER_CKPT_PASSED;
    }
    pthread_mutex_unlock(&w->ckpt_lock);
    for (i = 0; i < PARTITIONS_MAX; i++) {
        store_close(w->dbs[i].s);
        w->dbs[i].s = NULL;
    }
    return NULL;
}

/* Run one batch: the jobs from first on, linked by next. The writer
 * thread, or once it stopped a caller's. */
static void run_batch(struct writer *w, struct writer_job *first)
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
    store_batch_wal(wal_seen, w);
}

/* Free w, whose threads have ended or never started. */
static void writer_free_fields(struct writer *w)
{
    pthread_cond_destroy(&w->due);
    pthread_mutex_destroy(&w->ckpt_lock);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
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
        run_batch(w, first);
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
    pthread_mutex_init(&w->ckpt_lock, NULL);
    pthread_cond_init(&w->due, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w)) {
        writer_free_fields(w);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the writer thread");
    }
    /* Names are for top -H and perf; one that fails to be set costs nothing. */
    (void)pthread_setname_np(w->thread, "dd-writer");
    if (pthread_create(&w->checkpointer, NULL, checkpointer_main, w)) {
        writer_stop(w);
        writer_free_fields(w);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the checkpointer thread");
    }
    (void)pthread_setname_np(w->checkpointer, "dd-checkpoint");
    w->checkpointing = true;
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
        run_batch(w, job);
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
    pthread_mutex_lock(&w->ckpt_lock);
    w->stop = true;
    pthread_cond_signal(&w->work);
    pthread_cond_signal(&w->due);
    pthread_mutex_unlock(&w->ckpt_lock);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    if (w->checkpointing)
        pthread_join(w->checkpointer, NULL);
    w->joined = true;
}

void writer_free(struct writer *w)
{
    if (!w)
        return;
    writer_stop(w);
    writer_free_fields(w);
}
