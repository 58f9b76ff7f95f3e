/* SPDX-License-Identifier: MIT */
/* api_policies.c: the AWS IoT policy operations: policies and their
 * versions, attachments to thing groups and certificates, and the effective
 * policies of a thing (aws-api.md 2.7; iot-policy.md 1 and 6).
 *
 * Every document is checked with core/policy's grammar before anything is
 * written, so a malformed policy is answered with MalformedPolicyException
 * and leaves the database as it was. Targets arrive as ARNs and are stored
 * as (kind, name); ARNs in answers are rebuilt from the configured region
 * and account. Marker pagination uses core/paging key tokens: the creation
 * sequence for ListPolicies, the last name or target otherwise.
 *
 * ListPolicies order: the model says ascendingOrder=true gives "ascending
 * creation order"; without it (or false) we list newest first, the order
 * AWS's own CLI example shows. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "core/paging.h"
#include "core/policy.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/iot/api_registry.h"
#include "server/iot/api_tags.h"
#include "server/server.h"
#include "store/iot/store_policies.h"

#define DEFAULT_PAGE_SIZE 250

static int check_policy_name(struct request *req, const char **name)
{
    return handler_param_name(req, NAMES_POLICY_NAME, "policyName", name);
}

/* The policyDocument member: present, within the model's length, and a
 * policy by the grammar (MalformedPolicyException otherwise). */
static int check_document(struct request *req, const cJSON *body, const char **doc)
{
    int rc = handler_member_string(req, body, "policyDocument", NULL, doc);

    if (!rc)
        rc = names_check(NAMES_POLICY_DOCUMENT, "policyDocument", *doc, &req->eb);
    if (!rc)
        rc = policy_validate(*doc, strlen(*doc), POLICY_MAX_CHARS, &req->eb);
    return rc;
}

/* A version id from the path: [0-9]+ and within int64. */
static int check_version_id(struct request *req, int64_t *out)
{
    const char *v = request_param(req, "policyVersionId");
    char *end;
    long long n;

    *out = 0;
    errno = 0;
    if (!v || !*v || strspn(v, "0123456789") != strlen(v))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value '%.32s' at 'policyVersionId' failed "
                       "to satisfy constraint: Member must satisfy regular expression pattern: "
                       "[0-9]+",
                       v ? v : "");
    n = strtoll(v, &end, 10);
    if (errno)
        return dd_fail(&req->eb, DD_ERR_NOT_FOUND, "Policy version %s not found", v);
    *out = n;
    return DD_OK;
}

/* Split a target ARN (field names the member) into kind and name; only
 * thing groups and certificates of this region and account are targets.
 * name must hold 129 bytes. */
static int parse_target(struct request *req, const char *field, const char *arn,
                        enum store_target_kind *kind, char *name)
{
    struct names_arn a;
    int rc;

    name[0] = '\0';
    *kind = STORE_TARGET_THING_GROUP;
    rc = names_arn_parse(field, arn, &a, &req->eb);
    if (rc)
        return rc;
    if (a.type != NAMES_ARN_THING_GROUP && a.type != NAMES_ARN_CERT)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "%s must be a thing group ARN (arn:aws:iot:REGION:ACCOUNT:thinggroup/NAME) "
                       "or a certificate ARN (arn:aws:iot:REGION:ACCOUNT:cert/ID)",
                       field);
    if (strcmp(a.region, req->region) != 0 || strcmp(a.account, req->account) != 0)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "%s %s is not in this emulator's region %s and account %s", field, arn,
                       req->region, req->account);
    *kind = a.type == NAMES_ARN_CERT ? STORE_TARGET_CERT : STORE_TARGET_THING_GROUP;
    memcpy(name, a.name, sizeof(a.name));
    return DD_OK;
}

static cJSON *add_id(cJSON *o, const char *field, int64_t id)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRId64, id);
    return cJSON_AddStringToObject(o, field, buf);
}

/* Add {"policyName", "policyArn"} objects for names to array field of o. */
static int add_policy_list(struct request *req, cJSON *o, const char *field,
                           const struct store_name_page *names)
{
    char arn[NAMES_ARN_SIZE];
    cJSON *arr = cJSON_AddArrayToObject(o, field);
    size_t i;

    if (!arr)
        return DD_ERR_NOMEM;
    for (i = 0; i < names->n; i++) {
        cJSON *p = handler_add_object(arr);

        if (!p)
            return DD_ERR_NOMEM;
        if (handler_arn(req, NAMES_ARN_POLICY, names->v[i], arn))
            return DD_ERR_INTERNAL;
        if (!cJSON_AddStringToObject(p, "policyName", names->v[i]) ||
            !cJSON_AddStringToObject(p, "policyArn", arn))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* A marker-paged listing's arguments after its own: pageSize into *limit
 * and the marker under scope into key (PAGING_KEY_MAX + 1 bytes, "" when
 * absent). */
static int marker_page(struct request *req, const char *scope, size_t *limit, char *key)
{
    int rc = request_query_count(req, "pageSize", NAMES_PAGE_SIZE, DEFAULT_PAGE_SIZE, limit);

    key[0] = '\0';
    return rc ? rc : request_query_key(req, "marker", scope, key, PAGING_KEY_MAX + 1);
}

/* Answer with the page in o (built with rc so far), adding nextMarker for
 * last under scope when more rows follow; frees o. */
static int respond_marker_page(struct request *req, struct response *res, cJSON *o, int rc,
                               const char *scope, bool more, const char *last)
{
    return handler_respond_page(req, res, o, rc, "nextMarker", scope, more ? last : NULL);
}

static int list_policies(struct request *req, struct response *res)
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1], last[24];
    const char *scope;
    int64_t after = -1;
    bool ascending;
    struct store *s;
    cJSON *o = NULL;
    size_t limit;
    int rc;

    rc = request_query_bool(req, "isAscendingOrder", false, &ascending);
    if (rc)
        return rc;
    scope = ascending ? "ListPolicies:ascending" : "ListPolicies:descending";
    rc = marker_page(req, scope, &limit, key);
    if (!rc && key[0])
        rc = request_key_number(req, key, "marker", &after);
    if (rc)
        return rc;
    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = store_policy_list(s, ascending, after, limit, &names);
    if (rc)
        return rc;
    snprintf(last, sizeof(last), "%" PRId64, names.last_seq);
    o = cJSON_CreateObject();
    rc = respond_marker_page(req, res, o, o ? add_policy_list(req, o, "policies", &names) : DD_OK,
                             scope, names.more, last);
    store_name_page_cleanup(&names);
    return rc;
}

/* One operation on a policy or one of its versions (handler_run's op). */
struct op {
    const char *name;               /* borrowed from the path */
    int64_t id;                     /* the version in the path */
    const char *doc;                /* borrowed from the body */
    bool set_default;               /* CreatePolicyVersion's setAsDefault */
    enum store_target_kind kind;    /* of the target */
    char target[129];               /* its name */
    struct store_policy policy;     /* owned: what the store answered */
    struct store_policy_version v;  /* owned: what the store answered */
    struct store_policy_versions l; /* owned: what the store answered */
};

static int check_name(struct handler *h)
{
    return check_policy_name(h->req, &((struct op *)h->op)->name);
}

/* The policy name and the version id of the path. */
static int check_version(struct handler *h)
{
    int rc = check_name(h);

    return rc ? rc : check_version_id(h->req, &((struct op *)h->op)->id);
}

/* CreatePolicy: the name, tags and the document. */
static int check_create(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = handler_tags(h->req, h->body, "", "tags.member.", NULL);
    if (!rc)
        rc = check_document(h->req, h->body, &op->doc);
    return rc;
}

/* CreatePolicyVersion: the name, setAsDefault and the document. */
static int check_create_version(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_name(h);

    if (!rc)
        rc = request_query_bool(h->req, "setAsDefault", false, &op->set_default);
    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = check_document(h->req, h->body, &op->doc);
    return rc;
}

/* AttachPolicy and DetachPolicy: the name and {"target": ARN}. */
static int check_attach(struct handler *h)
{
    struct op *op = h->op;
    const char *target = NULL;
    int rc = check_name(h);

    if (!rc)
        rc = handler_body(h);
    if (!rc)
        rc = handler_member_string(h->req, h->body, "target", NULL, &target);
    if (!rc)
        rc = parse_target(h->req, "target", target, &op->kind, op->target);
    return rc;
}

/* A principal of the deprecated principal-policy operations: a
 * certificate ARN of this partition (Cognito identities are not
 * emulated). */
static int parse_principal(struct request *req, const char *arn, enum store_target_kind *kind,
                           char *name)
{
    int rc = parse_target(req, "principal", arn, kind, name);

    if (!rc && *kind != STORE_TARGET_CERT)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "principal must be a certificate ARN (arn:aws:iot:REGION:ACCOUNT:cert/ID)");
    return rc;
}

/* AttachPrincipalPolicy and DetachPrincipalPolicy (deprecated forms of
 * AttachPolicy and DetachPolicy): the name, and the principal in the
 * x-amzn-iot-principal header. */
static int check_attach_principal(struct handler *h)
{
    struct op *op = h->op;
    int rc = check_name(h);

    if (!rc)
        rc = parse_principal(h->req, request_header(h->req, "x-amzn-iot-principal"), &op->kind,
                             op->target);
    return rc;
}

static int create_call(struct handler *h)
{
    struct op *op = h->op;

    int rc = store_policy_create(h->s, op->name, op->doc, request_now_ms(h->req), &h->req->eb);

    return rc ? rc : api_tags_create(h, NAMES_ARN_POLICY, op->name);
}

static int get_call(struct handler *h)
{
    struct op *op = h->op;

    return store_policy_get(h->s, op->name, &op->policy, &h->req->eb);
}

static int delete_call(struct handler *h)
{
    return store_policy_delete(h->s, ((struct op *)h->op)->name, &h->req->eb);
}

static int create_version_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_policy_version_create(h->s, op->name, op->doc, op->set_default,
                                         request_now_ms(h->req), &op->v, &h->req->eb);

    /* The model's own shape (409), which CLI v2 does not retry. */
    handler_error_as(h->req, h->res, &rc, DD_ERR_LIMIT, 409, "VersionsLimitExceededException");
    return rc;
}

static int get_version_call(struct handler *h)
{
    struct op *op = h->op;

    return store_policy_version_get(h->s, op->name, op->id, &op->v, &h->req->eb);
}

static int list_versions_call(struct handler *h)
{
    struct op *op = h->op;

    return store_policy_versions_list(h->s, op->name, &op->l, &h->req->eb);
}

static int set_default_call(struct handler *h)
{
    struct op *op = h->op;

    return store_policy_version_set_default(h->s, op->name, op->id, request_now_ms(h->req),
                                            &h->req->eb);
}

static int delete_version_call(struct handler *h)
{
    struct op *op = h->op;

    return store_policy_version_delete(h->s, op->name, op->id, &h->req->eb);
}

static int attach_call(struct handler *h)
{
    struct op *op = h->op;
    int rc = DD_OK;

    /* AWS: "Dynamic thing groups can't have policies applied to them." A
     * group that does not exist is the attach's own not-found. */
    if (op->kind == STORE_TARGET_THING_GROUP)
        rc = api_registry_group_kind(h->req, h->s, op->target, false);
    if (rc && rc != DD_ERR_NOT_FOUND)
        return rc;
    return store_policy_attach(h->s, op->name, op->kind, op->target, &h->req->eb);
}

static int detach_call(struct handler *h)
{
    struct op *op = h->op;

    return store_policy_detach(h->s, op->name, op->kind, op->target, &h->req->eb);
}

static int render_created(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;
    char arn[NAMES_ARN_SIZE];

    if (handler_arn(h->req, NAMES_ARN_POLICY, op->name, arn))
        return DD_ERR_INTERNAL;
    if (!cJSON_AddStringToObject(o, "policyName", op->name) ||
        !cJSON_AddStringToObject(o, "policyArn", arn) ||
        !cJSON_AddStringToObject(o, "policyDocument", op->doc) ||
        !cJSON_AddStringToObject(o, "policyVersionId", "1"))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int render_policy(struct handler *h, cJSON *o)
{
    const struct store_policy *p = &((struct op *)h->op)->policy;
    char arn[NAMES_ARN_SIZE], gen[24];

    if (handler_arn(h->req, NAMES_ARN_POLICY, p->name, arn))
        return DD_ERR_INTERNAL;
    snprintf(gen, sizeof(gen), "%" PRId64, p->generation);
    if (!cJSON_AddStringToObject(o, "policyName", p->name) ||
        !cJSON_AddStringToObject(o, "policyArn", arn) ||
        !cJSON_AddStringToObject(o, "policyDocument", p->document) ||
        !add_id(o, "defaultVersionId", p->default_version) ||
        handler_add_seconds(o, "creationDate", p->created_ms) ||
        handler_add_seconds(o, "lastModifiedDate", p->modified_ms) ||
        !cJSON_AddStringToObject(o, "generationId", gen))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* A version as CreatePolicyVersion (full false) and GetPolicyVersion
 * answer it. */
static int render_version(struct handler *h, cJSON *o, bool full)
{
    const struct op *op = h->op;
    const struct store_policy_version *v = &op->v;
    char arn[NAMES_ARN_SIZE], gen[24];

    if (handler_arn(h->req, NAMES_ARN_POLICY, op->name, arn))
        return DD_ERR_INTERNAL;
    snprintf(gen, sizeof(gen), "%" PRId64, v->policy_generation);
    if (!cJSON_AddStringToObject(o, "policyArn", arn) ||
        (full && !cJSON_AddStringToObject(o, "policyName", op->name)) ||
        !cJSON_AddStringToObject(o, "policyDocument", v->document) ||
        !add_id(o, "policyVersionId", v->version) ||
        !cJSON_AddBoolToObject(o, "isDefaultVersion", v->is_default))
        return DD_ERR_NOMEM;
    if (full && (handler_add_seconds(o, "creationDate", v->created_ms) ||
                 handler_add_seconds(o, "lastModifiedDate", v->policy_modified_ms) ||
                 !cJSON_AddStringToObject(o, "generationId", gen)))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int render_new_version(struct handler *h, cJSON *o)
{
    return render_version(h, o, false);
}

static int render_full_version(struct handler *h, cJSON *o)
{
    return render_version(h, o, true);
}

static int render_versions(struct handler *h, cJSON *o)
{
    const struct store_policy_versions *l = &((struct op *)h->op)->l;
    cJSON *arr = cJSON_AddArrayToObject(o, "policyVersions");
    size_t i;

    if (!arr)
        return DD_ERR_NOMEM;
    for (i = 0; i < l->n; i++) {
        cJSON *v = handler_add_object(arr);

        if (!v || !add_id(v, "versionId", l->v[i].version) ||
            !cJSON_AddBoolToObject(v, "isDefaultVersion", l->v[i].is_default) ||
            handler_add_seconds(v, "createDate", l->v[i].created_ms))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static void cleanup(struct handler *h)
{
    struct op *op = h->op;

    store_policy_cleanup(&op->policy);
    store_policy_version_cleanup(&op->v);
    store_policy_versions_cleanup(&op->l);
}

/* ListAttachedPolicies and ListPrincipalPolicies: one page of the
 * policies attached to the target named by kind and target_name (its ARN
 * arn keys the marker under operation). */
static int list_policies_of(struct request *req, struct response *res, const char *operation,
                            const char *arn, enum store_target_kind kind, const char *target_name,
                            bool recursive)
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1], scope[200];
    struct store *s;
    cJSON *o;
    size_t limit;
    int rc;

    snprintf(scope, sizeof(scope), "%s:%s:%d", operation, arn, recursive);
    rc = marker_page(req, scope, &limit, key);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_policy_list_attached(s, kind, target_name, recursive, key[0] ? key : NULL, limit,
                                        &names, &req->eb);
    if (!rc) {
        o = cJSON_CreateObject();
        rc = respond_marker_page(req, res, o,
                                 o ? add_policy_list(req, o, "policies", &names) : DD_OK, scope,
                                 names.more, names.n ? names.v[names.n - 1] : "");
    }
    store_name_page_cleanup(&names);
    return rc;
}

/* ListAttachedPolicies (the target ARN in the path, optionally recursive)
 * and the deprecated ListPrincipalPolicies (a certificate ARN in the
 * x-amzn-iot-principal header; isAscendingOrder is accepted and changes
 * nothing: both list in name order). */
static int list_attached(struct request *req, struct response *res, bool principal_form)
{
    const char *arn, *flag = principal_form ? "isAscendingOrder" : "recursive";
    char target_name[129];
    enum store_target_kind kind;
    bool on;
    int rc;

    if (principal_form) {
        arn = request_header(req, "x-amzn-iot-principal");
        rc = parse_principal(req, arn, &kind, target_name);
    } else {
        arn = request_param(req, "target");
        rc = parse_target(req, "target", arn, &kind, target_name);
    }
    if (!rc)
        rc = request_query_bool(req, flag, false, &on);
    if (rc)
        return rc;
    return list_policies_of(req, res,
                            principal_form ? "ListPrincipalPolicies" : "ListAttachedPolicies", arn,
                            kind, target_name, !principal_form && on);
}

static int list_attached_policies(struct request *req, struct response *res)
{
    return list_attached(req, res, false);
}

static int list_principal_policies(struct request *req, struct response *res)
{
    return list_attached(req, res, true);
}

/* The first n targets of names into array field of o: the store gives
 * "thinggroup/NAME" or "cert/ID", answered as ARNs. */
static int add_targets(struct request *req, cJSON *o, const char *field,
                       const struct store_name_page *names, size_t n)
{
    char arn[NAMES_ARN_SIZE + 80];
    cJSON *arr = cJSON_AddArrayToObject(o, field);
    size_t i;

    if (!arr)
        return DD_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:%s", req->region, req->account, names->v[i]);
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(arn)))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static bool is_cert_target(const char *v)
{
    return strncmp(v, "cert/", 5) == 0;
}

/* ListTargetsForPolicy (the name in the path, answered as "targets") and
 * ListPolicyPrincipals (the name in the x-amzn-iot-policy header, only its
 * certificates, as "principals"). "cert/" sorts before "thinggroup/", so
 * the certificates are the leading targets: ListPolicyPrincipals reads one
 * row past its page to tell whether another certificate follows. */
static int list_targets(struct request *req, struct response *res, bool principals)
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1], scope[200];
    const char *name;
    struct store *s;
    cJSON *o;
    size_t limit, n = 0;
    bool more = false;
    int rc;

    if (principals) {
        name = request_header(req, "x-amzn-iot-policy");
        rc = names_check(NAMES_POLICY_NAME, "policyName", name, &req->eb);
    } else {
        rc = check_policy_name(req, &name);
    }
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "%s:%s",
             principals ? "ListPolicyPrincipals" : "ListTargetsForPolicy", name);
    rc = marker_page(req, scope, &limit, key);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_policy_list_targets(s, name, key[0] ? key : NULL, principals ? limit + 1 : limit,
                                       &names, &req->eb);
    if (rc)
        goto out;
    if (principals) {
        while (n < names.n && n < limit && is_cert_target(names.v[n]))
            n++;
        more = n == limit && names.n > limit && is_cert_target(names.v[limit]);
    } else {
        n = names.n;
        more = names.more;
    }
    o = cJSON_CreateObject();
    rc = o ? add_targets(req, o, principals ? "principals" : "targets", &names, n) : DD_OK;
    rc = respond_marker_page(req, res, o, rc, scope, more, n ? names.v[n - 1] : "");
out:
    store_name_page_cleanup(&names);
    return rc;
}

static int list_targets_for_policy(struct request *req, struct response *res)
{
    return list_targets(req, res, false);
}

static int list_policy_principals(struct request *req, struct response *res)
{
    return list_targets(req, res, true);
}

static int get_effective_policies(struct request *req, struct response *res)
{
    struct store_policy_docs docs = { 0 };
    enum store_target_kind kind = STORE_TARGET_CERT;
    const char *thing = request_query(req, "thingName"), *principal = NULL, *pool = NULL;
    char principal_name[129], arn[NAMES_ARN_SIZE];
    cJSON *body = NULL, *o = NULL, *arr;
    struct store *s;
    size_t i;
    int rc;

    rc = thing ? names_check(NAMES_THING_NAME, "thingName", thing, &req->eb) : DD_OK;
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = handler_member_string(req, body, "principal", NULL, &principal);
    if (!rc)
        rc = handler_member_string(req, body, "cognitoIdentityPoolId", NULL, &pool);
    if (!rc && pool)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Cognito identities are not emulated: give a thingName and/or a certificate "
                     "or thing group principal");
    if (!rc && principal)
        rc = parse_target(req, "principal", principal, &kind, principal_name);
    if (!rc && !thing && !principal)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "Give a thingName, a principal or both");
    if (rc)
        goto out;
    rc = request_store(req, &s);
    if (rc)
        goto out;
    rc = store_policy_effective(s, thing, kind, principal ? principal_name : NULL, &docs, &req->eb);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "effectivePolicies");
    rc = arr ? DD_OK : DD_ERR_NOMEM;
    for (i = 0; !rc && i < docs.n; i++) {
        cJSON *p = handler_add_object(arr);

        if (!p) {
            rc = DD_ERR_NOMEM;
        } else if (handler_arn(req, NAMES_ARN_POLICY, docs.v[i].name, arn)) {
            rc = DD_ERR_INTERNAL;
        } else if (!cJSON_AddStringToObject(p, "policyName", docs.v[i].name) ||
                   !cJSON_AddStringToObject(p, "policyArn", arn) ||
                   !cJSON_AddStringToObject(p, "policyDocument", docs.v[i].document)) {
            rc = DD_ERR_NOMEM;
        }
    }
    if (!rc)
        rc = response_json(res, o);
out:
    cJSON_Delete(o);
    cJSON_Delete(body);
    store_policy_docs_cleanup(&docs);
    return rc;
}

/* The operations, named in the route table. */
static const struct handler_ops create_policy =
    HANDLER_OPERATION(check_create, create_call, render_created, NULL);
static const struct handler_ops get_policy =
    HANDLER_OPERATION(check_name, get_call, render_policy, NULL);
static const struct handler_ops delete_policy =
    HANDLER_OPERATION(check_name, delete_call, NULL, NULL);
static const struct handler_ops create_policy_version =
    HANDLER_OPERATION(check_create_version, create_version_call, render_new_version, NULL);
static const struct handler_ops get_policy_version =
    HANDLER_OPERATION(check_version, get_version_call, render_full_version, NULL);
static const struct handler_ops list_policy_versions =
    HANDLER_OPERATION(check_name, list_versions_call, render_versions, NULL);
static const struct handler_ops set_default_policy_version =
    HANDLER_OPERATION(check_version, set_default_call, NULL, NULL);
static const struct handler_ops attach_policy =
    HANDLER_OPERATION(check_attach, attach_call, NULL, NULL);
static const struct handler_ops detach_policy =
    HANDLER_OPERATION(check_attach, detach_call, NULL, NULL);
static const struct handler_ops attach_principal_policy =
    HANDLER_OPERATION(check_attach_principal, attach_call, NULL, NULL);
static const struct handler_ops detach_principal_policy =
    HANDLER_OPERATION(check_attach_principal, detach_call, NULL, NULL);
static const struct handler_ops delete_policy_version =
    HANDLER_OPERATION(check_version, delete_version_call, NULL, NULL);

const struct route api_policies_routes[] = {
    { "GET", "/policies", list_policies, NULL },
    { "POST", "/policies/{policyName}", NULL, &create_policy },
    { "GET", "/policies/{policyName}", NULL, &get_policy },
    { "DELETE", "/policies/{policyName}", NULL, &delete_policy },
    { "POST", "/policies/{policyName}/version", NULL, &create_policy_version },
    { "GET", "/policies/{policyName}/version", NULL, &list_policy_versions },
    { "GET", "/policies/{policyName}/version/{policyVersionId}", NULL, &get_policy_version },
    { "PATCH", "/policies/{policyName}/version/{policyVersionId}", NULL,
      &set_default_policy_version },
    { "DELETE", "/policies/{policyName}/version/{policyVersionId}", NULL, &delete_policy_version },
    { "PUT", "/target-policies/{policyName}", NULL, &attach_policy },
    { "POST", "/target-policies/{policyName}", NULL, &detach_policy },
    { "POST", "/attached-policies/{target+}", list_attached_policies, NULL },
    { "PUT", "/principal-policies/{policyName}", NULL, &attach_principal_policy },
    { "DELETE", "/principal-policies/{policyName}", NULL, &detach_principal_policy },
    { "GET", "/principal-policies", list_principal_policies, NULL },
    { "GET", "/policy-principals", list_policy_principals, NULL },
    { "POST", "/policy-targets/{policyName}", list_targets_for_policy, NULL },
    { "POST", "/effective-policies", get_effective_policies, NULL },
    { NULL, NULL, NULL, NULL },
};
