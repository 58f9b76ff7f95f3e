/* SPDX-License-Identifier: MIT */
/* mqtt_limits.h: AWS IoT Core's message broker limits, in one table.
 *
 * The values are AWS's documented quotas ("AWS IoT Core endpoints and
 * quotas", message broker and protocol limits). The broker applies each one
 * it can see: the client id at CONNECT, the topic's size and depth at
 * PUBLISH and SUBSCRIBE, the payload at PUBLISH, the subscriptions a
 * connection holds, and (when asked: load tests publish faster) the PUBLISH
 * rate of a connection. Basic Ingest topics ($aws/rules/<rule-name>/...) do not
 * count their first three levels towards the topic size and depth, as AWS
 * says. docs/devices.md ("Limits") shows the table and what a refusal does.
 * Pure: no I/O, no state; any thread. @unittest test_mqtt_limits.c */
#ifndef DD_CORE_MQTT_LIMITS_H
#define DD_CORE_MQTT_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_limit {
    MQTT_LIMIT_NONE = 0,          /* within every limit */
    MQTT_LIMIT_CLIENT_ID,         /* client id size, bytes (at least 1) */
    MQTT_LIMIT_TOPIC_SIZE,        /* topic or topic filter size, bytes */
    MQTT_LIMIT_TOPIC_SLASHES,     /* forward slashes in a topic or topic filter */
    MQTT_LIMIT_PAYLOAD,           /* PUBLISH payload size, bytes */
    MQTT_LIMIT_SUBSCRIPTIONS,     /* subscriptions one connection holds */
    MQTT_LIMIT_PUBLISH_RATE,      /* PUBLISH requests per second per connection */
    MQTT_LIMIT_THROUGHPUT,        /* bytes per second per connection */
    MQTT_LIMIT_SUBSCRIBE_FILTERS, /* topic filters in one SUBSCRIBE */
    MQTT_LIMIT_COUNT
};

struct mqtt_limit_info {
    enum mqtt_limit limit;
    const char *name;  /* as AWS's quota table names it */
    uint32_t value;    /* the maximum allowed */
    const char *unit;  /* "bytes", "slashes", ... */
    const char *check; /* where and whether the broker applies it */
};

/* The row for limit (MQTT_LIMIT_NONE < limit < MQTT_LIMIT_COUNT), borrowed
 * from a static table. Cannot fail. */
const struct mqtt_limit_info *mqtt_limits_info(enum mqtt_limit limit);

/* Which limit a client id of len bytes breaks: MQTT_LIMIT_CLIENT_ID when it
 * is empty or longer than 128 bytes, else MQTT_LIMIT_NONE. Cannot fail. */
enum mqtt_limit mqtt_limits_client_id(size_t len);

/* Which limit topic (a topic name or a topic filter, len bytes, need not be
 * NUL-terminated; NULL only when len is 0) breaks: MQTT_LIMIT_TOPIC_SIZE,
 * then MQTT_LIMIT_TOPIC_SLASHES, else MQTT_LIMIT_NONE. Cannot fail. */
enum mqtt_limit mqtt_limits_topic(const char *topic, size_t len);

/* MQTT_LIMIT_PAYLOAD when a payload of len bytes is over AWS's maximum,
 * else MQTT_LIMIT_NONE. Cannot fail. */
enum mqtt_limit mqtt_limits_payload(size_t len);

/* A connection's PUBLISH count in the current one-second window. Zeroed
 * storage is a valid, empty meter. */
struct mqtt_rate {
    int64_t second; /* the window: now_ms / 1000 */
    uint32_t n;     /* PUBLISH requests counted in it, refused ones included */
};

/* Count one PUBLISH at now_ms (any clock that does not go back) against
 * limit requests per second (0: no limit). MQTT_LIMIT_PUBLISH_RATE when it
 * is over the limit, else MQTT_LIMIT_NONE; *first is set true for the first
 * refusal of a second (so a caller logs once a second). r is the caller's,
 * not NULL. Cannot fail. */
enum mqtt_limit mqtt_limits_publish_rate(struct mqtt_rate *r, int64_t now_ms, uint32_t limit,
                                         bool *first);

#endif
