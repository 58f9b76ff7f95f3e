/* SPDX-License-Identifier: MIT */
/* snssub.h: the rules of SNS subscription attributes (sns-more.md 4): which
 * names SetSubscriptionAttributes and Subscribe's Attributes take, how each
 * value is checked and stored, what GetSubscriptionAttributes derives from
 * them, and when a repeated Subscribe asks for different attributes.
 *
 * Attributes are kept as one JSON object of strings (the stored form);
 * absent means AWS's default. A FilterPolicy is checked by
 * snssub_filter_check() with core/snsfilter's rules, which need the scope. Messages are the
 * text AWS puts after "Invalid parameter: " (the caller adds that prefix,
 * and "Attributes Reason: " for Subscribe). Pure: no I/O; any thread. */
#ifndef DD_CORE_SNSSUB_H
#define DD_CORE_SNSSUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/error.h"

/* Check value for the subscription attribute name of a subscription of
 * protocol, and write the value to store into norm (size bytes: the value
 * itself, or RawMessageDelivery in lower case; "" removes the attribute).
 * All borrowed. DD_ERR_NOT_FOUND when name is not settable
 * ("AttributeName"), DD_ERR_INVALID when the value is refused,
 * DD_ERR_TOO_LARGE when norm is too small; eb says why in AWS's words. */
int snssub_attr_check(const char *protocol, const char *name, const char *value, char *norm,
                      size_t size, struct dd_errbuf *eb);

/* Check a FilterPolicy (text, NUL-terminated) for the FilterPolicyScope
 * scope (NULL or "MessageAttributes", or "MessageBody") with
 * core/snsfilter's rules. DD_ERR_INVALID with AWS's text after "Invalid
 * parameter: " in eb, DD_ERR_NOMEM. Borrowed arguments. */
int snssub_filter_check(const char *policy, const char *scope, struct dd_errbuf *eb);

/* Whether the attributes given to a repeated Subscribe (a JSON object of
 * strings, already checked) differ from those stored (a JSON object of
 * strings): a given value counts as equal when it equals the stored one,
 * or when nothing is stored and it is the default (RawMessageDelivery
 * false, FilterPolicyScope MessageAttributes, "" for the rest). JSON
 * policies are compared as JSON. Borrowed; NULL is an empty object.
 * Cannot fail. */
bool snssub_attrs_differ(const cJSON *stored, const cJSON *given);

/* The EffectiveDeliveryPolicy of an http/https subscription: SNS's default
 * HTTP retry policy with the subscription's DeliveryPolicy (stored text,
 * NULL when none) laid over it key by key. On DD_OK *out is compact JSON
 * the caller frees with cJSON_free(); DD_ERR_NOMEM. */
int snssub_effective_delivery_policy(const char *delivery_policy, char **out);

/* An http/https retry policy (sns.md 6): how many retries, in which
 * phases, and how far apart. */
enum snssub_backoff {
    SNSSUB_LINEAR,
    SNSSUB_ARITHMETIC,
    SNSSUB_GEOMETRIC,
    SNSSUB_EXPONENTIAL,
};

struct snssub_retry {
    int num_retries;             /* 0-100, all phases together */
    int no_delay;                /* numNoDelayRetries: at once */
    int min_delay_n;             /* numMinDelayRetries: minDelayTarget apart */
    int max_delay_n;             /* numMaxDelayRetries: maxDelayTarget apart, last */
    int min_delay_s;             /* minDelayTarget */
    int max_delay_s;             /* maxDelayTarget */
    enum snssub_backoff backoff; /* between them, from min to max */
};

/* The retry policy of an http/https delivery: the subscription's
 * DeliveryPolicy healthyRetryPolicy (sub_policy, stored text, NULL when
 * none) unless the topic's DeliveryPolicy (topic_policy) sets
 * http.disableSubscriptionOverrides, else the topic's
 * http.defaultHealthyRetryPolicy, else SNS's default (3 retries 20 s
 * apart); a field a policy leaves out keeps the default. *out is filled;
 * returns whether a policy was given at all (false: the default). Text
 * that does not parse counts as absent. Cannot fail. */
bool snssub_retry_policy(const char *sub_policy, const char *topic_policy,
                         struct snssub_retry *out);

/* The delay before retry number retry (1 for the first retry) under p, in
 * seconds, or -1 when p allows no such retry. The backoff phase's retries
 * grow from minDelayTarget to maxDelayTarget: linearly, by growing steps
 * (arithmetic), by a constant factor (geometric) or by doubling
 * (exponential), the last one at maxDelayTarget (ddlocal's reading; AWS
 * documents the names, not the formulas). Cannot fail. */
int64_t snssub_retry_delay_s(const struct snssub_retry *p, int retry);

#endif
