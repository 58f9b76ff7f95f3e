/* SPDX-License-Identifier: MIT */
/* snsfilter.h: SNS subscription filter policies (FilterPolicy), parsed once
 * and matched against each published message.
 *
 * snsfilter_parse() checks a policy as Subscribe and SetSubscriptionAttributes
 * do (AWS's limits: 5 top-level keys, 150 combinations, 256 KB) and answers
 * AWS's InvalidParameter text in the caller's dd_errbuf. The parsed policy is
 * a small tree in one arena that snsfilter_free() releases at once.
 *
 * Both scopes: MessageAttributes (a flat policy over the message's String,
 * String.Array and Number attributes) and MessageBody (nested keys over a
 * JSON object body). Operators: exact strings, numbers, true/false/null,
 * anything-but (a value, a list, {"prefix": ...}), prefix, suffix,
 * equals-ignore-case, numeric (=, <, <=, >, >= and a lower-then-upper
 * range), exists, cidr (IPv4 and IPv6), and $or (top level and nested).
 * Keys AND together, the values in one key's array OR. Numbers compare at
 * 5 decimal places, as AWS documents.
 *
 * Pure: no I/O, no globals; any thread. Tested by tests/unit/test_snsfilter.c
 * and fuzzed by tests/fuzz/fuzz_snsfilter.c. */
#ifndef DD_CORE_SNSFILTER_H
#define DD_CORE_SNSFILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define SNSFILTER_MAX_KEYS         5            /* AWS: top-level keys of a policy */
#define SNSFILTER_MAX_COMBINATIONS 150          /* AWS: value combinations */
#define SNSFILTER_MAX_BYTES        (256 * 1024) /* AWS: policy size */

struct snsfilter;

/* Which part of a message a policy looks at (FilterPolicyScope). */
enum snsfilter_scope { SNSFILTER_ATTRIBUTES, SNSFILTER_BODY };

/* Parse and validate a FilterPolicy JSON text (NUL-terminated, borrowed)
 * for a scope. On DD_OK *out owns a new policy: free it with
 * snsfilter_free(). On error *out is NULL and the rc is:
 *   DD_ERR_INVALID  the policy breaks a rule; eb holds AWS's message as
 *                   SetSubscriptionAttributes answers it in InvalidParameter
 *                   ("Invalid parameter: FilterPolicy: ..."; the first line
 *                   only: AWS's "\n at [Source: ...]" suffix is left out).
 *                   Subscribe says "Invalid parameter: Attributes Reason: "
 *                   instead: see snsfilter_reason().
 *   DD_ERR_NOMEM    out of memory.
 * policy_json NULL is DD_ERR_INVALID. Any thread. */
int snsfilter_parse(const char *policy_json, enum snsfilter_scope scope, struct snsfilter **out,
                    struct dd_errbuf *eb);

/* Free a policy from snsfilter_parse(). NULL is fine. */
void snsfilter_free(struct snsfilter *f);

/* The scope f was parsed for. Cannot fail. */
enum snsfilter_scope snsfilter_scope(const struct snsfilter *f);

/* The part of a snsfilter_parse() message after "Invalid parameter: ", so
 * Subscribe can answer "Invalid parameter: Attributes Reason: " + this.
 * msg is borrowed; the result points into it. A msg without the prefix is
 * returned whole. Cannot fail. */
const char *snsfilter_reason(const char *msg);

/* Does a message with these attributes pass f? message_attributes_json is
 * SNS's map {"name": {"Type": "String"|"Number"|"String.Array"|"Binary",
 * "Value": "..."}} as Publish stores it ("{}" or NULL when none). Binary
 * attributes are invisible to the policy; a message with no attributes
 * matches no policy that names a key. A policy parsed for the body scope
 * is matched against no attributes: it answers as for an empty message.
 * Borrowed arguments; allocates only while it runs (an allocation failure
 * answers false). Any thread. */
bool snsfilter_match_attributes(const struct snsfilter *f, const char *message_attributes_json);

/* Does a message with this body pass f? body is the message text (NULL is
 * no body); a body that is not a JSON object matches no body-scope policy
 * that names a key. Same ownership and failure rules as
 * snsfilter_match_attributes(). */
bool snsfilter_match_body(const struct snsfilter *f, const char *body);

#endif
