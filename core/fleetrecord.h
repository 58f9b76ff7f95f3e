/* SPDX-License-Identifier: MIT */
/* fleetrecord.h: one thing (or thing group) as the fleet index sees it: a
 * list of (field name, typed value) pairs that answers fleetquery_match()'s
 * lookup callback, plus the two small rules of how AWS indexes values.
 *
 * A record is filled in families (registry, shadow, ...) by its owner, then
 * sealed: sealing sorts the pairs by field name, so the values of a field
 * (several for thingGroupNames or a JSON array) sit side by side and a
 * lookup is one binary search. The record keeps its memory when cleared, so
 * a scan over a fleet reuses one record and allocates nothing in the steady
 * state. Every text is copied into the record.
 *
 * JSON values are flattened as fleet-indexing.md (§1.7) says: nested keys
 * joined with `.`, an array of scalars gives one value per element, an
 * array holding an object or an array is skipped, `null` is not indexed.
 *
 * Pure: no I/O, no globals; any thread on its own record. Tested by
 * tests/unit/test_fleetrecord.c. */
#ifndef DD_CORE_FLEETRECORD_H
#define DD_CORE_FLEETRECORD_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/fleetquery.h"

struct fleetrecord_entry;

/* Caller's storage; fleetrecord_init() then fleetrecord_cleanup(). */
struct fleetrecord {
    char *buf; /* owned: every name and string, NUL-terminated, by offset */
    size_t buf_len, buf_cap;
    struct fleetrecord_entry *e; /* owned: the pairs in the order added */
    size_t n, cap;
    const char **names;            /* owned: sorted names (after sealing) */
    struct fleetquery_value *vals; /* owned: their values, same order */
    size_t n_sealed;               /* pairs that names/vals hold */
    size_t vals_cap;
    int err; /* the first DD_ERR_NOMEM of an add, reported by seal */
};

/* An empty record. Cannot fail. */
void fleetrecord_init(struct fleetrecord *r);

/* Free what r holds and leave it empty. NULL is allowed. */
void fleetrecord_cleanup(struct fleetrecord *r);

/* Forget every pair, keeping the memory for the next record. Cannot fail. */
void fleetrecord_clear(struct fleetrecord *r);

/* Add one pair; name and str are copied. A failed allocation is remembered
 * and answered by fleetrecord_seal(), so a family can be added without a
 * check per call. */
void fleetrecord_add_str(struct fleetrecord *r, const char *name, const char *str);
void fleetrecord_add_num(struct fleetrecord *r, const char *name, double num);
void fleetrecord_add_bool(struct fleetrecord *r, const char *name, bool b);

/* Add a registry attribute value: a number when the whole text reads as a
 * finite number within +-2^53, otherwise a string (fleet-indexing.md §7.5). */
void fleetrecord_add_attr(struct fleetrecord *r, const char *name, const char *text);

/* Add the JSON value v (borrowed) under prefix, flattened: an object adds
 * prefix.key for each member, recursively; an array of scalars adds each
 * element under prefix; an array holding an object or an array, and null,
 * add nothing. A name longer than 1024 bytes is skipped. */
void fleetrecord_add_json(struct fleetrecord *r, const char *prefix, const cJSON *v);

/* Sort the pairs by name so fleetrecord_find() can answer. DD_OK, or
 * DD_ERR_NOMEM (also for an add that failed since the last clear). */
int fleetrecord_seal(struct fleetrecord *r);

/* The values of field (NULL: every value of the record) as of the last
 * seal: *vals an array of *n_vals values valid until r changes; 0 values
 * when the record has no such field. Cannot fail. */
void fleetrecord_find(const struct fleetrecord *r, const char *field,
                      const struct fleetquery_value **vals, size_t *n_vals);

/* AWS's name for why an MQTT connection ended, from what the broker saw
 * (fleet-indexing.md §1.7). Cannot fail; any thread. */
enum fleetrecord_disconnect {
    FLEETRECORD_DISC_CLIENT,    /* the client sent DISCONNECT */
    FLEETRECORD_DISC_KEEPALIVE, /* the keepalive expired */
    FLEETRECORD_DISC_LOST,      /* socket error or end of stream */
    FLEETRECORD_DISC_DUPLICATE, /* another connection took the client id */
    FLEETRECORD_DISC_SERVER,    /* the broker (or ddlocal) closed it */
    FLEETRECORD_DISC_AUTH,      /* refused by authentication */
    FLEETRECORD_DISC_FORBIDDEN, /* refused by authorization */
    FLEETRECORD_DISC_PROTOCOL,  /* the client broke the protocol */
    FLEETRECORD_DISC_UNKNOWN,   /* anything else */
};

const char *fleetrecord_disconnect_name(enum fleetrecord_disconnect why);

#endif
