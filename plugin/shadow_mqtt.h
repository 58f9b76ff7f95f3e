/* SPDX-License-Identifier: MIT */
/* shadow_mqtt.h: the MQTT door of device shadows.
 *
 * The engine thread hands every PUBLISH on a shadow request topic
 * ($aws/things/{thing}/shadow[/name/{name}]/{get|update|delete}) to
 * shadow_mqtt_handle(), which applies it through store_shadow (the same
 * transaction as the REST door) and gives back AWS's replies through a
 * callback; the caller queues them for the broker thread. Plain engine-thread
 * code: no mosquitto header, never called on the broker thread. */
#ifndef DD_PLUGIN_SHADOW_MQTT_H
#define DD_PLUGIN_SHADOW_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Receives one reply to publish. topic and payload are borrowed for the
 * call (copy what must outlive it); payload is JSON text, len bytes, not
 * counting a NUL that follows it. */
typedef void (*shadow_mqtt_publish_fn)(void *ctx, const char *topic, const void *payload,
                                       size_t len);

/* Handle one request: apply it through store_shadow (publish_replies=false)
 * and call publish() for each reply with AWS's payloads: /get/accepted or
 * /get/rejected; /update/accepted, /update/delta (when the delta is not
 * empty) and /update/documents, or /update/rejected; /delete/accepted or
 * /delete/rejected. topic must be NUL-terminated; payload (len bytes, may be
 * NULL when len is 0) need not be. now_s is emulated epoch seconds; ctx is
 * passed to publish untouched.
 * Returns DD_OK when the request was answered, accepted or rejected by the
 * shadow rules. DD_ERR_NOT_FOUND when topic is not a shadow request topic
 * (replies such as .../update/accepted included) and DD_ERR_INVALID when it
 * has the shape of one but a thing or shadow name AWS would not accept: the
 * caller ignores the message, nothing is published. A database failure is
 * answered with a 500 document on /rejected and then returned (DD_ERR_BUSY,
 * DD_ERR_STORE) so the caller can log it; DD_ERR_NOMEM when even the reply
 * could not be built. Engine thread (the thread that owns s). */
int shadow_mqtt_handle(struct store *s, const char *topic, const void *payload, size_t len,
                       int64_t now_s, shadow_mqtt_publish_fn publish, void *ctx);

#endif
