/* SPDX-License-Identifier: MIT */
/* store_snapshot.h: the registry and the policies as the broker's
 * configuration snapshot (plugin/config.c) reads them: a few walks over
 * whole tables instead of queries per thing and per certificate, which at
 * 100,000 of each took the engine seconds, before the first heartbeat and
 * again after every registry change.
 *
 * Each walk calls fn once per row, in the order it names, with text views
 * that last for the call (c is NULL for a walk of two columns, and any of
 * them for an SQL NULL). A non-zero return of fn stops the walk and is
 * returned; otherwise DD_OK or DD_ERR_STORE. Any thread, on its own
 * store. */
#ifndef DD_STORE_IOT_STORE_SNAPSHOT_H
#define DD_STORE_IOT_STORE_SNAPSHOT_H

#include <stdint.h>

#include "store/store.h"

typedef int (*store_snapshot_fn)(void *ctx, const char *a, const char *b, const char *c);

/* Every thing: name, thing type (NULL: none), attributes (a JSON object),
 * by name. */
int store_snapshot_things(struct store *s, store_snapshot_fn fn, void *ctx);

/* Every thing with a rowid above rowid, oldest first, as
 * store_snapshot_things() gives them. */
int store_snapshot_things_after(struct store *s, int64_t rowid, store_snapshot_fn fn, void *ctx);

/* Where the tables a snapshot is built from stand: how many changes they
 * have had (schema/033_config_changes.sql; a commit that leaves the count
 * as it was changed nothing a snapshot holds), how many of those were
 * things inserted (schema/037_things_inserted.sql), and the highest rowid
 * of things (0: none). When changes and things_inserted have both grown
 * by the same amount since an earlier mark, every change since was a
 * thing inserted, and store_snapshot_things_after(earlier.things_rowid)
 * walks exactly those things: rowids only grow while nothing is deleted.
 * DD_ERR_NOT_FOUND before the emulator's state row exists. */
struct store_snapshot_mark {
    int64_t changes;
    int64_t things_inserted;
    int64_t things_rowid;
};

int store_snapshot_mark(struct store *s, struct store_snapshot_mark *out);

/* Every policy: name, default version's document. */
int store_snapshot_policies(struct store *s, store_snapshot_fn fn, void *ctx);

/* Every (thing, policy) a thing gets from the thing groups it is in and
 * their ancestors, each pair once, by thing, then policy name. */
int store_snapshot_thing_grants(struct store *s, store_snapshot_fn fn, void *ctx);

/* Every (certificate id, policy) attached to a certificate, by certificate,
 * then policy name. */
int store_snapshot_cert_grants(struct store *s, store_snapshot_fn fn, void *ctx);

/* Every (certificate id, thing) a certificate is attached to, by
 * certificate, then thing. */
int store_snapshot_cert_things(struct store *s, store_snapshot_fn fn, void *ctx);

#endif
