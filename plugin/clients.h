/* SPDX-License-Identifier: MIT */
/* clients.h: what the broker thread counts per client for the open 5-minute
 * window, and the window it hands to the engine when the window closes.
 *
 * Broker thread only: no locks. Each client id has one entry (an AWS thing
 * is identified by its client id); live connections point at their entry
 * through a second table keyed by the connection pointer, because mosquitto
 * reuses context pointers and a client id can move between connections
 * (takeover). Steady state allocates nothing per message: an entry is
 * created at a client's first CONNECT and lives while the client is
 * connected or its disconnect-duration still matters. */
#ifndef DD_PLUGIN_CLIENTS_H
#define DD_PLUGIN_CLIENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/mqtt_limits.h"

#define CLIENTS_ID_MAX 128 /* AWS thing names and client ids */
#define CLIENTS_IP_MAX 46  /* textual IPv6 */

#define CLIENTS_MAX_DIMS 8 /* TOPIC_FILTER dimensions counted at once */

/* Emulated time after which a client that left is forgotten, by the table
 * here and by Detect's per-thing state: its disconnect-duration datapoints
 * are no longer worth keeping (AWS invalidates a violation after two days
 * without data). */
#define CLIENTS_FORGET_AFTER_MS ((int64_t)2 * 24 * 3600 * 1000)

/* Payload sizes of the messages a client sent; min and max are valid when
 * n > 0. */
struct size_stats {
    uint32_t n, min, max;
    uint64_t sum;
};

/* Counts restricted to one dimension's topic filters: the messages whose
 * topic matches (IN). NOT_IN counts are the totals minus these; sizes are
 * kept for both sides because a minimum or maximum cannot be subtracted. */
struct dim_counts {
    uint32_t sent, received, auth_failures;
    struct size_stats in, out;
};

/* One client's counts for one window. */
struct client_counts {
    uint32_t sent;                /* PUBLISH accepted from it */
    uint32_t received;            /* deliveries to it */
    uint32_t auth_failures;       /* denied CONNECT, PUBLISH, SUBSCRIBE, deliveries */
    uint32_t topic_auth_failures; /* those of them that had a topic */
    uint32_t connection_attempts;
    uint32_t disconnects;
    struct size_stats bytes;
    char source_ip[CLIENTS_IP_MAX]; /* the last address it connected from */
};

/* The last authorization decision of one kind for a client, so a device
 * publishing to the same topic again skips the policy evaluation. Valid for
 * the configuration generation it was made under. */
#define CLIENTS_MEMO_TOPIC 64 /* longer topics are not remembered */
#define CLIENTS_MEMO_SLOTS 5  /* slot 0 for publishes, 1-4 for deliveries by topic hash */

struct authz_memo {
    uint64_t generation; /* 0 = empty */
    int action;
    bool allowed;
    char topic[CLIENTS_MEMO_TOPIC];
};

/* A closed window's record of one client. */
struct client_record {
    struct client_counts counts;
    struct dim_counts dims[CLIENTS_MAX_DIMS]; /* the first n_dims of the window are set */
    bool had_session;                         /* a session was open at some moment of the window */
    int64_t disconnected_at_ms;               /* 0 while connected at close; else when it left */
    char id[CLIENTS_ID_MAX + 1];
};

/* A closed window, handed from the broker thread to the engine (which frees
 * it with free()). idle_buckets_after: how many further buckets closed in
 * the same tick with no traffic at all (a manual jump of many buckets):
 * clients connected at close had a session through them. */
struct client_window {
    int64_t bucket_end_ms;
    int64_t idle_buckets_after;
    size_t n_dims;                                        /* dims[] of every record ... */
    char dim_names[CLIENTS_MAX_DIMS][CLIENTS_ID_MAX + 1]; /* ... belong to these */
    size_t n;
    size_t cap; /* records[] has room for cap records */
    struct client_record records[];
};

struct clients;

/* A new empty table; NULL when out of memory. Free with clients_free(). */
struct clients *clients_new(void);
void clients_free(struct clients *t);

/* The entry of a live connection, NULL if unknown. conn is the broker's
 * struct mosquitto *, used only as a key. */
struct client_counts *clients_by_conn(struct clients *t, const void *conn);

/* A CONNECT from conn with client id `id` reached authentication: count the
 * attempt, note the address, and (when accepted) link conn to the entry.
 * Returns the client's counts (to count a refusal), or NULL when nothing
 * was counted: out of memory, an id too long for a thing name, or a conn
 * already linked (SIGHUP re-authentication, not a new attempt). */
struct client_counts *clients_connect(struct clients *t, const void *conn, const char *id,
                                      const char *address, bool accepted);

/* conn went away: count a disconnect for its client the first time only
 * (mosquitto repeats DISCONNECT events) and unlink it. now_ms is emulated. */
void clients_disconnect(struct clients *t, const void *conn, int64_t now_ms);

/* Start closing the window ending at bucket_end_ms; the counts of the open
 * window go on being counted meanwhile. dim_names[0..n_dims) are the
 * dimensions in force (their counts are copied; the slots above are left
 * unset). Entries of clients that left more than forget_after_ms ago are
 * dropped by the sweep, and so are those of clients that were only ever
 * refused, once their counts are in the window. When the sweep is done the
 * table shrinks to fit the entries left. DD_ERR_STATE while another close is under way
 * or its window was not taken; DD_ERR_NOMEM (nothing changes). */
int clients_close_begin(struct clients *t, int64_t bucket_end_ms, int64_t idle_buckets_after,
                        int64_t forget_after_ms, const char *const *dim_names, size_t n_dims);

/* Sweep at most max_slots slots of the table for the close under way.
 * Returns the closed window once the sweep is done (the caller frees it
 * with free(), or gives it back with clients_window_reuse()), else NULL. */
struct client_window *clients_close_step(struct clients *t, size_t max_slots);

/* How long one broker tick may sweep a closing window. */
#define CLIENTS_CLOSE_BUDGET_NS 2000000L

/* Slots swept between two looks at the clock, so a tick overruns its budget
 * by one step at most. A slot costs about 70 ns on a quiet machine (a clock
 * read 50 ns), nearly all of it the first touch of the slot's entry (a cache
 * and TLB miss, see docs/performance.md), and many times that when a large
 * fleet's memory has gone cold: 32 slots keep the overrun small for 2 % of
 * the sweep's time. */
#define CLIENTS_CLOSE_STEP 32

/* Sweep for at most budget_ns (checking the clock every CLIENTS_CLOSE_STEP slots): the
 * closed window once done, else NULL. What the broker's TICK calls. */
struct client_window *clients_close_for(struct clients *t, long budget_ns);

/* Keep w (owned; NULL allowed), a window the engine is done with, to hold
 * the records of the next close: its pages are in memory already, where a
 * new window's (tens of MB for a large fleet) would each fault on the
 * broker thread at first write. One is kept; the one it replaces is
 * freed. Cannot fail. */
void clients_window_reuse(struct clients *t, struct client_window *w);

/* True while a close is under way or its window waits to be taken. */
bool clients_closing(const struct clients *t);

/* Close in one go (begin and sweep to the end): a new client_window with a
 * record for every client that had a session or any count. NULL when out of
 * memory or while another close is under way. */
struct client_window *clients_close(struct clients *t, int64_t bucket_end_ms,
                                    int64_t idle_buckets_after, int64_t forget_after_ms,
                                    const char *const *dim_names, size_t n_dims);


/* The memo slot (below CLIENTS_MEMO_SLOTS) of the client whose counts
 * clients_by_conn() returned (so one lookup serves both). Emptied at every
 * new connection of the client. Broker thread; cannot fail. */
struct authz_memo *clients_memo(struct client_counts *c, size_t slot);

/* The PUBLISH rate meter of the client whose counts clients_by_conn()
 * returned; it outlives windows and reconnections. Broker thread; cannot
 * fail. */
struct mqtt_rate *clients_rate(struct client_counts *c);

/* Count one PUBLISH of len payload bytes; dims_in has bit i set when its
 * topic matches dimension i of the n_dims in force. Dimension counts live in
 * an array allocated at a client's first count while dimensions are in
 * force (most emulations have none); out of memory skips them. Broker
 * thread. */
void clients_count_sent(struct client_counts *c, unsigned dims_in, size_t n_dims, uint32_t len);

/* Count one delivery to the client. */
void clients_count_received(struct client_counts *c, unsigned dims_in);

/* Count one denied request; has_topic false for a denied CONNECT. */
void clients_count_auth_failure(struct client_counts *c, bool has_topic, unsigned dims_in);

/* The dimensions in force changed: forget every client's dimension counts
 * of the open window (their indices may now mean other dimensions). */
void clients_reset_dims(struct clients *t);

/* Number of entries (for the benchmark's memory figure). */
size_t clients_count(const struct clients *t);

/* Bytes the table holds: its slot arrays, entries, dimension counts and
 * the window being closed (for the benchmark; walks the table). */
size_t clients_bytes(const struct clients *t);

#endif
