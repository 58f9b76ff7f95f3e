/* SPDX-License-Identifier: MIT */
/* store_events.h: registry events. The partition's event configuration
 * (UpdateEventConfigurations / DescribeEventConfigurations), and the
 * events themselves: a registry change that the configuration enables
 * writes AWS's event document (core/lifecycle) into the MQTT outbox inside
 * the change's own transaction, so the broker publishes it once the change
 * is committed and never for a change rolled back.
 *
 * A registry write learns its partition's account and region and the
 * emulated time from store_events_request(), which the server calls before
 * it changes the registry; a connection never told (the plugin's) writes
 * no events. */
#ifndef DD_STORE_EVENTS_H
#define DD_STORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/lifecycle.h"
#include "store/store.h"

struct store_events {
    bool enabled[LIFECYCLE_N_TYPES];
    int64_t created_ms; /* 0 while nothing was ever configured */
    int64_t updated_ms;
};

/* The configuration into *out (cleared first). DD_OK, DD_ERR_STORE. */
int store_events_get(struct store *s, struct store_events *out);

/* Set the types whose set[t] is true to enabled[t] at emulated time now_ms,
 * in one transaction. DD_OK, DD_ERR_BUSY, DD_ERR_STORE. */
int store_events_put(struct store *s, const bool set[LIFECYCLE_N_TYPES],
                     const bool enabled[LIFECYCLE_N_TYPES], int64_t now_ms);

/* The account (borrowed, copied; 12 digits) and region (copied) of the
 * partition s serves and the emulated time now_ms of the request about to
 * change the registry through s. Cannot fail. The thread of s. */
void store_events_request(struct store *s, const char *account, const char *region, int64_t now_ms);

#endif
