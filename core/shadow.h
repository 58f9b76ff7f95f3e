/* SPDX-License-Identifier: MIT */
/* shadow.h: the AWS IoT Device Shadow document model (merge, delta, metadata,
 * versions, limits, error documents and the reserved MQTT topics).
 *
 * The store keeps one row per shadow: a version and a compact stored text
 * {"state":{"desired"?,"reported"?},"metadata":{"desired"?,"reported"?}}
 * (or a tombstone version once deleted). Every function here turns that text
 * plus a request and a clock value into the new text and the exact payloads
 * AWS would answer or publish, so the REST server and the MQTT plugin share
 * one implementation. The rules follow the emulator's shadow reference. */
#ifndef DD_CORE_SHADOW_H
#define DD_CORE_SHADOW_H

#include <stddef.h>
#include <stdint.h>

#define SHADOW_DEFAULT_MAX_STATE_BYTES 8192
#define SHADOW_DEFAULT_MAX_DEPTH       6
#define SHADOW_CLIENT_TOKEN_MAX        64  /* bytes */
#define SHADOW_THING_NAME_MAX          128 /* characters */
#define SHADOW_NAME_MAX                64  /* characters */

/* Limits applied by shadow_update(). */
struct shadow_limits {
    size_t max_state_bytes; /* compact JSON bytes of the merged state (metadata excluded) */
    int max_depth;          /* nesting levels below desired/reported (see shadow.c) */
};

/* The defaults of the cloud service: 8192 bytes, depth 6. Cannot fail. */
void shadow_limits_default(struct shadow_limits *l);

/* Why a request was rejected, ready for shadow_error_json(). code is the
 * HTTP status AWS uses (400, 404, 409, 413, 415, 500). The clientToken of the
 * request is kept when it was parseable, so the error document can echo it. */
struct shadow_error {
    int code;                                       /* 0 = no error */
    char message[256];                              /* AWS's exact text */
    char client_token[SHADOW_CLIENT_TOKEN_MAX + 1]; /* valid when has_client_token */
    int has_client_token;
};

/* Everything an accepted update produces. Every string is owned by the
 * result: release them all with shadow_update_result_cleanup(). */
struct shadow_update_result {
    char *stored;    /* the new stored text (see the file header) */
    int64_t version; /* the new version */
    char *accepted;  /* /update/accepted payload, also the REST UpdateThingShadow body */
    char *delta;     /* /update/delta payload; NULL when the resulting delta is empty */
    char *documents; /* /update/documents payload */
};

/* Apply an update request document (MQTT /update payload or REST body) to a
 * shadow.
 *   stored: the current stored text (borrowed), or NULL when the shadow does
 *     not exist (never created or deleted);
 *   cur_version: its version, or the tombstone version when stored is NULL
 *     (0 = never created); the new version is cur_version + 1;
 *   req, req_len: the request bytes (borrowed, need not be NUL-terminated;
 *     req may be NULL when req_len is 0);
 *   now_s: emulated epoch seconds for every timestamp written;
 *   lim: limits, NULL = shadow_limits_default().
 * On DD_OK *out holds the results (free with shadow_update_result_cleanup())
 * and err->code is 0. On a rejected request *out is empty, err is filled
 * (code, message, and the request's clientToken when parseable) and the
 * return is DD_ERR_ENCODING (415), DD_ERR_INVALID (400),
 * DD_ERR_VERSION_CONFLICT (409) or DD_ERR_TOO_LARGE (413). A stored text that
 * is not a JSON object gives DD_ERR_INTERNAL (500); DD_ERR_NOMEM when out of
 * memory (err->code 500). err may be NULL. Pure: any thread. */
int shadow_update(const char *stored, int64_t cur_version, const char *req, size_t req_len,
                  int64_t now_s, const struct shadow_limits *lim, struct shadow_update_result *out,
                  struct shadow_error *err);

/* Free every string of r and clear it. r may be NULL or already clean. */
void shadow_update_result_cleanup(struct shadow_update_result *r);

/* The full document with delta, for GetThingShadow and /get/accepted:
 * {"state":{desired?,reported?,delta?},"metadata":{desired?,reported?},
 *  "version":N,"timestamp":now_s,"clientToken"?}. stored is borrowed and must
 * be non-NULL (a missing shadow is shadow_not_found()); client_token may be
 * NULL (none). On DD_OK *out is a new string the caller free()s; otherwise
 * *out is NULL and the return is DD_ERR_NOMEM, DD_ERR_NOT_FOUND (stored is
 * NULL) or DD_ERR_INTERNAL (stored is not a JSON object). Pure: any thread. */
int shadow_get(const char *stored, int64_t version, int64_t now_s, const char *client_token,
               char **out);

/* The DeleteThingShadow body and /delete/accepted payload:
 * {"version":N,"timestamp":now_s,"clientToken"?}. version is the version the
 * shadow had when it was deleted; client_token may be NULL. On DD_OK *out is
 * a new string to free(); DD_ERR_NOMEM leaves it NULL. Pure: any thread. */
int shadow_delete_accepted(int64_t version, int64_t now_s, const char *client_token, char **out);

/* Read an MQTT /get or /delete payload (borrowed, need not be
 * NUL-terminated): empty, or JSON of which only a top-level "clientToken" is
 * used. Clears err, then on DD_OK puts the token (if any) into
 * err->client_token / err->has_client_token. Errors, with err filled:
 * DD_ERR_ENCODING (415, not UTF-8), DD_ERR_INVALID (400 "Invalid JSON", or
 * "Invalid clientToken" when it is not a string of at most 64 bytes);
 * DD_ERR_NOMEM. Pure: any thread. */
int shadow_parse_request_token(const char *payload, size_t len, struct shadow_error *err);

/* Fill err with 404 "No shadow exists with name: 'thing'" (classic shadow,
 * shadow_name NULL or "") or "...: 'thing~shadow'" (named). Keeps
 * err->client_token and has_client_token as they are, so call it on a
 * zeroed err or on one filled by shadow_parse_request_token(). Cannot fail. */
void shadow_not_found(struct shadow_error *err, const char *thing, const char *shadow_name);

/* The error document for /rejected topics and REST error bodies:
 * {"code":C,"message":"...","timestamp":now_s,"clientToken"?}; the timestamp
 * is left out for 404 and 409, as the real service does. On DD_OK *out is a
 * new string to free(); DD_ERR_NOMEM leaves it NULL. Pure: any thread. */
int shadow_error_json(const struct shadow_error *err, int64_t now_s, char **out);

/* Check a thing name (1-128 of [a-zA-Z0-9:_-]) and, unless shadow_name is
 * NULL (classic shadow), a shadow name (1-64 of the same set). DD_OK or
 * DD_ERR_INVALID. Pure: any thread, cannot fail otherwise. */
int shadow_names_check(const char *thing, const char *shadow_name);

enum shadow_op { SHADOW_OP_GET, SHADOW_OP_UPDATE, SHADOW_OP_DELETE };

/* A parsed shadow request topic. name is "" for the classic shadow. */
struct shadow_topic {
    char thing[SHADOW_THING_NAME_MAX + 1];
    char name[SHADOW_NAME_MAX + 1];
    enum shadow_op op;
};

/* Parse "$aws/things/{thing}/shadow[/name/{name}]/{get|update|delete}".
 * Clears *out first. DD_ERR_NOT_FOUND when topic is not a shadow request
 * topic (reply topics such as .../update/accepted are not requests);
 * DD_ERR_INVALID when it has the shape of one but a name breaks
 * shadow_names_check(). topic is borrowed. Pure: any thread. */
int shadow_topic_parse(const char *topic, struct shadow_topic *out);

/* Write "$aws/things/{thing}/shadow[/name/{name}]/{suffix}" into buf (name
 * NULL or "" = classic; suffix such as "update/accepted"). DD_ERR_TOO_LARGE
 * (buf then holds "") when it does not fit in size bytes. Pure: any thread. */
int shadow_topic_build(char *buf, size_t size, const char *thing, const char *name,
                       const char *suffix);

#endif
