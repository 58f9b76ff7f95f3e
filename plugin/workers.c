/* SPDX-License-Identifier: MIT */
/* workers.c: the spawner thread that creates the plugin's threads in a
 * descriptor table of their own (see workers.h for why and the rule).
 *
 * One request at a time: workers_spawn() posts its start under the lock,
 * the spawner creates the thread, and the thread reports how its open went
 * under the same lock. */
#include "plugin/workers.h"

#include <assert.h>
#include <stdlib.h>
#include <unistd.h>

struct workers {
    pthread_t spawner;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /* under lock */
    bool ready, separate, closing;
    struct start *pending; /* the start the spawner is to create */
};

/* One worker's start, on workers_spawn()'s stack until opened is set. */
struct start {
    struct workers *w;
    const char *name; /* the thread's, at most 15 bytes */
    int (*open)(void *, struct dd_errbuf *);
    void *(*run)(void *);
    void *arg;
    pthread_t thread;
    int create_rc;
    bool created, opened; /* under w->lock */
    int open_rc;
    struct dd_errbuf eb;
};

static void *worker_main(void *arg)
{
    struct start *s = arg;
    struct workers *w = s->w;
    void *(*run)(void *) = s->run;
    void *run_arg = s->arg;
    struct dd_errbuf eb = { { 0 } };
    int rc = s->open(run_arg, &eb);

    pthread_mutex_lock(&w->lock);
    s->open_rc = rc;
    s->eb = eb;
    s->opened = true; /* s may be gone from here on */
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return rc ? NULL : run(run_arg);
}

static void *spawner_main(void *arg)
{
    struct workers *w = arg;
    /* Unshare the table and close, in the new one only, the copies of
     * everything above stderr: the broker's sockets stay open in its own. */
    bool separate = close_range(3, ~0U, CLOSE_RANGE_UNSHARE) == 0;

    pthread_mutex_lock(&w->lock);
    w->separate = separate;
    w->ready = true;
    pthread_cond_broadcast(&w->wake);
    while (!w->closing) {
        if (w->pending) {
            struct start *s = w->pending;

            s->create_rc = pthread_create(&s->thread, NULL, worker_main, s);
            if (!s->create_rc) /* a name is only for top -H and perf: no failure */
                (void)pthread_setname_np(s->thread, s->name);
            s->created = true;
            w->pending = NULL;
            pthread_cond_broadcast(&w->wake);
        } else {
            pthread_cond_wait(&w->wake, &w->lock);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int workers_open(struct workers **out, struct dd_errbuf *eb)
{
    struct workers *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (!w)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->spawner, NULL, spawner_main, w) != 0) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the spawner thread");
    }
    pthread_mutex_lock(&w->lock);
    while (!w->ready)
        pthread_cond_wait(&w->wake, &w->lock);
    pthread_mutex_unlock(&w->lock);
    *out = w;
    return DD_OK;
}

int workers_spawn(struct workers *w, pthread_t *thread, const char *name,
                  int (*open)(void *, struct dd_errbuf *), void *(*run)(void *), void *arg,
                  struct dd_errbuf *eb)
{
    struct start s = { .w = w, .name = name, .open = open, .run = run, .arg = arg };
    int rc;

    pthread_mutex_lock(&w->lock);
    assert(w->ready && !w->pending && !w->closing); /* one start at a time, before close */
    w->pending = &s;
    pthread_cond_broadcast(&w->wake);
    while (!s.created || (!s.create_rc && !s.opened))
        pthread_cond_wait(&w->wake, &w->lock);
    assert(!w->pending);
    pthread_mutex_unlock(&w->lock);
    if (s.create_rc)
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start a plugin thread");
    rc = s.open_rc;
    if (rc) {
        pthread_join(s.thread, NULL);
        *eb = s.eb;
        return rc;
    }
    *thread = s.thread;
    return DD_OK;
}

bool workers_separate(const struct workers *w)
{
    return w->separate;
}

void workers_close(struct workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->closing = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->spawner, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
