/* SPDX-License-Identifier: MIT */
/* store_thing_types.h: IoT thing types (the thing_types table of
 * schema/012_thing_types.sql) and the rules a thing's type imposes on it.
 *
 * Each write is one transaction that reads, checks and writes, so a refused
 * request changes nothing. The AWS rules that need the database live here:
 * CreateThingType is idempotent for the same properties, a deprecated type
 * takes no new things, and a type is deleted only once it has been
 * deprecated for STORE_THING_TYPE_DELETE_WAIT_MS of emulated time and no
 * thing has it. The registry calls store_thing_type_admit() inside its own
 * CreateThing / UpdateThing transactions. Names and property values are
 * checked by the caller (core/names); the store trusts them. Properties
 * travel as the JSON object text of a ThingTypeProperties. */
#ifndef DD_STORE_THING_TYPES_H
#define DD_STORE_THING_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/iot/store_registry.h"
#include "store/store.h"

/* How long a type stays deprecated before DeleteThingType takes it. */
#define STORE_THING_TYPE_DELETE_WAIT_MS (5 * 60 * 1000)
/* Attributes a thing may have with a thing type, and without one. */
#define STORE_MAX_ATTRIBUTES_TYPED   50
#define STORE_MAX_ATTRIBUTES_UNTYPED 3

struct store_thing_type {
    char name[STORE_NAME_SIZE];
    char type_id[STORE_ID_SIZE];
    char *properties; /* owned: ThingTypeProperties JSON object text */
    int64_t seq;      /* creation order: ListThingTypes' paging key */
    int64_t created_ms;
    int64_t deprecated_ms; /* emulated time of the deprecation; meaningful when deprecated */
    bool deprecated;
};

/* A page of thing types, in creation order. */
struct store_thing_type_page {
    size_t n;
    struct store_thing_type *items; /* owned */
    bool more;                      /* items[n-1].seq is the resume key */
};

/* Free what the structs own and clear them. NULL and cleared structs are
 * fine; cannot fail. */
void store_thing_type_cleanup(struct store_thing_type *t);
void store_thing_type_page_cleanup(struct store_thing_type_page *p);

/* CreateThingType in one transaction: a new type named name with id
 * type_id and properties (JSON object text; NULL = {}) at now_ms, all
 * borrowed. When the name exists with the same properties (a missing or
 * empty member equals an absent one; searchableAttributes compare as a
 * set) that is DD_OK with nothing written; with other properties it is
 * DD_ERR_EXISTS. On DD_OK and DD_ERR_EXISTS *out holds the stored type (the
 * caller cleans it up with store_thing_type_cleanup()); on other errors it
 * is cleared. Errors: DD_ERR_EXISTS, DD_ERR_NOMEM, DD_ERR_BUSY,
 * DD_ERR_STORE; eb says why. */
int store_thing_type_create(struct store *s, const char *name, const char *type_id,
                            const char *properties, int64_t now_ms, struct store_thing_type *out,
                            struct dd_errbuf *eb);

/* Read thing type name into *out (cleared first; clean up with
 * store_thing_type_cleanup(), also on error). DD_ERR_NOT_FOUND
 * ("ThingType X cannot be found."), DD_ERR_STORE, DD_ERR_NOMEM. */
int store_thing_type_get(struct store *s, const char *name, struct store_thing_type *out,
                         struct dd_errbuf *eb);

/* UpdateThingType: each member of properties (JSON object text, borrowed)
 * replaces the stored one; members it leaves out are kept. DD_ERR_NOT_FOUND,
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_thing_type_update(struct store *s, const char *name, const char *properties,
                            struct dd_errbuf *eb);

/* DeprecateThingType: deprecate type name at now_ms, or with undo take it
 * back. Deprecating a deprecated type keeps its first deprecation time.
 * DD_ERR_NOT_FOUND, DD_ERR_BUSY, DD_ERR_STORE. */
int store_thing_type_deprecate(struct store *s, const char *name, bool undo, int64_t now_ms,
                               struct dd_errbuf *eb);

/* DeleteThingType at now_ms, in one transaction. DD_ERR_NOT_FOUND for a
 * missing type; DD_ERR_INVALID (eb says which rule) when it is not
 * deprecated, was deprecated less than STORE_THING_TYPE_DELETE_WAIT_MS ago,
 * or a thing still has it; DD_ERR_BUSY, DD_ERR_STORE. */
int store_thing_type_delete(struct store *s, const char *name, int64_t now_ms,
                            struct dd_errbuf *eb);

/* A page of thing types whose names start with prefix (NULL: all), in
 * creation order, after the type of sequence after_seq (0: from the start),
 * at most limit (>= 1). *out is cleared first; clean it up with
 * store_thing_type_page_cleanup(). DD_ERR_STORE, DD_ERR_NOMEM. */
int store_thing_type_list(struct store *s, const char *prefix, int64_t after_seq, size_t limit,
                          struct store_thing_type_page *out);

/* The rules a thing's type imposes, for CreateThing (creating) and
 * UpdateThing, inside the caller's open write transaction: a thing that
 * had type current (NULL or "" for none, or a new thing) and gets type
 * (NULL or "": none) with the attributes text (JSON object of strings;
 * NULL = {}). A type it did not have must exist (DD_ERR_NOT_FOUND) and not
 * be deprecated (DD_ERR_INVALID); it may keep a type that was deprecated
 * since. The attributes may number STORE_MAX_ATTRIBUTES_TYPED with a type,
 * STORE_MAX_ATTRIBUTES_UNTYPED without (DD_ERR_INVALID). eb says why. Also
 * DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE. The caller commits or rolls
 * back. */
int store_thing_type_admit(struct store *s, const char *current, const char *type, bool creating,
                           const char *attributes, struct dd_errbuf *eb);

#endif
