/* SPDX-License-Identifier: MIT */
/* store_profiles.h: security profiles and their targets as the HTTP API
 * writes and reads them (CreateSecurityProfile ... ListSecurityProfilesForTarget).
 *
 * The JSON members (behaviors, alert targets, metrics to retain, tags) are
 * stored as the validated, normalised text the server built: the server
 * checks, the store keeps. Every write is one transaction, and the checks
 * that depend on other rows (version, the 5-profiles-per-target limit, the
 * thing group of a target) run inside it, so two concurrent requests cannot
 * both pass them.
 *
 * Closing violations when a profile is deleted or detached is the engine's
 * job, not this file's: the engine notices the committed change through
 * PRAGMA data_version, reconciles its evaluation states against the
 * profiles and targets, and writes the alarm-invalidated events together
 * with their alerts.
 *
 * Tables from other families (thing_groups, custom_metrics, dimensions) are
 * consulted only when they exist, so this file works before and after their
 * migrations land. Times are emulated epoch milliseconds. */
#ifndef DD_STORE_PROFILES_H
#define DD_STORE_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/behavior.h"
#include "core/error.h"
#include "store/store.h"

/* Profiles attached to one target at most (AWS quota). */
#define STORE_PROFILES_PER_TARGET 5

/* One security profile row as read back: every string is owned (release
 * with store_profile_cleanup()); NULL means "not set"; behaviors is never
 * NULL ("[]" when empty). */
struct store_profile {
    char *name;
    char *description;
    char *behaviors;      /* JSON array, API-order echo */
    char *alert_targets;  /* JSON object {"SNS": {...}} */
    char *metrics;        /* additionalMetricsToRetain, JSON array of strings */
    char *metrics_v2;     /* additionalMetricsToRetainV2, JSON array */
    char *tags;           /* JSON array of {"Key", "Value"} */
    char *metrics_export; /* metricsExportConfig, JSON object {mqttTopic, roleArn} */
    int64_t version;      /* starts at 1 */
    int64_t created_ms;   /* emulated time */
    int64_t modified_ms;  /* emulated time */
};

/* Free the strings of a row read back and zero it. NULL allowed. Cannot
 * fail. */
void store_profile_cleanup(struct store_profile *p);

/* A new profile's members, all borrowed; NULL = not set (name and
 * behaviors must not be NULL). Same meaning as in struct store_profile. */
struct store_profile_new {
    const char *name;
    const char *description;
    const char *behaviors;
    const char *alert_targets;
    const char *metrics;
    const char *metrics_v2;
    const char *tags;
    const char *metrics_export;
};

/* Insert a new profile (version 1, both times now_ms). Errors:
 * DD_ERR_EXISTS (eb: "Security profile NAME already exists."),
 * DD_ERR_BUSY, DD_ERR_STORE. One transaction. */
int store_profile_create(struct store *s, const struct store_profile_new *p, int64_t now_ms,
                         struct dd_errbuf *eb);

/* Read profile name into *out (zeroed first; owned strings, see
 * store_profile_cleanup). DD_ERR_NOT_FOUND (eb: "Security profile NAME
 * cannot be found."), DD_ERR_NOMEM, DD_ERR_STORE. */
int store_profile_get(struct store *s, const char *name, struct store_profile *out,
                      struct dd_errbuf *eb);

/* What UpdateSecurityProfile changes: each set_* flag says the member is
 * replaced by its value (NULL value = cleared). Strings borrowed. */
struct store_profile_update {
    bool set_description;
    const char *description;
    bool set_behaviors;
    const char *behaviors; /* "[]" to delete every behavior; never NULL when set */
    bool set_alert_targets;
    const char *alert_targets;
    bool set_metrics;
    const char *metrics;
    bool set_metrics_v2;
    const char *metrics_v2;
    bool set_metrics_export;
    const char *metrics_export;
};

/* Apply u to profile name in one transaction: check expected_version (when
 * has_expected), replace the members u sets, bump the version and set
 * modified to now_ms; on DD_OK *out holds the updated row (owned, see
 * store_profile_cleanup). Errors: DD_ERR_NOT_FOUND, DD_ERR_VERSION_CONFLICT
 * (eb says both versions), DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE; *out is
 * zeroed on error. */
int store_profile_update(struct store *s, const char *name, bool has_expected,
                         int64_t expected_version, const struct store_profile_update *u,
                         int64_t now_ms, struct store_profile *out, struct dd_errbuf *eb);

/* Delete profile name and its target rows in one transaction. A missing
 * profile succeeds (the model lists no not-found error), whatever
 * expected_version says. Errors: DD_ERR_VERSION_CONFLICT (when has_expected
 * and the stored version differs), DD_ERR_BUSY, DD_ERR_STORE. */
int store_profile_delete(struct store *s, const char *name, bool has_expected,
                         int64_t expected_version, struct dd_errbuf *eb);

/* Called once per row of a listing; strings borrowed for the call. Return
 * DD_OK to go on; anything else stops the walk and is returned. */
typedef int (*store_profiles_name_fn)(void *ctx, const char *name);
typedef int (*store_profiles_pair_fn)(void *ctx, const char *profile, const char *target_arn);

/* ListSecurityProfiles: names in ascending order, strictly after after_name
 * (NULL = from the start), at most limit rows. With metric (or dimension)
 * not NULL only profiles with a behavior whose "metric" (or
 * metricDimension.dimensionName) equals it. Errors: the callback's, or
 * DD_ERR_STORE. */
int store_profiles_list(struct store *s, const char *metric, const char *dimension,
                        const char *after_name, int limit, store_profiles_name_fn fn, void *ctx);

/* Attach profile to target_arn (borrowed, already canonical) in one
 * transaction. group is the thing group named by the ARN or NULL for the
 * all/... targets; when the thing_groups table exists the group must be in
 * it. Attaching twice is a no-op. Errors: DD_ERR_NOT_FOUND (the profile or
 * the group; eb says which), DD_ERR_LIMIT (STORE_PROFILES_PER_TARGET already
 * on that target), DD_ERR_BUSY, DD_ERR_STORE. */
int store_profile_attach(struct store *s, const char *profile, const char *target_arn,
                         const char *group, struct dd_errbuf *eb);

/* Detach profile from target_arn in one transaction. Errors:
 * DD_ERR_NOT_FOUND (no such profile, or not attached there; eb says which),
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_profile_detach(struct store *s, const char *profile, const char *target_arn,
                         struct dd_errbuf *eb);

/* ListTargetsForSecurityProfile: the target ARNs of profile in ascending
 * order, strictly after after_arn (NULL = from the start), at most limit.
 * fn gets (profile, target). Errors: DD_ERR_NOT_FOUND (no such profile), the
 * callback's, DD_ERR_STORE. */
int store_profile_targets(struct store *s, const char *profile, const char *after_arn, int limit,
                          store_profiles_pair_fn fn, void *ctx, struct dd_errbuf *eb);

/* ListSecurityProfilesForTarget: the (profile, target) attachments of
 * target_arn, and with recursive and a thing group (group not NULL) also
 * those of every ancestor group (ancestor_arn_prefix + name builds their
 * ARNs, e.g. "arn:aws:iot:R:A:thinggroup/"). Ordered by target then
 * profile, skipping the first offset rows, at most limit. Errors:
 * DD_ERR_NOT_FOUND (group given, the thing_groups table exists and the
 * group is not in it), the callback's, DD_ERR_STORE. */
int store_profiles_for_target(struct store *s, const char *target_arn, const char *group,
                              bool recursive, const char *ancestor_arn_prefix, int64_t offset,
                              int limit, store_profiles_pair_fn fn, void *ctx,
                              struct dd_errbuf *eb);

/* The account's custom metrics and dimensions, for validating behaviors.
 * ctx points into the owned arrays. */
struct store_behavior_context {
    struct behavior_context ctx;           /* views into the arrays below */
    struct behavior_custom_metric *custom; /* owned array; names point into custom_names */
    char **custom_names;                   /* owned array of owned names */
    char **dimensions;                     /* owned array of owned names */
};

/* Fill *out (zeroed first) from the custom_metrics and dimensions tables.
 * Those come with schema 003 (CreateCustomMetric, CreateDimension); while
 * a table does not exist its part of the context stays empty, so a
 * behavior naming a custom metric or a dimension is rejected as unknown.
 * On error *out is empty. Errors: DD_ERR_NOMEM, DD_ERR_STORE. Free with
 * store_behavior_context_cleanup(). */
int store_behavior_context_load(struct store *s, struct store_behavior_context *out);

/* Free what store_behavior_context_load() filled and zero it. NULL
 * allowed. */
void store_behavior_context_cleanup(struct store_behavior_context *c);

#endif
