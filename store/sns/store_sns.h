/* SPDX-License-Identifier: MIT */
/* store_sns.h: SNS topics and subscriptions (written by the server's SNS
 * API), the durable delivery outbox (filled by Publish, by Subscribe's
 * confirmation handshake, and by the plugin's delivery thread from the
 * alerts table), the emulator's signing key, Lambda URL mappings and the
 * built-in sink.
 *
 * A message is fanned out to one delivery row per subscription in the same
 * transaction that records the message, so nothing is sent before it is
 * committed and nothing committed is forgotten: the delivery thread only
 * moves rows from pending to delivered, filtered (the subscription's filter
 * policy kept the message back) or failed. Deliveries keep the
 * subscription's protocol and endpoint, so the record stays readable after
 * an unsubscribe. Strings handed to callbacks are borrowed for the call. */
#ifndef DD_STORE_SNS_H
#define DD_STORE_SNS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Bytes of a signing certificate id ("SimpleNotificationService-<id>.pem"),
 * 32 hex digits and the NUL. */
#define STORE_SNS_CERT_ID_SIZE 33

/* Bytes of an SNS MessageId (a UUID) and its NUL. */
#define STORE_SNS_MESSAGE_ID_SIZE 37

/* ---- topics (server) ---- */

/* Create the topic arn named name unless it exists (CreateTopic is
 * idempotent). attributes_json: a JSON object of the attributes given at
 * creation, or NULL for {}. All borrowed. One transaction. */
int store_sns_topic_create(struct store *s, const char *arn, const char *name,
                           const char *attributes_json, int64_t now_ms);

/* Delete the topic and its subscriptions; deliveries still pending for those
 * subscriptions become canceled. A missing topic is not an error (SNS
 * DeleteTopic is idempotent). One transaction. */
int store_sns_topic_delete(struct store *s, const char *arn);

/* The topic's stored attributes (a JSON object; *attributes_json is a new
 * string the caller frees with free()) and how many of its subscriptions are
 * confirmed and pending. On error *attributes_json is NULL and the counts 0.
 * DD_ERR_NOT_FOUND when there is no such topic. */
int store_sns_topic_get(struct store *s, const char *arn, char **attributes_json,
                        int64_t *n_confirmed, int64_t *n_pending);

/* Set one attribute (name is a plain identifier, value a string) of an
 * existing topic. DD_ERR_NOT_FOUND when it does not exist. */
int store_sns_topic_set_attribute(struct store *s, const char *arn, const char *name,
                                  const char *value);

/* Called with each topic ARN (borrowed). A non-zero return stops the walk
 * and is returned. */
typedef int (*store_sns_topic_fn)(void *ctx, const char *arn);

/* Topics in ARN order after after_arn (NULL: from the start), at most limit;
 * *more is 1 when further topics follow the last one given. */
int store_sns_topic_list(struct store *s, const char *after_arn, int limit, store_sns_topic_fn fn,
                         void *ctx, int *more);

/* ---- subscriptions (server) ---- */

struct store_sns_subscription {
    const char *arn;
    const char *topic_arn;
    const char *protocol; /* http | https | lambda | sqs */
    const char *endpoint; /* URL, function ARN or queue ARN */
    const char *token;
    const char *attributes; /* JSON object of the settable attributes */
    int confirmed;
};

typedef int (*store_sns_subscription_fn)(void *ctx, const struct store_sns_subscription *sub);

/* A new subscription. For an unconfirmed one the confirmation message is
 * queued with it: confirm_message_id and confirm_text are then required. */
struct store_sns_subscribe {
    const char *arn;
    const char *topic_arn;
    const char *protocol;
    const char *endpoint;
    const char *token;
    int confirmed;
    const char *confirm_message_id;
    const char *confirm_text;
    int64_t now_ms;         /* emulated: created, and the confirmation's Timestamp */
    int64_t now_real_ms;    /* the confirmation is due now */
    const char *attributes; /* JSON object (checked), NULL for {} */
};

/* Subscribe, in one transaction. When the topic already has a subscription
 * with this protocol and endpoint, nothing changes and fn gets that one;
 * otherwise fn gets the new one. fn may be NULL. DD_ERR_NOT_FOUND when the
 * topic does not exist. */
int store_sns_subscribe(struct store *s, const struct store_sns_subscribe *n,
                        store_sns_subscription_fn fn, void *ctx);

/* Confirm the subscription of topic_arn holding token (idempotent) and give
 * it to fn (may be NULL). DD_ERR_NOT_FOUND for an unknown token or topic. */
int store_sns_confirm(struct store *s, const char *topic_arn, const char *token,
                      store_sns_subscription_fn fn, void *ctx);

/* Delete a subscription; its pending deliveries become canceled.
 * DD_ERR_NOT_FOUND when it does not exist. One transaction. */
int store_sns_unsubscribe(struct store *s, const char *arn);

/* One subscription to fn. DD_ERR_NOT_FOUND when it does not exist. */
int store_sns_subscription_get(struct store *s, const char *arn, store_sns_subscription_fn fn,
                               void *ctx);

/* Set (value not NULL) or remove (NULL) one attribute of subscription
 * arn. DD_ERR_NOT_FOUND when it does not exist. */
int store_sns_subscription_set_attribute(struct store *s, const char *arn, const char *name,
                                         const char *value);

/* Subscriptions of topic_arn (NULL: of every topic) in ARN order after
 * after_arn (NULL: from the start), at most limit; *more as for topics. */
int store_sns_subscription_list(struct store *s, const char *topic_arn, const char *after_arn,
                                int limit, store_sns_subscription_fn fn, void *ctx, int *more);

/* ---- publishing ---- */

struct store_sns_local;

struct store_sns_publish {
    const char *message_id;
    const char *topic_arn;
    const char *subject; /* NULL: none */
    const char *message;
    int64_t timestamp_ms;        /* emulated */
    const char *structure;       /* MessageStructure ("json"), NULL: none */
    const char *attributes_json; /* {"name": {"Type", "Value"}}, NULL: none */
    /* Deliveries to the queues of this database are written in the same
     * transaction with this (store_sns_local.h); NULL: every delivery
     * waits for the delivery thread. */
    const struct store_sns_local *local;
};

/* Record a Notification and one pending delivery per confirmed subscription
 * of its topic, due at now_real_ms, in one transaction, and settle those to
 * p->local's queues there. *n_deliveries gets their count. DD_ERR_NOT_FOUND
 * when the topic does not exist. */
int store_sns_publish(struct store *s, const struct store_sns_publish *p, int64_t now_real_ms,
                      int *n_deliveries);

/* A message of a FIFO topic. */
struct store_sns_fifo {
    const char *group_id; /* MessageGroupId, required */
    const char *dedup_id; /* MessageDeduplicationId; NULL: deduplicate by content */
    int64_t window_ms;    /* how far back a duplicate counts (5 minutes on AWS) */
};

/* Publish p to a FIFO topic as store_sns_publish() does, unless a message
 * of the topic with the same deduplication id (or, without one, the same
 * text) was published within f->window_ms before p->timestamp_ms: then
 * nothing is recorded and that message's id and sequence number are
 * answered. message_id gets the id (p->message_id for a new message),
 * *sequence its sequence number in the topic (1, 2, ...), *n_deliveries
 * the deliveries made. DD_ERR_NOT_FOUND when the topic does not exist. */
int store_sns_publish_fifo(struct store *s, const struct store_sns_publish *p,
                           const struct store_sns_fifo *f, int64_t now_real_ms,
                           char message_id[STORE_SNS_MESSAGE_ID_SIZE], int64_t *sequence,
                           int *n_deliveries);

/* ---- the alert outbox (plugin delivery thread) ---- */

/* The next alerts row not fanned out yet: its id, emulated time and topic
 * (topic_arn is a new string to free(), NULL when the profile names none).
 * DD_ERR_NOT_FOUND when every alert has been fanned out. */
int store_sns_alert_next(struct store *s, int64_t *alert_id, int64_t *created_ms, char **topic_arn);

/* A subscription the --webhook shortcut wants on every alert topic. arn
 * and token are used only when it does not exist yet. */
struct store_sns_webhook {
    const char *protocol;
    const char *endpoint;
    const char *arn;
    const char *token;
};

/* Fan alert alert_id out, in one transaction: create its topic (topic_name
 * under topic_arn) when missing, add the webhooks' subscriptions
 * (confirmed) when missing, record the Notification (message_id, the alert
 * text, Timestamp = the alert's time) with one pending delivery per
 * confirmed subscription, settle those to local's queues (NULL: none) at
 * emulated now_ms, and move the cursor past the alert. topic_arn NULL only
 * moves the cursor. An alert already fanned out is left alone (DD_OK).
 * *n_deliveries gets the count. */
int store_sns_alert_fanout(struct store *s, int64_t alert_id, const char *topic_arn,
                           const char *topic_name, const struct store_sns_webhook *hooks,
                           size_t n_hooks, const char *message_id,
                           const struct store_sns_local *local, int64_t now_ms, int64_t now_real_ms,
                           int *n_deliveries);

/* A delivery that is due, with everything needed to send it. */
struct store_sns_due {
    int64_t id;
    const char *subscription_arn;
    const char *protocol;
    const char *endpoint;
    const char *lambda_url; /* the URL mapped to a lambda endpoint, or NULL */
    const char *type;       /* Notification | SubscriptionConfirmation */
    const char *message_id;
    const char *topic_arn;
    const char *subject; /* NULL: none */
    const char *message; /* with MessageStructure json: the protocol's entry, else "default" */
    const char *token;   /* confirmations */
    const char *signature_version;  /* the topic's SignatureVersion attribute, or NULL */
    const char *filter_policy;      /* the subscription's FilterPolicy, or NULL */
    const char *filter_scope;       /* its FilterPolicyScope, or NULL */
    const char *message_attributes; /* SNS's {"name": {"Type", "Value"}} map, or NULL */
    int64_t timestamp_ms;
    int attempts; /* made so far */
    int raw;      /* the subscription's RawMessageDelivery is true */
};

typedef int (*store_sns_due_fn)(void *ctx, const struct store_sns_due *d);

/* For each subscription, its oldest pending delivery when that one is due
 * (next attempt at or before now_real_ms), in id order, at most limit. A
 * subscription waiting for a retry holds back its later messages, which
 * keeps delivery in order per subscription. */
int store_sns_due_list(struct store *s, int64_t now_real_ms, int limit, store_sns_due_fn fn,
                       void *ctx);

/* The earliest next attempt of any pending delivery, real ms.
 * DD_ERR_NOT_FOUND when nothing is pending. */
int store_sns_next_due(struct store *s, int64_t *out_real_ms);

enum store_sns_outcome {
    STORE_SNS_DELIVERED,
    STORE_SNS_RETRY, /* stays pending until next_real_ms */
    STORE_SNS_FAILED,
    STORE_SNS_FILTERED, /* the subscription's filter policy kept it back */
};

/* Record one attempt of delivery id at now_real_ms: the HTTP status
 * (0: no answer) and error text (NULL: none), and its outcome. A delivery
 * that is no longer pending (canceled meanwhile) is left as it is. */
int store_sns_attempt(struct store *s, int64_t id, enum store_sns_outcome outcome,
                      int64_t now_real_ms, int64_t next_real_ms, int http_status,
                      const char *error);

/* ---- email (server) ---- */

/* One message an email or email-json subscription would have received
 * (nothing is sent): its text is the protocol's entry of a MessageStructure
 * json message. Strings borrowed for the call; subject and token may be
 * NULL. */
struct store_sns_email {
    const char *subscription_arn;
    const char *protocol; /* email | email-json */
    const char *type;     /* Notification | SubscriptionConfirmation */
    const char *message_id;
    const char *topic_arn;
    const char *subject;
    const char *message;
    const char *token;
    int64_t timestamp_ms; /* emulated */
};

typedef int (*store_sns_email_fn)(void *ctx, const struct store_sns_email *e);

/* The messages of the email and email-json subscriptions whose endpoint is
 * address, oldest first. */
int store_sns_email_list(struct store *s, const char *address, store_sns_email_fn fn, void *ctx);

/* ---- configuration ---- */

/* Map a Lambda function ARN to the URL its events are POSTed to (insert or
 * replace). */
int store_sns_lambda_put(struct store *s, const char *function_arn, const char *url);

/* The signing key and certificate: cert_id (32 hex digits) into a caller
 * buffer, the PEMs as new strings to free(). DD_ERR_NOT_FOUND before the
 * plugin made them; on error the outputs are ""/NULL. key_pem may be NULL
 * when the caller needs only the certificate. */
int store_sns_signing_get(struct store *s, char cert_id[STORE_SNS_CERT_ID_SIZE], char **key_pem,
                          char **cert_pem);

/* Store the signing key unless one exists (the first writer wins; read it
 * back with store_sns_signing_get()). */
int store_sns_signing_put(struct store *s, const char *cert_id, const char *key_pem,
                          const char *cert_pem);

/* ---- the built-in sink and the alerts view (server) ---- */

/* Store one request the sink named name received. */
int store_sns_sink_add(struct store *s, const char *name, int64_t now_real_ms,
                       const char *headers_json, const char *body);

typedef int (*store_sns_sink_fn)(void *ctx, int64_t received_real_ms, const char *headers_json,
                                 const char *body);

/* What sink name received, oldest first. */
int store_sns_sink_list(struct store *s, const char *name, store_sns_sink_fn fn, void *ctx);

/* One row of the alerts view: an alert, and one of its deliveries (the
 * delivery fields are NULL / -1 when it has none: not fanned out yet, or
 * no subscription). */
struct store_sns_alert_row {
    int64_t alert_id;
    int64_t created_ms;
    const char *profile;
    const char *topic_arn;  /* NULL: the profile names no topic */
    const char *message;    /* the Detect alert */
    const char *message_id; /* NULL until fanned out */
    const char *subscription_arn;
    const char *protocol;
    const char *endpoint;
    const char *status;
    int64_t attempts;
    int64_t last_http_status; /* -1: none */
    const char *last_error;
    int64_t last_attempt_real_ms; /* -1: none */
    int64_t next_attempt_real_ms; /* -1: none */
    int64_t done_real_ms;         /* -1: not done */
};

typedef int (*store_sns_alert_fn)(void *ctx, const struct store_sns_alert_row *row);

/* The newest limit alerts, newest first, each with its deliveries in id
 * order (consecutive rows share alert_id). */
int store_sns_alert_view(struct store *s, int limit, store_sns_alert_fn fn, void *ctx);

#endif
