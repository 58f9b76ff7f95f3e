/* SPDX-License-Identifier: MIT */
/* partitions.h: the emulator's state per (account, region), one SQLite
 * database each, and the connections worker threads hold to them.
 *
 * The home partition, the server's --account and --region, is the database
 * the broker shares (--database PATH); it alone has a broker, Detect
 * evaluation, alert delivery and the emulator's clock. Every other
 * partition is API-only and lives beside it in PATH's directory, named
 * <PATH without .db>-<ACCOUNT>-<REGION>.db. One database per partition
 * keeps every store call and every SQL statement unaware of partitions:
 * no query can leak another partition's rows.
 *
 * Partitions are registered once (found on disk at start, or created by
 * the first request naming them) and never removed; at most
 * PARTITIONS_MAX, the home one included. */
#ifndef DD_SERVER_PARTITIONS_H
#define DD_SERVER_PARTITIONS_H

#include <stdint.h>

#include "core/error.h"

struct server;
struct store;

#define PARTITIONS_MAX 64

/* Register the home partition and every partition database beside it,
 * opening each once to migrate it (or refuse a newer one), and record
 * this process's pid in the home partition's (store_server_pid_put). Main thread,
 * before the HTTP daemon starts. DD_OK, or the store's error (eb says
 * which file and why). */
int partitions_start(const struct server *srv, struct dd_errbuf *eb);

/* This thread's connection to the database of (account, region) into *out
 * (borrowed: it lives as long as the thread), registering the partition
 * on first use. account is 12 digits and region satisfies
 * partition_region_ok() (the caller checked). DD_ERR_LIMIT when
 * PARTITIONS_MAX partitions exist, or the store's error; eb says why. Any
 * thread; the connection never leaves it. */
int partitions_store(const struct server *srv, const char *account, const char *region,
                     struct store **out, struct dd_errbuf *eb);

/* Call fn(ctx, s, account, region, eb) with this thread's connection to
 * each registered partition in turn, the home one first, until one
 * returns an error, which is returned (or a connection's error; eb says
 * why). Strings are borrowed for the call. Any thread. */
typedef int (*partitions_fn)(void *ctx, struct store *s, const char *account, const char *region,
                             struct dd_errbuf *eb);
int partitions_each(const struct server *srv, partitions_fn fn, void *ctx, struct dd_errbuf *eb);

/* The emulated now, in epoch milliseconds, into *out: the clock the
 * broker keeps in the home partition, or real time when none is set yet.
 * On error (the store's, eb says why) *out is real time. Any thread. */
int partitions_now(const struct server *srv, int64_t *out, struct dd_errbuf *eb);

/* Empty every partition (store_reset()), the home one last. Stops at the
 * first failure (eb says which partition). Any thread. */
int partitions_reset(const struct server *srv, struct dd_errbuf *eb);

#endif
