/* SPDX-License-Identifier: MIT */
/* lifecycle.h: the JSON payloads and topics of AWS IoT's lifecycle events
 * (presence and subscriptions, published by the broker for every client)
 * and registry events (things, thing types and their associations, thing
 * groups, their hierarchy and memberships, published when the
 * account's event configuration enables them), and the names of the event
 * configuration's types.
 *
 * Pure: callers bring the clock reading, the ids and the random session
 * and event ids; nothing here reads a clock or the kernel. */
#ifndef DD_CORE_LIFECYCLE_H
#define DD_CORE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The event configuration's types, in AWS's order (the EventType enum of
 * UpdateEventConfigurations). */
enum lifecycle_type {
    LIFECYCLE_THING,
    LIFECYCLE_THING_GROUP,
    LIFECYCLE_THING_TYPE,
    LIFECYCLE_THING_GROUP_MEMBERSHIP,
    LIFECYCLE_THING_GROUP_HIERARCHY,
    LIFECYCLE_THING_TYPE_ASSOCIATION,
    LIFECYCLE_JOB,
    LIFECYCLE_JOB_EXECUTION,
    LIFECYCLE_POLICY,
    LIFECYCLE_CERTIFICATE,
    LIFECYCLE_CA_CERTIFICATE,
    LIFECYCLE_N_TYPES
};

/* AWS's name of type t ("THING", ...). t < LIFECYCLE_N_TYPES. Cannot fail. */
const char *lifecycle_type_name(enum lifecycle_type t);

/* The type named by the len bytes at name into *out: DD_OK, or
 * DD_ERR_NOT_FOUND for a name AWS does not know (*out unchanged). */
int lifecycle_type_parse(const char *name, size_t len, enum lifecycle_type *out);

/* Whether a client id gets lifecycle events: AWS publishes none for a
 * client id that holds '#' or '+' (no topic could name it). */
bool lifecycle_client_id_ok(const char *client_id);

/* What every event of one MQTT connection carries. Every pointer is
 * borrowed. */
struct lifecycle_session {
    const char *client_id;  /* not NULL */
    int64_t timestamp_ms;   /* emulated time of the event */
    const char *session_id; /* the connection's UUID, not NULL */
    const char *principal;  /* principalIdentifier, not NULL */
};

/* A connect or disconnect of one MQTT connection. Every pointer is borrowed. */
struct lifecycle_presence {
    struct lifecycle_session session;
    bool connected;                /* else disconnected */
    const char *ip_address;        /* connected only; NULL leaves it out */
    int64_t version;               /* versionNumber of the client id's connection */
    const char *disconnect_reason; /* disconnected only: AWS's name, not NULL then */
};

/* A SUBSCRIBE or UNSUBSCRIBE of one connection. Every pointer is borrowed. */
struct lifecycle_subscription {
    struct lifecycle_session session;
    bool subscribed; /* else unsubscribed */
    const char *const *topics;
    size_t n_topics;
};

/* A thing created, updated or deleted. Every pointer is borrowed. */
struct lifecycle_thing {
    const char *operation;  /* "CREATED", "UPDATED" or "DELETED" */
    const char *event_id;   /* a fresh UUID */
    int64_t timestamp_ms;   /* emulated time of the change */
    const char *account_id; /* of the partition */
    const char *thing_id;
    const char *thing_name;
    int64_t version;
    const char *type_name;  /* NULL: JSON null */
    const char *attributes; /* JSON object text of string values; NULL: {} */
};

/* A thing group created, updated or deleted. Every pointer is borrowed. */
struct lifecycle_group {
    const char *operation;  /* "CREATED", "UPDATED" or "DELETED" */
    const char *event_id;   /* a fresh UUID */
    int64_t timestamp_ms;   /* emulated time of the change */
    const char *account_id; /* of the partition */
    const char *group_id;
    const char *group_name;
    int64_t version;
    const char *parent_name;      /* NULL: JSON null (a root group) */
    const char *parent_id;        /* NULL: JSON null */
    const char *description;      /* NULL: JSON null */
    const char *const *root_arns; /* rootToParentThingGroups, root first */
    const char *const *root_ids;
    size_t n_root;
    const char *attributes; /* JSON object text of string values; NULL: {} */
};

/* A thing added to or removed from a thing group. Every pointer is borrowed. */
struct lifecycle_membership {
    bool added;             /* else removed */
    const char *event_id;   /* a fresh UUID */
    int64_t timestamp_ms;   /* emulated time of the change */
    const char *account_id; /* of the partition */
    const char *group_arn;
    const char *group_id;
    const char *thing_arn;
    const char *thing_id;
    const char *membership_id; /* a fresh UUID */
};

/* A thing type created, updated (UpdateThingType, deprecated or
 * undeprecated) or deleted. Every pointer is borrowed. */
struct lifecycle_thing_type {
    const char *operation;  /* "CREATED", "UPDATED" or "DELETED" */
    const char *event_id;   /* a fresh UUID */
    int64_t timestamp_ms;   /* emulated time of the change */
    const char *account_id; /* of the partition */
    const char *type_id;
    const char *type_name;
    bool deprecated;
    int64_t deprecation_ms; /* deprecated only: emulated time of the deprecation */
    const char *properties; /* ThingTypeProperties JSON object text; NULL: {} */
};

/* A thing given (added) or losing (removed) a thing type. Every pointer is
 * borrowed. */
struct lifecycle_type_association {
    bool added;           /* else removed */
    const char *event_id; /* a fresh UUID */
    int64_t timestamp_ms; /* emulated time of the change */
    const char *thing_id;
    const char *thing_name;
    const char *type_name;
};

/* A child thing group put under (added) or taken from (removed) its
 * parent. Every pointer is borrowed. */
struct lifecycle_hierarchy {
    bool added;             /* else removed */
    const char *event_id;   /* a fresh UUID */
    int64_t timestamp_ms;   /* emulated time of the change */
    const char *account_id; /* of the partition */
    const char *group_id;   /* the parent's */
    const char *group_name;
    const char *child_id;
    const char *child_name;
};

/* Each builds the event's JSON document (AWS's field names and order) into
 * *out, a new NUL-terminated string of *out_len bytes the caller frees with
 * free(). On error *out is NULL and *out_len 0: DD_ERR_NOMEM, or
 * DD_ERR_INVALID when a thing's attributes are not a JSON object. Any
 * thread. */
int lifecycle_presence_json(const struct lifecycle_presence *ev, char **out, size_t *out_len);
int lifecycle_subscription_json(const struct lifecycle_subscription *ev, char **out,
                                size_t *out_len);
int lifecycle_thing_json(const struct lifecycle_thing *ev, char **out, size_t *out_len);
int lifecycle_group_json(const struct lifecycle_group *ev, char **out, size_t *out_len);
int lifecycle_membership_json(const struct lifecycle_membership *ev, char **out, size_t *out_len);
/* DD_ERR_INVALID also when the properties are not a JSON object. */
int lifecycle_thing_type_json(const struct lifecycle_thing_type *ev, char **out, size_t *out_len);
int lifecycle_type_association_json(const struct lifecycle_type_association *ev, char **out,
                                    size_t *out_len);
int lifecycle_hierarchy_json(const struct lifecycle_hierarchy *ev, char **out, size_t *out_len);

/* The topics, written into buf (size bytes): DD_OK, or DD_ERR_TOO_LARGE when
 * they do not fit (buf then ""). */
int lifecycle_presence_topic(char *buf, size_t size, bool connected, const char *client_id);
int lifecycle_subscription_topic(char *buf, size_t size, bool subscribed, const char *client_id);
int lifecycle_thing_topic(char *buf, size_t size, const char *operation, const char *thing_name);
int lifecycle_group_topic(char *buf, size_t size, const char *operation, const char *group_name);
int lifecycle_membership_topic(char *buf, size_t size, bool added, const char *group_name,
                               const char *thing_name);
int lifecycle_thing_type_topic(char *buf, size_t size, const char *operation,
                               const char *type_name);
int lifecycle_type_association_topic(char *buf, size_t size, const char *thing_name,
                                     const char *type_name);
int lifecycle_hierarchy_topic(char *buf, size_t size, bool added, const char *parent_name,
                              const char *child_name);

#endif
