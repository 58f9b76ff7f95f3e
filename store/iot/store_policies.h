/* SPDX-License-Identifier: MIT */
/* store_policies.h: IoT policies, their versions and their attachments to
 * thing groups and certificates (tables of schema/003_policies.sql).
 *
 * A policy has 1 to STORE_POLICY_MAX_VERSIONS versions, one of them the
 * default (the operative one). Version ids count up per policy and are never
 * reused. Documents are stored as the client sent them: validating them with
 * core/policy is the caller's job, done before any of these writes. Each
 * write is one transaction. Targets are named by kind and name (a thing group
 * name, a certificate id); callers build and parse the ARNs. Everything here
 * runs on the caller's connection and thread. */
#ifndef DD_STORE_POLICIES_H
#define DD_STORE_POLICIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* AWS: "A managed policy can have up to five versions." */
#define STORE_POLICY_MAX_VERSIONS 5

enum store_target_kind {
    STORE_TARGET_THING_GROUP, /* name: a thing group in thing_groups */
    STORE_TARGET_CERT,        /* name: a certificate id */
};

/* A policy with its default version's document. */
struct store_policy {
    char *name;     /* owned */
    char *document; /* owned: the default version's text */
    int64_t default_version;
    int64_t generation; /* changes whenever the default version changes */
    int64_t created_ms;
    int64_t modified_ms;
};

/* One version of a policy. document is NULL in store_policy_versions_list(). */
struct store_policy_version {
    char *document; /* owned or NULL */
    int64_t version;
    bool is_default;
    int64_t created_ms;         /* of this version */
    int64_t policy_generation;  /* the policy's, as GetPolicyVersion reports */
    int64_t policy_modified_ms; /* the policy's */
};

struct store_policy_versions {
    struct store_policy_version *v; /* owned array of n, newest first */
    size_t n;
};

/* A page of names (policy names, target resources, ...), in listing order. */
struct store_name_page {
    char **v; /* owned array of n owned strings */
    size_t n;
    bool more;        /* rows remain after v[n-1] */
    int64_t last_seq; /* store_policy_list(): the creation sequence of v[n-1] */
};

/* A policy's name and default document, for GetEffectivePolicies and the
 * broker's compiled snapshot. */
struct store_policy_doc {
    char *name;     /* owned */
    char *document; /* owned */
};

struct store_policy_docs {
    struct store_policy_doc *v; /* owned array of n, ordered by name */
    size_t n;
};

/* Free what the structs own and zero them. NULL and zeroed structs are
 * allowed. Cannot fail. */
void store_policy_cleanup(struct store_policy *p);
void store_policy_version_cleanup(struct store_policy_version *v);
void store_policy_versions_cleanup(struct store_policy_versions *l);
void store_name_page_cleanup(struct store_name_page *l);
void store_policy_docs_cleanup(struct store_policy_docs *d);

/* Create policy name with version 1 = document (both borrowed, NUL-terminated)
 * as its default, at now_ms. Errors: DD_ERR_EXISTS (eb: AWS's message),
 * DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM. Nothing is written on error. */
int store_policy_create(struct store *s, const char *name, const char *document, int64_t now_ms,
                        struct dd_errbuf *eb);

/* Read policy name into *out (cleared first; the caller cleans it up with
 * store_policy_cleanup(), also on error). DD_ERR_NOT_FOUND (eb says which),
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_policy_get(struct store *s, const char *name, struct store_policy *out,
                     struct dd_errbuf *eb);

/* Delete policy name with its default version. DD_ERR_NOT_FOUND;
 * DD_ERR_DELETE_CONFLICT while it is attached to a target or has versions
 * other than the default (AWS refuses both); DD_ERR_BUSY, DD_ERR_STORE. */
int store_policy_delete(struct store *s, const char *name, struct dd_errbuf *eb);

/* One page of policy names in creation order (ascending: oldest first, else
 * newest first), after the row whose creation sequence is after_seq (< 0:
 * from the start), at most limit (>= 1) names. out is cleared first; clean it
 * up with store_name_page_cleanup(). DD_ERR_STORE, DD_ERR_NOMEM. */
int store_policy_list(struct store *s, bool ascending, int64_t after_seq, size_t limit,
                      struct store_name_page *out);

/* Add a version of policy name holding document (borrowed), the new default
 * when set_default. On DD_OK *out (cleared first) describes the new version;
 * clean it up with store_policy_version_cleanup(). DD_ERR_NOT_FOUND,
 * DD_ERR_LIMIT when the policy already has STORE_POLICY_MAX_VERSIONS
 * versions, DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM; eb says why. */
int store_policy_version_create(struct store *s, const char *name, const char *document,
                                bool set_default, int64_t now_ms, struct store_policy_version *out,
                                struct dd_errbuf *eb);

/* Read one version (with its document) into *out (cleared first; clean up
 * with store_policy_version_cleanup()). DD_ERR_NOT_FOUND for a missing policy
 * or version, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_policy_version_get(struct store *s, const char *name, int64_t version,
                             struct store_policy_version *out, struct dd_errbuf *eb);

/* Every version of policy name, newest first, without documents. out is
 * cleared first; clean up with store_policy_versions_cleanup().
 * DD_ERR_NOT_FOUND, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_policy_versions_list(struct store *s, const char *name, struct store_policy_versions *out,
                               struct dd_errbuf *eb);

/* Make version the default of policy name (a no-op write when it already
 * is). DD_ERR_NOT_FOUND, DD_ERR_BUSY, DD_ERR_STORE. */
int store_policy_version_set_default(struct store *s, const char *name, int64_t version,
                                     int64_t now_ms, struct dd_errbuf *eb);

/* Delete a non-default version. DD_ERR_NOT_FOUND, DD_ERR_DELETE_CONFLICT for
 * the default version, DD_ERR_BUSY, DD_ERR_STORE. */
int store_policy_version_delete(struct store *s, const char *name, int64_t version,
                                struct dd_errbuf *eb);

/* Attach policy name to a target (idempotent). DD_ERR_NOT_FOUND for a
 * missing policy or thing group (eb says which), DD_ERR_BUSY, DD_ERR_STORE.
 * A certificate target is not checked against any registry. */
int store_policy_attach(struct store *s, const char *name, enum store_target_kind kind,
                        const char *target, struct dd_errbuf *eb);

/* Detach policy name from a target. Detaching what is not attached
 * succeeds (as AWS's DetachPolicy, whose model has no ResourceNotFound).
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_policy_detach(struct store *s, const char *name, enum store_target_kind kind,
                        const char *target, struct dd_errbuf *eb);

/* One page of the names of the policies attached to a target, by name,
 * after after_name (NULL: from the start), at most limit. With recursive and
 * a thing group, the policies of all its ancestor groups are included (each
 * name once). out is cleared first; clean up with store_name_page_cleanup().
 * DD_ERR_NOT_FOUND for a missing thing group, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_policy_list_attached(struct store *s, enum store_target_kind kind, const char *target,
                               bool recursive, const char *after_name, size_t limit,
                               struct store_name_page *out, struct dd_errbuf *eb);

/* One page of the targets of policy name as ARN resources
 * ("thinggroup/NAME", "cert/ID"), sorted, after after_resource (NULL: from
 * the start), at most limit. out is cleared first; clean up with
 * store_name_page_cleanup(). DD_ERR_NOT_FOUND, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_policy_list_targets(struct store *s, const char *name, const char *after_resource,
                              size_t limit, struct store_name_page *out, struct dd_errbuf *eb);

/* The policies in effect for a connection: those attached to every group
 * thing_name belongs to and to all their ancestors, plus those attached to
 * the principal (kind, principal) when principal is not NULL. thing_name may
 * be NULL (principal only). Each policy once, by name, with its default
 * document. out is cleared first; clean up with store_policy_docs_cleanup().
 * DD_ERR_NOT_FOUND for a missing thing or thing group, DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_policy_effective(struct store *s, const char *thing_name, enum store_target_kind kind,
                           const char *principal, struct store_policy_docs *out,
                           struct dd_errbuf *eb);

#endif
