/* SPDX-License-Identifier: MIT */
/* store_registry.h: the IoT registry tables: things, static thing groups
 * with their parent hierarchy, dynamic thing groups (a group with a fleet
 * indexing query, no parent and no child; their members are kept by
 * store_dyngroups.h), and group membership.
 *
 * Each write is one transaction that reads, checks and writes, so a refused
 * request leaves every row as it was. The AWS rules that need the database
 * live here too: CreateThing/CreateThingGroup are idempotent for an identical
 * request, expectedVersion guards updates and deletes, a group with child
 * groups cannot be deleted, and a thing is in at most STORE_MAX_GROUPS_PER_THING
 * groups and in at most one group of each hierarchy (groups sharing a root).
 * Names are checked by the caller (core/names); the store trusts them.
 * Attributes travel as JSON object text whose values are strings. */
#ifndef DD_STORE_REGISTRY_H
#define DD_STORE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_NAME_SIZE            129 /* a 128-byte name and its NUL */
#define STORE_ID_SIZE              37  /* a UUID and its NUL */
#define STORE_MAX_GROUPS_PER_THING 10

struct store_thing {
    char name[STORE_NAME_SIZE];
    char thing_id[STORE_ID_SIZE];
    char type_name[STORE_NAME_SIZE];     /* "" = no thing type */
    char billing_group[STORE_NAME_SIZE]; /* "" = none */
    char *attributes;                    /* owned: JSON object text */
    int64_t version;
    int64_t created_ms;
};

struct store_thing_group {
    char name[STORE_NAME_SIZE];
    char group_id[STORE_ID_SIZE];
    char parent[STORE_NAME_SIZE]; /* "" = a root group */
    char *description;            /* owned; NULL = none */
    char *attributes;             /* owned: JSON object text */
    int64_t version;
    int64_t created_ms;
    char *query_string;     /* owned; NULL = a static group */
    char index_name[32];    /* dynamic groups: AWS_Things */
    char query_version[16]; /* dynamic groups: 2017-09-30 */
    char status[16];        /* dynamic groups: ACTIVE, BUILDING or REBUILDING */
};

/* A list of names (things or groups), sorted by name. */
struct store_names {
    size_t n;
    char **names; /* owned, each owned */
    int more;     /* a paged query stopped early: names[n-1] is the resume key */
};

/* What CreateThing asks for. Strings are borrowed; NULL means absent. */
struct store_thing_spec {
    const char *name;
    const char *thing_id; /* the id a new thing gets */
    const char *type_name;
    const char *billing_group;
    const char *attributes; /* JSON object text; NULL = {} */
    int64_t now_ms;
};

/* What UpdateThing / UpdateThingGroup change. Borrowed; NULL keeps. */
struct store_patch {
    const char *type_name;     /* things only */
    int remove_type;           /* things only: clear the thing type */
    const char *description;   /* groups only */
    const char *attributes;    /* JSON object text; NULL keeps them */
    int merge;                 /* merge into the stored ones, else replace them; "" values
                                * remove a key in both modes */
    int64_t expected_version;  /* < 0: any version */
    const char *query_string;  /* dynamic groups only: a new query (status REBUILDING) */
    const char *index_name;    /* dynamic groups only */
    const char *query_version; /* dynamic groups only */
};

/* What CreateThingGroup asks for. */
struct store_group_spec {
    const char *name;
    const char *group_id; /* the id a new group gets */
    const char *parent;   /* NULL = a root group */
    const char *description;
    const char *attributes; /* JSON object text; NULL = {} */
    int64_t now_ms;
    const char *query_string;  /* NULL = a static group; else a dynamic one (no parent) */
    const char *index_name;    /* dynamic: the index (AWS_Things) */
    const char *query_version; /* dynamic: the query language version */
};

/* ListThings filters; NULL members do not filter. attr_value requires
 * attr_name; attr_prefix matches values starting with attr_value. */
struct store_thing_filter {
    const char *attr_name;
    const char *attr_value;
    int attr_prefix;
    const char *type_name;
};

/* ListThingGroups filters. parent NULL lists every group when recursive,
 * the root groups when not; with a parent, all its descendants when
 * recursive, its children when not (aws-fidelity.md 7.1). */
struct store_group_filter {
    const char *parent;
    int recursive;
    const char *prefix;
};

/* A page of things. */
struct store_thing_page {
    size_t n;
    struct store_thing *items; /* owned */
    int more;                  /* items[n-1].name is the resume key */
};

/* Free what a struct store_thing / store_thing_group / store_names /
 * store_thing_page owns and clear it. NULL and cleared structs are fine. */
void store_thing_cleanup(struct store_thing *t);
void store_thing_group_cleanup(struct store_thing_group *g);
void store_names_cleanup(struct store_names *l);
void store_thing_page_cleanup(struct store_thing_page *p);

/* ---- things ---- */

/* CreateThing in one transaction. A new thing gets version 1. When the name
 * exists with the same type, billing group and attributes, that is DD_OK
 * with the existing thing in *out; with anything different it is
 * DD_ERR_EXISTS, still with the existing thing in *out (for resourceId and
 * resourceArn). *out is cleared first; on DD_OK and DD_ERR_EXISTS the caller
 * cleans it up with store_thing_cleanup(); on other errors it stays cleared.
 * A new thing follows its type's rules (store_thing_type_admit()): a
 * missing type is DD_ERR_NOT_FOUND, a deprecated one or too many
 * attributes DD_ERR_INVALID.
 * Errors: DD_ERR_EXISTS, DD_ERR_NOT_FOUND, DD_ERR_INVALID (attributes not a
 * JSON object of strings, the type's rules), DD_ERR_NOMEM, DD_ERR_BUSY,
 * DD_ERR_STORE; eb says why. */
int store_thing_create(struct store *s, const struct store_thing_spec *spec,
                       struct store_thing *out, struct dd_errbuf *eb);

/* Read one thing into *out (cleared first; clean up with
 * store_thing_cleanup()). DD_ERR_NOT_FOUND ("Thing X cannot be found."). */
int store_thing_get(struct store *s, const char *name, struct store_thing *out,
                    struct dd_errbuf *eb);

/* UpdateThing in one transaction; the version goes up by one and lands in
 * *new_version (0 on error). The result follows its type's rules
 * (store_thing_type_admit()). Errors: DD_ERR_NOT_FOUND (the thing or a new
 * type), DD_ERR_VERSION_CONFLICT, DD_ERR_INVALID (bad attribute JSON, the
 * type's rules), DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE. */
int store_thing_update(struct store *s, const char *name, const struct store_patch *p,
                       int64_t *new_version, struct dd_errbuf *eb);

/* DeleteThing in one transaction; its memberships go with it. A missing
 * thing is DD_OK (AWS answers success). expected_version < 0 skips the
 * check; otherwise a mismatch is DD_ERR_VERSION_CONFLICT. A thing that
 * still has a principal attached stays: DD_ERR_INVALID with AWS's
 * message, as AWS refuses it. */
int store_thing_delete(struct store *s, const char *name, int64_t expected_version,
                       struct dd_errbuf *eb);

/* A page of things matching f (NULL = all), sorted by name, starting after
 * the name after (NULL = from the start), at most limit (>= 1). *out is
 * cleared first; clean up with store_thing_page_cleanup(). */
int store_thing_list(struct store *s, const struct store_thing_filter *f, const char *after,
                     int limit, struct store_thing_page *out);

/* ---- thing groups ---- */

/* CreateThingGroup and CreateDynamicThingGroup in one transaction, version
 * 1; a dynamic group (spec->query_string set) starts BUILDING. Identical
 * request (same kind, parent, query, description and attributes) on an
 * existing name: DD_OK with the existing group; different: DD_ERR_EXISTS
 * with the existing group in *out. A missing parent is DD_ERR_NOT_FOUND, a
 * dynamic one DD_ERR_INVALID (dynamic groups have no hierarchy). *out as in
 * store_thing_create(). */
int store_group_create(struct store *s, const struct store_group_spec *spec,
                       struct store_thing_group *out, struct dd_errbuf *eb);

/* Read one group (cleared first; store_thing_group_cleanup()).
 * DD_ERR_NOT_FOUND ("ThingGroup X cannot be found."). */
int store_group_get(struct store *s, const char *name, struct store_thing_group *out,
                    struct dd_errbuf *eb);

/* The ancestors of group name, root first, without the group itself (empty
 * for a root group or a missing one). *out cleared first;
 * store_names_cleanup(). */
int store_group_ancestors(struct store *s, const char *name, struct store_names *out);

/* UpdateThingGroup (description and attributes) and UpdateDynamicThingGroup
 * (also the query: a new one sets the status REBUILDING) in one
 * transaction; new version in *new_version. The caller has checked the
 * group's kind (store_group_dynamic()). Errors as store_thing_update(). */
int store_group_update(struct store *s, const char *name, const struct store_patch *p,
                       int64_t *new_version, struct dd_errbuf *eb);

/* DeleteThingGroup and DeleteDynamicThingGroup in one transaction; its
 * memberships go with it. A missing group is DD_OK. DD_ERR_INVALID when it has child groups,
 * DD_ERR_VERSION_CONFLICT on an expected_version (>= 0) mismatch. */
int store_group_delete(struct store *s, const char *name, int64_t expected_version,
                       struct dd_errbuf *eb);

/* A page of group names matching f, after `after` (NULL = start), at most
 * limit: sorted by name, or with f->parent level by level (children first)
 * and by name within a level. DD_ERR_NOT_FOUND when f->parent does not
 * exist. */
int store_group_list(struct store *s, const struct store_group_filter *f, const char *after,
                     int limit, struct store_names *out, struct dd_errbuf *eb);

/* Whether the group name is dynamic, into *dynamic (false on error).
 * DD_ERR_NOT_FOUND ("ThingGroup X cannot be found.") when it is missing. */
int store_group_dynamic(struct store *s, const char *name, bool *dynamic, struct dd_errbuf *eb);

/* ---- membership ---- */

/* Remove thing from every group of remove, then add it to every group of
 * add, in one transaction (UpdateThingGroupsForThing; Add/Remove
 * ThingFromThingGroup pass one name). Adding a group it is in and removing
 * one it is not in change nothing. A thing at STORE_MAX_GROUPS_PER_THING
 * groups leaves its most recently created dynamic group to make room when
 * override_dynamic is set (overrideDynamicGroups), and is refused otherwise.
 * Errors: DD_ERR_NOT_FOUND (thing or a group), DD_ERR_INVALID (a dynamic
 * group named, more than STORE_MAX_GROUPS_PER_THING groups, or a second
 * group of one hierarchy), DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE. */
int store_membership_update(struct store *s, const char *thing, const char *const *add,
                            size_t n_add, const char *const *remove, size_t n_remove,
                            bool override_dynamic, struct dd_errbuf *eb);

/* The groups thing is directly in, a page after `after` of at most limit
 * (limit 0 = all). DD_ERR_NOT_FOUND when the thing does not exist. */
int store_thing_groups(struct store *s, const char *thing, const char *after, int limit,
                       struct store_names *out, struct dd_errbuf *eb);

/* The things in group (with recursive, also those in its descendants, each
 * once), a page after `after` of at most limit (0 = all). DD_ERR_NOT_FOUND
 * when the group does not exist. */
int store_group_things(struct store *s, const char *group, int recursive, const char *after,
                       int limit, struct store_names *out, struct dd_errbuf *eb);

/* Every group whose policies and security profiles reach thing: the groups
 * it is in and all their ancestors, sorted, each once. A missing thing gives
 * an empty list. For the plugin and policy code. */
int store_thing_groups_with_ancestors(struct store *s, const char *thing, struct store_names *out);

#endif
