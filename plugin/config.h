/* SPDX-License-Identifier: MIT */
/* config.h: the broker thread's configuration snapshot: what the hot path
 * needs from the database, compiled by the engine thread.
 *
 * The engine builds a new snapshot after the server commits a change and
 * hands it over (engine_config_take); from then on the broker thread owns
 * it, reads it without locks, and frees it when the next one arrives. A
 * snapshot never changes after it is handed over. */
#ifndef DD_PLUGIN_CONFIG_H
#define DD_PLUGIN_CONFIG_H

#include <stddef.h>

#include "core/error.h"
#include "plugin/clients.h"
#include "store/store.h"

struct config_dim {
    char *name;     /* owned */
    char **filters; /* owned: MQTT topic filters, may hold ${iot:ClientId} */
    size_t n_filters;
};

struct broker_config {
    size_t n_dims; /* TOPIC_FILTER dimensions counted, by name, at most CLIENTS_MAX_DIMS */
    struct config_dim dims[CLIENTS_MAX_DIMS];
    const char *dim_names[CLIENTS_MAX_DIMS]; /* borrowed from dims[i].name */
};

/* Build a snapshot from the database. On DD_OK *out owns it (config_free).
 * eb notes what was left out (more than CLIENTS_MAX_DIMS dimensions) while
 * the call still succeeds. Engine thread. */
int config_load(struct store *s, struct broker_config **out, struct dd_errbuf *eb);

/* Free a snapshot; NULL allowed. Whichever thread owns it. */
void config_free(struct broker_config *c);

#endif
