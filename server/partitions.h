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

#include "core/error.h"

struct server;
struct store;

#define PARTITIONS_MAX 64

/* Register the home partition and every partition database beside it,
 * opening each once to migrate it (or refuse a newer one). Main thread,
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

/* Empty every partition (store_reset()), the home one last. Stops at the
 * first failure (eb says which partition). Any thread. */
int partitions_reset(const struct server *srv, struct dd_errbuf *eb);

#endif
