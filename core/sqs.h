/* SPDX-License-Identifier: MIT */
/* sqs.h: SQS's pure rules: queue names, the settable queue attributes with
 * their defaults and ranges, and the MD5 digests clients check
 * (MD5OfMessageBody, MD5OfMessageAttributes). The adapter (server/sqs/)
 * parses both wire protocols into these shapes; nothing here does I/O.
 * Any thread. */
#ifndef DD_CORE_SQS_H
#define DD_CORE_SQS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define SQS_NAME_MAX   80
#define SQS_MD5_HEX    33  /* 32 hex digits and a NUL */
#define SQS_SHA256_HEX 65  /* 64 hex digits and a NUL */
#define SQS_ID_MAX     128 /* a MessageGroupId or MessageDeduplicationId */
#define SQS_SEQ_SIZE   21  /* a FIFO SequenceNumber: 20 digits and a NUL */

/* How long a FIFO queue remembers a deduplication id. */
#define SQS_DEDUP_WINDOW_MS (5 * 60 * 1000)

/* Whether name (NUL-terminated) is a standard queue name: 1 to 80 of
 * [A-Za-z0-9_-]. Cannot fail. */
bool sqs_queue_name_valid(const char *name);

/* Whether name is a FIFO queue name: 1 to 75 of [A-Za-z0-9_-], then
 * ".fifo" (80 in all). Cannot fail. */
bool sqs_fifo_name_valid(const char *name);

/* Whether id is a valid MessageGroupId or MessageDeduplicationId: 1 to 128
 * ASCII letters, digits and punctuation. Cannot fail. */
bool sqs_fifo_id_valid(const char *id);

/* The parts of a queue ARN, arn:PARTITION:sqs:REGION:ACCOUNT:NAME. */
struct sqs_arn {
    char region[32];
    char account[16];
    char name[SQS_NAME_MAX + 1];
};

/* Split arn into out (cleared first). DD_ERR_INVALID, with eb saying why,
 * for anything that is not a queue ARN. */
int sqs_arn_parse(const char *arn, struct sqs_arn *out, struct dd_errbuf *eb);

/* The content-based deduplication id of a body of len bytes: lowercase
 * hex SHA-256 into out. DD_ERR_INTERNAL when the digest library fails. */
int sqs_dedup_id(const char *body, size_t len, char out[SQS_SHA256_HEX]);

/* A FIFO queue's n-th SequenceNumber (n >= 1) as AWS shows one: 20
 * decimal digits, increasing with n. Cannot fail. */
void sqs_sequence_number(long long n, char out[SQS_SEQ_SIZE]);

/* A settable queue attribute: its name, range or choices, the default a
 * new queue gets (NULL: absent until set, e.g. Policy), and whether only
 * FIFO queues have it. */
struct sqs_attr_rule {
    const char *name;
    const char *dflt;
    long long min, max;  /* min > max: text (Policy), or one of choices */
    const char *choices; /* "a|b": the values allowed; NULL: any */
    bool fifo;           /* a FIFO queue's attribute (default only there) */
};

/* The rule for a settable attribute, or NULL when name is unknown or
 * read-only. Borrowed from a static table. */
const struct sqs_attr_rule *sqs_attr_rule_find(const char *name);

/* The table itself (n_out entries), in the order GetQueueAttributes lists
 * them. */
const struct sqs_attr_rule *sqs_attr_rules(size_t *n_out);

/* Check value for the settable attribute name of a queue (a FIFO queue
 * when fifo). DD_ERR_NOT_FOUND when the name is unknown, read-only, or a
 * FIFO attribute on a standard queue (AWS's InvalidAttributeName),
 * DD_ERR_INVALID when the value is out of range or not one of the choices,
 * or FifoQueue would change the queue's type (InvalidAttributeValue); eb
 * says which in AWS's words. */
int sqs_attr_check(const char *name, const char *value, bool fifo, struct dd_errbuf *eb);

/* Whether name is one of the attributes GetQueueAttributes answers (the
 * settable ones, the read-only ones, or All). Cannot fail. */
bool sqs_attr_readable(const char *name);

/* A RedrivePolicy: {"deadLetterTargetArn": ARN, "maxReceiveCount": 1-1000}
 * (the count a number or a numeric string). */
struct sqs_redrive {
    char arn[256];
    long long max_receives;
};

/* Parse text (len bytes, need not be NUL-terminated) into *out (cleared
 * first). DD_ERR_INVALID with AWS's reason in eb ("Value <text> for
 * parameter RedrivePolicy is invalid. Reason: ..."). */
int sqs_redrive_parse(const char *text, size_t len, struct sqs_redrive *out, struct dd_errbuf *eb);

/* One message attribute. value holds the StringValue (String, Number and
 * their labels) or the decoded BinaryValue bytes. */
struct sqs_msg_attr {
    const char *name;      /* borrowed */
    const char *data_type; /* borrowed, with its label ("Number.int") */
    const unsigned char *value;
    size_t value_len;
    bool binary; /* the BinaryValue transport */
};

/* Lowercase hex MD5 of len bytes of body into out. DD_ERR_INTERNAL when the
 * digest library fails. */
int sqs_md5_body(const char *body, size_t len, char out[SQS_MD5_HEX]);

/* MD5OfMessageAttributes over attrs[0..n): names sorted bytewise, each as
 * length-prefixed name and DataType, a transport byte (1 string, 2 binary)
 * and the length-prefixed value. attrs is reordered (sorted by name).
 * out is "" when n is 0. DD_ERR_NOMEM, DD_ERR_INTERNAL. Tested in
 * tests/unit/test_sqs.c with the reference's worked example. */
int sqs_md5_attributes(struct sqs_msg_attr *attrs, size_t n, char out[SQS_MD5_HEX]);

/* Check one message attribute as AWS does (name charset and prefixes,
 * DataType prefix, non-empty value). DD_ERR_INVALID with AWS's message. */
int sqs_msg_attr_check(const struct sqs_msg_attr *a, struct dd_errbuf *eb);

#endif
