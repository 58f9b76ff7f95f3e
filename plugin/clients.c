/* SPDX-License-Identifier: MIT */
/* clients.c: the broker thread's per-client counters (see clients.h).
 *
 * Two open-addressing hash tables with linear probing: entries by client id
 * (FNV-1a of the id) and live connections by pointer. Both grow by doubling
 * at 50% load, which happens only when clients arrive, never per message.
 * Deletion uses backward-shift so no tombstones build up, and both shrink
 * once at most 1/8 full (plugin/probe.h): the ids table when a close has
 * swept the clients it forgets, the connections table as they leave. So
 * memory and the sweep's length follow the clients there are, not all the
 * clients there ever were.
 *
 * Closing a window is spread over ticks so the broker never stalls on a big
 * fleet: the close bumps the window number, and a sweep then visits a few
 * thousand slots per step, copying each entry's counts of the closed window
 * into the window's records. An entry the broker touches before the sweep
 * reaches it is settled first (its old counts harvested), so no count lands
 * in the wrong window. The sweep only moves forward: backward-shift deletion
 * never moves an unvisited entry behind it, and a visited entry moved ahead
 * is recognised by its window number. */
#include "plugin/clients.h"

#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugin/probe.h"

#define MIN_CAP 64 /* slots of a new or emptied table */

struct entry {
    struct client_counts counts;
    int live;                /* connections currently linked to this id */
    bool had_session;        /* some session was open during the open window */
    bool touched;            /* some count moved during the open window */
    int64_t left_ms;         /* emulated time the last connection left; 0 while live */
    uint32_t window;         /* the window its counts belong to */
    struct dim_counts *dims; /* owned, CLIENTS_MAX_DIMS of them; NULL until needed */
    struct authz_memo memo[CLIENTS_MEMO_SLOTS];
    struct mqtt_rate rate; /* its PUBLISH requests in the current second */
    char id[CLIENTS_ID_MAX + 1];
};

struct conn_slot {
    const void *conn; /* NULL = empty */
    struct entry *e;
};

/* A window being closed: harvested by the sweep, handed out when done. */
struct closing {
    struct client_window *w; /* owned; NULL when no close is under way */
    uint32_t window;         /* the number of the window being closed */
    size_t next;             /* the next id slot to sweep */
    size_t room;             /* records w has room for: the entries at the close's begin */
    int64_t forget_after_ms;
};

struct clients {
    pthread_t owner;    /* the thread that made the table (the broker's): its only user */
    struct entry **ids; /* slots; NULL = empty */
    size_t id_cap, id_n;
    size_t n_gone; /* entries with no live connection (candidates to forget) */
    struct conn_slot *conns;
    size_t conn_cap, conn_n;
    uint32_t window;             /* the open window's number */
    struct closing closing;      /* the close under way */
    struct client_window *done;  /* a finished window not yet taken, owned */
    struct client_window *spare; /* a spent window to fill again, owned, or NULL */
};

static void settle(struct clients *t, struct entry *e);

/* Every entry point runs on the table's thread (clients.h: no locks). */
#define ASSERT_OWNER(t) assert(pthread_equal(pthread_self(), (t)->owner))

static void entry_free(struct entry *e)
{
    if (e)
        free(e->dims);
    free(e);
}

/* The entry whose counts c are (the counts are its first member). */
static struct entry *entry_of(struct client_counts *c)
{
    return (struct entry *)(void *)((char *)c - offsetof(struct entry, counts));
}

/* An entry the broker is about to count on: settled into the open window
 * and marked as heard from this window. Its counts, for the caller to add to. */
static struct client_counts *touch(struct clients *t, struct entry *e)
{
    settle(t, e);
    e->touched = true;
    return &e->counts;
}

static void finish_close(struct clients *t);

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static size_t hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;

    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

struct clients *clients_new(void)
{
    struct clients *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->owner = pthread_self();
    t->id_cap = MIN_CAP;
    t->conn_cap = MIN_CAP;
    t->ids = calloc(t->id_cap, sizeof(*t->ids));
    t->conns = calloc(t->conn_cap, sizeof(*t->conns));
    if (!t->ids || !t->conns) {
        clients_free(t);
        return NULL;
    }
    return t;
}

void clients_free(struct clients *t)
{
    size_t i;

    if (!t)
        return;
    ASSERT_OWNER(t);
    for (i = 0; t->ids && i < t->id_cap; i++)
        entry_free(t->ids[i]);
    free(t->ids);
    free(t->closing.w);
    free(t->done);
    free(t->spare);
    free(t->conns);
    free(t);
}

size_t clients_count(const struct clients *t)
{
    return t->id_n;
}

size_t clients_bytes(const struct clients *t)
{
    size_t n = sizeof(*t) + t->id_cap * sizeof(t->ids[0]) + t->conn_cap * sizeof(t->conns[0]), i;

    for (i = 0; i < t->id_cap; i++)
        if (t->ids[i])
            n += sizeof(*t->ids[i]) +
                 (t->ids[i]->dims ? CLIENTS_MAX_DIMS * sizeof(struct dim_counts) : 0);
    if (t->closing.w)
        n += sizeof(*t->closing.w) + t->closing.w->cap * sizeof(t->closing.w->records[0]);
    if (t->spare)
        n += sizeof(*t->spare) + t->spare->cap * sizeof(t->spare->records[0]);
    return n;
}

/* The slot of id, or the empty slot where it would go. The table grows at
 * half load, so a probe always meets an empty slot. */
static size_t id_slot(const struct clients *t, const char *id)
{
    size_t mask = t->id_cap - 1, i = hash_str(id) & mask;

    assert((t->id_cap & mask) == 0 && t->id_n < t->id_cap);
    while (t->ids[i] && strcmp(t->ids[i]->id, id) != 0)
        i = (i + 1) & mask;
    return i;
}

/* Rehash the ids into cap slots (a power of two, more than twice id_n).
 * Rehashing moves entries: no sweep may be under way. */
static bool resize_ids(struct clients *t, size_t cap)
{
    struct entry **old = t->ids, **ids = calloc(cap, sizeof(*ids));
    size_t old_cap = t->id_cap, i;

    assert(!t->closing.w && t->id_n * 2 < cap);
    if (!ids)
        return false;
    t->ids = ids;
    t->id_cap = cap;
    for (i = 0; i < old_cap; i++)
        if (old[i])
            ids[id_slot(t, old[i]->id)] = old[i];
    free(old);
    return true;
}

static bool grow_ids(struct clients *t)
{
    /* A sweep under way must finish first. */
    finish_close(t);
    return resize_ids(t, t->id_cap * 2);
}

static bool id_used(const void *slot)
{
    return *(struct entry *const *)slot != NULL;
}

static size_t id_hash(const void *slot)
{
    return hash_str((*(struct entry *const *)slot)->id);
}

static void remove_id(struct clients *t, size_t i)
{
    struct probe_slots slots = { t->ids, t->id_cap, sizeof(t->ids[0]), id_used, id_hash };

    assert(t->ids[i] && t->id_n > 0);
    entry_free(t->ids[i]);
    t->ids[i] = NULL;
    t->id_n--;
    probe_shift_back(&slots, i);
}

static size_t conn_slot(const struct clients *t, const void *conn)
{
    size_t mask = t->conn_cap - 1, i = hash_ptr(conn) & mask;

    assert((t->conn_cap & mask) == 0 && t->conn_n < t->conn_cap);
    while (t->conns[i].conn && t->conns[i].conn != conn)
        i = (i + 1) & mask;
    return i;
}

/* Rehash the connections into cap slots (a power of two, more than twice
 * conn_n). */
static bool resize_conns(struct clients *t, size_t cap)
{
    struct conn_slot *old = t->conns, *c = calloc(cap, sizeof(*c));
    size_t old_cap = t->conn_cap, i;

    assert(t->conn_n * 2 < cap);
    if (!c)
        return false;
    t->conns = c;
    t->conn_cap = cap;
    for (i = 0; i < old_cap; i++)
        if (old[i].conn)
            c[conn_slot(t, old[i].conn)] = old[i];
    free(old);
    return true;
}

static bool conn_used(const void *slot)
{
    return ((const struct conn_slot *)slot)->conn != NULL;
}

static size_t conn_hash(const void *slot)
{
    return hash_ptr(((const struct conn_slot *)slot)->conn);
}

static void remove_conn(struct clients *t, size_t i)
{
    struct probe_slots slots = { t->conns, t->conn_cap, sizeof(t->conns[0]), conn_used, conn_hash };

    assert(t->conns[i].conn && t->conn_n > 0);
    memset(&t->conns[i], 0, sizeof(t->conns[i]));
    t->conn_n--;
    probe_shift_back(&slots, i);
}

/* The entry linked to the live connection conn, or NULL when conn is none
 * (never authenticated, or already gone); *slot is conn's slot in t->conns. */
static struct entry *conn_entry(struct clients *t, const void *conn, size_t *slot)
{
    ASSERT_OWNER(t);
    *slot = conn_slot(t, conn);
    return t->conns[*slot].conn ? t->conns[*slot].e : NULL;
}

struct client_counts *clients_by_conn(struct clients *t, const void *conn)
{
    size_t i;
    struct entry *e = conn_entry(t, conn, &i);

    return e ? touch(t, e) : NULL;
}

struct authz_memo *clients_memo(struct client_counts *c, size_t slot)
{
    assert(slot < CLIENTS_MEMO_SLOTS);
    return &entry_of(c)->memo[slot];
}

struct mqtt_rate *clients_rate(struct client_counts *c)
{
    return &entry_of(c)->rate;
}

struct client_counts *clients_connect(struct clients *t, const void *conn, const char *id,
                                      const char *address, bool accepted)
{
    struct entry *e;
    size_t i, c;

    ASSERT_OWNER(t);
    c = conn_slot(t, conn);
    if (t->conns[c].conn)
        return NULL; /* re-authentication of a live connection (SIGHUP) */
    if (strlen(id) > CLIENTS_ID_MAX)
        return NULL; /* not a thing name AWS could attribute */
    if ((t->id_n + 1) * 2 > t->id_cap && !grow_ids(t))
        return NULL;
    i = id_slot(t, id);
    e = t->ids[i];
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e)
            return NULL;
        memcpy(e->id, id, strlen(id) + 1);
        e->window = t->window;
        t->ids[i] = e;
        t->id_n++;
        t->n_gone++; /* no live connection yet */
    }
    touch(t, e)->connection_attempts++;
    if (address) {
        size_t n = strlen(address);

        if (n < sizeof(e->counts.source_ip))
            memcpy(e->counts.source_ip, address, n + 1);
    }
    if (!accepted)
        return &e->counts;
    if ((t->conn_n + 1) * 2 > t->conn_cap && !resize_conns(t, t->conn_cap * 2))
        return NULL;
    c = conn_slot(t, conn);
    assert(!t->conns[c].conn);
    t->conns[c].conn = conn;
    t->conns[c].e = e;
    /* A new connection may bring another address or certificate. */
    memset(e->memo, 0, sizeof(e->memo));
    t->conn_n++;
    if (e->live++ == 0) {
        assert(t->n_gone > 0);
        t->n_gone--;
    }
    e->had_session = true;
    e->left_ms = 0;
    return &e->counts;
}

void clients_disconnect(struct clients *t, const void *conn, int64_t now_ms)
{
    size_t c;
    struct entry *e = conn_entry(t, conn, &c);

    if (!e)
        return;          /* never authenticated, or already counted */
    assert(e->live > 0); /* a linked connection is one of its entry's live ones */
    remove_conn(t, c);
    /* Out of memory keeps the larger table, which is still correct. */
    if (probe_shrunk_cap(t->conn_n, t->conn_cap, MIN_CAP) < t->conn_cap)
        (void)resize_conns(t, probe_shrunk_cap(t->conn_n, t->conn_cap, MIN_CAP));
    touch(t, e)->disconnects++;
    if (--e->live == 0) {
        e->left_ms = now_ms;
        t->n_gone++;
    }
}

/* Zero the counts of a closed window, keeping the last source address. */
static void reset_counts(struct entry *e, size_t n_dims)
{
    assert(n_dims <= CLIENTS_MAX_DIMS);
    memset(&e->counts, 0, offsetof(struct client_counts, source_ip));
    if (e->dims)
        memset(e->dims, 0, n_dims * sizeof(e->dims[0]));
}

/* The entry's dimension counts, allocated on first use; NULL when out of
 * memory. */
static struct dim_counts *dims_of(struct client_counts *c)
{
    struct entry *e = entry_of(c);

    if (!e->dims)
        e->dims = calloc(CLIENTS_MAX_DIMS, sizeof(*e->dims));
    return e->dims;
}

static void size_add(struct size_stats *s, uint32_t len)
{
    if (s->n == 0 || len < s->min)
        s->min = len;
    if (s->n == 0 || len > s->max)
        s->max = len;
    s->n++;
    s->sum += len;
}

void clients_count_sent(struct client_counts *c, unsigned dims_in, size_t n_dims, uint32_t len)
{
    struct dim_counts *d;
    size_t i;

    assert(n_dims <= CLIENTS_MAX_DIMS && dims_in >> n_dims == 0);
    c->sent++;
    size_add(&c->bytes, len);
    if (!n_dims || !(d = dims_of(c)))
        return;
    for (i = 0; i < n_dims; i++) {
        if (dims_in & (1u << i)) {
            d[i].sent++;
            size_add(&d[i].in, len);
        } else {
            size_add(&d[i].out, len);
        }
    }
}

/* Add one to the uint32_t counter at byte offset field of struct
 * dim_counts (an offsetof()) for each dimension whose bit is set in
 * dims_in. */
static void dims_count(struct client_counts *c, unsigned dims_in, size_t field)
{
    struct dim_counts *d;
    size_t i;

    if (!dims_in || !(d = dims_of(c)))
        return;
    for (i = 0; dims_in; i++, dims_in >>= 1)
        if (dims_in & 1u)
            (*(uint32_t *)((char *)&d[i] + field))++;
}

void clients_count_received(struct client_counts *c, unsigned dims_in)
{
    assert(dims_in >> CLIENTS_MAX_DIMS == 0); /* bits of the dimensions in force only */
    c->received++;
    dims_count(c, dims_in, offsetof(struct dim_counts, received));
}

void clients_count_auth_failure(struct client_counts *c, bool has_topic, unsigned dims_in)
{
    assert(dims_in >> CLIENTS_MAX_DIMS == 0);
    c->auth_failures++;
    if (!has_topic)
        return;
    c->topic_auth_failures++;
    dims_count(c, dims_in, offsetof(struct dim_counts, auth_failures));
}

void clients_reset_dims(struct clients *t)
{
    size_t i;

    ASSERT_OWNER(t);
    for (i = 0; i < t->id_cap; i++)
        if (t->ids[i] && t->ids[i]->dims)
            memset(t->ids[i]->dims, 0, CLIENTS_MAX_DIMS * sizeof(t->ids[i]->dims[0]));
}

/* Copy an entry's counts of the closing window into its record (when it
 * had anything to report) and start its counts of the open window. */
static void harvest(struct clients *t, struct entry *e)
{
    struct client_window *w = t->closing.w;

    /* Only counts of the window being closed are harvested, and each entry
     * once: the window has a record for every entry there was at its begin. */
    assert(w && e->window == t->closing.window);
    if (e->had_session || e->touched || e->left_ms) {
        struct client_record *r;

        assert(w->n < t->closing.room);
        r = &w->records[w->n++];

        r->counts = e->counts;
        if (e->dims)
            memcpy(r->dims, e->dims, w->n_dims * sizeof(r->dims[0]));
        else
            memset(r->dims, 0, w->n_dims * sizeof(r->dims[0]));
        r->had_session = e->had_session;
        r->disconnected_at_ms = e->live ? 0 : e->left_ms;
        memcpy(r->id, e->id, strlen(e->id) + 1);
    }
    reset_counts(e, w->n_dims);
    e->touched = false;
    e->had_session = e->live > 0;
    e->window = t->window;
}

/* Before the broker touches an entry's counts: if they still belong to the
 * window being closed, harvest them first. */
static void settle(struct clients *t, struct entry *e)
{
    if (e->window != t->window && t->closing.w)
        harvest(t, e);
}

/* Whether an entry can be dropped at this close: a client long gone, or a
 * refused one that stayed quiet for a whole window. */
static bool forgettable(const struct clients *t, const struct entry *e)
{
    assert(t->closing.w);
    if (e->live)
        return false;
    if (e->left_ms)
        return t->closing.w->bucket_end_ms - e->left_ms > t->closing.forget_after_ms;
    return !e->touched && !e->had_session;
}

struct client_window *clients_close_step(struct clients *t, size_t max_slots)
{
    struct client_window *w;

    ASSERT_OWNER(t);
    while (t->closing.w && max_slots > 0 && t->closing.next < t->id_cap) {
        size_t i = t->closing.next;
        struct entry *e = t->ids[i];

        max_slots--;
        if (!e) {
            t->closing.next++;
            continue;
        }
        if (e->window != t->window)
            harvest(t, e);
        if (t->n_gone && forgettable(t, e)) {
            /* Backward shift fills slot i from ahead: look at it again. */
            assert(t->n_gone > 0);
            remove_id(t, i);
            t->n_gone--;
            continue;
        }
        t->closing.next++;
    }
    if (t->closing.w && t->closing.next >= t->id_cap) {
        t->done = t->closing.w;
        t->closing.w = NULL;
        /* The sweep forgot what it could: fit the table to what is left
         * (out of memory keeps the larger one, which is still correct). */
        if (probe_shrunk_cap(t->id_n, t->id_cap, MIN_CAP) < t->id_cap)
            (void)resize_ids(t, probe_shrunk_cap(t->id_n, t->id_cap, MIN_CAP));
    }
    w = t->done;
    t->done = NULL;
    return w;
}

static void finish_close(struct clients *t)
{
    struct client_window *w;

    if (!t->closing.w)
        return;
    w = clients_close_step(t, SIZE_MAX);
    t->done = w; /* handed out by the next clients_close_step() */
}

int clients_close_begin(struct clients *t, int64_t bucket_end_ms, int64_t idle_buckets_after,
                        int64_t forget_after_ms, const char *const *dim_names, size_t n_dims)
{
    struct client_window *w;
    size_t i;

    ASSERT_OWNER(t);
    if (t->closing.w || t->done)
        return DD_ERR_STATE;
    if (n_dims > CLIENTS_MAX_DIMS)
        n_dims = CLIENTS_MAX_DIMS;
    /* Room for every entry there is now: later ones open in the new window.
     * The spare window when it has room; a new one has room for an eighth
     * more, so a growing fleet does not need a new one at every close. */
    if (t->spare && t->spare->cap >= t->id_n) {
        w = t->spare;
        t->spare = NULL;
    } else {
        size_t cap = t->id_n + t->id_n / 8;

        w = malloc(sizeof(*w) + cap * sizeof(w->records[0]));
        if (!w)
            return DD_ERR_NOMEM;
        w->cap = cap;
        free(t->spare); /* too small */
        t->spare = NULL;
    }
    w->bucket_end_ms = bucket_end_ms;
    w->idle_buckets_after = idle_buckets_after;
    w->n_dims = n_dims;
    for (i = 0; i < n_dims; i++)
        snprintf(w->dim_names[i], sizeof(w->dim_names[i]), "%s", dim_names[i]);
    w->n = 0;
    t->closing.w = w;
    t->closing.window = t->window;
    t->closing.next = 0;
    t->closing.room = t->id_n;
    t->closing.forget_after_ms = forget_after_ms;
    t->window++;
    return DD_OK;
}

struct client_window *clients_close_for(struct clients *t, long budget_ns)
{
    struct timespec start, now;
    struct client_window *w;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        w = clients_close_step(t, CLIENTS_CLOSE_STEP);
        if (w || !clients_closing(t))
            return w;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) >= budget_ns)
            return NULL;
    }
}

void clients_window_reuse(struct clients *t, struct client_window *w)
{
    ASSERT_OWNER(t);
    if (!w)
        return;
    free(t->spare);
    t->spare = w;
}

bool clients_closing(const struct clients *t)
{
    return t->closing.w || t->done;
}

struct client_window *clients_close(struct clients *t, int64_t bucket_end_ms,
                                    int64_t idle_buckets_after, int64_t forget_after_ms,
                                    const char *const *dim_names, size_t n_dims)
{
    if (clients_closing(t) || clients_close_begin(t, bucket_end_ms, idle_buckets_after,
                                                  forget_after_ms, dim_names, n_dims))
        return NULL;
    return clients_close_step(t, SIZE_MAX);
}
