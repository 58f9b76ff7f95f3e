/* SPDX-License-Identifier: MIT */
/* store_outbox.h: the MQTT outbox, the server's way to publish on the
 * broker (the two processes share no socket, only the database). The server
 * adds rows inside the transaction of the change they announce (a shadow
 * update and its /update/accepted are committed together); the plugin's
 * engine thread takes them in order and deletes them once queued. */
#ifndef DD_STORE_OUTBOX_H
#define DD_STORE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Queue a message. payload may be NULL when len is 0; properties_json may be
 * NULL. Copies everything. Call inside the caller's transaction. */
int store_outbox_add(struct store *s, const char *topic, const void *payload, size_t len, int qos,
                     int retain, const char *properties_json);

/* Called for each row in id order; all pointers are borrowed for the call.
 * Return DD_OK to go on, anything else stops the walk (the row stays). */
typedef int (*store_outbox_fn)(void *ctx, const char *topic, const void *payload, size_t len,
                               int qos, int retain, const char *properties_json);

/* Take up to max rows: call fn for each, then delete the rows fn accepted,
 * in one transaction. *n_taken gets the count. An empty outbox is seen
 * without taking the write lock. */
int store_outbox_take(struct store *s, size_t max, store_outbox_fn fn, void *ctx, size_t *n_taken);

#endif
