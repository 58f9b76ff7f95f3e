/* SPDX-License-Identifier: MIT */
/* store_shadow.h: device shadows, one row per (thing, shadow name).
 *
 * A shadow has two doors: the server's iot-data REST API and the reserved
 * MQTT topics the plugin's engine thread serves. Each operation is one
 * function that reads the row, applies core/shadow.h and writes the row back
 * in ONE BEGIN IMMEDIATE transaction, so updates racing through both doors
 * are serialised by SQLite: no write is lost and no version repeats. The
 * REST door asks for the MQTT replies (/update/accepted, /update/delta,
 * /update/documents, /delete/accepted) to be queued in the MQTT outbox in
 * that same transaction; the MQTT door publishes them itself.
 *
 * A deleted shadow keeps its row as a tombstone (document NULL, version
 * kept), so re-creating it continues the version sequence; a tombstone
 * older than STORE_SHADOW_TOMBSTONE_S restarts at version 1, as AWS does
 * after 48 hours. Times are emulated epoch seconds from the caller. */
#ifndef DD_STORE_SHADOW_H
#define DD_STORE_SHADOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/shadow.h"
#include "store/store.h"

/* How long a deleted shadow's version is remembered (seconds). */
#define STORE_SHADOW_TOMBSTONE_S ((int64_t)48 * 3600)

/* The QoS of the replies queued for the REST door. */
#define STORE_SHADOW_REPLY_QOS 1

/* Apply an update request to shadow (thing, shadow_name) (shadow_name NULL
 * or "" = classic), in one transaction.
 *   req, req_len: the request document (borrowed; need not be
 *     NUL-terminated; req may be NULL when req_len is 0);
 *   now_s: emulated epoch seconds; lim: NULL = the AWS defaults;
 *   publish_replies: also queue /update/accepted, /update/delta (when the
 *     delta is non-empty) and /update/documents in the MQTT outbox.
 * Clears *out and *err first. On DD_OK *out holds the payloads (free with
 * shadow_update_result_cleanup()). A rejected request returns what
 * shadow_update() returns (DD_ERR_ENCODING, DD_ERR_INVALID,
 * DD_ERR_VERSION_CONFLICT, DD_ERR_TOO_LARGE) with err filled and nothing
 * written. DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM or DD_ERR_INTERNAL (a
 * damaged stored document) leave nothing written and err at 500 "Internal
 * service failure". thing and shadow_name are borrowed and must be valid
 * names (shadow_names_check()). One connection's thread. */
int store_shadow_update(struct store *s, const char *thing, const char *shadow_name,
                        const char *req, size_t req_len, int64_t now_s,
                        const struct shadow_limits *lim, bool publish_replies,
                        struct shadow_update_result *out, struct shadow_error *err);

/* The GET document of a shadow at now_s (see shadow_get()), with
 * client_token echoed when non-NULL. Clears *out and *err first. On DD_OK
 * *out is a new string the caller free()s. DD_ERR_NOT_FOUND when the shadow
 * does not exist or was deleted: err holds AWS's 404 and the token. Store
 * failures and DD_ERR_NOMEM set err to 500. One connection's thread. */
int store_shadow_get(struct store *s, const char *thing, const char *shadow_name, int64_t now_s,
                     const char *client_token, char **out, struct shadow_error *err);

/* Delete a shadow in one transaction, keeping its version as a tombstone.
 * On DD_OK *out is the DeleteThingShadow body / /delete/accepted payload
 * (a new string to free()); with publish_replies it is also queued on
 * /delete/accepted. DD_ERR_NOT_FOUND (err: 404) when there is no live
 * shadow; otherwise as store_shadow_get(). One connection's thread. */
int store_shadow_delete(struct store *s, const char *thing, const char *shadow_name, int64_t now_s,
                        const char *client_token, bool publish_replies, char **out,
                        struct shadow_error *err);

/* A page of named shadow names. */
struct store_shadow_names {
    char **names; /* owned: n strings, each owned */
    size_t n;
    bool more; /* another page follows the last name */
};

/* The live named shadows of thing (never the classic one, never deleted
 * ones) in name order, at most limit (>= 1) of them, starting after the
 * name after (NULL = from the start). An unknown thing gives an empty page.
 * Clears *out first; on DD_OK free it with store_shadow_names_cleanup().
 * Errors: DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE (*out empty). */
int store_shadow_list_named(struct store *s, const char *thing, const char *after, size_t limit,
                            struct store_shadow_names *out);

/* Free every name of l and clear it. NULL or a clean l is fine. */
void store_shadow_names_cleanup(struct store_shadow_names *l);

#endif
