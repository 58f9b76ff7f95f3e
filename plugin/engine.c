/* SPDX-License-Identifier: MIT */
/* engine.c: the engine thread (see engine.h for its contract).
 *
 * Everything SQLite happens here, on the engine's own connection, so a slow
 * disk or a busy database never stalls the broker thread. The thread wakes
 * when the broker queues work, and at least every POLL_MS to notice the
 * server's commits through PRAGMA data_version. */
#include "plugin/engine.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>

#include "store/store.h"
#include "store/store_emulator.h"

#define POLL_MS            20
#define HEARTBEAT_EVERY_MS 1000

struct item { /* broker -> engine */
    struct item *next;
    int64_t progress_ms;
};

struct logline { /* engine -> broker */
    struct logline *next;
    int level;
    char text[];
};

struct engine {
    pthread_t thread;
    struct plugin_options opt; /* copy, read-only after start */

    pthread_mutex_t lock; /* guards every field down to the marker */
    pthread_cond_t wake;
    struct item *head, *tail;         /* work for the engine, oldest first */
    struct logline *logs, *logs_tail; /* lines for the broker thread */
    struct dd_clock clock;            /* the snapshot the broker thread copies */
    bool stopping;
    int start_rc; /* -1 while starting */
    struct dd_errbuf start_eb;
    /* end of fields guarded by lock */

    atomic_uint_fast64_t clock_generation; /* bumped after clock changes */
    atomic_int logs_pending;

    /* engine thread only */
    struct store *store;
    int64_t data_version;
    int64_t evaluated_until_ms;
    int64_t emulated_now_ms;
    int64_t last_heartbeat_real_ms;
};

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Queue a log line for the broker thread (mosquitto_log_printf may only be
 * called there). Engine thread. Out of memory drops the line. */
__attribute__((format(printf, 3, 4))) static void engine_log(struct engine *e, int level,
                                                             const char *fmt, ...)
{
    struct logline *l;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    l = malloc(sizeof(*l) + (size_t)n + 1);
    if (!l)
        return;
    l->next = NULL;
    l->level = level;
    va_start(ap, fmt);
    vsnprintf(l->text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&e->lock);
    if (e->logs_tail)
        e->logs_tail->next = l;
    else
        e->logs = l;
    e->logs_tail = l;
    pthread_mutex_unlock(&e->lock);
    atomic_store(&e->logs_pending, 1);
}

/* Reload the clock row after another process committed. Engine thread. */
static void reload_clock(struct engine *e)
{
    struct dd_clock c;
    int rc = store_clock_get(e->store, &c);

    if (rc) {
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: cannot read the clock: %s", dd_strerror(rc));
        return;
    }
    pthread_mutex_lock(&e->lock);
    if (memcmp(&c, &e->clock, sizeof(c)) != 0) {
        e->clock = c;
        atomic_fetch_add(&e->clock_generation, 1);
    }
    pthread_mutex_unlock(&e->lock);
}

static void poll_data_version(struct engine *e)
{
    int64_t v;

    if (store_data_version(e->store, &v))
        return;
    if (v == e->data_version)
        return;
    e->data_version = v;
    reload_clock(e);
}

static void write_heartbeat(struct engine *e, int64_t now_real)
{
    struct store_heartbeat hb = {
        .pid = getpid(),
        .written_real_ms = now_real,
        .emulated_now_ms = e->emulated_now_ms,
        .evaluated_until_ms = e->evaluated_until_ms,
    };
    int rc = store_heartbeat_put(e->store, &hb);

    if (rc) {
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: heartbeat not written: %s", dd_strerror(rc));
        return;
    }
    e->last_heartbeat_real_ms = now_real;
    /* Our own commit moved data_version; do not mistake it for the server's. */
    store_data_version(e->store, &e->data_version);
}

/* Process one batch of queued work. Returns true when progress moved. */
static bool process(struct engine *e, struct item *batch)
{
    bool moved = false;

    while (batch) {
        struct item *next = batch->next;

        if (batch->progress_ms > e->evaluated_until_ms) {
            e->evaluated_until_ms = batch->progress_ms;
            e->emulated_now_ms = batch->progress_ms;
            moved = true;
        }
        free(batch);
        batch = next;
    }
    return moved;
}

static void *engine_main(void *arg)
{
    struct engine *e = arg;
    struct dd_errbuf eb;
    int rc;

    rc = store_open(e->opt.db_path, &e->store, &eb);
    pthread_mutex_lock(&e->lock);
    e->start_rc = rc;
    e->start_eb = eb;
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    if (rc)
        return NULL;
    store_data_version(e->store, &e->data_version);

    for (;;) {
        struct item *batch;
        struct timespec until;
        bool stopping, moved;
        int64_t now_real;

        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&e->lock);
        if (!e->head && !e->stopping)
            pthread_cond_timedwait(&e->wake, &e->lock, &until);
        batch = e->head;
        e->head = e->tail = NULL;
        stopping = e->stopping;
        pthread_mutex_unlock(&e->lock);

        moved = process(e, batch);
        poll_data_version(e);
        now_real = real_ms();
        if (moved || now_real - e->last_heartbeat_real_ms >= HEARTBEAT_EVERY_MS || stopping)
            write_heartbeat(e, now_real);
        if (stopping)
            break;
    }
    store_close(e->store);
    e->store = NULL;
    return NULL;
}

int engine_start(const struct plugin_options *opt, const struct dd_clock *clock,
                 struct engine **out, struct dd_errbuf *eb)
{
    struct engine *e;
    int rc;

    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (!e)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    e->opt = *opt;
    e->clock = *clock;
    e->start_rc = -1;
    e->evaluated_until_ms = clock_now(clock, real_ms());
    e->emulated_now_ms = e->evaluated_until_ms;
    atomic_init(&e->clock_generation, 1);
    atomic_init(&e->logs_pending, 0);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return dd_fail(eb, DD_ERR_INTERNAL, "cannot start the engine thread");
    }
    pthread_mutex_lock(&e->lock);
    while (e->start_rc == -1)
        pthread_cond_wait(&e->wake, &e->lock);
    rc = e->start_rc;
    if (rc && eb)
        *eb = e->start_eb;
    pthread_mutex_unlock(&e->lock);
    if (rc) {
        pthread_join(e->thread, NULL);
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return rc;
    }
    *out = e;
    return DD_OK;
}

void engine_drain(struct engine *e)
{
    struct logline *l;

    if (!atomic_load_explicit(&e->logs_pending, memory_order_relaxed))
        return;
    pthread_mutex_lock(&e->lock);
    l = e->logs;
    e->logs = e->logs_tail = NULL;
    atomic_store(&e->logs_pending, 0);
    pthread_mutex_unlock(&e->lock);
    while (l) {
        struct logline *next = l->next;

        mosquitto_log_printf(l->level, "%s", l->text);
        free(l);
        l = next;
    }
}

void engine_stop(struct engine *e)
{
    if (!e)
        return;
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    atomic_store(&e->logs_pending, 1);
    engine_drain(e);
    process(e, e->head);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

int engine_clock_refresh(struct engine *e, uint64_t *generation, struct dd_clock *clock)
{
    uint64_t g = atomic_load_explicit(&e->clock_generation, memory_order_acquire);

    if (g == *generation)
        return 0;
    pthread_mutex_lock(&e->lock);
    *clock = e->clock;
    *generation = atomic_load(&e->clock_generation);
    pthread_mutex_unlock(&e->lock);
    return 1;
}

void engine_progress(struct engine *e, int64_t now_ms)
{
    struct item *it = malloc(sizeof(*it));

    if (!it)
        return; /* the next report carries the same information */
    it->next = NULL;
    it->progress_ms = now_ms;
    pthread_mutex_lock(&e->lock);
    if (e->tail)
        e->tail->next = it;
    else
        e->head = it;
    e->tail = it;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}
