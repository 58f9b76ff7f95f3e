/* SPDX-License-Identifier: MIT */
/* test_policy.c: policy validation rows, the wildcard table of the policy
 * reference, variables, NotAction/NotResource, conditions, deny-wins, the
 * two quarantine policies and the quarantine walk-through, the ARN helper,
 * allocation failure during compilation, and no allocation at evaluation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/policy.h"
#include "tests/unit/alloc_fail.h"

#define PFX "arn:aws:iot:us-east-1:123456789012:"

#define ALLOW_ALL                                                                                  \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\","       \
    "\"Resource\":\"*\"}]}"

#define QUARANTINE_HARD                                                                            \
    "{ \"Version\": \"2012-10-17\",\n"                                                             \
    "  \"Statement\": [ { \"Effect\": \"Deny\", \"Action\": \"iot:*\", \"Resource\": \"*\" } ] }"

#define QUARANTINE_TRAFFIC                                                                         \
    "{ \"Version\": \"2012-10-17\",\n"                                                             \
    "  \"Statement\": [ {\n"                                                                       \
    "    \"Effect\": \"Deny\",\n"                                                                  \
    "    \"Action\": [\"iot:Publish\", \"iot:RetainPublish\", \"iot:Subscribe\", "                 \
    "\"iot:Receive\"],\n"                                                                          \
    "    \"NotResource\": [\n"                                                                     \
    "      \"arn:aws:iot:*:*:topic/$aws/things/*/defender/metrics/*\",\n"                          \
    "      \"arn:aws:iot:*:*:topicfilter/$aws/things/*/defender/metrics/*\",\n"                    \
    "      \"arn:aws:iot:*:*:topic/$aws/things/*/shadow/*\",\n"                                    \
    "      \"arn:aws:iot:*:*:topicfilter/$aws/things/*/shadow/*\" ] } ] }"

/* A one-statement 2012-10-17 policy; the arguments are JSON fragments. */
#define STMT(effect, action, resource)                                                             \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"" effect "\",\"Action\":" action      \
    ",\"Resource\":" resource "}}"
#define STMT_COND(effect, action, resource, cond)                                                  \
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"" effect "\",\"Action\":" action      \
    ",\"Resource\":" resource ",\"Condition\":" cond "}}"

static const struct policy_attribute lamp_attrs[] = {
    { "floor", "3" },
    { "room", "r*" },
};

enum ctx_id { CTX_NONE, CTX_LAMP, CTX_NO_THING, CTX_DETACHED, CTX_STAR, CTX_V6, CTX_MAPPED };

static const struct policy_context contexts[] = {
    [CTX_NONE] = { 0 },
    [CTX_LAMP] = { "lamp-7", "lamp-7", "bulb", lamp_attrs, 2, true, "abc123", "lamp-cn",
                   "192.0.2.7" },
    [CTX_NO_THING] = { "lamp-7", NULL, "bulb", lamp_attrs, 2, true, "abc123", NULL, NULL },
    [CTX_DETACHED] = { "lamp-7", "lamp-7", NULL, NULL, 0, false, NULL, NULL, "198.51.100.1" },
    [CTX_STAR] = { "a*", "a*", NULL, NULL, 0, true, NULL, NULL, "not-an-ip" },
    [CTX_V6] = { "lamp-7", NULL, NULL, NULL, 0, false, NULL, NULL, "2001:db8::5" },
    [CTX_MAPPED] = { "lamp-7", NULL, NULL, NULL, 0, false, NULL, NULL, "::ffff:192.0.2.7" },
};

static struct policy_set *set_of(const char *const *docs, size_t n)
{
    static const char *const names[] = { "p0", "p1", "p2" };
    struct policy_source srcs[3];
    struct policy_set *set = NULL;
    struct dd_errbuf eb;
    size_t i;

    assert_true(n <= 3);
    for (i = 0; i < n; i++)
        srcs[i] = (struct policy_source){ names[i], docs[i], strlen(docs[i]) };
    eb.msg[0] = '\0';
    if (policy_set_new(srcs, n, &set, &eb) != DD_OK)
        fail_msg("policy_set_new: %s", eb.msg);
    return set;
}

static const char *full_arn(const char *resource, char *buf, size_t size)
{
    if (strncmp(resource, "arn:", 4) == 0)
        return resource;
    snprintf(buf, size, PFX "%s", resource);
    return buf;
}

/* ---- the wildcard table (reference section 3) --------------------------- */

static const struct match_row {
    const char *pattern;  /* after PFX */
    const char *resource; /* after PFX */
    bool match;
} match_rows[] = {
    { "topic/sensors/*", "topic/sensors/t1", true },
    { "topic/sensors/*", "topic/sensors/a/b", true },
    { "topic/sensors/*", "topic/sensors/", true },
    { "topic/sensors/*", "topic/sensors", false },
    { "topic/sensors/\?\?\?\?/temp", "topic/sensors/r101/temp", true },
    { "topic/sensors/\?\?\?\?/temp", "topic/sensors/r10/temp", false },
    { "topic/sensors/\?\?\?\?/temp", "topic/sensors/r1011/temp", false },
    { "topicfilter/sensors/+/temp", "topicfilter/sensors/+/temp", true },
    { "topicfilter/sensors/+/temp", "topicfilter/sensors/r101/temp", false },
    { "topicfilter/sensors/+/temp", "topicfilter/sensors/#", false },
    { "topicfilter/sensors/*", "topicfilter/sensors/#", true },
    { "topicfilter/sensors/*", "topicfilter/sensors/+/temp", true },
    { "topicfilter/sensors/*", "topicfilter/sensors/x", true },
    { "topicfilter/sensors/*", "topicfilter/other/#", false },
    { "topicfilter/a/restricted/*", "topicfilter/a/#", false },
    { "topic/$aws/things/*/shadow/*", "topic/$aws/things/lamp-7/shadow/update", true },
    { "topic/$aws/things/*/shadow/*", "topic/$aws/things/lamp-7/jobs/x", false },
    { "topic/Sensors/*", "topic/sensors/x", false },
    { "topic/caf?", "topic/caf\xc3\xa9", true },
    { "topic/caf?", "topic/caf\xc3\xa9x", false },
    { "topic/*\xc3\xa9", "topic/x\xc3\xa9", true },
    { "topic/*a*b", "topic/xaxxb", true },
    { "topic/*a*b", "topic/xaxx", false },
    { "topic/*a*b*c", "topic/abbbac", true },
    { "topic/a**b", "topic/ab", true },
    { "topic/*", "client/x", false },
    { "topic/a${*}", "topic/a*", true },
    { "topic/a${*}", "topic/ab", false },
    { "topic/a${?}", "topic/a?", true },
    { "topic/a${?}", "topic/ab", false },
    { "topic/${$}x", "topic/$x", true },
    { "topic/exact", "topic/exact", true },
    { "topic/exact", "topic/exactly", false },
    { "topic/exact", "topic/exac", false },
    { "*", "anything", true },
};

static void test_match_table(void **state)
{
    char doc[512], arn[256];
    struct policy_set *set;
    const char *docs[1] = { doc };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
        const struct match_row *r = &match_rows[i];
        enum policy_decision d;

        snprintf(doc, sizeof(doc), STMT("Allow", "\"iot:*\"", "\"%s%s\""),
                 strcmp(r->pattern, "*") == 0 ? "" : PFX, r->pattern);
        set = set_of(docs, 1);
        snprintf(arn, sizeof(arn), PFX "%s", r->resource);
        d = policy_set_evaluate(set, POLICY_ACTION_PUBLISH, arn, NULL, NULL);
        if (d != (r->match ? POLICY_ALLOW : POLICY_DENY_IMPLICIT))
            fail_msg("row %zu: %s vs %s gave %d", i, r->pattern, r->resource, (int)d);
        policy_set_free(set);
    }
}

/* ---- evaluation rows ---------------------------------------------------- */

struct eval_row {
    const char *docs[3]; /* named p0, p1, p2 */
    enum ctx_id ctx;
    enum policy_action action;
    const char *resource; /* PFX is prepended unless it starts with arn: */
    enum policy_decision want;
    int want_by; /* index of the deciding policy, -1 for none */
};

static void run_rows(const struct eval_row *rows, size_t n)
{
    static const char *const names[] = { "p0", "p1", "p2" };
    char arn[512];
    size_t i, n_docs;

    for (i = 0; i < n; i++) {
        const struct eval_row *r = &rows[i];
        const struct policy_context *ctx = r->ctx == CTX_NONE ? NULL : &contexts[r->ctx];
        struct policy_set *set;
        const char *by = "unset";
        enum policy_decision d;

        for (n_docs = 0; n_docs < 3 && r->docs[n_docs]; n_docs++)
            ;
        set = set_of(r->docs, n_docs);
        d = policy_set_evaluate(set, r->action, full_arn(r->resource, arn, sizeof(arn)), ctx, &by);
        if (d != r->want)
            fail_msg("row %zu (%s %s): got %d, want %d", i, policy_action_name(r->action),
                     r->resource, (int)d, (int)r->want);
        if (r->want_by < 0)
            assert_null(by);
        else
            assert_string_equal(by, names[r->want_by]);
        policy_set_free(set);
    }
}

#define ROWS(rows) run_rows(rows, sizeof(rows) / sizeof(rows[0]))

static const struct eval_row variable_rows[] = {
    { { STMT("Allow", "\"iot:Publish\"", "\"" PFX "topic/${iot:ClientId}/*\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7/x",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"iot:Publish\"", "\"" PFX "topic/${iot:ClientId}/*\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-8/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* Variable names are case-insensitive. */
    { { STMT("Allow", "\"iot:Publish\"", "\"" PFX "topic/${IOT:clientid}/*\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7/x",
      POLICY_ALLOW,
      0 },
    /* A variable's value is literal text: a client ID "a*" is no wildcard. */
    { { STMT("Allow", "\"iot:Publish\"", "\"" PFX "topic/${iot:ClientId}/x\"") },
      CTX_STAR,
      POLICY_ACTION_PUBLISH,
      "topic/abc/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { STMT("Allow", "\"iot:Publish\"", "\"" PFX "topic/${iot:ClientId}/x\"") },
      CTX_STAR,
      POLICY_ACTION_PUBLISH,
      "topic/a*/x",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"iot:Connect\"", "\"" PFX "client/${iot:Connection.Thing.ThingName}\"") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"iot:Connect\"", "\"" PFX "client/${iot:Connection.Thing.ThingName}\"") },
      CTX_NO_THING,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { STMT("Allow", "\"iot:Publish\"",
             "\"" PFX "topic/${iot:Connection.Thing.ThingTypeName}/"
             "${iot:Connection.Thing.Attributes[floor]}\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/bulb/3",
      POLICY_ALLOW,
      0 },
    /* Thing type and attributes need a thing. */
    { { STMT("Allow", "\"iot:Publish\"",
             "\"" PFX "topic/${iot:Connection.Thing.ThingTypeName}\"") },
      CTX_NO_THING,
      POLICY_ACTION_PUBLISH,
      "topic/bulb",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { STMT("Allow", "\"iot:Publish\"",
             "\"" PFX "topic/${iot:Connection.Thing.Attributes[floor]}\"") },
      CTX_NO_THING,
      POLICY_ACTION_PUBLISH,
      "topic/3",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { STMT("Allow", "\"iot:Publish\"",
             "\"" PFX "topic/${iot:Connection.Thing.Attributes[colour]}\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* An attribute value "r*" is literal too. */
    { { STMT("Allow", "\"iot:Publish\"",
             "\"" PFX "topic/${iot:Connection.Thing.Attributes[room]}\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/r1",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { STMT("Allow", "\"iot:Publish\"",
             "\"" PFX "topic/${iot:CertificateId}/${iot:Certificate.Subject.CommonName}/"
             "${iot:Connection.Thing.IsAttached}\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/abc123/lamp-cn/true",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"iot:Publish\"", "\"" PFX "topic/${iot:Certificate.Issuer.CommonName}\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* An unresolved variable anywhere voids the statement, even if another
     * Resource entry would match. */
    { { STMT("Allow", "\"iot:Publish\"",
             "[\"" PFX "topic/${iot:Connection.Thing.ThingName}\",\"" PFX "topic/public\"]") },
      CTX_NO_THING,
      POLICY_ACTION_PUBLISH,
      "topic/public",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* ...and an unresolved Deny does not deny. */
    { { ALLOW_ALL,
        STMT("Deny", "\"iot:Publish\"", "\"" PFX "topic/${iot:Connection.Thing.ThingName}/*\"") },
      CTX_NO_THING,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7/x",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL,
        STMT("Deny", "\"iot:Publish\"", "\"" PFX "topic/${iot:Connection.Thing.ThingName}/*\"") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7/x",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL,
        STMT("Deny", "\"iot:Publish\"", "\"" PFX "topic/${iot:Connection.Thing.ThingName}/*\"") },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7/x",
      POLICY_ALLOW,
      0 },
    /* Without Version 2012-10-17, ${...} is literal text. */
    { { "{\"Version\":\"2008-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
        "\"Resource\":\"" PFX "topic/${iot:ClientId}\"}}" },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/${iot:ClientId}",
      POLICY_ALLOW,
      0 },
    { { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
        "\"Resource\":\"" PFX "topic/${iot:ClientId}\"}}" },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* ...where `*` inside `${*}` is a wildcard again. */
    { { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
        "\"Resource\":\"" PFX "topic/${*}\"}}" },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/${anything}",
      POLICY_ALLOW,
      0 },
};

static void test_variables(void **state)
{
    (void)state;
    ROWS(variable_rows);
}

static const struct eval_row not_rows[] = {
    { { STMT("Allow", "\"IOT:PUBLISH\"", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/x",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"iot:Pub*\"", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_RETAIN_PUBLISH,
      "topic/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { STMT("Allow", "\"iot:*publish\"", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_RETAIN_PUBLISH,
      "topic/x",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"iot:Rec?ive\"", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_RECEIVE,
      "topic/x",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "\"*\"", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_CONNECT,
      "client/x",
      POLICY_ALLOW,
      0 },
    { { STMT("Allow", "[\"s3:GetObject\",\"iot:Subscribe\"]", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":"
        "\"iot:Publish\",\"Resource\":\"*\"}}" },
      CTX_NONE,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/x",
      POLICY_ALLOW,
      0 },
    { { "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":"
        "\"iot:Publish\",\"Resource\":\"*\"}}" },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"NotAction\":"
        "\"s3:*\",\"Resource\":\"*\"}}" },
      CTX_NONE,
      POLICY_ACTION_RECEIVE,
      "topic/x",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Action\":"
                   "\"iot:Publish\",\"NotResource\":[\"" PFX "topic/ok/*\"]}}" },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/ok/1",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Deny\",\"Action\":"
                   "\"iot:Publish\",\"NotResource\":[\"" PFX "topic/ok/*\"]}}" },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/bad",
      POLICY_DENY_EXPLICIT,
      1 },
    /* Allow iot:Receive on everything except a subtree. */
    { { "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
        "\"iot:Receive\",\"NotResource\":\"" PFX "topic/private/*\"}}" },
      CTX_NONE,
      POLICY_ACTION_RECEIVE,
      "topic/private/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\",\"Action\":"
        "\"iot:Receive\",\"NotResource\":\"" PFX "topic/private/*\"}}" },
      CTX_NONE,
      POLICY_ACTION_RECEIVE,
      "topic/public/x",
      POLICY_ALLOW,
      0 },
    /* "iot: *" is accepted as AWS does, and kept as written: it names no
     * action, so it allows nothing. */
    { { STMT("Allow", "\"iot: *\"", "\"*\"") },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/x",
      POLICY_DENY_IMPLICIT,
      -1 },
};

static void test_not_action_not_resource(void **state)
{
    (void)state;
    ROWS(not_rows);
}

#define CONNECT_IF(cond) STMT_COND("Allow", "\"iot:Connect\"", "\"*\"", cond)

static const struct eval_row condition_rows[] = {
    { { CONNECT_IF("{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"true\"}}") },
      CTX_DETACHED,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"Bool\":{\"iot:Connection.Thing.IsAttached\":true}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"True\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    /* IsAttached is false without a thing, never absent. */
    { { CONNECT_IF("{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"false\"}}") },
      CTX_NONE,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    /* Several values: OR. */
    { { CONNECT_IF("{\"StringEquals\":{\"iot:ClientId\":[\"a\",\"lamp-7\"]}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringEquals\":{\"iot:ClientId\":\"lamp-*\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* Several keys, several operators: AND. */
    { { CONNECT_IF("{\"StringEquals\":{\"iot:ClientId\":\"lamp-7\","
                   "\"iot:Connection.Thing.ThingName\":\"other\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"StringEquals\":{\"iot:ClientId\":\"lamp-7\"},"
                   "\"StringLike\":{\"iot:Certificate.Subject.CommonName\":\"lamp-*\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringNotEquals\":{\"iot:Connection.Thing.ThingTypeName\":\"bulb\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* An absent key: negated operators hold, positive ones do not. */
    { { CONNECT_IF("{\"StringNotEquals\":{\"iot:Connection.Thing.ThingTypeName\":\"bulb\"}}") },
      CTX_NO_THING,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringEquals\":{\"aws:CurrentTime\":\"x\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"StringNotLike\":{\"aws:CurrentTime\":\"x\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringLike\":{\"iot:ClientId\":\"lamp-?\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringNotLike\":{\"iot:ClientId\":[\"x*\",\"lamp-*\"]}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"ArnLike\":{\"iot:ClientId\":\"lamp*\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"ArnEquals\":{\"iot:ClientId\":\"lamp-7\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"ArnNotLike\":{\"iot:ClientId\":\"lamp*\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"StringEquals\":{\"iot:Connection.Thing.Attributes[floor]\":\"3\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringEquals\":{\"iot:CertificateId\":\"abc123\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    /* A variable in a condition value. */
    { { CONNECT_IF("{\"StringEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringEquals\":{\"iot:ClientId\":\"${iot:Connection.Thing.ThingName}\"}}") },
      CTX_NO_THING,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"192.0.2.0/24\"]}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}") },
      CTX_DETACHED,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.7\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/31\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}") },
      CTX_V6,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"2001:db9::/32\"}}") },
      CTX_V6,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* An IPv4 client seen through a dual-stack socket. */
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}") },
      CTX_MAPPED,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}") },
      CTX_V6,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"NotIpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}") },
      CTX_DETACHED,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"NotIpAddress\":{\"aws:SourceIp\":\"192.0.2.0/24\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    /* No address, or one that does not parse: absent. */
    { { CONNECT_IF("{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}") },
      CTX_NO_THING,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { CONNECT_IF("{\"NotIpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}") },
      CTX_STAR,
      POLICY_ACTION_CONNECT,
      "client/a*",
      POLICY_ALLOW,
      0 },
    { { CONNECT_IF("{\"StringEquals\":{\"aws:SourceIp\":\"192.0.2.7\"}}") },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    /* A conditional Deny. */
    { { ALLOW_ALL, STMT_COND("Deny", "\"iot:*\"", "\"*\"",
                             "{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"false\"}}") },
      CTX_DETACHED,
      POLICY_ACTION_PUBLISH,
      "topic/x",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, STMT_COND("Deny", "\"iot:*\"", "\"*\"",
                             "{\"Bool\":{\"iot:Connection.Thing.IsAttached\":\"false\"}}") },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/x",
      POLICY_ALLOW,
      0 },
    /* Empty condition blocks constrain nothing. */
    { { CONNECT_IF("{}") }, CTX_NONE, POLICY_ACTION_CONNECT, "client/x", POLICY_ALLOW, 0 },
    { { CONNECT_IF("{\"StringEquals\":{}}") },
      CTX_NONE,
      POLICY_ACTION_CONNECT,
      "client/x",
      POLICY_ALLOW,
      0 },
};

static void test_conditions(void **state)
{
    (void)state;
    ROWS(condition_rows);
}

#define DENY_SECRET   STMT("Deny", "\"iot:Publish\"", "\"" PFX "topic/secret/*\"")
#define ALLOW_PUB_ALL STMT("Allow", "\"iot:Publish\"", "\"*\"")

static const struct eval_row deny_rows[] = {
    { { ALLOW_ALL, DENY_SECRET },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/secret/x",
      POLICY_DENY_EXPLICIT,
      1 },
    { { DENY_SECRET, ALLOW_ALL },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/secret/x",
      POLICY_DENY_EXPLICIT,
      0 },
    { { DENY_SECRET, ALLOW_ALL }, CTX_NONE, POLICY_ACTION_PUBLISH, "topic/open", POLICY_ALLOW, 1 },
    { { ALLOW_PUB_ALL, ALLOW_ALL, DENY_SECRET },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/open",
      POLICY_ALLOW,
      0 },
    { { ALLOW_PUB_ALL, ALLOW_ALL, DENY_SECRET },
      CTX_NONE,
      POLICY_ACTION_PUBLISH,
      "topic/secret/",
      POLICY_DENY_EXPLICIT,
      2 },
    { { DENY_SECRET }, CTX_NONE, POLICY_ACTION_PUBLISH, "topic/open", POLICY_DENY_IMPLICIT, -1 },
    { { DENY_SECRET },
      CTX_NONE,
      POLICY_ACTION_RECEIVE,
      "topic/secret/x",
      POLICY_DENY_IMPLICIT,
      -1 },
    { { NULL }, CTX_NONE, POLICY_ACTION_CONNECT, "client/x", POLICY_DENY_IMPLICIT, -1 },
    /* Deny and Allow in one document. */
    { { "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\","
        "\"Resource\":\"*\"},{\"Effect\":\"Deny\",\"Action\":\"iot:Subscribe\",\"Resource\":"
        "\"" PFX "topicfilter/#\"}]}" },
      CTX_NONE,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/#",
      POLICY_DENY_EXPLICIT,
      0 },
};

static void test_deny_wins(void **state)
{
    (void)state;
    ROWS(deny_rows);
}

/* Reference section 7: the device's own Allow iot:* plus a group policy. */
static const struct eval_row quarantine_rows[] = {
    { { ALLOW_ALL, QUARANTINE_HARD },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_HARD },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/$aws/things/lamp-7/defender/metrics/json",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_HARD },
      CTX_LAMP,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/#",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_HARD },
      CTX_LAMP,
      POLICY_ACTION_RECEIVE,
      "topic/a",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_HARD },
      CTX_LAMP,
      POLICY_ACTION_RETAIN_PUBLISH,
      "topic/a",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_CONNECT,
      "client/lamp-7",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/lamp-7/telemetry",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_RETAIN_PUBLISH,
      "topic/lamp-7/telemetry",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/$aws/things/lamp-7/defender/metrics/json",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/$aws/things/lamp-7/defender/metrics/json/accepted",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/$aws/things/lamp-7/shadow/update",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/$aws/things/lamp-7/shadow/#",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_RECEIVE,
      "topic/$aws/things/lamp-7/shadow/update/delta",
      POLICY_ALLOW,
      0 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/#",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_SUBSCRIBE,
      "topicfilter/$aws/#",
      POLICY_DENY_EXPLICIT,
      1 },
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_RECEIVE,
      "topic/lamp-7/cmd",
      POLICY_DENY_EXPLICIT,
      1 },
    /* Other reserved topics stay closed. */
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "topic/$aws/things/lamp-7/jobs/get",
      POLICY_DENY_EXPLICIT,
      1 },
    /* In another region and account too: the ARNs use wildcards. */
    { { ALLOW_ALL, QUARANTINE_TRAFFIC },
      CTX_LAMP,
      POLICY_ACTION_PUBLISH,
      "arn:aws:iot:eu-west-1:000000000000:topic/$aws/things/x/shadow/get",
      POLICY_ALLOW,
      0 },
};

static void test_quarantine_policies(void **state)
{
    (void)state;
    ROWS(quarantine_rows);
}

/* The walk-through of reference section 7, with set swaps standing for the
 * engine rebuilding the snapshot when lamp-7 joins and leaves Quarantine. */
static void test_quarantine_walkthrough(void **state)
{
    static const char *const normal[] = { ALLOW_ALL };
    static const char *const quarantined[] = { ALLOW_ALL, QUARANTINE_HARD };

    static const struct {
        bool in_quarantine;
        enum policy_action action;
        const char *resource;
        enum policy_decision want;
    } steps[] = {
        { false, POLICY_ACTION_CONNECT, PFX "client/lamp-7", POLICY_ALLOW },
        { false, POLICY_ACTION_SUBSCRIBE, PFX "topicfilter/lamp-7/cmd", POLICY_ALLOW },
        { false, POLICY_ACTION_PUBLISH, PFX "topic/lamp-7/telemetry", POLICY_ALLOW },
        { true, POLICY_ACTION_PUBLISH, PFX "topic/lamp-7/telemetry", POLICY_DENY_EXPLICIT },
        { true, POLICY_ACTION_CONNECT, PFX "client/lamp-7", POLICY_DENY_EXPLICIT },
        { true, POLICY_ACTION_RECEIVE, PFX "topic/lamp-7/cmd", POLICY_DENY_EXPLICIT },
        { false, POLICY_ACTION_CONNECT, PFX "client/lamp-7", POLICY_ALLOW },
        { false, POLICY_ACTION_RECEIVE, PFX "topic/lamp-7/cmd", POLICY_ALLOW },
    };
    struct policy_set *sets[2];
    const char *by;
    size_t i;

    (void)state;
    sets[0] = set_of(normal, 1);
    sets[1] = set_of(quarantined, 2);
    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        enum policy_decision d = policy_set_evaluate(sets[steps[i].in_quarantine], steps[i].action,
                                                     steps[i].resource, &contexts[CTX_LAMP], &by);

        if (d != steps[i].want)
            fail_msg("step %zu: got %d, want %d", i, (int)d, (int)steps[i].want);
        assert_string_equal(by, steps[i].in_quarantine ? "p1" : "p0");
    }
    policy_set_free(sets[0]);
    policy_set_free(sets[1]);
}

/* ---- validation --------------------------------------------------------- */

static const struct valid_row {
    const char *doc;
    size_t max_chars;
    int want;
    const char *msg; /* a substring of the reason */
} valid_rows[] = {
    { ALLOW_ALL, POLICY_MAX_CHARS, DD_OK, "" },
    { QUARANTINE_HARD, POLICY_MAX_CHARS, DD_OK, "" },
    { QUARANTINE_TRAFFIC, POLICY_MAX_CHARS, DD_OK, "" },
    { "{\"Version\":\"2008-10-17\",\"Id\":\"x\",\"Statement\":[]}", 0, DD_OK, "" },
    { " {\"Statement\":{\"Sid\":\"s1\",\"Effect\":\"Deny\",\"NotAction\":[\"iot:Connect\","
      "\"s3:Get*\"],\"NotResource\":\"*\",\"Condition\":{\"Bool\":{\"k\":false},"
      "\"StringLike\":{\"k\":[\"${*}\"]},\"NotIpAddress\":{\"aws:SourceIp\":[\"::1\","
      "\"fe80::/10\"]}}}}\n",
      0, DD_OK, "" },
    { STMT("Allow", "[\"iot: *\", \"iot:Get Thing?\"]", "\"*\""), 0, DD_OK, "" },
    /* The limit counts characters other than white space. */
    { "{ \"Statement\" : [ ] }", 16, DD_OK, "" },
    { "{ \"Statement\" : [ ] }", 15, DD_ERR_MALFORMED_POLICY, "16 characters" },
    { "{\"Statement\":[],\"Id\":\"\xc3\xa9\xc3\xa9\"}", 26, DD_OK, "" },
    { "", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON (at byte 0)" },
    { "{", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "nul", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "{} x", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON (at byte 3)" },
    { "{\"Statement\":[],}", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "{\"Statement\":[01]}", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "{\"Id\":\"\\ud800\",\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "{\"Id\":\"\\udc00\",\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "{\"Id\":\"\\ud83d\\ude00\\n\",\"Statement\":[]}", 0, DD_OK, "" },
    { "{\"Id\":\"\\x\",\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "{\"Id\":\"a\tb\",\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "[1234567890123456789012345678901234567890123456789012345678901234567890]", 0,
      DD_ERR_MALFORMED_POLICY, "not valid JSON" },
    { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
      0, DD_ERR_MALFORMED_POLICY, "nested too deeply" },
    { "[-1.5e+3, true, false, null, {}]", 0, DD_ERR_MALFORMED_POLICY, "must be a JSON object" },
    { "{\"Statement\":[],\"Foo\":1}", 0, DD_ERR_MALFORMED_POLICY, "unknown key \"Foo\"" },
    { "{\"Statement\":[],\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY,
      "duplicate key \"Statement\"" },
    { "{\"Version\":\"2020-01-01\",\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "Version" },
    { "{\"Version\":5,\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "Version" },
    { "{\"Id\":5,\"Statement\":[]}", 0, DD_ERR_MALFORMED_POLICY, "Id must be a string" },
    { "{\"Version\":\"2012-10-17\"}", 0, DD_ERR_MALFORMED_POLICY, "missing Statement" },
    { "{\"Statement\":\"x\"}", 0, DD_ERR_MALFORMED_POLICY, "object or an array" },
    { "{\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"},7]}", 0,
      DD_ERR_MALFORMED_POLICY, "Statement[1] must be an object" },
    { "{\"Statement\":{\"Action\":\"iot:*\",\"Resource\":\"*\"}}", 0, DD_ERR_MALFORMED_POLICY,
      "Statement[0]: missing Effect" },
    { STMT("allow", "\"iot:*\"", "\"*\""), 0, DD_ERR_MALFORMED_POLICY, "Effect must be" },
    { "{\"Statement\":{\"Effect\":true,\"Action\":\"iot:*\",\"Resource\":\"*\"}}", 0,
      DD_ERR_MALFORMED_POLICY, "Effect must be" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Resource\":\"*\"}}", 0, DD_ERR_MALFORMED_POLICY,
      "exactly one of Action and NotAction" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"NotAction\":\"iot:*\","
      "\"Resource\":\"*\"}}",
      0, DD_ERR_MALFORMED_POLICY, "exactly one of Action and NotAction" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\"}}", 0, DD_ERR_MALFORMED_POLICY,
      "exactly one of Resource and NotResource" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\","
      "\"NotResource\":\"*\"}}",
      0, DD_ERR_MALFORMED_POLICY, "exactly one of Resource and NotResource" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\","
      "\"Principal\":\"*\"}}",
      0, DD_ERR_MALFORMED_POLICY, "Statement[0]: unknown key \"Principal\"" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\",\"Sid\":1}}", 0,
      DD_ERR_MALFORMED_POLICY, "Sid must be a string" },
    { STMT("Allow", "[]", "\"*\""), 0, DD_ERR_MALFORMED_POLICY, "Action must not be empty" },
    { STMT("Allow", "7", "\"*\""), 0, DD_ERR_MALFORMED_POLICY,
      "Action must be a string or an array" },
    { STMT("Allow", "[\"iot:*\",7]", "\"*\""), 0, DD_ERR_MALFORMED_POLICY,
      "Action must contain only strings" },
    { STMT("Allow", "\"Publish\"", "\"*\""), 0, DD_ERR_MALFORMED_POLICY,
      "\"Publish\" is not an action name" },
    { STMT("Allow", "\"iot:\"", "\"*\""), 0, DD_ERR_MALFORMED_POLICY, "not an action name" },
    { STMT("Allow", "\":Publish\"", "\"*\""), 0, DD_ERR_MALFORMED_POLICY, "not an action name" },
    { STMT("Allow", "\"iot:  \"", "\"*\""), 0, DD_ERR_MALFORMED_POLICY, "not an action name" },
    { STMT("Allow", "\"iot:Pub\\tlish\"", "\"*\""), 0, DD_ERR_MALFORMED_POLICY,
      "not an action name" },
    { STMT("Allow", "\"iot:*\"", "\"topic/x\""), 0, DD_ERR_MALFORMED_POLICY,
      "resource \"topic/x\" is not \"*\" or an ARN" },
    { STMT("Allow", "\"iot:*\"", "[\"*\",{}]"), 0, DD_ERR_MALFORMED_POLICY,
      "Resource must contain only strings" },
    { "{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"NotResource\":[]}}", 0,
      DD_ERR_MALFORMED_POLICY, "NotResource must not be empty" },
    { STMT("Allow", "\"iot:*\"", "\"" PFX "topic/${iot:ClientId\""), 0, DD_ERR_MALFORMED_POLICY,
      "without a closing brace" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "[]"), 0, DD_ERR_MALFORMED_POLICY,
      "Condition must be an object" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"x\"}}"),
      0, DD_ERR_MALFORMED_POLICY, "unsupported condition operator \"DateGreaterThan\"" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"Bool\":true}"), 0, DD_ERR_MALFORMED_POLICY,
      "Condition.Bool must be an object" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"Bool\":{\"a\":\"true\"},\"Bool\":{}}"), 0,
      DD_ERR_MALFORMED_POLICY, "duplicate key \"Bool\"" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"StringEquals\":{\"iot:ClientId\":5}}"), 0,
      DD_ERR_MALFORMED_POLICY, "Condition.iot:ClientId must be a string" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"StringEquals\":{\"iot:ClientId\":[\"a\",5]}}"),
      0, DD_ERR_MALFORMED_POLICY, "must contain only strings" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"StringEquals\":{\"iot:ClientId\":[]}}"), 0,
      DD_ERR_MALFORMED_POLICY, "must not be empty" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"300.1.1.1\"}}"),
      0, DD_ERR_MALFORMED_POLICY, "\"300.1.1.1\" is not an IP address or CIDR" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"",
                "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}"),
      0, DD_ERR_MALFORMED_POLICY, "not an IP address" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"::/129\"}}"), 0,
      DD_ERR_MALFORMED_POLICY, "not an IP address" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/\"}}"),
      0, DD_ERR_MALFORMED_POLICY, "not an IP address" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"/8\"}}"), 0,
      DD_ERR_MALFORMED_POLICY, "not an IP address" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"",
                "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8x\"}}"),
      0, DD_ERR_MALFORMED_POLICY, "not an IP address" },
    { STMT_COND("Allow", "\"iot:*\"", "\"*\"", "{\"StringLike\":{\"k\":\"${oops\"}}"), 0,
      DD_ERR_MALFORMED_POLICY, "without a closing brace" },
};

static void test_validation_rows(void **state)
{
    struct dd_errbuf eb;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(valid_rows) / sizeof(valid_rows[0]); i++) {
        const struct valid_row *r = &valid_rows[i];

        eb.msg[0] = '\0';
        rc = policy_validate(r->doc, strlen(r->doc), r->max_chars, &eb);
        if (rc != r->want || !strstr(eb.msg, r->msg))
            fail_msg("row %zu: rc %d (want %d), \"%s\" (want \"%s\")", i, rc, r->want, eb.msg,
                     r->msg);
    }
    /* Not NUL-terminated, and a NUL inside the length. */
    assert_int_equal(policy_validate(ALLOW_ALL "garbage", strlen(ALLOW_ALL), 0, NULL), DD_OK);
    assert_int_equal(policy_validate("{\"Statement\":[]}\0", 17, 0, NULL), DD_ERR_MALFORMED_POLICY);
}

static void test_set_errors_clear_out(void **state)
{
    struct policy_source srcs[2] = {
        { "good", ALLOW_ALL, strlen(ALLOW_ALL) },
        { "bad", "{\"Statement\":{}}", 16 },
    };
    struct policy_set *set = (struct policy_set *)&srcs;
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(policy_set_new(srcs, 2, &set, &eb), DD_ERR_MALFORMED_POLICY);
    assert_null(set);
    assert_string_equal(eb.msg, "policy bad: Statement[0]: missing Effect");
    assert_int_equal(policy_set_new(NULL, 0, &set, NULL), DD_OK);
    assert_int_equal(policy_set_evaluate(set, POLICY_ACTION_CONNECT, PFX "client/x", NULL, NULL),
                     POLICY_DENY_IMPLICIT);
    assert_int_equal(policy_set_evaluate(set, (enum policy_action)99, "*", NULL, NULL),
                     POLICY_DENY_IMPLICIT);
    policy_set_free(set);
    policy_set_free(NULL);
    assert_int_equal(policy_set_evaluate(NULL, POLICY_ACTION_CONNECT, "x", NULL, NULL),
                     POLICY_DENY_IMPLICIT);
}

/* ---- the ARN helper ----------------------------------------------------- */

static void test_resource_arn(void **state)
{
    static const struct {
        enum policy_action action;
        const char *name;
        size_t size;
        int want;
        const char *arn;
    } rows[] = {
        { POLICY_ACTION_CONNECT, "lamp-7", 64, DD_OK, PFX "client/lamp-7" },
        { POLICY_ACTION_PUBLISH, "a/b", 64, DD_OK, PFX "topic/a/b" },
        { POLICY_ACTION_RETAIN_PUBLISH, "a/b", 64, DD_OK, PFX "topic/a/b" },
        { POLICY_ACTION_RECEIVE, "$aws/x", 64, DD_OK, PFX "topic/$aws/x" },
        { POLICY_ACTION_SUBSCRIBE, "a/+/#", 64, DD_OK, PFX "topicfilter/a/+/#" },
        { POLICY_ACTION_PUBLISH, "ab", sizeof(PFX "topic/ab"), DD_OK, PFX "topic/ab" },
        { POLICY_ACTION_PUBLISH, "abc", sizeof(PFX "topic/ab"), DD_ERR_TOO_LARGE, "" },
        { POLICY_ACTION_PUBLISH, "", 10, DD_ERR_TOO_LARGE, "" },
        { POLICY_ACTION_PUBLISH, "", 1, DD_ERR_TOO_LARGE, "" },
        { (enum policy_action)42, "x", 64, DD_ERR_INVALID, "" },
    };

    char buf[64];
    size_t i, len;

    (void)state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        memset(buf, 'z', sizeof(buf));
        len = 99;
        assert_int_equal(policy_resource_arn(buf, rows[i].size, "us-east-1", "123456789012",
                                             rows[i].action, rows[i].name, &len),
                         rows[i].want);
        assert_string_equal(buf, rows[i].arn);
        assert_int_equal(len, strlen(rows[i].arn));
    }
    assert_int_equal(policy_resource_arn(buf, 0, "r", "a", POLICY_ACTION_PUBLISH, "t", NULL),
                     DD_ERR_TOO_LARGE);
    assert_int_equal(
        policy_resource_arn(buf, sizeof(buf), "r", "a", POLICY_ACTION_PUBLISH, "t", NULL), DD_OK);
    assert_string_equal(buf, "arn:aws:iot:r:a:topic/t");
    assert_string_equal(policy_action_name(POLICY_ACTION_RETAIN_PUBLISH), "iot:RetainPublish");
    assert_string_equal(policy_action_name((enum policy_action) - 1), "");
}

/* ---- allocation ---------------------------------------------------------- */

static const char *const sweep_docs[] = {
    ALLOW_ALL,
    QUARANTINE_TRAFFIC,
    STMT_COND("Allow", "[\"iot:Connect\",\"iot:Publish\"]",
              "[\"" PFX "client/${iot:ClientId}\",\"" PFX "topic/${iot:Connection.Thing."
              "Attributes[floor]}/${*}x\"]",
              "{\"StringLike\":{\"iot:Connection.Thing.Attributes[room]\":[\"r*\",\"s?\"]},"
              "\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"2001:db8::/32\"]},"
              "\"Bool\":{\"iot:Connection.Thing.IsAttached\":true}}"),
};

static int validate_case(void *ctx)
{
    const char *doc = sweep_docs[*(const size_t *)ctx];

    return policy_validate(doc, strlen(doc), POLICY_MAX_CHARS, NULL);
}

static int set_case(void *ctx)
{
    struct policy_source srcs[3];
    struct policy_set *set = NULL;
    size_t i;
    int rc;

    (void)ctx;
    for (i = 0; i < 3; i++)
        srcs[i] = (struct policy_source){ "p", sweep_docs[i], strlen(sweep_docs[i]) };
    rc = policy_set_new(srcs, 3, &set, NULL);
    if (rc)
        assert_null(set);
    policy_set_free(set);
    return rc;
}

static void test_alloc_failures(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++)
        assert_true(alloc_fail_sweep(validate_case, &i) > 0);
    assert_true(alloc_fail_sweep(set_case, NULL) > 0);
}

struct eval_ctx {
    struct policy_set *set;
    long decisions; /* sum of results, so the calls are not optimised out */
};

static int evaluate_case(void *ctx)
{
    static const char *const resources[] = {
        PFX "client/lamp-7",
        PFX "topic/3/*x",
        PFX "topic/$aws/things/lamp-7/shadow/update",
        PFX "topicfilter/#",
    };
    struct eval_ctx *e = ctx;
    size_t r;
    int a;

    for (a = POLICY_ACTION_CONNECT; a <= POLICY_ACTION_RECEIVE; a++) {
        for (r = 0; r < 4; r++) {
            e->decisions += policy_set_evaluate(e->set, (enum policy_action)a, resources[r],
                                                &contexts[CTX_LAMP], NULL);
            e->decisions += policy_set_evaluate(e->set, (enum policy_action)a, resources[r],
                                                &contexts[CTX_MAPPED], NULL);
        }
    }
    return DD_OK;
}

static void test_evaluation_does_not_allocate(void **state)
{
    struct eval_ctx e = { NULL, 0 };
    long live;

    (void)state;
    e.set = set_of(sweep_docs, 3);
    live = alloc_live_blocks();
    /* The sweep's clean run counts every malloc/calloc/realloc call. */
    assert_int_equal(alloc_fail_sweep(evaluate_case, &e), 0);
    assert_int_equal(alloc_live_blocks(), live);
    assert_true(e.decisions > 0);
    policy_set_free(e.set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_variables),
        cmocka_unit_test(test_not_action_not_resource),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_deny_wins),
        cmocka_unit_test(test_quarantine_policies),
        cmocka_unit_test(test_quarantine_walkthrough),
        cmocka_unit_test(test_validation_rows),
        cmocka_unit_test(test_set_errors_clear_out),
        cmocka_unit_test(test_resource_arn),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_evaluation_does_not_allocate),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
