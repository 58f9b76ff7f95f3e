/* SPDX-License-Identifier: MIT */
/* store_dyngroups.h: the members of dynamic thing groups, kept in
 * thing_group_members like those of static groups and brought in line with
 * each group's query by one call (store_dyngroups_refresh()), which the
 * plugin's engine makes at every window close and after the server creates
 * or changes a group (docs/fleet-indexing.md says why there). The query is
 * matched by the fleet index's walk (store/index/store_index.h), so a
 * member is a thing the index finds at that moment. */
#ifndef DD_STORE_DYNGROUPS_H
#define DD_STORE_DYNGROUPS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "store/store.h"

/* What a refresh did. */
struct store_dyngroups_stats {
    size_t groups;  /* dynamic groups evaluated */
    size_t added;   /* memberships added */
    size_t removed; /* memberships removed */
    size_t refused; /* things that matched but were already in 10 groups */
};

/* Bring the members of the dynamic groups (every one, or with pending_only
 * those not ACTIVE: just created or given a new query) in line with their
 * queries, oldest group first, and mark them ACTIVE. A thing that matches
 * but is already in STORE_MAX_GROUPS_PER_THING groups is left out (AWS
 * logs AddThingToDynamicThingGroupsFailed). With thing indexing OFF nothing
 * changes. Runs inside the caller's write transaction; *stats (may be
 * NULL) is cleared first. DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE (eb
 * says why). For the plugin's engine thread. */
int store_dyngroups_refresh(struct store *s, bool pending_only, struct store_dyngroups_stats *stats,
                            struct dd_errbuf *eb);

/* DD_OK when thing indexing is on (any mode but OFF); DD_ERR_NOT_FOUND
 * with AWS's message in eb when it is off, as CreateDynamicThingGroup
 * answers then. Store errors. */
int store_dyngroups_need_index(struct store *s, struct dd_errbuf *eb);

/* Dynamic thing groups per partition (AWS's quota, per account and region). */
#define STORE_MAX_DYNAMIC_GROUPS 100

/* DD_OK when a dynamic group named name can be created: fewer than
 * STORE_MAX_DYNAMIC_GROUPS dynamic groups other than name exist (a repeated
 * create of name is not a new group). DD_ERR_LIMIT (eb says why) at the
 * quota, as AWS's LimitExceededException. Store errors. */
int store_dyngroups_allow_create(struct store *s, const char *name, struct dd_errbuf *eb);

/* Whether any dynamic group exists, into *any. Store errors. */
int store_dyngroups_any(struct store *s, bool *any);

/* DD_OK when no dynamic group exists; DD_ERR_INVALID (eb says why) when
 * one does, as thing indexing cannot be turned off then. Store errors. */
int store_dyngroups_allow_index_off(struct store *s, struct dd_errbuf *eb);

#endif
