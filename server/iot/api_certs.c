/* SPDX-License-Identifier: MIT */
/* api_certs.c: X.509 certificates over HTTP: CreateKeysAndCertificate,
 * CreateCertificateFromCsr, RegisterCertificate(WithoutCA), Describe/List/
 * Update/DeleteCertificate, Attach/DetachThingPrincipal,
 * ListThingPrincipals, ListPrincipalThings, and GET /_ddlocal/ca.pem.
 *
 * Certificates are issued by the emulator's own CA (server/iot/ca.c), loaded
 * from the database per request (one row and a PEM parse: cheaper than
 * sharing state between MHD threads, and always the CA on disk). Handlers
 * check every member against the model before touching the database and
 * call one store_certs function (one transaction each). Principals arrive
 * as certificate ARNs in the x-amzn-principal header; other principal
 * kinds (Cognito identities) are not emulated and are refused.
 *
 * AWS-behaviour choices: a new certificate is INACTIVE unless setAsActive
 * (or RegisterCertificateWithoutCA's status) says otherwise; UpdateCertificate
 * refuses PENDING_TRANSFER and PENDING_ACTIVATION (AWS's internal states)
 * with InvalidRequestException and any change of a REVOKED certificate with
 * CertificateStateException; DeleteCertificate refuses an ACTIVE certificate
 * (CertificateStateException, 406), one attached to a thing, and one with
 * policies unless forceDelete (DeleteConflictException, 409). Creation dates
 * are emulated time; validity is the certificate's own (real time). */
#include "server/iot/api_certs.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/audit.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "server/iot/ca.h"
#include "server/server.h"
#include "store/iot/store_cacerts.h"
#include "store/iot/store_certs.h"

#define DEFAULT_PAGE_SIZE   25 /* ListCertificates, as AWS documents */
#define DEFAULT_MAX_RESULTS 50
#define CSR_MAX             4096
#define PEM_MAX             65536

/* ---- request helpers ---- */

static int validation_error(struct request *req, const char *field, const char *value,
                            const char *constraint)
{
    return dd_fail(&req->eb, DD_ERR_INVALID,
                   "1 validation error detected: Value '%.80s' at '%s' failed to satisfy "
                   "constraint: %s",
                   value, field, constraint);
}

int api_certs_check_id(struct request *req, const char *v, char id[STORE_CERT_ID_SIZE])
{
    size_t i, len = v ? strlen(v) : 0, start;

    id[0] = '\0';
    if (!v)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at 'certificateId' failed to "
                       "satisfy constraint: Member must not be null");
    if (len != 64)
        return validation_error(req, "certificateId", v,
                                "Member must have length less than or equal to 64 and greater "
                                "than or equal to 64");
    start = (v[0] == '0' && v[1] == 'x') ? 2 : 0;
    for (i = start; i < len; i++)
        if (!isxdigit((unsigned char)v[i]))
            break;
    if (i < len || start == len)
        return validation_error(req, "certificateId", v,
                                "Member must satisfy regular expression pattern: "
                                "(0x)?[a-fA-F0-9]+");
    for (i = 0; i <= len; i++)
        id[i] = (char)tolower((unsigned char)v[i]);
    return DD_OK;
}

/* The x-amzn-principal header as a certificate id of this region and
 * account. */
static int principal_cert(struct request *req, char id[STORE_CERT_ID_SIZE])
{
    const char *v = request_header(req, "x-amzn-principal");
    struct names_arn a;
    int rc;

    id[0] = '\0';
    rc = names_arn_parse("principal", v, &a, &req->eb);
    if (rc && v && strncmp(v, "arn:aws:iot:", 12) != 0)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "principal %.200s is not a certificate ARN: only X.509 certificates "
                       "(arn:aws:iot:REGION:ACCOUNT:cert/ID) are emulated",
                       v);
    if (rc)
        return rc;
    if (a.type != NAMES_ARN_CERT)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "principal must be a certificate ARN (arn:aws:iot:REGION:ACCOUNT:cert/ID)");
    if (strcmp(a.region, req->region) != 0 || strcmp(a.account, req->account) != 0)
        return dd_fail(&req->eb, DD_ERR_NOT_FOUND, "Certificate %s cannot be found.", v);
    return api_certs_check_id(req, a.name, id);
}

int api_certs_member_text(struct request *req, const cJSON *o, const char *key, size_t max,
                          const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at '%s' failed to satisfy "
                       "constraint: Member must not be null",
                       key);
    if (!cJSON_IsString(v))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must be a string", key);
    if (!v->valuestring[0] || strlen(v->valuestring) > max)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value at '%s' failed to satisfy "
                       "constraint: Member must have length less than or equal to %zu and "
                       "greater than or equal to 1",
                       key, max);
    *out = v->valuestring;
    return DD_OK;
}

/* DD_ERR_STATE from the store is AWS's CertificateStateException (406). */
static int state_error(struct request *req, struct response *res, int rc)
{
    handler_error_as(req, res, &rc, DD_ERR_STATE, 406, "CertificateStateException");
    return rc;
}

int api_certs_load_ca(struct request *req, struct store **s, struct ca **ca)
{
    int rc = request_store(req, s);

    *ca = NULL;
    if (!rc && ca_load(*s, server_real_ms() / 1000, ca, &req->eb))
        rc = DD_ERR_INTERNAL;
    return rc;
}

/* ---- the CA ---- */

static int get_ca_pem(struct request *req, struct response *res)
{
    struct store *s;
    struct ca *ca;
    char *body;
    int rc;

    rc = api_certs_load_ca(req, &s, &ca);
    if (rc)
        return rc;
    body = dd_strdup(ca_cert_pem(ca));
    ca_free(ca);
    if (!body)
        return DD_ERR_NOMEM;
    response_take_body(res, 200, "application/x-pem-file", body, strlen(body));
    return DD_OK;
}

/* ---- creating certificates ---- */

/* Store an issued or registered certificate (signed by the CA whose id is
 * ca_id, NULL when unknown) and answer with its ARN, id and (with_pem)
 * PEM, plus the key pair when c has one. */
static int store_and_answer(struct request *req, struct response *res, struct store *s,
                            const struct ca_cert *c, const char *ca_id,
                            enum store_cert_status status, bool with_pem)
{
    struct store_cert_spec spec = { 0 };
    char arn[NAMES_ARN_SIZE], gen[IDS_UUID_SIZE];
    struct ca_names names;
    cJSON *o, *kp;
    bool ok;
    int rc;

    rc = ids_uuid(gen);
    if (rc)
        return rc;
    /* What the audit's certificate checks need, judged once here
     * (schema/032_cert_audit_facts.sql). */
    if (ca_cert_names(c->cert_pem, &names, NULL) == DD_OK) {
        spec.issuer = names.issuer;
        spec.serial = names.serial;
    }
    spec.key =
        audit_cert_key_quality(c->cert_pem).reason_code ? STORE_CERT_KEY_WEAK : STORE_CERT_KEY_OK;
    spec.cert_id = c->cert_id;
    spec.pem = c->cert_pem;
    spec.generation_id = gen;
    spec.ca_cert_id = ca_id;
    spec.status = status;
    spec.not_before_s = c->not_before_s;
    spec.not_after_s = c->not_after_s;
    spec.now_ms = request_now_ms(req);
    rc = handler_arn(req, NAMES_ARN_CERT, c->cert_id, arn);
    if (!rc)
        rc = store_cert_create(s, &spec, &req->eb);
    if (rc == DD_ERR_EXISTS)
        return aws_error_exists(res, req->eb.msg, c->cert_id, arn);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    ok = o && cJSON_AddStringToObject(o, "certificateArn", arn) &&
         cJSON_AddStringToObject(o, "certificateId", c->cert_id) &&
         (!with_pem || cJSON_AddStringToObject(o, "certificatePem", c->cert_pem));
    if (ok && c->key_pem) {
        kp = cJSON_AddObjectToObject(o, "keyPair");
        ok = kp && cJSON_AddStringToObject(kp, "PublicKey", c->public_pem) &&
             cJSON_AddStringToObject(kp, "PrivateKey", c->key_pem);
    }
    return response_json_free(res, o, ok ? DD_OK : DD_ERR_NOMEM);
}

static int create_keys_and_certificate(struct request *req, struct response *res)
{
    struct ca_cert c = { 0 };
    struct ca *ca = NULL;
    struct store *s;
    bool active;
    int rc;

    rc = request_query_bool(req, "setAsActive", false, &active);
    if (rc)
        return rc;
    rc = api_certs_load_ca(req, &s, &ca);
    if (rc)
        return rc;
    rc = ca_issue_keys(ca, server_real_ms() / 1000, &c, &req->eb);
    if (!rc)
        rc = store_and_answer(req, res, s, &c, NULL,
                              active ? STORE_CERT_ACTIVE : STORE_CERT_INACTIVE, true);
    ca_cert_cleanup(&c);
    ca_free(ca);
    return rc;
}

static int create_certificate_from_csr(struct request *req, struct response *res)
{
    struct ca_cert c = { 0 };
    struct ca *ca = NULL;
    const char *csr;
    cJSON *body = NULL;
    struct store *s;
    bool active;
    int rc;

    rc = request_query_bool(req, "setAsActive", false, &active);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = api_certs_member_text(req, body, "certificateSigningRequest", CSR_MAX, &csr);
    if (rc)
        goto out;
    rc = api_certs_load_ca(req, &s, &ca);
    if (rc)
        goto out;
    rc = ca_issue_from_csr(ca, csr, server_real_ms() / 1000, &c, &req->eb);
    if (!rc)
        rc = store_and_answer(req, res, s, &c, NULL,
                              active ? STORE_CERT_ACTIVE : STORE_CERT_INACTIVE, true);
out:
    ca_cert_cleanup(&c);
    ca_free(ca);
    cJSON_Delete(body);
    return rc;
}

/* RegisterCertificate with caCertificatePem: that CA must be registered
 * (CertificateValidationException otherwise) and ACTIVE
 * (CertificateStateException otherwise). An error answers res. */
static int check_registered_ca(struct request *req, struct response *res, struct store *s,
                               const char *ca_id)
{
    bool found, active;
    int rc = store_cacert_state(s, ca_id, &found, &active);

    if (rc)
        return rc;
    if (!found) {
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "The CA certificate %s is not registered: register it with "
                     "RegisterCACertificate first.",
                     ca_id);
        handler_error_as(req, res, &rc, DD_ERR_INVALID, 400, "CertificateValidationException");
    } else if (!active) {
        rc = dd_fail(&req->eb, DD_ERR_STATE, "The CA certificate %s is not ACTIVE.", ca_id);
        handler_error_as(req, res, &rc, DD_ERR_STATE, 406, "CertificateStateException");
    }
    return rc;
}

/* RegisterCertificate (with_ca) and RegisterCertificateWithoutCA: a PEM
 * certificate the caller brings, optionally (with_ca) with the PEM of the
 * CA that signed it, stored under the SHA-256 of its DER as AWS does.
 * Status: setAsActive (RegisterCertificate's query flag) wins, then the
 * body's status, else INACTIVE. A bad PEM, or a CA that did not sign the
 * certificate, is a CertificateValidationException. */
static int register_cert(struct request *req, struct response *res, bool with_ca)
{
    struct ca_cert c = { 0 };
    const char *pem, *ca_pem = NULL, *status_name = NULL;
    enum store_cert_status status = STORE_CERT_INACTIVE;
    char ca_id[CA_CERT_ID_SIZE];
    const cJSON *st;
    cJSON *body = NULL;
    struct store *s;
    bool active = false;
    int rc;

    rc = with_ca ? request_query_bool(req, "setAsActive", false, &active) : DD_OK;
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = api_certs_member_text(req, body, "certificatePem", PEM_MAX, &pem);
    if (rc)
        goto out;
    st = with_ca ? cJSON_GetObjectItemCaseSensitive(body, "caCertificatePem") : NULL;
    if (st && !cJSON_IsNull(st)) {
        rc = api_certs_member_text(req, body, "caCertificatePem", PEM_MAX, &ca_pem);
        if (rc)
            goto out;
    }
    st = cJSON_GetObjectItemCaseSensitive(body, "status");
    if (st && !cJSON_IsNull(st)) {
        status_name = cJSON_IsString(st) ? st->valuestring : "";
        rc = names_check_enum("status", status_name, store_cert_status_names, &req->eb);
        if (rc)
            goto out;
        status = (enum store_cert_status)names_enum_find(store_cert_status_names, status_name);
    }
    if (active)
        status = STORE_CERT_ACTIVE;
    rc = ca_inspect(pem, ca_pem, &c, ca_id, &req->eb);
    if (handler_error_as(req, res, &rc, DD_ERR_INVALID, 400, "CertificateValidationException") ||
        rc)
        goto out;
    rc = request_store(req, &s);
    if (!rc && ca_id[0])
        rc = check_registered_ca(req, res, s, ca_id);
    if (!rc && !res->status)
        rc = store_and_answer(req, res, s, &c, ca_id[0] ? ca_id : NULL, status, false);
out:
    ca_cert_cleanup(&c);
    cJSON_Delete(body);
    return rc;
}

static int register_certificate(struct request *req, struct response *res)
{
    return register_cert(req, res, true);
}

static int register_certificate_without_ca(struct request *req, struct response *res)
{
    return register_cert(req, res, false);
}

/* ---- one certificate ---- */

static int describe_certificate(struct request *req, struct response *res)
{
    char id[STORE_CERT_ID_SIZE], arn[NAMES_ARN_SIZE];
    struct store_cert c = { 0 };
    cJSON *o, *d, *v;
    struct store *s;
    bool ok;
    int rc;

    rc = api_certs_check_id(req, request_param(req, "certificateId"), id);
    if (rc)
        return rc;
    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = store_cert_get(s, id, &c, &req->eb);
    if (!rc)
        rc = handler_arn(req, NAMES_ARN_CERT, id, arn);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    d = cJSON_AddObjectToObject(o, "certificateDescription");
    ok = d && cJSON_AddStringToObject(d, "certificateArn", arn) &&
         cJSON_AddStringToObject(d, "certificateId", c.cert_id) &&
         cJSON_AddStringToObject(d, "status", store_cert_status_names[c.status]) &&
         cJSON_AddStringToObject(d, "certificatePem", c.pem) &&
         cJSON_AddStringToObject(d, "ownedBy", req->account) &&
         cJSON_AddNumberToObject(d, "creationDate", (double)c.created_ms / 1000.0) &&
         cJSON_AddNumberToObject(d, "lastModifiedDate", (double)c.modified_ms / 1000.0) &&
         cJSON_AddNumberToObject(d, "customerVersion", 1) &&
         cJSON_AddObjectToObject(d, "transferData") &&
         cJSON_AddStringToObject(d, "generationId", c.generation_id) &&
         cJSON_AddStringToObject(d, "certificateMode", "DEFAULT") &&
         (!c.ca_cert_id[0] || cJSON_AddStringToObject(d, "caCertificateId", c.ca_cert_id));
    v = ok ? cJSON_AddObjectToObject(d, "validity") : NULL;
    ok = v && cJSON_AddNumberToObject(v, "notBefore", (double)c.not_before_s) &&
         cJSON_AddNumberToObject(v, "notAfter", (double)c.not_after_s);
    rc = response_json_free(res, o, ok ? DD_OK : DD_ERR_NOMEM);
out:
    store_cert_cleanup(&c);
    return rc;
}

int api_certs_respond_page(struct request *req, struct response *res, struct store *s,
                           const char *ca_id, const char *operation)
{
    struct store_cert_page page = { 0 };
    struct handler_marker m;
    char arn[NAMES_ARN_SIZE], last[24];
    int64_t after_seq = -1;
    cJSON *o = NULL, *arr;
    size_t i;
    int rc;

    rc = handler_marker_page(req, operation, DEFAULT_PAGE_SIZE, &m);
    if (!rc && m.key[0])
        rc = request_key_number(req, m.key, "marker", &after_seq);
    if (rc)
        return rc;
    o = handler_list_new("certificates", &arr);
    if (!o)
        return DD_ERR_NOMEM;
    rc = ca_id ? store_cert_list_by_ca(s, ca_id, m.ascending, after_seq, m.limit, &page)
               : store_cert_list(s, m.ascending, after_seq, m.limit, &page);
    for (i = 0; !rc && i < page.n; i++) {
        const struct store_cert *c = &page.v[i];
        cJSON *it;

        rc = handler_arn(req, NAMES_ARN_CERT, c->cert_id, arn);
        it = rc ? NULL : handler_add_object(arr);
        if (!rc && !(it && cJSON_AddStringToObject(it, "certificateArn", arn) &&
                     cJSON_AddStringToObject(it, "certificateId", c->cert_id) &&
                     cJSON_AddStringToObject(it, "status", store_cert_status_names[c->status]) &&
                     cJSON_AddStringToObject(it, "certificateMode", "DEFAULT") &&
                     cJSON_AddNumberToObject(it, "creationDate", (double)c->created_ms / 1000.0)))
            rc = DD_ERR_NOMEM;
    }
    if (page.n && page.more)
        snprintf(last, sizeof(last), "%" PRId64, page.v[page.n - 1].seq);
    rc = handler_respond_page(req, res, o, rc, "nextMarker", m.scope,
                              page.n && page.more ? last : NULL);
    store_cert_page_cleanup(&page);
    return rc;
}

static int list_certificates(struct request *req, struct response *res)
{
    struct store *s;
    int rc = request_store(req, &s);

    return rc ? rc : api_certs_respond_page(req, res, s, NULL, "ListCertificates");
}

static int update_certificate(struct request *req, struct response *res)
{
    const char *status_name = request_query(req, "newStatus");
    char id[STORE_CERT_ID_SIZE];
    struct store *s;
    int rc, status;

    rc = api_certs_check_id(req, request_param(req, "certificateId"), id);
    if (!rc)
        rc = names_check_enum("newStatus", status_name, store_cert_status_names, &req->eb);
    if (rc)
        return rc;
    status = names_enum_find(store_cert_status_names, status_name);
    if (status == STORE_CERT_PENDING_TRANSFER || status == STORE_CERT_PENDING_ACTIVATION)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "%s is a status AWS IoT sets itself; it cannot be requested.", status_name);
    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc =
        store_cert_set_status(s, id, (enum store_cert_status)status, request_now_ms(req), &req->eb);
    return state_error(req, res, rc);
}

static int delete_certificate(struct request *req, struct response *res)
{
    char id[STORE_CERT_ID_SIZE], arn[NAMES_ARN_SIZE];
    struct store *s;
    bool force;
    int rc;

    rc = api_certs_check_id(req, request_param(req, "certificateId"), id);
    if (!rc)
        rc = request_query_bool(req, "forceDelete", false, &force);
    if (!rc)
        rc = handler_arn(req, NAMES_ARN_CERT, id, arn);
    if (!rc)
        rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = store_cert_delete(s, id, arn, force, &req->eb);
    return state_error(req, res, rc);
}

/* ---- thing principals ---- */

static int thing_param(struct request *req, const char **thing)
{
    return handler_param_name(req, NAMES_THING_NAME, "thingName", thing);
}

/* AttachThingPrincipal (PUT) and DetachThingPrincipal (DELETE): one
 * route, told apart by the method. */
static int attach_or_detach(struct request *req, struct response *res)
{
    bool attach = strcmp(req->method, "PUT") == 0;
    char id[STORE_CERT_ID_SIZE];
    const char *thing;
    struct store *s;
    int rc;

    (void)res;
    rc = thing_param(req, &thing);
    if (!rc)
        rc = principal_cert(req, id);
    if (rc)
        return rc;
    rc = request_store(req, &s);
    if (rc)
        return rc;
    return attach ? store_thing_principal_attach(s, thing, id, &req->eb)
                  : store_thing_principal_detach(s, thing, id, &req->eb);
}

/* ListThingPrincipals and ListPrincipalThings: one page of what list gives
 * for key (a thing name or a certificate id), as {"<member>": [certificate
 * ARNs (as_arns) or names], "nextToken"}. */
static int list_names(struct request *req, struct response *res, const char *operation,
                      const char *key, const char *member, bool as_arns,
                      int (*list)(struct store *, const char *, const char *, size_t,
                                  struct store_names *, struct dd_errbuf *))
{
    char after[PAGING_KEY_MAX + 1], scope[160], arn[NAMES_ARN_SIZE];
    struct store_names l = { 0 };
    cJSON *o = NULL, *arr;
    struct store *s;
    size_t limit, i;
    int rc;

    rc = request_query_max_results(req, DEFAULT_MAX_RESULTS, &limit);
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "%s:%s", operation, key);
    rc = request_query_key(req, "nextToken", scope, after, sizeof(after));
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = list(s, key, after, limit, &l, &req->eb);
    if (rc)
        goto out;
    o = cJSON_CreateObject();
    arr = cJSON_AddArrayToObject(o, member);
    rc = arr ? DD_OK : DD_ERR_NOMEM;
    for (i = 0; !rc && i < l.n; i++) {
        const char *v = l.names[i];

        if (as_arns) {
            rc = handler_arn(req, NAMES_ARN_CERT, v, arn);
            v = arn;
        }
        if (!rc && !cJSON_AddItemToArray(arr, cJSON_CreateString(v)))
            rc = DD_ERR_NOMEM;
    }
    rc = handler_respond_page(req, res, o, rc, "nextToken", scope,
                              l.n && l.more ? l.names[l.n - 1] : NULL);
out:
    store_names_cleanup(&l);
    return rc;
}

static int list_thing_principals(struct request *req, struct response *res)
{
    const char *thing;
    int rc = thing_param(req, &thing);

    return rc ? rc
              : list_names(req, res, "ListThingPrincipals", thing, "principals", true,
                           store_thing_principals);
}

static int list_principal_things(struct request *req, struct response *res)
{
    char id[STORE_CERT_ID_SIZE];
    int rc = principal_cert(req, id);

    return rc ? rc
              : list_names(req, res, "ListPrincipalThings", id, "things", false,
                           store_principal_things);
}

const struct route api_certs_routes[] = {
    { "GET", "/_ddlocal/ca.pem", get_ca_pem, NULL },
    { "POST", "/keys-and-certificate", create_keys_and_certificate, NULL },
    { "POST", "/certificates", create_certificate_from_csr, NULL },
    { "POST", "/certificate/register", register_certificate, NULL },
    { "POST", "/certificate/register-no-ca", register_certificate_without_ca, NULL },
    { "GET", "/certificates", list_certificates, NULL },
    { "GET", "/certificates/{certificateId}", describe_certificate, NULL },
    { "PUT", "/certificates/{certificateId}", update_certificate, NULL },
    { "DELETE", "/certificates/{certificateId}", delete_certificate, NULL },
    { "PUT", "/things/{thingName}/principals", attach_or_detach, NULL },
    { "DELETE", "/things/{thingName}/principals", attach_or_detach, NULL },
    { "GET", "/things/{thingName}/principals", list_thing_principals, NULL },
    { "GET", "/principals/things", list_principal_things, NULL },
    { NULL, NULL, NULL, NULL },
};
