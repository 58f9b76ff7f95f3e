/* SPDX-License-Identifier: MIT */
/* config.h: the broker thread's configuration snapshot: what the hot path
 * needs from the database, compiled by the engine thread.
 *
 * The engine builds a new snapshot after the server commits a change and
 * hands it over (engine_config_take); from then on the broker thread owns
 * it, reads it without locks, and frees it when the next one arrives. A
 * snapshot never changes after it is handed over, with one exception that
 * only ever adds: things registered since its build (config_extend). */
#ifndef DD_PLUGIN_CONFIG_H
#define DD_PLUGIN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/policy.h"
#include "plugin/clients.h"
#include "plugin/strmap.h"
#include "store/store.h"

struct config_dim {
    char *name;     /* owned */
    char **filters; /* owned: MQTT topic filters, may hold ${iot:ClientId} */
    size_t n_filters;
};

/* What the policy engine needs of a registered thing. */
struct config_thing {
    const struct policy_set *policies;   /* borrowed from the snapshot's sets; NULL = none */
    char *type_name;                     /* owned; NULL without a thing type */
    struct policy_attribute *attributes; /* owned array; its strings are owned too */
    size_t n_attributes;
};

/* A certificate the TLS listener may see: its status, and the policies that
 * apply to a connection using it (its own, plus those of the thing's groups
 * when the client id names a thing it is attached to). */
struct config_cert {
    bool active;
    const struct policy_set *alone; /* borrowed; its own policies, NULL = none */
    struct strmap *things;          /* attached thing -> struct config_cert_thing; NULL: none */
};

struct config_cert_thing {
    const struct policy_set *policies; /* borrowed; NULL = none */
};

/* What the snapshots of one config_load() share: see config.c. */
struct config_build;

/* The maps, sets and dimensions are owned by the build: config_extend()
 * copies this struct, and the last snapshot of a build frees them. */
struct broker_config {
    struct config_build *build; /* shared; counts the snapshots that hold it */
    struct strmap *certs;       /* certificate id -> struct config_cert */
    int64_t sync_generation;    /* every commit up to this sync is in the snapshot */
    struct strmap *things;      /* registered thing name -> struct config_thing, at the build */
    struct policy_set **sets;   /* distinct compiled policy sets */
    size_t n_sets;
    size_t n_dims; /* TOPIC_FILTER dimensions counted, by name, at most CLIENTS_MAX_DIMS */
    struct config_dim dims[CLIENTS_MAX_DIMS];
    const char *dim_names[CLIENTS_MAX_DIMS]; /* borrowed from dims[i].name */
    struct broker_config *retired_next;      /* the engine's list of snapshots to free */
};

/* Build a snapshot from the database: the dimensions, and for every
 * registered thing its type, attributes and the compiled policies of its
 * groups and their ancestors. On DD_OK *out owns it (config_free).
 * eb notes what was left out (more than CLIENTS_MAX_DIMS dimensions) while
 * the call still succeeds. Engine thread. */
int config_load(struct store *s, struct broker_config **out, struct dd_errbuf *eb);

/* A new snapshot in *out of what c holds and of the things inserted after
 * its build that store_snapshot_things_after(s, after_rowid) walks, for
 * the engine to follow a fleet being registered without a config_load()
 * of every thing and certificate. The new snapshot shares c's build, and
 * the things go to the build's table of things added, which every
 * snapshot of the build reads, so those the broker thread holds know them
 * a little early. Only for things in no thing group and attached to no
 * certificate (inserted by commits that changed nothing else): the build's
 * grants and policy sets stay right only for those. *added says how many
 * things the walk gave. DD_ERR_LIMIT when the table has no room for
 * expected more (the build's things / 2, at least 1,024), adding nothing,
 * or when the walk finds more things than there is room for, having added
 * some: a config_load() is due either way. Engine thread; the caller sets sync_generation. */
int config_extend(const struct broker_config *c, struct store *s, int64_t after_rowid,
                  size_t expected, struct broker_config **out, size_t *added);

/* A new snapshot holding what c holds, sharing its build; NULL when out
 * of memory. The caller owns it (config_free). Engine thread. */
struct broker_config *config_share(const struct broker_config *c);

/* The certificate with id cert_id (64 hex digits), or NULL when unknown. */
const struct config_cert *config_cert(const struct broker_config *c, const char *cert_id);

/* The registered thing name, or NULL. */
const struct config_thing *config_thing(const struct broker_config *c, const char *name);

/* True when a and b (either may be NULL) count the same dimensions with the
 * same filters in the same slots, so counts taken under one stay valid
 * under the other. */
bool config_same_dims(const struct broker_config *a, const struct broker_config *b);

/* Free a snapshot, and its build with the last of the build's snapshots;
 * NULL allowed. Whichever thread owns it. */
void config_free(struct broker_config *c);

#endif
