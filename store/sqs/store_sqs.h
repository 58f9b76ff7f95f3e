/* SPDX-License-Identifier: MIT */
/* store_sqs.h: SQS queues and messages (the sqs_* tables), written by the
 * server's SQS API. Messages are rows, so a restart loses none. A queue's
 * settable attributes are one JSON object of strings; the counts and
 * timestamps GetQueueAttributes reports are derived here. Times are
 * emulated epoch ms chosen by the caller. A message is visible when
 * visible_ms <= now: before that it is delayed if it was never received,
 * else in flight. */
#ifndef DD_STORE_SQS_H
#define DD_STORE_SQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sqs.h"
#include "store/iot/store_registry.h"
#include "store/store.h"

/* A queue as stored. */
struct store_sqs_queue {
    int64_t id;
    char name[81];
    char *attributes; /* owned: JSON object of the settable attributes */
    int64_t created_ms, modified_ms;
};

/* Free what q owns; NULL-safe, q stays usable for another get. */
void store_sqs_queue_cleanup(struct store_sqs_queue *q);

/* Create queue name with attributes_json (a JSON object, borrowed).
 * DD_ERR_EXISTS when a queue has that name. */
int store_sqs_queue_create(struct store *s, const char *name, const char *attributes_json,
                           int64_t now_ms);

/* The queue named name into *out (cleared first; free with
 * store_sqs_queue_cleanup()). DD_ERR_NOT_FOUND when there is none. */
int store_sqs_queue_get(struct store *s, const char *name, struct store_sqs_queue *out);

/* Replace the attributes of queue id and set its modified time.
 * DD_ERR_NOT_FOUND when it is gone. */
int store_sqs_queue_set(struct store *s, int64_t id, const char *attributes_json, int64_t now_ms);

/* Delete queue name and its messages. DD_ERR_NOT_FOUND when there is none. */
int store_sqs_queue_delete(struct store *s, const char *name);

/* Queue names starting with prefix ("" for all) after the name after ("" to
 * start), in name order, at most limit; out->more when more remain. Free
 * with store_names_cleanup(). */
int store_sqs_queue_list(struct store *s, const char *prefix, const char *after, size_t limit,
                         struct store_names *out);

/* The names of the queues whose RedrivePolicy names dlq_arn as their
 * dead-letter queue, after the name after ("" to start), in name order, at
 * most limit; out->more when more remain. Free with store_names_cleanup(). */
int store_sqs_dead_letter_sources(struct store *s, const char *dlq_arn, const char *after,
                                  size_t limit, struct store_names *out);

/* How many messages of queue id are visible, in flight and delayed at now. */
int store_sqs_counts(struct store *s, int64_t queue_id, int64_t now_ms, int64_t *visible,
                     int64_t *in_flight, int64_t *delayed);

/* A message to record. Strings borrowed. */
struct store_sqs_send {
    const char *message_id;
    const char *body;
    const char *attributes_json; /* "{}" when none */
    const char *md5_body, *md5_attributes;
    int64_t sent_ms, visible_ms;
};

/* What a message may add to struct store_sqs_send. Strings borrowed;
 * NULL when absent. */
struct store_sqs_extra {
    const char *group_id, *dedup_id; /* FIFO queues: both, else neither */
    const char *dedup_scope;         /* FIFO: "" for the queue, or the group id */
    const char *trace_header;        /* the AWSTraceHeader system attribute */
};

/* Append a message to queue id. */
int store_sqs_send(struct store *s, int64_t queue_id, const struct store_sqs_send *m);

/* What a send with extras did. */
struct store_sqs_sent {
    char message_id[40]; /* the new message's, or the first one's for a duplicate */
    int64_t sequence;    /* FIFO: its sequence number in the queue (from 1); else 0 */
    bool duplicate;      /* x->dedup_id was seen in its scope within five minutes */
};

/* Send m with its extras x to queue id, in one transaction. With a
 * deduplication id (a FIFO queue): forget the queue's deduplication ids
 * older than SQS_DEDUP_WINDOW_MS at m->sent_ms; when x->dedup_id is still
 * known in x->dedup_scope, record nothing and answer the first message's
 * id and sequence with out->duplicate set; else take the queue's next
 * sequence number, append the message and remember its id. Without one,
 * append the message. out is cleared first. DD_ERR_NOT_FOUND when a FIFO
 * queue is gone. */
int store_sqs_send_extra(struct store *s, int64_t queue_id, const struct store_sqs_send *m,
                         const struct store_sqs_extra *x, struct store_sqs_sent *out);

/* store_sqs_send_extra() inside the caller's transaction (store/ only:
 * SNS writes a delivery into a queue in the publish's transaction). */
int store__sqs_send_extra(struct store *s, int64_t queue_id, const struct store_sqs_send *m,
                          const struct store_sqs_extra *x, struct store_sqs_sent *out);

/* A received message. */
struct store_sqs_message {
    char message_id[40];
    char *body;       /* owned */
    char *attributes; /* owned: JSON object */
    char md5_body[33], md5_attributes[33];
    int64_t sent_ms, first_receive_ms, receive_count, receipt_serial;
    char dlq_source[256]; /* "" unless moved from a queue with a redrive policy */
    char group_id[SQS_ID_MAX + 1], dedup_id[SQS_ID_MAX + 1]; /* FIFO; "" otherwise */
    int64_t sequence;                                        /* FIFO; 0 otherwise */
    char *trace_header; /* owned: AWSTraceHeader, NULL when none */
};

/* Free what the n messages of msgs own, and msgs. NULL-safe. */
void store_sqs_messages_free(struct store_sqs_message *msgs, size_t n);

/* How a receive takes messages. */
struct store_sqs_receive {
    size_t max;             /* 1 to 10 */
    int64_t visibility_ms;  /* how long they stay hidden */
    int64_t retention_ms;   /* older messages are dropped first */
    int64_t max_receives;   /* the redrive policy's maxReceiveCount; 0: none */
    int64_t dlq_id;         /* the dead-letter queue when max_receives > 0 */
    const char *source_arn; /* borrowed: this queue's ARN, recorded on moved messages */
    bool fifo;              /* a FIFO queue: the group rules below apply */
};

/* Receive up to r->max visible messages of queue id in send order; on a
 * FIFO queue (r->fifo) a message is taken only when no earlier message of
 * its group is delayed or in flight, and the messages of one group come
 * together, groups in the order of their first message. First
 * drop those older than the retention period and move the visible ones
 * already received max_receives times to the dead-letter queue (they keep
 * their id, body, attributes, sent time and receive count); then each
 * taken message gets visible_ms = now + visibility_ms, one more receive, a
 * first-receive time and a new receipt serial. One transaction. *out is a
 * new array of *n messages (NULL when none) the caller frees with
 * store_sqs_messages_free(). */
int store_sqs_receive(struct store *s, int64_t queue_id, int64_t now_ms,
                      const struct store_sqs_receive *r, struct store_sqs_message **out, size_t *n);

/* Delete message message_id of queue id; a message already gone is not an
 * error (DeleteMessage is idempotent). */
int store_sqs_message_delete(struct store *s, int64_t queue_id, const char *message_id);

/* Make message message_id of queue id visible at visible_ms.
 * DD_ERR_NOT_FOUND when it is gone. */
int store_sqs_message_visibility(struct store *s, int64_t queue_id, const char *message_id,
                                 int64_t visible_ms);

/* Delete every message of queue id. */
int store_sqs_purge(struct store *s, int64_t queue_id);

#endif
