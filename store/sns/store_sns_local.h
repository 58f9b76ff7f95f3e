/* SPDX-License-Identifier: MIT */
/* store_sns_local.h: SNS deliveries to the queues of the same database.
 *
 * An sqs subscription whose queue lives in the publisher's own partition
 * (same account and region, hence the same database) needs no transfer:
 * its message is written into the queue in the transaction that records
 * it, so Publish answers after its messages are there, and an alert's
 * fan-out puts them there in its own transaction. The same functions also
 * build what the delivery thread sends elsewhere (the signed body, the
 * filter decision), so a message looks the same whichever way it goes.
 * One thread per struct store_sns_local (it holds a key object). */
#ifndef DD_STORE_SNS_LOCAL_H
#define DD_STORE_SNS_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "store/sns/store_sns.h"

struct snssign;

/* What a delivery of this database needs: its partition, the URLs SNS
 * messages carry, and the signing key. */
struct store_sns_local {
    char account[16];
    char region[32];
    char public_url[512]; /* no trailing slash */
    char cert_url[640];   /* SigningCertURL */
    struct snssign *key;  /* owned */
};

/* Fill l for database s of partition (account, region) whose messages
 * link to public_url (all borrowed): load the signing key, making and
 * storing one first when the database has none (the first writer wins).
 * Not inside a transaction. On error l holds nothing to free and eb says
 * why. */
int store_sns_local_init(struct store *s, const char *account, const char *region,
                         const char *public_url, struct store_sns_local *l, struct dd_errbuf *eb);

/* Free what l owns; NULL-safe, idempotent. */
void store_sns_local_cleanup(struct store_sns_local *l);

/* The signed JSON body of due delivery r (a Notification or a
 * confirmation): the Lambda event when lambda, else the HTTP body that SQS
 * subscribers get as well. On DD_OK *body is a new string to free(); else
 * NULL and eb says why. */
int store_sns_local_body(const struct store_sns_local *l, const struct store_sns_due *r,
                         bool lambda, char **body, struct dd_errbuf *eb);

/* What sqs delivery r carries: the bare message when raw (a Notification
 * only: confirmations are never raw), else the signed notification; for a
 * raw one also the message attributes as SQS keeps them (*attrs a JSON
 * object text, md5_attrs their digest), else *attrs NULL and md5_attrs "".
 * On DD_OK *body (and *attrs) are new strings to free(); on error both are
 * NULL and eb says why: DD_ERR_LIMIT or DD_ERR_INVALID for attributes SQS
 * cannot take, DD_ERR_NOMEM, or a signing error. */
int store_sns_local_queue_message(const struct store_sns_local *l, const struct store_sns_due *r,
                                  char **body, char **attrs, char md5_attrs[33],
                                  struct dd_errbuf *eb);

/* The MessageDeduplicationId a FIFO queue gets for FIFO topic message r:
 * the publisher's, or with content-based deduplication the lowercase hex
 * SHA-256 of the message, into buf (sns-more.md 1.5). NULL only when the
 * digest library fails. */
const char *store_sns_local_dedup_id(const struct store_sns_due *r, char buf[65]);

/* Whether Notification r passes its subscription's filter policy (no
 * policy, or a confirmation: it does). A stored policy that no longer
 * parses lets the message through rather than losing it. Cannot fail. */
bool store_sns_local_passes(const struct store_sns_due *r);

/* Whether an sqs delivery to queue_arn stays in database l: the queue is
 * in l's partition. Cannot fail. */
bool store_sns_local_queue(const struct store_sns_local *l, const char *queue_arn);

/* Settle sqs delivery r to a queue of l's partition in one transaction:
 * filtered out, or its message (raw or the signed notification, with the
 * attributes of a raw delivery) appended to the queue at emulated now_ms
 * and recorded delivered at now_real_ms. A queue SQS cannot take the
 * message for (too many attributes) records a final failure. Errors (eb
 * says why; the delivery stays pending and nothing changed):
 * DD_ERR_NOT_FOUND (no such queue, or not l's partition), DD_ERR_NOMEM,
 * DD_ERR_STORE, DD_ERR_BUSY. */
int store_sns_local_deliver(struct store *s, const struct store_sns_local *l,
                            const struct store_sns_due *r, int64_t now_ms, int64_t now_real_ms,
                            struct dd_errbuf *eb);

/* Settle sqs delivery r of database s (partition l) to a queue of
 * another partition, whose database is qs: filtered out (recorded in s),
 * or its message appended to the queue in a transaction of qs, then
 * recorded in s as store_sns_local_deliver() records it. Not atomic
 * across the two files: a crash between the two steps leaves the delivery
 * pending, to be written again (at-least-once, as SNS to SQS is). Not
 * inside a transaction of either. Errors leave the delivery pending (eb
 * says why): DD_ERR_NOT_FOUND (no such queue in qs), DD_ERR_NOMEM,
 * DD_ERR_STORE, DD_ERR_BUSY. */
int store_sns_local_deliver_away(struct store *s, const struct store_sns_local *l,
                                 const struct store_sns_due *r, struct store *qs, int64_t now_ms,
                                 int64_t now_real_ms, struct dd_errbuf *eb);

/* The database of partition (account, region), borrowed, into *out;
 * non-zero (eb says why) when it cannot be had now. */
typedef int (*store_sns_local_open_fn)(void *ctx, const char *account, const char *region,
                                       struct store **out, struct dd_errbuf *eb);

/* After the transaction that published message message_id in database s
 * (partition l): each of its sqs deliveries still pending, heading its
 * subscription's line, whose queue is in another partition, settled with
 * store_sns_local_deliver_away() into the database open gives. What
 * cannot be settled now stays pending for the delivery thread. DD_OK, or
 * the store's error reading the message. */
int store_sns_local_message_away(struct store *s, const struct store_sns_local *l,
                                 const char *message_id, store_sns_local_open_fn open, void *ctx,
                                 int64_t now_ms, int64_t now_real_ms);

/* Delivery id has failed for good (its retries are over, or the endpoint
 * refused it) and its subscription has a RedrivePolicy: in one
 * transaction, append what the subscriber would have received (as an sqs
 * delivery carries it) to the dead-letter queue, which must be a queue of
 * l's partition as on AWS, at emulated now_ms, and record the attempt
 * (http_status, error) as failed with a note that it was dead-lettered.
 * DD_ERR_NOT_FOUND (nothing changed: the caller records the failure)
 * when the delivery is not pending, has no RedrivePolicy, or its queue
 * does not exist; else DD_OK or a store error, eb says why. */
int store_sns_local_dead_letter(struct store *s, const struct store_sns_local *l, int64_t id,
                                int64_t now_ms, int64_t now_real_ms, int http_status,
                                const char *error, struct dd_errbuf *eb);

/* ---- inside store/sns only ---- */

/* Pending delivery id, as store_sns_due_list() gives rows, to fn.
 * DD_ERR_NOT_FOUND when it is not pending. */
int store__sns_due_get(struct store *s, int64_t id, store_sns_due_fn fn, void *ctx);

/* Inside the caller's transaction: settle as store_sns_local_deliver()
 * does, at emulated now_ms and real now_real_ms, every sqs delivery of
 * message row message_row to a queue of l's partition that heads its
 * subscription's line; those that cannot be settled (no such queue yet)
 * stay pending for the delivery thread. Other errors are returned and fail
 * the transaction. */
int store__sns_local_message(struct store *s, const struct store_sns_local *l, int64_t message_row,
                             int64_t now_ms, int64_t now_real_ms);

/* Record one attempt of delivery id inside the caller's transaction (as
 * store_sns_attempt()). */
int store__sns_attempt(struct store *s, int64_t id, enum store_sns_outcome outcome,
                       int64_t now_real_ms, int64_t next_real_ms, int http_status,
                       const char *error);

/* Inside the caller's transaction: each pending sqs delivery of message
 * row message_row that heads its subscription's line (no earlier delivery
 * of the subscription is pending) to fn, as store_sns_due_list() gives
 * rows. fn may write; a non-zero return stops the walk and is returned. */
int store__sns_each_head(struct store *s, int64_t message_row, store_sns_due_fn fn, void *ctx);

#endif
