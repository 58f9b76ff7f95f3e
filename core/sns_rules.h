/* SPDX-License-Identifier: MIT */
/* sns_rules.h: what SNS accepts from a publisher or a topic owner, before
 * anything is stored: topic attributes and names, Publish's Subject,
 * MessageStructure and message attributes, and PublishBatch entry ids.
 *
 * Each check answers DD_OK, or DD_ERR_INVALID with the whole message AWS
 * gives in eb ("Invalid parameter: Subject", reference/sns-more.md 5 and 6)
 * and, where AWS uses another error code than InvalidParameter, that code
 * in *code (a static string). Pure: no I/O, no allocation except cJSON's
 * parse of a JSON value, which is freed before returning; any thread. */
#ifndef DD_CORE_SNS_RULES_H
#define DD_CORE_SNS_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* The default and the ceiling of a topic's MaximumMessageSize: a message and
 * its attributes, in bytes (the ceiling was raised to 1 MiB in 2025). */
#define SNS_RULES_MESSAGE_SIZE_DEFAULT 262144
#define SNS_RULES_MESSAGE_SIZE_MAX     1048576
#define SNS_RULES_MESSAGE_SIZE_MIN     1024
/* Message attributes per message, and entries per PublishBatch. */
#define SNS_RULES_MAX_ATTRIBUTES 10
#define SNS_RULES_MAX_BATCH      10

/* A CreateTopic Name: 1-256 of [A-Za-z0-9_-]; a FIFO topic's (fifo: the
 * request's FifoTopic is "true") is such a name followed by ".fifo", and
 * only a FIFO topic's name ends so. */
int sns_rules_topic_name(const char *name, bool fifo, struct dd_errbuf *eb);

/* One topic attribute given to CreateTopic (at_create) or
 * SetTopicAttributes of a standard or a FIFO (fifo) topic. *keep is false
 * for a value that stores nothing (FifoTopic "false" at creation). value
 * NULL counts as "". Refused: a name that is not a topic attribute or not
 * settable (FifoTopic through SetTopicAttributes), a value outside its rule
 * (SignatureVersion 1 or 2, TracingConfig PassThrough or Active,
 * MaximumMessageSize 1024-1048576, ContentBasedDeduplication true or false
 * in any case,
 * FifoThroughputScope Topic or MessageGroup, Policy, DeliveryPolicy and
 * ArchivePolicy JSON objects), and the FIFO-only attributes
 * (ContentBasedDeduplication, FifoThroughputScope, ArchivePolicy) on a
 * standard topic. */
int sns_rules_topic_attribute(const char *name, const char *value, bool at_create, bool fifo,
                              bool *keep, struct dd_errbuf *eb);

/* Publish's Subject (NULL: none, accepted): non-empty UTF-8 without control
 * characters, not starting with a space, fewer than 100 characters. */
int sns_rules_subject(const char *subject, struct dd_errbuf *eb);

/* MessageStructure (NULL: none) with its Message: "json" only, and then the
 * message is a JSON object whose "default" is a string. */
int sns_rules_structure(const char *structure, const char *message, struct dd_errbuf *eb);

/* One message attribute as the query protocol carries it; every field
 * borrowed, NULL when absent. binary_value is base64 text. */
struct sns_rules_attribute {
    const char *name;
    const char *data_type;
    const char *string_value;
    const char *binary_value;
};

/* The message attributes v[0..n) of one message. where names them in a
 * ValidationError ("messageAttributes", or
 * "publishBatchRequestEntries.1.member.messageAttributes"). On DD_OK
 * *bytes is what they add to the message's size (names, types and values;
 * a Binary value counts its decoded bytes). *code is "InvalidParameter",
 * "ParameterValueInvalid" or "ValidationError" on error. */
int sns_rules_message_attributes(const struct sns_rules_attribute *v, size_t n, const char *where,
                                 size_t *bytes, const char **code, struct dd_errbuf *eb);

/* A MessageGroupId: 1-128 ASCII letters, digits and punctuation. */
int sns_rules_group_id(const char *id, struct dd_errbuf *eb);

/* A PublishBatch entry Id: 1-80 of [A-Za-z0-9_-]; *code "InvalidBatchEntryId"
 * on error. */
int sns_rules_batch_id(const char *id, const char **code, struct dd_errbuf *eb);

#endif
