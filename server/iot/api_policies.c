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

#include "core/clock.h"
#include "core/names.h"
#include "core/paging.h"
#include "core/policy.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/server.h"
#include "store/emulator/store_emulator.h"
#include "store/iot/store_policies.h"

#define DEFAULT_PAGE_SIZE 250

/* Emulated now (the shared clock), or real time before the broker set it. */
static int64_t now_ms(struct store *s)
{
    struct dd_clock c;

    if (store_clock_get(s, &c) == DD_OK)
        return clock_now(&c, server_real_ms());
    return server_real_ms();
}

static struct store *open_store(struct request *req)
{
    return server_store(req->srv, &req->eb);
}

/* Member field of o as a string: *out borrowed from o, NULL when absent or
 * null. DD_ERR_INVALID when it is another type. */
static int member_string(struct request *req, const cJSON *o, const char *field, const char **out)
{
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, field);

    *out = NULL;
    if (!m || cJSON_IsNull(m))
        return DD_OK;
    if (!cJSON_IsString(m))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a string", field);
    *out = m->valuestring;
    return DD_OK;
}

/* Add "nextMarker" for key to o when more rows follow. */
static int add_next_marker(struct request *req, cJSON *o, const char *scope, bool more,
                           const char *key)
{
    char token[PAGING_TOKEN_SIZE];
    int rc;

    if (!more)
        return DD_OK;
    rc = paging_encode_key(scope, key, strlen(key), token, sizeof(token), &req->eb);
    if (rc)
        return rc;
    return cJSON_AddStringToObject(o, "nextMarker", token) ? DD_OK : DD_ERR_NOMEM;
}

static int check_policy_name(struct request *req, const char **name)
{
    *name = request_param(req, "policyName");
    return names_check(NAMES_POLICY_NAME, "policyName", *name, &req->eb);
}

/* The policyDocument member: present, within the model's length, and a
 * policy by the grammar (MalformedPolicyException otherwise). */
static int check_document(struct request *req, const cJSON *body, const char **doc)
{
    int rc = member_string(req, body, "policyDocument", doc);

    if (!rc)
        rc = names_check(NAMES_POLICY_DOCUMENT, "policyDocument", *doc, &req->eb);
    if (!rc)
        rc = policy_validate(*doc, strlen(*doc), POLICY_MAX_CHARS, &req->eb);
    return rc;
}

/* Tags, when given: a list of {Key, Value} with the model's shapes. They
 * are accepted and not kept: no tagging operation is served. */
static int check_tags(struct request *req, const cJSON *body)
{
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(body, "tags"), *t;
    int rc;

    if (!tags || cJSON_IsNull(tags))
        return DD_OK;
    if (!cJSON_IsArray(tags))
        return dd_fail(&req->eb, DD_ERR_INVALID, "tags must be a list");
    cJSON_ArrayForEach(t, tags)
    {
        const char *key = NULL, *value = NULL;

        if (!cJSON_IsObject(t))
            return dd_fail(&req->eb, DD_ERR_INVALID, "each tag must be an object");
        rc = member_string(req, t, "Key", &key);
        if (!rc)
            rc = names_check(NAMES_TAG_KEY, "tags.member.Key", key, &req->eb);
        if (!rc)
            rc = member_string(req, t, "Value", &value);
        if (!rc && value)
            rc = names_check(NAMES_TAG_VALUE, "tags.member.Value", value, &req->eb);
        if (rc)
            return rc;
    }
    return DD_OK;
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
    if (strcmp(a.region, req->srv->region) != 0 || strcmp(a.account, req->srv->account) != 0)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "%s %s is not in this emulator's region %s and account %s", field, arn,
                       req->srv->region, req->srv->account);
    *kind = a.type == NAMES_ARN_CERT ? STORE_TARGET_CERT : STORE_TARGET_THING_GROUP;
    memcpy(name, a.name, sizeof(a.name));
    return DD_OK;
}

static int policy_arn(struct request *req, const char *name, char *buf)
{
    return names_arn_format(buf, NAMES_ARN_SIZE, NAMES_ARN_POLICY, req->srv->region,
                            req->srv->account, name);
}

static cJSON *add_id(cJSON *o, const char *field, int64_t id)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%" PRId64, id);
    return cJSON_AddStringToObject(o, field, buf);
}

static int create_policy(struct request *req, struct response *res)
{
    char arn[NAMES_ARN_SIZE];
    const char *name, *doc = NULL;
    cJSON *body = NULL, *o;
    bool ok;
    struct store *s;
    int rc;

    rc = check_policy_name(req, &name);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = check_tags(req, body);
    if (!rc)
        rc = check_document(req, body, &doc);
    if (!rc)
        rc = policy_arn(req, name, arn);
    if (rc)
        goto out;
    s = open_store(req);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    rc = store_policy_create(s, name, doc, now_ms(s), &req->eb);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    ok = o && cJSON_AddStringToObject(o, "policyName", name) &&
         cJSON_AddStringToObject(o, "policyArn", arn) &&
         cJSON_AddStringToObject(o, "policyDocument", doc) &&
         cJSON_AddStringToObject(o, "policyVersionId", "1");
    rc = response_json_free(res, o, ok ? DD_OK : DD_ERR_NOMEM);
out:
    cJSON_Delete(body);
    return rc;
}

static int get_policy(struct request *req, struct response *res)
{
    struct store_policy p = { 0 };
    char arn[NAMES_ARN_SIZE], gen[24];
    const char *name;
    struct store *s;
    cJSON *o;
    bool ok;
    int rc;

    rc = check_policy_name(req, &name);
    if (!rc)
        rc = policy_arn(req, name, arn);
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    rc = store_policy_get(s, name, &p, &req->eb);
    if (rc)
        goto out;
    snprintf(gen, sizeof(gen), "%" PRId64, p.generation);
    o = cJSON_CreateObject();
    ok = o && cJSON_AddStringToObject(o, "policyName", p.name) &&
         cJSON_AddStringToObject(o, "policyArn", arn) &&
         cJSON_AddStringToObject(o, "policyDocument", p.document) &&
         add_id(o, "defaultVersionId", p.default_version) &&
         cJSON_AddNumberToObject(o, "creationDate", (double)p.created_ms / 1000.0) &&
         cJSON_AddNumberToObject(o, "lastModifiedDate", (double)p.modified_ms / 1000.0) &&
         cJSON_AddStringToObject(o, "generationId", gen);
    rc = response_json_free(res, o, ok ? DD_OK : DD_ERR_NOMEM);
out:
    store_policy_cleanup(&p);
    return rc;
}

static int delete_policy(struct request *req, struct response *res)
{
    const char *name;
    struct store *s;
    int rc;

    (void)res;
    rc = check_policy_name(req, &name);
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    return store_policy_delete(s, name, &req->eb);
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
        cJSON *p = cJSON_CreateObject();

        if (!p || !cJSON_AddItemToArray(arr, p)) {
            cJSON_Delete(p);
            return DD_ERR_NOMEM;
        }
        if (policy_arn(req, names->v[i], arn))
            return DD_ERR_INTERNAL;
        if (!cJSON_AddStringToObject(p, "policyName", names->v[i]) ||
            !cJSON_AddStringToObject(p, "policyArn", arn))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
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
    if (!rc)
        rc = request_query_count(req, "pageSize", NAMES_PAGE_SIZE, DEFAULT_PAGE_SIZE, &limit);
    if (rc)
        return rc;
    scope = ascending ? "ListPolicies:ascending" : "ListPolicies:descending";
    rc = request_query_key(req, "marker", scope, key, sizeof(key));
    if (rc)
        return rc;
    if (key[0]) {
        char *end;

        after = strtoll(key, &end, 10);
        if (*end || after < 0)
            return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid marker");
    }
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    rc = store_policy_list(s, ascending, after, limit, &names);
    if (rc)
        return rc;
    snprintf(last, sizeof(last), "%" PRId64, names.last_seq);
    o = cJSON_CreateObject();
    rc = o ? add_policy_list(req, o, "policies", &names) : DD_ERR_NOMEM;
    if (!rc)
        rc = add_next_marker(req, o, scope, names.more, last);
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    store_name_page_cleanup(&names);
    return rc;
}

/* Render a version as CreatePolicyVersion / GetPolicyVersion answer it. */
static int respond_version(struct request *req, struct response *res, const char *name,
                           const struct store_policy_version *v, bool full)
{
    char arn[NAMES_ARN_SIZE], gen[24];
    cJSON *o;
    bool ok;

    if (policy_arn(req, name, arn))
        return DD_ERR_INTERNAL;
    snprintf(gen, sizeof(gen), "%" PRId64, v->policy_generation);
    o = cJSON_CreateObject();
    ok = o && cJSON_AddStringToObject(o, "policyArn", arn) &&
         (!full || cJSON_AddStringToObject(o, "policyName", name)) &&
         cJSON_AddStringToObject(o, "policyDocument", v->document) &&
         add_id(o, "policyVersionId", v->version) &&
         cJSON_AddBoolToObject(o, "isDefaultVersion", v->is_default) &&
         (!full ||
          (cJSON_AddNumberToObject(o, "creationDate", (double)v->created_ms / 1000.0) &&
           cJSON_AddNumberToObject(o, "lastModifiedDate", (double)v->policy_modified_ms / 1000.0) &&
           cJSON_AddStringToObject(o, "generationId", gen)));
    return response_json_free(res, o, ok ? DD_OK : DD_ERR_NOMEM);
}

static int create_policy_version(struct request *req, struct response *res)
{
    struct store_policy_version v = { 0 };
    const char *name, *doc = NULL;
    cJSON *body = NULL;
    bool set_default;
    struct store *s;
    int rc;

    rc = check_policy_name(req, &name);
    if (!rc)
        rc = request_query_bool(req, "setAsDefault", false, &set_default);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = check_document(req, body, &doc);
    if (rc)
        goto out;
    s = open_store(req);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    rc = store_policy_version_create(s, name, doc, set_default, now_ms(s), &v, &req->eb);
    if (rc == DD_ERR_LIMIT) {
        /* The model's own shape (409), which CLI v2 does not retry. */
        aws_error_respond(res, rc, 409, "VersionsLimitExceededException", req->eb.msg);
        rc = DD_OK;
        goto out;
    }
    if (!rc)
        rc = respond_version(req, res, name, &v, false);
out:
    store_policy_version_cleanup(&v);
    cJSON_Delete(body);
    return rc;
}

static int get_policy_version(struct request *req, struct response *res)
{
    struct store_policy_version v = { 0 };
    const char *name;
    struct store *s;
    int64_t id;
    int rc;

    rc = check_policy_name(req, &name);
    if (!rc)
        rc = check_version_id(req, &id);
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    rc = store_policy_version_get(s, name, id, &v, &req->eb);
    if (!rc)
        rc = respond_version(req, res, name, &v, true);
    store_policy_version_cleanup(&v);
    return rc;
}

static int list_policy_versions(struct request *req, struct response *res)
{
    struct store_policy_versions l = { 0 };
    const char *name;
    struct store *s;
    cJSON *o = NULL, *arr;
    size_t i;
    int rc;

    rc = check_policy_name(req, &name);
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    rc = store_policy_versions_list(s, name, &l, &req->eb);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "policyVersions");
    rc = arr ? DD_OK : DD_ERR_NOMEM;
    for (i = 0; !rc && i < l.n; i++) {
        cJSON *v = cJSON_CreateObject();

        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            rc = DD_ERR_NOMEM;
        } else if (!add_id(v, "versionId", l.v[i].version) ||
                   !cJSON_AddBoolToObject(v, "isDefaultVersion", l.v[i].is_default) ||
                   !cJSON_AddNumberToObject(v, "createDate", (double)l.v[i].created_ms / 1000.0)) {
            rc = DD_ERR_NOMEM;
        }
    }
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    store_policy_versions_cleanup(&l);
    return rc;
}

static int set_default_policy_version(struct request *req, struct response *res)
{
    const char *name;
    struct store *s;
    int64_t id;
    int rc;

    (void)res;
    rc = check_policy_name(req, &name);
    if (!rc)
        rc = check_version_id(req, &id);
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    return store_policy_version_set_default(s, name, id, now_ms(s), &req->eb);
}

static int delete_policy_version(struct request *req, struct response *res)
{
    const char *name;
    struct store *s;
    int64_t id;
    int rc;

    (void)res;
    rc = check_policy_name(req, &name);
    if (!rc)
        rc = check_version_id(req, &id);
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    return store_policy_version_delete(s, name, id, &req->eb);
}

/* AttachPolicy (attach) and DetachPolicy: {"target": ARN}. */
static int attach_or_detach(struct request *req, bool attach)
{
    enum store_target_kind kind;
    const char *name, *target = NULL;
    char target_name[129];
    cJSON *body = NULL;
    struct store *s;
    int rc;

    rc = check_policy_name(req, &name);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = member_string(req, body, "target", &target);
    if (!rc)
        rc = parse_target(req, "target", target, &kind, target_name);
    if (rc)
        goto out;
    s = open_store(req);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    rc = attach ? store_policy_attach(s, name, kind, target_name, &req->eb)
                : store_policy_detach(s, name, kind, target_name, &req->eb);
out:
    cJSON_Delete(body);
    return rc;
}

static int attach_policy(struct request *req, struct response *res)
{
    (void)res;
    return attach_or_detach(req, true);
}

static int detach_policy(struct request *req, struct response *res)
{
    (void)res;
    return attach_or_detach(req, false);
}

static int list_attached_policies(struct request *req, struct response *res)
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1], target_name[129], scope[200];
    enum store_target_kind kind;
    const char *target = request_param(req, "target");
    struct store *s;
    cJSON *o = NULL;
    bool recursive;
    size_t limit;
    int rc;

    rc = parse_target(req, "target", target, &kind, target_name);
    if (!rc)
        rc = request_query_bool(req, "recursive", false, &recursive);
    if (!rc)
        rc = request_query_count(req, "pageSize", NAMES_PAGE_SIZE, DEFAULT_PAGE_SIZE, &limit);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListAttachedPolicies:%s:%d", target, recursive);
    rc = request_query_key(req, "marker", scope, key, sizeof(key));
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    rc = store_policy_list_attached(s, kind, target_name, recursive, key[0] ? key : NULL, limit,
                                    &names, &req->eb);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    rc = o ? add_policy_list(req, o, "policies", &names) : DD_ERR_NOMEM;
    if (!rc)
        rc = add_next_marker(req, o, scope, names.more, names.n ? names.v[names.n - 1] : "");
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    store_name_page_cleanup(&names);
    return rc;
}

static int list_targets_for_policy(struct request *req, struct response *res)
{
    struct store_name_page names = { 0 };
    char key[PAGING_KEY_MAX + 1], scope[200], arn[NAMES_ARN_SIZE + 80];
    const char *name;
    struct store *s;
    cJSON *o = NULL, *arr;
    size_t limit, i;
    int rc;

    rc = check_policy_name(req, &name);
    if (!rc)
        rc = request_query_count(req, "pageSize", NAMES_PAGE_SIZE, DEFAULT_PAGE_SIZE, &limit);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListTargetsForPolicy:%s", name);
    rc = request_query_key(req, "marker", scope, key, sizeof(key));
    if (rc)
        return rc;
    s = open_store(req);
    if (!s)
        return DD_ERR_STORE;
    rc = store_policy_list_targets(s, name, key[0] ? key : NULL, limit, &names, &req->eb);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "targets");
    rc = arr ? DD_OK : DD_ERR_NOMEM;
    for (i = 0; !rc && i < names.n; i++) {
        /* The store gives "thinggroup/NAME" or "cert/ID". */
        snprintf(arn, sizeof(arn), "arn:aws:iot:%s:%s:%s", req->srv->region, req->srv->account,
                 names.v[i]);
        if (!cJSON_AddItemToArray(arr, cJSON_CreateString(arn)))
            rc = DD_ERR_NOMEM;
    }
    if (!rc)
        rc = add_next_marker(req, o, scope, names.more, names.n ? names.v[names.n - 1] : "");
    if (!rc)
        rc = response_json(res, o);
    cJSON_Delete(o);
    store_name_page_cleanup(&names);
    return rc;
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
        rc = member_string(req, body, "principal", &principal);
    if (!rc)
        rc = member_string(req, body, "cognitoIdentityPoolId", &pool);
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
    s = open_store(req);
    if (!s) {
        rc = DD_ERR_STORE;
        goto out;
    }
    rc = store_policy_effective(s, thing, kind, principal ? principal_name : NULL, &docs, &req->eb);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, "effectivePolicies");
    rc = arr ? DD_OK : DD_ERR_NOMEM;
    for (i = 0; !rc && i < docs.n; i++) {
        cJSON *p = cJSON_CreateObject();

        if (!p || !cJSON_AddItemToArray(arr, p)) {
            cJSON_Delete(p);
            rc = DD_ERR_NOMEM;
        } else if (policy_arn(req, docs.v[i].name, arn)) {
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

const struct route api_policies_routes[] = {
    { "GET", "/policies", list_policies },
    { "POST", "/policies/{policyName}", create_policy },
    { "GET", "/policies/{policyName}", get_policy },
    { "DELETE", "/policies/{policyName}", delete_policy },
    { "POST", "/policies/{policyName}/version", create_policy_version },
    { "GET", "/policies/{policyName}/version", list_policy_versions },
    { "GET", "/policies/{policyName}/version/{policyVersionId}", get_policy_version },
    { "PATCH", "/policies/{policyName}/version/{policyVersionId}", set_default_policy_version },
    { "DELETE", "/policies/{policyName}/version/{policyVersionId}", delete_policy_version },
    { "PUT", "/target-policies/{policyName}", attach_policy },
    { "POST", "/target-policies/{policyName}", detach_policy },
    { "POST", "/attached-policies/{target+}", list_attached_policies },
    { "POST", "/policy-targets/{policyName}", list_targets_for_policy },
    { "POST", "/effective-policies", get_effective_policies },
    { NULL, NULL, NULL },
};
