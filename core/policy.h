/* SPDX-License-Identifier: MIT */
/* policy.h: AWS IoT Core policy documents, validated and compiled into a
 * snapshot that the broker thread evaluates per MQTT packet.
 *
 * Two halves with different rules. Validation and compilation (the server's
 * CreatePolicy, the engine thread's snapshot rebuild) parse JSON and
 * allocate. Evaluation (the plugin's auth and ACL callbacks) reads the
 * compiled snapshot only: no allocation, no I/O, no locks. Policy variables
 * are therefore not substituted into copies of the patterns: the matcher
 * walks the compiled pattern, and a variable's value is read from the
 * caller's context and matched as literal text (a client ID containing `*`
 * matches only a literal `*`).
 *
 * Cost of one policy_set_evaluate() call (benchmark note): one pass over
 * every statement of the set, plus one strlen() of the resource. A
 * statement whose Action does not cover the request costs a bit test.
 * Otherwise each Resource pattern is a glob match against the ARN: literal
 * runs compare with memcmp, and after a `*` the retry jumps with memchr to
 * the next byte that can start the following literal, so the usual
 * patterns cost a few library calls; the worst case (many `*` and `?`) is
 * ARN length x pattern tokens. `"*"` alone returns at once. Conditions add
 * one match per value, IpAddress one inet_pton() per condition; variables
 * one context lookup each (attributes: a linear search). Explicit Deny
 * returns at the first matching Deny; once an Allow matched, later Allow
 * statements are skipped. Measured with gcc -O2 on one x86-64 core: a
 * device "Allow iot:* on *" alone about 15 ns per Publish check; the same
 * plus the traffic-isolation quarantine (4 NotResource globs) plus a
 * variable/condition statement about 170 ns.
 *
 * Semantics chosen where AWS is silent (see the reference notes):
 * - Resources and condition values are matched case-sensitively over the
 *   whole string, `*` = any run (also across `/` and `:`), `?` = one
 *   character (a UTF-8 sequence); MQTT `+` and `#` are plain characters.
 * - Action names match case-insensitively; actions of other services are
 *   accepted and never match an MQTT request.
 * - A `${...}` variable that cannot be resolved (no thing, missing
 *   attribute, unknown name) makes its whole statement not apply, for Allow
 *   and for Deny alike.
 * - A condition key absent from the context makes a positive operator
 *   false and a negated one (StringNotEquals, ...) true, as IAM does.
 * - Variables and the `${*}` `${?}` `${$}` escapes are only interpreted when
 *   Version is "2012-10-17"; otherwise `$`, `{`, `}` are literal text. */
#ifndef DD_CORE_POLICY_H
#define DD_CORE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* AWS's limit on a policy document: characters excluding white space. */
#define POLICY_MAX_CHARS 2048

/* The MQTT requests a policy decides. The resource of each is an ARN of
 * type client/ (Connect), topic/ (Publish, RetainPublish, Receive) or
 * topicfilter/ (Subscribe, the filter exactly as sent). A retained PUBLISH
 * needs both POLICY_ACTION_PUBLISH and POLICY_ACTION_RETAIN_PUBLISH. */
enum policy_action {
    POLICY_ACTION_CONNECT,
    POLICY_ACTION_PUBLISH,
    POLICY_ACTION_RETAIN_PUBLISH,
    POLICY_ACTION_SUBSCRIBE,
    POLICY_ACTION_RECEIVE,
};

/* The outcome of an evaluation. The caller applies its mode: with
 * `--authz aws` only POLICY_ALLOW lets the request through, with
 * `--authz open` only POLICY_DENY_EXPLICIT stops it. */
enum policy_decision {
    POLICY_DENY_IMPLICIT, /* no statement allows it */
    POLICY_ALLOW,         /* an Allow matched and no Deny did */
    POLICY_DENY_EXPLICIT, /* a Deny matched (it wins over every Allow) */
};

/* One thing attribute, both strings borrowed. */
struct policy_attribute {
    const char *name;
    const char *value;
};

/* What the variables and condition keys of a request resolve to. Every
 * pointer is borrowed for the call; NULL means "not known", which leaves the
 * matching variables unresolved and the condition keys absent. */
struct policy_context {
    const char *client_id;       /* ${iot:ClientId} */
    const char *thing_name;      /* ${iot:Connection.Thing.ThingName}; NULL: no thing */
    const char *thing_type_name; /* ${iot:Connection.Thing.ThingTypeName} */
    const struct policy_attribute *attributes; /* ...Thing.Attributes[NAME] */
    size_t n_attributes;
    bool thing_attached;        /* ${iot:Connection.Thing.IsAttached}; false without a thing */
    const char *certificate_id; /* ${iot:CertificateId} */
    const char *certificate_cn; /* ${iot:Certificate.Subject.CommonName} */
    const char *source_ip;      /* aws:SourceIp as text, IPv4 or IPv6 */
};

/* A named policy document for policy_set_new(). Borrowed for the call; the
 * document need not be NUL-terminated. */
struct policy_source {
    const char *name;
    const char *document;
    size_t document_len;
};

/* A compiled, immutable set of policies (opaque). */
struct policy_set;

/* Check a policy document as CreatePolicy / CreatePolicyVersion do: JSON,
 * the IAM grammar (Version, Id, Statement; per statement Sid, Effect,
 * Action|NotAction, Resource|NotResource, Condition), known condition
 * operators, parseable IpAddress values, and at most max_chars characters
 * excluding white space (0: no limit; AWS uses POLICY_MAX_CHARS).
 * doc (len bytes, need not be NUL-terminated) is borrowed; eb may be NULL.
 * Returns DD_OK, DD_ERR_MALFORMED_POLICY with eb naming what is wrong, or
 * DD_ERR_NOMEM. Pure: any thread. @unittest test_policy.c validation rows */
int policy_validate(const char *doc, size_t len, size_t max_chars, struct dd_errbuf *eb);

/* Compile n policies into one set that owns everything it needs (the
 * sources may be freed afterwards). srcs may be NULL when n is 0 (the empty
 * set denies everything implicitly). No size limit is applied: documents
 * are expected to have passed policy_validate() when they were stored.
 * On DD_OK *out owns the set: free it with policy_set_free(). On error *out
 * is NULL; DD_ERR_MALFORMED_POLICY (eb names the policy and the fault) or
 * DD_ERR_NOMEM. Pure: any thread. */
int policy_set_new(const struct policy_source *srcs, size_t n, struct policy_set **out,
                   struct dd_errbuf *eb);

/* Free a set; NULL is allowed. */
void policy_set_free(struct policy_set *set);

/* Decide one request: explicit Deny wins, then Allow, else implicit deny.
 * set may be NULL (no policies). resource is the full ARN (see
 * policy_resource_arn()), NUL-terminated, borrowed. ctx may be NULL (nothing
 * known). decided_by may be NULL; otherwise it receives the name of the
 * policy whose statement decided (owned by the set, valid until
 * policy_set_free()), or NULL for an implicit deny.
 * Allocates nothing and cannot fail: safe on the broker thread, and any
 * number of threads may evaluate one set at once. */
enum policy_decision policy_set_evaluate(const struct policy_set *set, enum policy_action action,
                                         const char *resource, const struct policy_context *ctx,
                                         const char **decided_by);

/* The IAM name of an action ("iot:Publish"); "" for a value outside the
 * enum. Static storage, cannot fail. */
const char *policy_action_name(enum policy_action action);

/* Write "arn:aws:iot:REGION:ACCOUNT:TYPE/NAME" into buf (size bytes,
 * NUL-terminated), TYPE following from the action (client, topic or
 * topicfilter). Strings are borrowed and NUL-terminated; len may be NULL,
 * else it receives the ARN's length. Returns DD_OK, or DD_ERR_TOO_LARGE when
 * it does not fit (buf is then "" if size > 0, *len 0), DD_ERR_INVALID for
 * an action outside the enum. Allocates nothing; any thread. */
int policy_resource_arn(char *buf, size_t size, const char *region, const char *account,
                        enum policy_action action, const char *name, size_t *len);

#endif
