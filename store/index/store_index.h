/* SPDX-License-Identifier: MIT */
/* store_index.h: fleet indexing over the partition's database: the indexing
 * configuration, the broker's connectivity records, and the walk that
 * matches things against a parsed query (core/fleetquery).
 *
 * There is no separate index to keep up to date: a query reads the tables
 * the registry, the shadows, the connectivity records and Detect write, at
 * the moment of the query, so the answer is exact (docs/fleet-indexing.md
 * says why this was chosen, with the measurement). A thing's fields are
 * read family by family only when the query asks for one of them. */
#ifndef DD_STORE_INDEX_H
#define DD_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/fleetquery.h"
#include "store/store.h"

/* The indexing configuration as UpdateIndexingConfiguration set it. Modes
 * are AWS's spellings; the JSON texts are arrays as sent ("[]" when none).
 * A partition never configured answers every mode OFF. */
struct store_index_config {
    char thing_mode[24];       /* OFF | REGISTRY | REGISTRY_AND_SHADOW */
    char connectivity_mode[8]; /* OFF | STATUS */
    char defender_mode[12];    /* OFF | VIOLATIONS */
    char named_shadow_mode[4]; /* OFF | ON */
    char *named_shadows;       /* owned: JSON array of shadow names */
    char *geo_locations;       /* owned: JSON array of {name, order} */
    char *thing_custom;        /* owned: JSON array of {name, type} */
    char group_mode[4];        /* OFF | ON */
    char *group_custom;        /* owned: JSON array of {name, type} */
    int64_t updated_ms;        /* 0 when never configured */
};

/* Free what c holds and clear it. NULL is allowed. */
void store_index_config_cleanup(struct store_index_config *c);

/* Read the configuration into *out (cleared first; the caller frees it with
 * store_index_config_cleanup()). DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE. */
int store_index_config_get(struct store *s, struct store_index_config *out);

/* Replace the configuration with c (borrowed; NULL JSON texts store "[]"),
 * stamped now_ms. DD_ERR_BUSY, DD_ERR_STORE. */
int store_index_config_put(struct store *s, const struct store_index_config *c, int64_t now_ms);

/* Record that MQTT client client_id connected (reason NULL) or
 * disconnected (reason AWS's disconnectReason) at ts_ms. One write
 * transaction. DD_ERR_BUSY, DD_ERR_STORE. For the plugin's engine thread. */
int store_index_connectivity_set(struct store *s, const char *client_id, bool connected,
                                 int64_t ts_ms, const char *reason);

/* Mark every recorded client disconnected at ts_ms with reason (the broker
 * started, so no connection of an earlier run is alive). DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_index_connectivity_reset(struct store *s, int64_t ts_ms, const char *reason);

/* Calls fn for each thing of the partition matching q (already parsed with FLEETQUERY_THINGS),
 * in thing-name order, starting after after_name (NULL = from the start), at most limit things
 * (0 = no limit). The lookup the matcher uses reads the thing's fields as
 * fleet-indexing.md lists them (registry, shadow, connectivity, deviceDefender) as far as the
 * indexing configuration enables them. Returns 0, or a DD_ERR_* with eb set. */
typedef int (*store_index_thing_fn)(void *ctx, const char *thing_name);
int store_index_each_match(struct store *s, const struct fleetquery *q, const char *after_name,
                           size_t limit, store_index_thing_fn fn, void *ctx, struct dd_errbuf *eb);

/* One matching thing as store_index_each_thing() hands it over: its fields
 * can be asked for with store_index_thing_values(). Borrowed for the call. */
struct store_index_thing;

/* Like store_index_each_match(), handing fn the thing's fields as well. A
 * non-zero return of fn stops the walk and is returned. Errors as there,
 * and DD_ERR_NOT_FOUND ("Index AWS_Things does not exist") when thing
 * indexing is OFF; DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE. */
typedef int (*store_index_each_fn)(void *ctx, const char *thing_name,
                                   struct store_index_thing *thing);
int store_index_each_thing(struct store *s, const struct fleetquery *q, const char *after_name,
                           size_t limit, store_index_each_fn fn, void *ctx, struct dd_errbuf *eb);

/* The values thing holds for field (NUL-terminated; NULL: every value), as
 * the matcher sees them: *vals an array of *n_vals values valid until the
 * next call on thing. A field whose source is not indexed has no values.
 * Returns DD_OK, or the error reading the field's family ended in (then no
 * values). */
int store_index_thing_values(struct store_index_thing *thing, const char *field,
                             const struct fleetquery_value **vals, size_t *n_vals);

/* The thing's document as SearchIndex answers it (fleet-indexing.md §3.1):
 * thingName, thingId, thingTypeName, thingGroupNames, attributes, shadow
 * and deviceDefender as JSON text, connectivity as an object, each as far
 * as the configuration indexes it. On DD_OK *out is a new cJSON object the
 * caller frees with cJSON_Delete(); otherwise NULL. DD_ERR_NOMEM,
 * DD_ERR_BUSY, DD_ERR_STORE. */
struct cJSON;
int store_index_thing_document(struct store_index_thing *thing, struct cJSON **out);

/* Calls fn for each thing group matching q (parsed with
 * FLEETQUERY_THING_GROUPS), in name order, after after_name (NULL: from
 * the start), at most limit groups (0: no limit), with its document as
 * SearchIndex answers it (thingGroupName, thingGroupId,
 * thingGroupDescription, attributes, parentGroupNames) and its fields as
 * the matcher saw them (core/fleetrecord.h), both borrowed for the call. Fields: thingGroupName
 * (and thingGroupNames), thingGroupId, description, attributes.<name>, parentGroupNames (every
 * ancestor). DD_ERR_NOT_FOUND ("Index AWS_ThingGroups does not exist") when thing group indexing is
 * OFF; a non-zero return of fn stops the walk and is returned; DD_ERR_NOMEM, DD_ERR_BUSY,
 * DD_ERR_STORE, with eb set. */
struct fleetrecord;
typedef int (*store_index_group_fn)(void *ctx, const char *group_name, const struct cJSON *doc,
                                    const struct fleetrecord *fields);
int store_index_each_group(struct store *s, const struct fleetquery *q, const char *after_name,
                           size_t limit, store_index_group_fn fn, void *ctx, struct dd_errbuf *eb);

#endif
