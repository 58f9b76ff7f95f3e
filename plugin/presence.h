/* SPDX-License-Identifier: MIT */
/* presence.h: AWS IoT's lifecycle events for MQTT connections, published
 * by the broker thread: $aws/events/presence/connected|disconnected/{id}
 * and $aws/events/subscriptions/subscribed|unsubscribed/{id}, with the
 * documents of core/lifecycle.
 *
 * Each accepted connection gets a session (a UUID, its principal and the
 * client id's versionNumber) when it connects; the session ends with the
 * connection's disconnected event. The client id's versionNumber grows by
 * one at each accepted connect and is kept for as long as the broker runs.
 * Events cost one document and one mosquitto_broker_publish each, which the
 * broker sends at its next loop: no SQL, no lock, nothing per message.
 * Broker thread only. */
#ifndef DD_PLUGIN_PRESENCE_H
#define DD_PLUGIN_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

struct mosquitto;
struct presence;

/* A new, empty set of sessions; NULL when out of memory. Free it with
 * presence_free() (NULL allowed), which publishes nothing. */
struct presence *presence_new(void);
void presence_free(struct presence *pr);

/* Connection client (borrowed; its pointer is the key) was accepted with
 * client id id and principal principal (both borrowed, copied): open its
 * session and publish connected, with its address, at emulated time now_ms.
 * A connection that already has a session (a SIGHUP re-authentication)
 * publishes nothing. Out of memory publishes nothing (logged). */
void presence_connected(struct presence *pr, struct mosquitto *client, const char *id,
                        const char *principal, int64_t now_ms);

/* Connection client ended for reason (AWS's disconnectReason): publish
 * disconnected for its session and close it. Nothing for a connection with
 * no session. */
void presence_disconnected(struct presence *pr, struct mosquitto *client, const char *reason,
                           int64_t now_ms);

/* Connection client was allowed to subscribe to, or unsubscribed from, the
 * topic filter topic (borrowed): publish subscribed or unsubscribed. Nothing
 * for a connection with no session. */
void presence_subscription(struct presence *pr, struct mosquitto *client, bool subscribed,
                           const char *topic, int64_t now_ms);

#endif
