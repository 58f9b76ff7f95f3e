/* SPDX-License-Identifier: MIT */
/* workers.c: the spawner thread that creates the plugin's threads in a
 * descriptor table of their own (see workers.h for why and the rule).
 *
 * One request at a time: workers_spawn() posts {fn, arg} under the lock and
 * waits for the spawner to answer with the created thread. */
#include "plugin/workers.h"

#include <stdlib.h>
#include <unistd.h>

struct workers {
    pthread_t spawner;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /* under lock */
    bool ready, separate, closing, pending;
    void *(*fn)(void *);
    void *arg;
    pthread_t created;
    int create_rc;
};

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
            w->create_rc = pthread_create(&w->created, NULL, w->fn, w->arg);
            w->pending = false;
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

int workers_spawn(struct workers *w, pthread_t *thread, void *(*fn)(void *), void *arg)
{
    int rc;

    pthread_mutex_lock(&w->lock);
    w->fn = fn;
    w->arg = arg;
    w->pending = true;
    pthread_cond_broadcast(&w->wake);
    while (w->pending)
        pthread_cond_wait(&w->wake, &w->lock);
    rc = w->create_rc;
    if (!rc)
        *thread = w->created;
    pthread_mutex_unlock(&w->lock);
    return rc ? DD_ERR_INTERNAL : DD_OK;
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
