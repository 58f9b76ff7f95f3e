/* SPDX-License-Identifier: MIT */
/* partitions.c: the partition registry and each thread's connections (see
 * partitions.h).
 *
 * Thread rules: the registry is shared by every MHD worker and guarded by
 * lock; an entry never changes once registered, so its index names it for
 * good. Each thread keeps its own connections in thread-specific storage,
 * indexed like the registry, closed when the thread exits. */
#include "server/partitions.h"

#include <assert.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/names.h"
#include "core/partition.h"
#include "server/server.h"
#include "store/emulator/store_emulator.h"
#include "store/store.h"

struct partition {
    char account[NAMES_ACCOUNT_LEN + 1];
    char region[NAMES_REGION_MAX + 1];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct partition registry[PARTITIONS_MAX]; /* [0] is home; under lock */
static int n_registered;                          /* under lock */

struct thread_stores {
    struct store *by_index[PARTITIONS_MAX];
};

static pthread_key_t stores_key;
static pthread_once_t stores_key_once = PTHREAD_ONCE_INIT;

static void close_thread_stores(void *p)
{
    struct thread_stores *t = p;
    int i;

    for (i = 0; i < PARTITIONS_MAX; i++)
        store_close(t->by_index[i]);
    free(t);
}

static void make_stores_key(void)
{
    pthread_key_create(&stores_key, close_thread_stores);
}

/* The database file of partition i into buf. DD_ERR_TOO_LARGE when the
 * path does not fit. */
static int partition_path(const struct server *srv, int i, char *buf, size_t size)
{
    int n;

    if (i > 0)
        return partition_db_path(srv->db_path, registry[i].account, registry[i].region, buf, size);
    n = snprintf(buf, size, "%s", srv->db_path);
    return n < 0 || (size_t)n >= size ? DD_ERR_TOO_LARGE : DD_OK;
}

/* The index of (account, region), registering it when new; -1 when the
 * registry is full. Caller holds lock. */
static int find_or_add(const char *account, const char *region)
{
    int i;

    for (i = 0; i < n_registered; i++)
        if (strcmp(registry[i].account, account) == 0 && strcmp(registry[i].region, region) == 0)
            return i;
    if (n_registered == PARTITIONS_MAX)
        return -1;
    snprintf(registry[i].account, sizeof(registry[i].account), "%s", account);
    snprintf(registry[i].region, sizeof(registry[i].region), "%s", region);
    return n_registered++;
}

/* Register the partition databases in the home database's directory. */
static int discover(const struct server *srv, struct dd_errbuf *eb)
{
    char dir[sizeof(srv->db_path)];
    struct dirent *e;
    struct partition p;
    DIR *d;
    int rc = DD_OK;

    if (partition_db_dir(srv->db_path, dir, sizeof(dir)))
        return dd_fail(eb, DD_ERR_TOO_LARGE, "the database path is too long");
    d = opendir(dir);
    if (!d)
        return dd_fail(eb, DD_ERR_STORE, "cannot list %s for partition databases", dir);
    while ((e = readdir(d)) != NULL && !rc) {
        if (!partition_db_name(srv->db_path, e->d_name, p.account, p.region))
            continue;
        pthread_mutex_lock(&lock);
        if (find_or_add(p.account, p.region) < 0)
            rc = dd_fail(eb, DD_ERR_LIMIT, "more than %d partition databases beside %s",
                         PARTITIONS_MAX, srv->db_path);
        pthread_mutex_unlock(&lock);
    }
    closedir(d);
    return rc;
}

int partitions_start(const struct server *srv, struct dd_errbuf *eb)
{
    char path[sizeof(srv->db_path) + 64];
    struct store *s;
    int i, n, rc;

    pthread_mutex_lock(&lock);
    assert(n_registered == 0); /* once per process */
    find_or_add(srv->account, srv->region);
    pthread_mutex_unlock(&lock);
    rc = discover(srv, eb);
    pthread_mutex_lock(&lock);
    n = n_registered;
    pthread_mutex_unlock(&lock);
    /* Migrate (or refuse) every database before serving anything. The
     * home partition's is the broker's: it learns this process's pid
     * there, to wake the long polls once it has written to a queue. */
    for (i = 0; i < n && !rc; i++) {
        rc = partition_path(srv, i, path, sizeof(path));
        if (rc) {
            rc = dd_fail(eb, rc, "the partition database path is too long");
        } else if (!(rc = store_open(path, &s, eb))) {
            if (i == 0 && (rc = store_server_pid_put(s, getpid())))
                dd_fail(eb, rc, "cannot record the server's pid in %s", path);
            store_close(s);
        }
    }
    return rc;
}

/* This thread's connection to partition i, opened on first use. */
static int thread_store(const struct server *srv, int i, struct store **out, struct dd_errbuf *eb)
{
    char path[sizeof(srv->db_path) + 64];
    struct thread_stores *t;
    int rc;

    pthread_once(&stores_key_once, make_stores_key);
    t = pthread_getspecific(stores_key);
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t || pthread_setspecific(stores_key, t)) {
            free(t);
            return dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        }
    }
    *out = t->by_index[i];
    if (*out)
        return DD_OK;
    pthread_mutex_lock(&lock);
    rc = partition_path(srv, i, path, sizeof(path));
    pthread_mutex_unlock(&lock);
    if (rc)
        return dd_fail(eb, rc, "the partition database path is too long");
    rc = store_open(path, &t->by_index[i], eb);
    *out = t->by_index[i];
    return rc;
}

int partitions_store(const struct server *srv, const char *account, const char *region,
                     struct store **out, struct dd_errbuf *eb)
{
    int i;

    assert(partition_is_account(account) && partition_region_ok(region));
    *out = NULL;
    pthread_mutex_lock(&lock);
    assert(n_registered > 0); /* partitions_start() ran */
    i = find_or_add(account, region);
    pthread_mutex_unlock(&lock);
    if (i < 0)
        return dd_fail(eb, DD_ERR_LIMIT,
                       "ddlocal keeps at most %d account and region partitions; "
                       "restart it with a fresh data directory to use others",
                       PARTITIONS_MAX);
    return thread_store(srv, i, out, eb);
}

int partitions_each(const struct server *srv, partitions_fn fn, void *ctx, struct dd_errbuf *eb)
{
    struct store *s;
    int i, n, rc = DD_OK;

    pthread_mutex_lock(&lock);
    n = n_registered;
    pthread_mutex_unlock(&lock);
    for (i = 0; i < n && !rc; i++) {
        rc = thread_store(srv, i, &s, eb);
        if (!rc)
            rc = fn(ctx, s, registry[i].account, registry[i].region, eb);
    }
    return rc;
}

static int reset_one(void *ctx, struct store *s, const char *account, const char *region,
                     struct dd_errbuf *eb)
{
    int rc = store_reset(s);

    (void)ctx;
    if (rc)
        dd_fail(eb, rc, "cannot reset partition %s/%s: %s", account, region, dd_strerror(rc));
    return rc;
}

int partitions_reset(const struct server *srv, struct dd_errbuf *eb)
{
    return partitions_each(srv, reset_one, NULL, eb);
}

int partitions_now(const struct server *srv, int64_t *out, struct dd_errbuf *eb)
{
    struct dd_clock c;
    struct store *home;
    int rc = partitions_store(srv, srv->account, srv->region, &home, eb);

    if (!rc)
        rc = store_clock_get(home, &c);
    *out = server_real_ms();
    if (rc == DD_OK)
        *out = clock_now(&c, *out);
    return rc == DD_ERR_NOT_FOUND ? DD_OK : rc;
}
