/* SPDX-License-Identifier: MIT */
/* engine.c: the engine thread (see engine.h for its contract).
 *
 * Everything SQLite happens here, on the engine's own connection, so a slow
 * disk or a busy database never stalls the broker thread. The thread wakes
 * when the broker queues work or passes on the server's SIGURG
 * (engine_poke), and at least every POLL_MS to notice the server's commits
 * through PRAGMA data_version. When it has something for the broker thread
 * (a clock, a configuration, messages, a bucket to close) it wakes the
 * broker's loop
 * (wake_broker) and again every KICK_MS until the broker has taken it, so
 * a signal that came just before the loop went to sleep is not lost.
 *
 * Work is processed strictly in queue order, so a progress mark is
 * recorded only after every window handed over before it has been
 * evaluated. */
#include "plugin/engine.h"

#include <assert.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mqtt_protocol.h>

#include "core/fleetrecord.h"
#include "core/report.h"
#include "plugin/config.h"
#include "plugin/delivery.h"
#include "plugin/detect.h"
#include "plugin/shadow_mqtt.h"
#include "plugin/wake.h"
#include "store/audit/store_connhist.h"
#include "store/defender/store_detect.h"
#include "store/emulator/store_emulator.h"
#include "store/emulator/store_outbox.h"
#include "store/index/store_index.h"
#include "store/iot/store_dyngroups.h"
#include "store/iot/store_events.h"
#include "store/iot/store_registry.h"
#include "store/iot/store_snapshot.h"
#include "store/store.h"

#define POLL_MS 20
/* After rebuilding its snapshots for a configuration change, the engine
 * rests this many times as long as the rebuild took before the next one:
 * a server committing registry writes back to back (thousands a second)
 * would otherwise have the engine rebuild after every commit, taking a
 * whole CPU and the write lock from the server's writer. Changes that come
 * meanwhile are taken by the next rebuild together, which comes at once
 * when a window or a report is to be judged (poll_data_version). Four
 * leaves the rebuilds at most a fifth of the thread; under writes without
 * pause, a change waits at most five rebuilds' length to be seen (a few
 * milliseconds on a small account, seconds on one of 100,000 things and
 * certificates). docs/performance.md measured 2, 4 and 8. */
#define REBUILD_REST_FACTOR 4
#define KICK_MS             1
#define STARTING_KICK_MS    2 /* until the broker's first tick */
#define HEARTBEAT_EVERY_MS  1000
#define LAG_WARN_EVERY_MS   60000
#define OUTBOX_BATCH        256

enum item_kind { ITEM_PROGRESS, ITEM_WINDOW, ITEM_MESSAGE, ITEM_SYNCED, ITEM_CONNECTIVITY };

struct item { /* broker -> engine */
    struct item *next;
    enum item_kind kind;
    int64_t time_ms;           /* progress mark, when a message arrived, or a sync generation */
    struct client_window *win; /* ITEM_WINDOW, owned */
    char *topic;               /* ITEM_MESSAGE: topic and payload, owned; ITEM_CONNECTIVITY:
                                  the client id, and the reason as payload (len 0: connected) */
    char *cert;                /* ITEM_CONNECTIVITY: a TLS client's certificate id, into
                                  payload, or NULL */
    bool taken_over;           /* ITEM_CONNECTIVITY: it knocked off a connection of its id */
    size_t len;
    unsigned char payload[];
};

struct outgoing { /* engine -> broker: a log line (topic NULL) or a message */
    struct outgoing *next;
    int level;
    char *topic;      /* points into data when set */
    char *properties; /* MQTT 5 properties as JSON, into data, or NULL */
    size_t len;
    int qos, retain;
    char data[]; /* log text, or payload then topic then properties */
};

struct engine {
    pthread_t thread;
    pthread_t broker;          /* the thread that started the engine: the broker's */
    struct plugin_options opt; /* copy, read-only after start */

    pthread_mutex_t lock; /* guards every field down to the marker */
    pthread_cond_t wake;
    struct item *head, *tail;        /* work for the engine, oldest first */
    struct outgoing *out, *out_tail; /* work for the broker thread */
    struct dd_clock clock;           /* the snapshot the broker thread copies */
    struct broker_config *config;    /* the newest snapshot not yet taken, owned */
    struct broker_config *retired;   /* snapshots the broker thread is done with, owned */
    struct delivery *delivery;       /* woken after a window's commit, borrowed, or NULL */
    bool stopping;
    bool poked; /* the server signalled a commit (engine_poke) */
    /* end of fields guarded by lock */

    atomic_uint_fast64_t clock_generation;  /* bumped after clock changes */
    atomic_uint_fast64_t config_generation; /* bumped when a new config is ready */
    atomic_uint_fast64_t clock_seen;        /* the generations the broker thread took */
    atomic_uint_fast64_t config_seen;
    atomic_int out_pending;
    /* The last window the engine finished with, for the broker thread to
     * fill again (engine_window_spent): owned, NULL when none. */
    _Atomic(struct client_window *) spent;

    /* engine thread only */
    pthread_t self; /* the engine thread, as it recorded itself in engine_open */
    struct store *store;
    struct detect *detect;
    int64_t data_version;
    struct store_snapshot_mark built; /* the tables when the snapshots were built;
                                         changes -1: not built */
    struct broker_config *base;       /* shares the newest build, for extend_snapshots();
                                         owned, NULL after a failed build */
    int64_t rebuild_after_real_ms;    /* the next rebuild not before (REBUILD_REST_FACTOR) */
    bool rebuild_waiting;             /* a change waits for rebuild_after_real_ms */
    int64_t reset_generation;
    int64_t evaluated_until_ms;
    int64_t synced_generation;
    int64_t emulated_now_ms;
    int64_t last_heartbeat_real_ms;
    bool ticking;               /* the broker ticked: its listeners are open */
    bool heartbeat_due;         /* the synced generation moved outside process() */
    bool lagging;               /* the last look found the fleet behind the clock */
    int64_t kicked_due_ms;      /* the bucket end the broker was last woken for */
    int64_t lag_warned_real_ms; /* when the lag was last logged */
};

/* engine.h names each function's thread; debug and test builds check it. */
#define ASSERT_ENGINE_THREAD(e) assert(pthread_equal(pthread_self(), (e)->self))
#define ASSERT_BROKER_THREAD(e) assert(pthread_equal(pthread_self(), (e)->broker))

static int64_t real_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void push_out(struct engine *e, struct outgoing *o)
{
    ASSERT_ENGINE_THREAD(e);
    o->next = NULL;
    pthread_mutex_lock(&e->lock);
    assert(!e->out == !e->out_tail);
    if (e->out_tail)
        e->out_tail->next = o;
    else
        e->out = o;
    e->out_tail = o;
    pthread_mutex_unlock(&e->lock);
    atomic_store(&e->out_pending, 1);
}

/* Queue a log line for the broker thread (mosquitto_log_printf may only be
 * called there). Engine thread. Out of memory drops the line. */
__attribute__((format(printf, 3, 4))) static void engine_log(struct engine *e, int level,
                                                             const char *fmt, ...)
{
    struct outgoing *o;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    o = calloc(1, sizeof(*o) + (size_t)n + 1);
    if (!o)
        return;
    o->level = level;
    va_start(ap, fmt);
    vsnprintf(o->data, (size_t)n + 1, fmt, ap);
    va_end(ap);
    push_out(e, o);
}

/* Detect's warnings (detect_set_log), logged by the broker thread. */
static void detect_warning(void *ctx, const char *msg)
{
    engine_log(ctx, MOSQ_LOG_ERR, "%s", msg);
}

/* Queue a message for the broker thread to publish. Engine thread. */
static int engine_publish(struct engine *e, const char *topic, const void *payload, size_t len,
                          int qos, int retain, const char *properties)
{
    size_t tlen = strlen(topic), plen = properties ? strlen(properties) : 0;
    struct outgoing *o = calloc(1, sizeof(*o) + len + tlen + 1 + (properties ? plen + 1 : 0));

    if (!o)
        return DD_ERR_NOMEM;
    if (len)
        memcpy(o->data, payload, len);
    o->len = len;
    o->topic = o->data + len;
    memcpy(o->topic, topic, tlen + 1);
    if (properties) {
        o->properties = o->topic + tlen + 1;
        memcpy(o->properties, properties, plen + 1);
    }
    o->qos = qos;
    o->retain = retain;
    push_out(e, o);
    return DD_OK;
}

/* Run fn inside one transaction; log and roll back on failure. */
static void in_transaction(struct engine *e, const char *what, int (*fn)(struct engine *, void *),
                           void *arg)
{
    int rc;

    ASSERT_ENGINE_THREAD(e);
    rc = store_begin(e->store);
    if (!rc) {
        rc = fn(e, arg);
        if (!rc)
            rc = store_commit(e->store);
        if (rc) {
            store_rollback(e->store);
            /* The cached states may hold what was just rolled back. */
            detect_discard_cache(e->detect);
        }
    }
    if (rc)
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: %s failed: %s", what, dd_strerror(rc));
}

/* Log what a load did: its failure, or the note eb holds of what it left
 * out. Returns rc. Engine thread. */
static int log_load(struct engine *e, const char *what, int rc, const struct dd_errbuf *eb)
{
    if (rc)
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: %s failed: %s", what, dd_strerror(rc));
    else if (eb->msg[0])
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: %s", eb->msg);
    return rc;
}

static int do_reload(struct engine *e, void *arg)
{
    struct dd_errbuf eb;
    int rc;

    (void)arg;
    rc = detect_reload(e->detect, e->store, e->emulated_now_ms, &eb);
    if (!rc)
        log_load(e, "loading security profiles", rc, &eb); /* in_transaction logs a failure */
    return rc;
}

static int do_reconcile(struct engine *e, void *arg)
{
    (void)arg;
    return detect_reconcile(e->detect, e->store, e->emulated_now_ms);
}

/* The profiles and targets reloaded under a read snapshot, then the
 * violations they no longer monitor invalidated in a write transaction of
 * its own: reading a large registry inside the write transaction held
 * the write lock, and so the server's writer, for all of it (UpdateThing's
 * p99 was 14.6 ms at 30,000 things against 2.2 ms at one). A commit
 * between the two is the next rebuild's. */
static bool reload_profiles(struct engine *e)
{
    struct dd_errbuf eb;
    bool began, alarms = false;
    int rc;

    ASSERT_ENGINE_THREAD(e);
    began = store_read_begin(e->store);
    rc = detect_load(e->detect, e->store, &eb);
    if (!rc)
        rc = store_detect_any_alarm(e->store, &alarms);
    store_read_end(e->store, began);
    if (log_load(e, "loading security profiles", rc, &eb))
        return false;
    /* Only this thread raises alarms, so none now means none to reconcile,
     * and the write lock is not taken for nothing. */
    if (alarms)
        in_transaction(e, "reconciling violations", do_reconcile, NULL);
    return true;
}

static int export_row(void *ctx, const char *topic, const char *payload, size_t len)
{
    return engine_publish(ctx, topic, payload, len, 0, 0, NULL);
}

/* Queue the metrics export documents of what was just committed (none
 * after a rollback) for the broker thread. Engine thread. */
static void publish_exports(struct engine *e)
{
    ASSERT_ENGINE_THREAD(e);
    if (detect_exports_take(e->detect, export_row, e))
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: out of memory: dropped a metrics export");
}

/* Bring dynamic thing groups in line with their queries: every group at a
 * window close (*arg false), the pending ones (new or given a new query)
 * after the server's commits (*arg true). Detect reloads its targets when
 * a window close moved a member, so a profile on the group judges exactly
 * its members and a thing that left has its violations invalidated; after
 * a commit the reload follows anyway. */
struct dyngroups_pass {
    bool pending_only;
    int64_t now_ms; /* emulated time of the membership events */
};

static int do_dyngroups(struct engine *e, void *arg)
{
    const struct dyngroups_pass *pass = arg;
    struct store_dyngroups_stats st;
    struct dd_errbuf eb;
    int rc;

    dd_errbuf_clear(&eb);
    /* Membership events carry the broker's partition and the pass's time. */
    store_events_request(e->store, e->opt.account, e->opt.region, pass->now_ms);
    rc = store_dyngroups_refresh(e->store, pass->pending_only, &st, &eb);
    if (rc)
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: dynamic thing groups: %s", eb.msg);
    if (!rc && st.refused)
        engine_log(e, MOSQ_LOG_WARNING,
                   "ddlocal: AddThingToDynamicThingGroupsFailed: %zu things already in %d "
                   "groups were not added to a dynamic group",
                   st.refused, STORE_MAX_GROUPS_PER_THING);
    if (!rc && !pass->pending_only && (st.added || st.removed))
        rc = do_reload(e, NULL);
    return rc;
}

/* A window close: Detect evaluates it, then the dynamic groups follow
 * what changed (violations included), in the same transaction. */
static int do_window(struct engine *e, void *arg)
{
    const struct client_window *w = arg;
    struct dyngroups_pass pass = { false, w->bucket_end_ms };
    int rc = detect_window(e->detect, e->store, w);

    return rc ? rc : do_dyngroups(e, &pass);
}

static int do_expire(struct engine *e, void *arg)
{
    (void)arg;
    return detect_expire(e->detect, e->store, e->emulated_now_ms);
}

struct report_job {
    const char *thing;
    const struct report *report;
    int64_t time_ms;
};

static int do_report(struct engine *e, void *arg)
{
    struct report_job *j = arg;

    return detect_report(e->detect, e->store, j->thing, j->report, j->time_ms);
}

/* A device metrics report: validate, answer on /accepted or /rejected, and
 * evaluate its datapoints. */
static void handle_report(struct engine *e, const char *thing, enum report_format fmt,
                          const struct item *it)
{
    struct report_error err;
    struct report *r = NULL;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    char topic[256];
    int rc;

    assert(it->kind == ITEM_MESSAGE);
    rc = report_parse(it->payload, it->len, fmt, &r, &err);
    if (rc == DD_OK) {
        rc = report_accepted_payload(thing, r->report_id, it->time_ms, fmt, &reply, &reply_len);
        snprintf(topic, sizeof(topic), "%s/accepted", it->topic);
    } else if (rc != DD_ERR_NOMEM) {
        engine_log(e, MOSQ_LOG_NOTICE, "ddlocal: metrics report from %s rejected: %s", thing,
                   err.detail.msg);
        rc = report_rejected_payload(thing, &err, it->time_ms, fmt, &reply, &reply_len);
        snprintf(topic, sizeof(topic), "%s/rejected", it->topic);
    }
    if (!rc)
        rc = engine_publish(e, topic, reply, reply_len, 0, 0, NULL);
    if (!rc && r) {
        struct report_job job = { thing, r, it->time_ms };

        in_transaction(e, "evaluating a metrics report", do_report, &job);
        publish_exports(e);
    }
    if (rc)
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: metrics report from %s: %s", thing, dd_strerror(rc));
    free(reply);
    report_free(r);
}

static void publish_shadow_reply(void *ctx, const char *topic, const void *payload, size_t len)
{
    struct engine *e = ctx;

    if (engine_publish(e, topic, payload, len, 0, 0, NULL))
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: out of memory: dropped a reply on %s", topic);
}

static void handle_message(struct engine *e, const struct item *it)
{
    char thing[REPORT_THING_MAX + 1];
    enum report_format fmt;
    int rc;

    ASSERT_ENGINE_THREAD(e);
    if (report_topic_parse(it->topic, thing, &fmt) == DD_OK) {
        handle_report(e, thing, fmt, it);
        return;
    }
    rc = shadow_mqtt_handle(e->store, it->topic, it->payload, it->len, it->time_ms / 1000,
                            publish_shadow_reply, e);
    if (rc && rc != DD_ERR_NOT_FOUND && rc != DD_ERR_INVALID)
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: shadow request on %s: %s", it->topic,
                   dd_strerror(rc));
}

static int outbox_row(void *ctx, const char *topic, const void *payload, size_t len, int qos,
                      int retain, const char *properties)
{
    return engine_publish(ctx, topic, payload, len, qos, retain, properties);
}

static void drain_outbox(struct engine *e)
{
    size_t n;

    ASSERT_ENGINE_THREAD(e);
    do {
        int rc = store_outbox_take(e->store, OUTBOX_BATCH, outbox_row, e, &n);

        if (rc) {
            engine_log(e, MOSQ_LOG_ERR, "ddlocal: reading the MQTT outbox: %s", dd_strerror(rc));
            return;
        }
    } while (n == OUTBOX_BATCH);
}

/* Reload the clock row after another process committed. Engine thread. */
static void reload_clock(struct engine *e)
{
    struct dd_clock c;
    int rc;

    ASSERT_ENGINE_THREAD(e);
    rc = store_clock_get(e->store, &c);
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

/* Hand c (owned) to the broker thread, stamped with the sync generation
 * read before it was built (so it holds at least those commits), in place
 * of one it has not taken yet. */
static void hand_over(struct engine *e, struct broker_config *c, int64_t sync_gen)
{
    struct broker_config *old;

    ASSERT_ENGINE_THREAD(e);
    c->sync_generation = sync_gen;
    pthread_mutex_lock(&e->lock);
    old = e->config;
    e->config = c;
    atomic_fetch_add(&e->config_generation, 1);
    pthread_mutex_unlock(&e->lock);
    config_free(old);
}

/* Build the broker thread's next configuration snapshot, and keep a share
 * of it for extend_snapshots(). False when it could not be built. */
static bool reload_config(struct engine *e, int64_t sync_gen)
{
    struct broker_config *c, *base;
    struct dd_errbuf eb;
    int rc;

    ASSERT_ENGINE_THREAD(e);
    config_free(e->base);
    e->base = NULL;
    rc = config_load(e->store, &c, &eb);
    if (log_load(e, "building the broker configuration", rc, &eb))
        return false;
    assert(c);
    if (!(base = config_share(c))) {
        config_free(c);
        engine_log(e, MOSQ_LOG_ERR, "ddlocal: out of memory building the broker configuration");
        return false;
    }
    e->base = base;
    hand_over(e, c, sync_gen);
    return true;
}

/* When every change since the snapshots were built was a thing inserted
 * (CreateThing, one after another), add those things to the snapshots
 * instead of building them again from every thing and certificate: at the
 * rate a fleet is registered, those rebuilds took a fifth of a CPU from
 * the server, each longer as the fleet grew. New things are in no group
 * and attached to nothing, so only their own rows are read. False when
 * the snapshots must be built again; what was added by then is harmless,
 * as the things exist. */
static bool extend_snapshots(struct engine *e, int64_t sync_gen)
{
    struct store_snapshot_mark now;
    struct broker_config *c = NULL;
    bool began, alarms = false, ok;
    size_t expected = 0, walked = 0;

    ASSERT_ENGINE_THREAD(e);
    if (e->built.changes < 0 || !e->base)
        return false;
    began = store_read_begin(e->store);
    /* No group changed, so the dynamic groups' pass a rebuild runs (the
     * groups not ACTIVE) has nothing to do: a new thing joins a dynamic
     * group at the next window close, from the dirty list, either way. */
    ok = !store_snapshot_mark(e->store, &now) &&
         now.changes - e->built.changes == now.things_inserted - e->built.things_inserted;
    if (ok) {
        expected = (size_t)(now.things_inserted - e->built.things_inserted);
        ok = !config_extend(e->base, e->store, e->built.things_rowid, expected, &c, &walked) &&
             walked == expected;
    }
    ok = ok && !detect_add_things(e->detect, e->store, e->built.things_rowid) &&
         !store_detect_any_alarm_after(e->store, e->built.things_rowid, &alarms);
    store_read_end(e->store, began);
    if (!ok) {
        config_free(c);
        return false;
    }
    e->built = now;
    hand_over(e, c, sync_gen);
    /* A thing that alarmed before it was registered is judged by the
     * profiles of registered things now. */
    if (alarms)
        in_transaction(e, "reconciling violations", do_reconcile, NULL);
    return true;
}

/* How long datapoints are kept, in emulated milliseconds. */
static int64_t retention_ms(const struct engine *e)
{
    return (int64_t)e->opt.retention_days * 24 * 3600 * 1000;
}

/* A new detector with this engine's options and log; NULL when out of
 * memory. Engine thread (or its start-up). */
static struct detect *new_detect(struct engine *e)
{
    struct detect *d = detect_new(e->opt.region, e->opt.account, retention_ms(e), &e->opt.ml);

    if (d && detect_set_datapoint_budget(d, e->opt.datapoint_budget)) {
        detect_free(d);
        d = NULL;
    }
    if (d)
        detect_set_log(d, detect_warning, e);
    return d;
}

/* A commit changed nothing the snapshots hold: the broker's snapshot (or
 * the one waiting for it) already runs on every commit up to sync_gen, so
 * a /_ddlocal/sync waiting for it is answered without a rebuild. */
static void sync_unchanged(struct engine *e, int64_t sync_gen)
{
    bool waiting;

    ASSERT_ENGINE_THREAD(e);
    pthread_mutex_lock(&e->lock);
    waiting = e->config != NULL;
    if (waiting && e->config->sync_generation < sync_gen)
        e->config->sync_generation = sync_gen;
    pthread_mutex_unlock(&e->lock);
    if (!waiting && sync_gen > e->synced_generation) {
        e->synced_generation = sync_gen;
        e->heartbeat_due = true;
    }
}

/* Another process committed: pick up the clock, a reset, the server's
 * outgoing MQTT messages and, when the commit changed a table they are
 * built from (store_snapshot_mark()), the dynamic groups, the profiles
 * and targets, and the broker's configuration. */
static void on_foreign_commit(struct engine *e, bool judging)
{
    struct store_snapshot_mark mark;
    int64_t gen, sync_gen = 0;

    ASSERT_ENGINE_THREAD(e);
    /* Both read before what they vouch for is: a commit in between makes
     * the next look rebuild again, never miss one. */
    store_sync_generation(e->store, &sync_gen);
    if (store_snapshot_mark(e->store, &mark))
        mark.changes = -1;
    reload_clock(e);
    if (store_reset_generation(e->store, &gen) == DD_OK && gen != e->reset_generation) {
        struct detect *fresh = new_detect(e);

        e->reset_generation = gen;
        e->built.changes = -1; /* a fresh Detect state needs its profiles */
        if (fresh) {
            detect_free(e->detect);
            e->detect = fresh;
        }
    }
    if (mark.changes >= 0 && mark.changes == e->built.changes) {
        sync_unchanged(e, sync_gen);
    } else if (extend_snapshots(e, sync_gen)) {
        /* only things were inserted: taken at once, at no rebuild's cost */
    } else if (!judging && real_ms() < e->rebuild_after_real_ms) {
        e->rebuild_waiting = true; /* poll_data_version comes back for it */
    } else {
        int64_t start = real_ms(), end;
        bool dyngroups, built;

        e->rebuild_waiting = false;
        /* Looked at first, so a registry without dynamic groups never takes
         * the write lock here; on a failed look the pass runs and says why. */
        if (store_dyngroups_any(e->store, &dyngroups) || dyngroups)
            in_transaction(e, "building dynamic thing groups", do_dyngroups,
                           &(struct dyngroups_pass){ true, clock_now(&e->clock, start) });
        built = reload_profiles(e);
        built = reload_config(e, sync_gen) && built;
        e->built = mark;
        if (!built)
            e->built.changes = -1; /* the next commit builds them again */
        end = real_ms();
        e->rebuild_after_real_ms = end + REBUILD_REST_FACTOR * (end - start);
    }
    drain_outbox(e);
}

/* Free a list of snapshots the broker thread retired (retired_next);
 * NULL allowed. A snapshot of 100,000 certificates takes tens of
 * milliseconds to free: here, not in a TICK. Engine thread, or the last
 * thread once the engine stopped. */
static void free_retired(struct broker_config *c)
{
    while (c) {
        struct broker_config *next = c->retired_next;

        config_free(c);
        c = next;
    }
}

/* Another process's commit, or a rebuild that waited its turn, is taken
 * up by on_foreign_commit(). With judging (a window or a device's report
 * is about to be judged), a rebuild waits for no rest: what was committed
 * before the window closed is what judges it. */
static void poll_data_version(struct engine *e, bool judging)
{
    int64_t v;

    if (store_data_version(e->store, &v))
        return;
    if (v != e->data_version ||
        (e->rebuild_waiting && (judging || real_ms() >= e->rebuild_after_real_ms))) {
        e->data_version = v;
        on_foreign_commit(e, judging);
    }
}

/* Write the heartbeat the server's health and barriers read. The last one,
 * as the broker stops, is written as of real time 0, so it reads as stale
 * at once: a server that starts on this database before the next broker
 * ticks does not call it healthy. Engine thread. */
static void write_heartbeat(struct engine *e, int64_t now_real, bool stopping)
{
    struct store_heartbeat hb = {
        .pid = getpid(),
        .written_real_ms = stopping ? 0 : now_real,
        .emulated_now_ms = e->emulated_now_ms,
        .evaluated_until_ms = e->evaluated_until_ms,
        .synced_generation = e->synced_generation,
    };
    int rc;

    ASSERT_ENGINE_THREAD(e);
    /* The heartbeat never runs ahead of what was evaluated. */
    assert(e->evaluated_until_ms <= e->emulated_now_ms);
    rc = store_heartbeat_put(e->store, &hb);
    if (rc) {
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: heartbeat not written: %s", dd_strerror(rc));
        return;
    }
    /* bin/ddlocal reports the emulator up on this line: health is ok now. */
    if (!e->last_heartbeat_real_ms && !stopping) {
        engine_log(e, MOSQ_LOG_NOTICE, "ddlocal: serving (first heartbeat written)");
        /* Start-up is over: give back what it freed (the plugin's and the
         * engine's first connections, the first snapshot's build), which
         * glibc keeps in each thread's arena, about 350 KB idle
         * (docs/performance.md, "Start-up and memory"). Once. */
        malloc_trim(0);
    }
    e->last_heartbeat_real_ms = now_real;
    e->heartbeat_due = false;
    /* No data_version read here: our own commit does not move it (SQLite
     * counts other connections' commits only), and a read here would take in
     * a commit the server made while this write waited for the lock, so a
     * sync bump made then went unnoticed until the next one (issue 19,
     * item 10: a 504 from the first /_ddlocal/sync after a start). */
}

static void free_item(struct item *it)
{
    if (it->kind == ITEM_WINDOW)
        free(it->win); /* NULL once processed */
    free(it);
}

/* Write a connect or disconnect to the fleet index's connectivity table. A
 * failure loses only this record (logged): the next event of the client
 * writes its state again. Engine thread. */
static void record_connectivity(struct engine *e, const struct item *it)
{
    int rc;

    ASSERT_ENGINE_THREAD(e);
    rc = store_index_connectivity_set(e->store, it->topic, it->len == 0, it->time_ms,
                                      it->len ? (const char *)it->payload : NULL);
    if (rc)
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: connectivity of %s not recorded: %s", it->topic,
                   dd_strerror(rc));
    /* The connection history of Audit's checks. */
    rc = it->len == 0
             ? store_connhist_connected(e->store, it->topic, it->cert, it->taken_over, it->time_ms)
             : store_connhist_disconnected(e->store, it->topic, it->time_ms);
    if (rc)
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: connection history of %s not recorded: %s",
                   it->topic, dd_strerror(rc));
}

/* Wake the delivery thread for the alert outbox rows just committed,
 * instead of leaving them to its next poll. Engine thread. */
static void wake_delivery(struct engine *e)
{
    ASSERT_ENGINE_THREAD(e);
    pthread_mutex_lock(&e->lock);
    if (e->delivery)
        delivery_wake(e->delivery);
    pthread_mutex_unlock(&e->lock);
}

/* Whether the broker thread has not yet taken a clock, a configuration or
 * messages the engine made for it. Engine thread. */
static bool broker_behind(struct engine *e)
{
    return atomic_load(&e->clock_seen) != atomic_load(&e->clock_generation) ||
           atomic_load(&e->config_seen) != atomic_load(&e->config_generation) ||
           atomic_load(&e->out_pending);
}

/* Process one batch of queued work in order. Returns true when progress
 * moved. */
static bool process(struct engine *e, struct item *batch)
{
    bool moved = false;

    ASSERT_ENGINE_THREAD(e);
    while (batch) {
        struct item *next = batch->next;

        switch (batch->kind) {
        case ITEM_WINDOW:
            /* Pick up profile changes committed before this window closed. */
            poll_data_version(e, true);
            in_transaction(e, "evaluating a window", do_window, batch->win);
            drain_outbox(e); /* the membership events of dynamic groups */
            publish_exports(e);
            wake_delivery(e); /* the alerts this window committed */
            /* Its pages go back to the broker thread for the next close,
             * already faulted in; a spent window not taken yet is freed. */
            free(atomic_exchange(&e->spent, batch->win));
            batch->win = NULL;
            break;
        case ITEM_MESSAGE:
            poll_data_version(e, true);
            handle_message(e, batch);
            break;
        case ITEM_CONNECTIVITY:
            record_connectivity(e, batch);
            break;
        case ITEM_SYNCED:
            if (batch->time_ms > e->synced_generation) {
                e->synced_generation = batch->time_ms;
                moved = true;
            }
            break;
        case ITEM_PROGRESS:
            /* The broker's first tick comes from its loop, after its
             * listeners opened: only then is the broker healthy. */
            if (!e->ticking) {
                e->ticking = true;
                moved = true;
            }
            if (batch->time_ms > e->evaluated_until_ms) {
                bool new_bucket = clock_buckets_closing(e->evaluated_until_ms, batch->time_ms);

                e->emulated_now_ms = batch->time_ms;
                if (new_bucket)
                    in_transaction(e, "expiring violations", do_expire, NULL);
                e->evaluated_until_ms = batch->time_ms;
                moved = true;
            }
            break;
        }
        free_item(batch);
        batch = next;
    }
    return moved;
}

/* Say so in the log when evaluation falls behind the clock c by more than
 * the fleet can catch up with (clock_lagging), again every LAG_WARN_EVERY_MS
 * while it stays behind, and once when it has caught up. Looked at as the
 * engine wakes, before it works off what queued up: a broker or engine that
 * could not run for a while sees its whole lag. Engine thread. */
static void check_lag(struct engine *e, const struct dd_clock *c, int64_t now_real)
{
    int64_t lag = clock_lag_ms(c, now_real, e->evaluated_until_ms);

    ASSERT_ENGINE_THREAD(e);
    if (clock_lagging(c, lag)) {
        if (!e->lagging || now_real - e->lag_warned_real_ms >= LAG_WARN_EVERY_MS) {
            engine_log(e, MOSQ_LOG_WARNING,
                       "ddlocal: the fleet cannot keep up with the clock: evaluation is %.1f "
                       "emulated seconds (%.1f real seconds at time scale %g) behind",
                       (double)lag / 1000.0, (double)lag / 1000.0 / c->scale, c->scale);
            e->lag_warned_real_ms = now_real;
        }
        e->lagging = true;
    } else if (e->lagging) {
        engine_log(e, MOSQ_LOG_NOTICE, "ddlocal: evaluation has caught up with the clock");
        e->lagging = false;
    }
}

/* The engine thread's start (workers_spawn): its connection and detector. */
static int engine_open(void *arg, struct dd_errbuf *eb)
{
    struct engine *e = arg;
    int rc;

    e->self = pthread_self();
    rc = store_open(e->opt.db_path, &e->store, eb);
    if (rc)
        return rc;
    store_set_cache_mb(e->store, DETECT_CACHE_MB);
    /* No connection of an earlier broker run is still open. */
    rc = store_index_connectivity_reset(e->store, e->emulated_now_ms,
                                        fleetrecord_disconnect_name(FLEETRECORD_DISC_SERVER));
    if (rc)
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: connectivity not reset: %s", dd_strerror(rc));
    rc = store_connhist_reset(e->store, e->emulated_now_ms);
    if (rc)
        engine_log(e, MOSQ_LOG_WARNING, "ddlocal: connection history not reset: %s",
                   dd_strerror(rc));
    e->detect = new_detect(e);
    if (!e->detect) {
        store_close(e->store);
        e->store = NULL;
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    }
    return DD_OK;
}

static void *engine_run(void *arg)
{
    struct engine *e = arg;

    ASSERT_ENGINE_THREAD(e);
    assert(e->store && e->detect); /* engine_open succeeded */
    store_data_version(e->store, &e->data_version);
    store_reset_generation(e->store, &e->reset_generation);
    e->built.changes = -1; /* the first look builds everything */
    on_foreign_commit(e, true);

    for (;;) {
        struct broker_config *retired;
        struct item *batch;
        struct timespec until;
        struct dd_clock clock;
        bool stopping, moved, kick;
        int64_t now_real;

        /* Until its first tick the broker is starting, and once its loop
         * runs an idle broker sleeps up to 100 ms before that tick, which
         * health waits for (the first heartbeat follows it): nudge it every
         * few milliseconds until it ticks. A SIGURG that comes before the
         * loop only leaves a note (wake.h). */
        kick = !e->ticking || broker_behind(e);
        if (kick)
            wake_broker(e->broker);
        clock_gettime(CLOCK_REALTIME, &until);
        clock_timespec_add_ms(&until, !e->ticking ? STARTING_KICK_MS : kick ? KICK_MS : POLL_MS);
        pthread_mutex_lock(&e->lock);
        if (!e->head && !e->stopping && !e->poked)
            pthread_cond_timedwait(&e->wake, &e->lock, &until);
        batch = e->head;
        e->head = e->tail = NULL;
        e->poked = false;
        stopping = e->stopping;
        clock = e->clock;
        retired = e->retired;
        e->retired = NULL;
        pthread_mutex_unlock(&e->lock);

        free_retired(retired);

        if (e->ticking) {
            int64_t due = clock_bucket_end(e->evaluated_until_ms);

            now_real = real_ms();
            check_lag(e, &clock, now_real);
            /* A bucket is due: its close should not wait for the idle
             * broker's next pass (up to 100 ms). */
            if (due > e->kicked_due_ms && clock_now(&clock, now_real) >= due) {
                wake_broker(e->broker);
                e->kicked_due_ms = due;
            }
        }
        moved = process(e, batch);
        poll_data_version(e, false);
        now_real = real_ms();
        if (e->ticking && (moved || e->heartbeat_due ||
                           now_real - e->last_heartbeat_real_ms >= HEARTBEAT_EVERY_MS || stopping))
            write_heartbeat(e, now_real, stopping);
        if (stopping)
            break;
    }
    detect_free(e->detect);
    store_close(e->store);
    e->store = NULL;
    return NULL;
}

int engine_start(const struct plugin_options *opt, const struct dd_clock *clock, struct workers *w,
                 struct engine **out, struct dd_errbuf *eb)
{
    struct engine *e;
    int rc;

    *out = NULL;
    e = calloc(1, sizeof(*e));
    if (!e)
        return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
    e->broker = pthread_self();
    e->opt = *opt;
    e->clock = *clock;
    e->evaluated_until_ms = clock_now(clock, real_ms());
    e->emulated_now_ms = e->evaluated_until_ms;
    atomic_init(&e->clock_generation, 1);
    atomic_init(&e->config_generation, 0);
    atomic_init(&e->clock_seen, 1);
    atomic_init(&e->config_seen, 0);
    atomic_init(&e->out_pending, 0);
    atomic_init(&e->spent, NULL);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->wake, NULL);
    rc = workers_spawn(w, &e->thread, "dd-engine", engine_open, engine_run, e, eb);
    if (rc) {
        pthread_cond_destroy(&e->wake);
        pthread_mutex_destroy(&e->lock);
        free(e);
        return rc;
    }
    *out = e;
    return DD_OK;
}

/* MQTT 5 properties of an iot-data Publish, from the outbox's JSON. Broker
 * thread (the list belongs to the broker once published). */
static mosquitto_property *properties_from_json(const char *json)
{
    mosquitto_property *props = NULL;
    cJSON *o = cJSON_Parse(json);
    const cJSON *v, *pair;

    if (!o)
        return NULL;
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "contentType")))
        mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, v->valuestring);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "responseTopic")))
        mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, v->valuestring);
    if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "messageExpiry")) &&
        v->valuedouble >= 0 && v->valuedouble <= 4294967295.0)
        mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
                                     (uint32_t)v->valuedouble);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "payloadFormatIndicator")))
        mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR,
                                    strcmp(v->valuestring, "UTF8_DATA") == 0);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "correlationData")))
        mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, v->valuestring,
                                      (uint16_t)strlen(v->valuestring));
    cJSON_ArrayForEach(pair, cJSON_GetObjectItemCaseSensitive(o, "userProperties"))
    {
        const cJSON *k = cJSON_GetArrayItem(pair, 0), *val = cJSON_GetArrayItem(pair, 1);

        if (cJSON_IsString(k) && cJSON_IsString(val))
            mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, k->valuestring,
                                               val->valuestring);
    }
    cJSON_Delete(o);
    return props;
}

/* Put the list o back at the head of the queue (broker thread). */
static void requeue(struct engine *e, struct outgoing *o)
{
    struct outgoing *last = o;

    while (last->next)
        last = last->next;
    pthread_mutex_lock(&e->lock);
    last->next = e->out;
    if (!e->out_tail)
        e->out_tail = last;
    e->out = o;
    atomic_store(&e->out_pending, 1);
    pthread_mutex_unlock(&e->lock);
}

struct client_window *engine_window_spent(struct engine *e)
{
    ASSERT_BROKER_THREAD(e);
    if (!atomic_load_explicit(&e->spent, memory_order_relaxed))
        return NULL;
    return atomic_exchange(&e->spent, NULL);
}

void engine_drain(struct engine *e)
{
    size_t budget = ENGINE_DRAIN_BYTES;
    struct outgoing *o;

    ASSERT_BROKER_THREAD(e);
    if (!atomic_load_explicit(&e->out_pending, memory_order_relaxed))
        return;
    pthread_mutex_lock(&e->lock);
    o = e->out;
    e->out = e->out_tail = NULL;
    atomic_store(&e->out_pending, 0);
    pthread_mutex_unlock(&e->lock);
    while (o) {
        struct outgoing *next = o->next;

        /* A tick publishes at most ENGINE_DRAIN_BYTES of payload (a window
         * of a large fleet exports megabytes of metrics): the rest goes
         * back to the head of the queue for the next ticks. */
        if (budget < o->len && budget < ENGINE_DRAIN_BYTES) {
            requeue(e, o);
            return;
        }
        budget -= budget < o->len ? budget : o->len;

        if (!o->topic) {
            mosquitto_log_printf(o->level, "%s", o->data);
        } else {
            /* The broker frees the payload with its own allocator. */
            void *payload = o->len ? mosquitto_malloc(o->len) : NULL;

            if (payload || !o->len) {
                if (o->len)
                    memcpy(payload, o->data, o->len);
                mosquitto_broker_publish(
                    NULL, o->topic, (int)o->len, payload, o->qos, o->retain != 0,
                    o->properties ? properties_from_json(o->properties) : NULL);
            }
        }
        free(o);
        o = next;
    }
}

void engine_stop(struct engine *e)
{
    struct outgoing *o;
    struct item *it;

    if (!e)
        return;
    ASSERT_BROKER_THREAD(e);
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    pthread_join(e->thread, NULL);
    assert(!e->store); /* closed by the engine thread on its way out */
    /* The broker is shutting down: print what is left, publish nothing. */
    for (o = e->out; o;) {
        struct outgoing *next = o->next;

        if (!o->topic)
            mosquitto_log_printf(o->level, "%s", o->data);
        free(o);
        o = next;
    }
    for (it = e->head; it;) {
        struct item *next = it->next;

        free_item(it);
        it = next;
    }
    config_free(e->config);
    config_free(e->base);
    free_retired(e->retired);
    free(atomic_load(&e->spent));
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void engine_config_retire(struct engine *e, struct broker_config *old)
{
    ASSERT_BROKER_THREAD(e);
    if (!old)
        return;
    pthread_mutex_lock(&e->lock);
    old->retired_next = e->retired;
    e->retired = old;
    pthread_mutex_unlock(&e->lock);
}

struct broker_config *engine_config_take(struct engine *e, uint64_t *generation)
{
    uint64_t g = atomic_load_explicit(&e->config_generation, memory_order_acquire);
    struct broker_config *c;

    ASSERT_BROKER_THREAD(e);
    if (g == *generation)
        return NULL;
    pthread_mutex_lock(&e->lock);
    c = e->config;
    e->config = NULL;
    *generation = atomic_load(&e->config_generation);
    atomic_store(&e->config_seen, *generation);
    pthread_mutex_unlock(&e->lock);
    return c;
}

int engine_clock_refresh(struct engine *e, uint64_t *generation, struct dd_clock *clock)
{
    uint64_t g = atomic_load_explicit(&e->clock_generation, memory_order_acquire);

    ASSERT_BROKER_THREAD(e);
    if (g == *generation)
        return 0;
    pthread_mutex_lock(&e->lock);
    *clock = e->clock;
    *generation = atomic_load(&e->clock_generation);
    atomic_store(&e->clock_seen, *generation);
    pthread_mutex_unlock(&e->lock);
    return 1;
}

void engine_poke(struct engine *e)
{
    ASSERT_BROKER_THREAD(e);
    pthread_mutex_lock(&e->lock);
    e->poked = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}

void engine_set_delivery(struct engine *e, struct delivery *d)
{
    ASSERT_BROKER_THREAD(e);
    pthread_mutex_lock(&e->lock);
    e->delivery = d;
    pthread_mutex_unlock(&e->lock);
}

static void push_item(struct engine *e, struct item *it)
{
    ASSERT_BROKER_THREAD(e);
    it->next = NULL;
    pthread_mutex_lock(&e->lock);
    assert(!e->head == !e->tail);
    if (e->tail)
        e->tail->next = it;
    else
        e->head = it;
    e->tail = it;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->lock);
}

void engine_progress(struct engine *e, int64_t now_ms)
{
    struct item *it = calloc(1, sizeof(*it));

    if (!it)
        return; /* the next report carries the same information */
    it->kind = ITEM_PROGRESS;
    it->time_ms = now_ms;
    push_item(e, it);
}

void engine_synced(struct engine *e, int64_t gen)
{
    struct item *it = calloc(1, sizeof(*it));

    if (!it)
        return; /* the next snapshot carries a later generation */
    it->kind = ITEM_SYNCED;
    it->time_ms = gen;
    push_item(e, it);
}

void engine_window(struct engine *e, struct client_window *w)
{
    struct item *it;

    assert(w);
    it = calloc(1, sizeof(*it));
    if (!it) {
        free(w);
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: out of memory: a window was lost");
        return;
    }
    it->kind = ITEM_WINDOW;
    it->time_ms = w->bucket_end_ms;
    it->win = w;
    push_item(e, it);
}

void engine_connectivity(struct engine *e, const char *id, bool connected, const char *reason,
                         const char *cert, bool taken_over, int64_t now_ms)
{
    size_t ilen = strlen(id), rlen = connected || !reason ? 0 : strlen(reason) + 1;
    size_t clen = connected && cert ? strlen(cert) + 1 : 0;
    struct item *it = calloc(1, sizeof(*it) + rlen + ilen + 1 + clen);

    if (!it) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: out of memory: connectivity of %s dropped",
                             id);
        return;
    }
    it->kind = ITEM_CONNECTIVITY;
    it->time_ms = now_ms;
    it->len = rlen;
    if (rlen)
        memcpy(it->payload, reason, rlen);
    it->topic = (char *)it->payload + rlen;
    memcpy(it->topic, id, ilen + 1);
    if (clen) {
        it->cert = it->topic + ilen + 1;
        memcpy(it->cert, cert, clen);
    }
    it->taken_over = connected && taken_over;
    push_item(e, it);
}

void engine_message(struct engine *e, const char *topic, const void *payload, size_t len,
                    int64_t now_ms)
{
    size_t tlen = strlen(topic);
    struct item *it = calloc(1, sizeof(*it) + len + tlen + 1);

    if (!it) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "ddlocal: out of memory: dropped a message on %s",
                             topic);
        return;
    }
    it->kind = ITEM_MESSAGE;
    it->time_ms = now_ms;
    it->len = len;
    if (len)
        memcpy(it->payload, payload, len);
    it->topic = (char *)it->payload + len;
    memcpy(it->topic, topic, tlen + 1);
    push_item(e, it);
}
