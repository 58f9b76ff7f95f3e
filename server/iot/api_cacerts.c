/* SPDX-License-Identifier: MIT */
/* api_cacerts.c: registered CA certificates over HTTP: GetRegistrationCode,
 * RegisterCACertificate, Describe/List/Update/DeleteCACertificate,
 * ListCertificatesByCA; and revocation at the issuer, the emulator's own
 * API: POST /_ddlocal/ca/revoke (ddlocal's CA revokes one of its
 * certificates), GET /_ddlocal/ca.crl (its CRL, PEM) and
 * POST /_ddlocal/ca/crl (a registered CA's CRL, verified against it).
 *
 * The X.509 work is server/iot/ca.c's; the rules that need the database
 * are store/iot/store_cacerts.c's. AWS-behaviour choices: a CA is INACTIVE
 * and auto-registration DISABLE unless setAsActive / allowAutoRegistration
 * say otherwise; without a verificationCertificate the certificateMode
 * must be SNI_ONLY (InvalidRequestException otherwise); a verification
 * certificate whose CN is not the registration code is a
 * RegistrationCodeValidationException, one the CA did not sign or a CA
 * that is not a CA or has an RSA key under 2048 bits a
 * CertificateValidationException; DeleteCACertificate refuses an ACTIVE CA
 * with CertificateStateException (406). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/ids.h"
#include "core/jsonprint.h"
#include "core/names.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/iot/api_certs.h"
#include "server/iot/api_tags.h"
#include "server/iot/ca.h"
#include "server/server.h"
#include "store/iot/store_cacerts.h"

#define DEFAULT_PAGE_SIZE 25
#define PEM_MAX           65536

static const char *const cert_modes[] = { "DEFAULT", "SNI_ONLY", NULL };
static const char *const ca_statuses[] = { "ACTIVE", "INACTIVE", NULL };
static const char *const auto_statuses[] = { "ENABLE", "DISABLE", NULL };

/* The registration code of req's partition into code, made on first use. */
static int registration_code(struct request *req, struct store *s, char code[65])
{
    char fresh[65];
    int rc = ids_hex(fresh, sizeof(fresh), 32);

    if (rc)
        return dd_fail(&req->eb, DD_ERR_INTERNAL, "cannot make a registration code");
    return store_cacert_registration_code(s, fresh, code);
}

static int get_registration_code(struct request *req, struct response *res)
{
    struct store *s;
    char code[65];
    cJSON *o;
    int rc = request_store(req, &s);

    if (!rc)
        rc = registration_code(req, s, code);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    return response_json_free(
        res, o, o && cJSON_AddStringToObject(o, "registrationCode", code) ? DD_OK : DD_ERR_NOMEM);
}

/* registrationConfig of body, when given, as text into *out (cJSON_free). */
static int registration_config(struct request *req, const cJSON *body, char **out)
{
    const cJSON *c = handler_member(body, "registrationConfig");

    *out = NULL;
    if (!c)
        return DD_OK;
    if (!cJSON_IsObject(c))
        return dd_fail(&req->eb, DD_ERR_INVALID, "registrationConfig must be a structure");
    *out = jsonprint(c);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* RegisterCACertificate. */
static int register_ca_certificate(struct request *req, struct response *res)
{
    struct store_cacert_spec spec = { 0 };
    struct ca_cert c = { 0 };
    struct ca_names names;
    const char *ca_pem, *verification = NULL, *mode = NULL;
    char code[65], gen[IDS_UUID_SIZE], arn[NAMES_ARN_SIZE], *config = NULL;
    bool active = false, auto_reg = false, bad_code = false;
    cJSON *body = NULL, *o;
    struct store *s;
    int rc;

    rc = request_query_bool(req, "setAsActive", false, &active);
    if (!rc)
        rc = request_query_bool(req, "allowAutoRegistration", false, &auto_reg);
    if (!rc)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = api_certs_member_text(req, body, "caCertificate", PEM_MAX, &ca_pem);
    if (!rc && handler_member(body, "verificationCertificate"))
        rc = api_certs_member_text(req, body, "verificationCertificate", PEM_MAX, &verification);
    if (!rc)
        rc = handler_member_string(req, body, "certificateMode", NULL, &mode);
    if (!rc && mode)
        rc = names_check_enum("certificateMode", mode, cert_modes, &req->eb);
    if (!rc && !verification && !(mode && !strcmp(mode, "SNI_ONLY")))
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "verificationCertificate is required unless certificateMode is SNI_ONLY");
    if (!rc)
        rc = registration_config(req, body, &config);
    if (!rc)
        rc = handler_tags(req, body, "", "tags.member.", NULL);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = registration_code(req, s, code);
    if (!rc) {
        rc = ca_inspect_ca(ca_pem, verification, code, &c, &names, &bad_code, &req->eb);
        if (handler_error_as(req, res, &rc, DD_ERR_INVALID, 400,
                             bad_code ? "RegistrationCodeValidationException"
                                      : "CertificateValidationException"))
            goto out;
    }
    if (rc)
        goto out;
    rc = ids_uuid(gen) ? dd_fail(&req->eb, DD_ERR_INTERNAL, "cannot make an id") : DD_OK;
    spec = (struct store_cacert_spec){ .cert_id = c.cert_id,
                                       .pem = c.cert_pem,
                                       .subject = names.subject,
                                       .issuer = names.issuer,
                                       .serial = names.serial,
                                       .generation_id = gen,
                                       .registration_config = config,
                                       .active = active,
                                       .auto_registration = auto_reg,
                                       .sni_only = !verification,
                                       .not_before_s = c.not_before_s,
                                       .not_after_s = c.not_after_s,
                                       .now_ms = request_now_ms(req) };
    if (!rc)
        rc = store_cacert_create(s, &spec, &req->eb);
    if (!rc)
        rc = handler_arn(req, NAMES_ARN_CACERT, c.cert_id, arn);
    if (!rc) {
        struct handler h = { .req = req, .res = res, .s = s, .body = body };

        rc = api_tags_create(&h, NAMES_ARN_CACERT, c.cert_id);
    }
    if (!rc) {
        o = cJSON_CreateObject();
        rc = response_json_free(res, o,
                                o && cJSON_AddStringToObject(o, "certificateArn", arn) &&
                                        cJSON_AddStringToObject(o, "certificateId", c.cert_id)
                                    ? DD_OK
                                    : DD_ERR_NOMEM);
    }
out:
    cJSON_free(config);
    ca_cert_cleanup(&c);
    cJSON_Delete(body);
    return rc;
}

/* The caCertificateId of the path into id and the store into *s. */
static int path_ca(struct request *req, char id[STORE_CERT_ID_SIZE], struct store **s)
{
    int rc = api_certs_check_id(req, request_param(req, "caCertificateId"), id);

    return rc ? rc : request_store(req, s);
}

static int describe_ca_certificate(struct request *req, struct response *res)
{
    struct store_cacert c;
    char id[STORE_CERT_ID_SIZE], arn[NAMES_ARN_SIZE];
    cJSON *o = NULL, *d = NULL, *v = NULL;
    struct store *s;
    int rc;

    rc = path_ca(req, id, &s);
    if (rc)
        return rc;
    rc = store_cacert_get(s, id, &c, &req->eb);
    if (!rc)
        rc = handler_arn(req, NAMES_ARN_CACERT, id, arn);
    if (!rc) {
        o = cJSON_CreateObject();
        d = o ? cJSON_AddObjectToObject(o, "certificateDescription") : NULL;
        v = d ? cJSON_CreateObject() : NULL;
        if (!v || !cJSON_AddStringToObject(d, "certificateArn", arn) ||
            !cJSON_AddStringToObject(d, "certificateId", id) ||
            !cJSON_AddStringToObject(d, "status", c.active ? "ACTIVE" : "INACTIVE") ||
            !cJSON_AddStringToObject(d, "certificatePem", c.pem) ||
            !cJSON_AddStringToObject(d, "ownedBy", req->account) ||
            !cJSON_AddNumberToObject(d, "creationDate", (double)c.created_ms / 1000.0) ||
            !cJSON_AddStringToObject(d, "autoRegistrationStatus",
                                     c.auto_registration ? "ENABLE" : "DISABLE") ||
            !cJSON_AddNumberToObject(d, "lastModifiedDate", (double)c.modified_ms / 1000.0) ||
            !cJSON_AddNumberToObject(d, "customerVersion", (double)c.customer_version) ||
            !cJSON_AddStringToObject(d, "generationId", c.generation_id) ||
            !cJSON_AddNumberToObject(v, "notBefore", (double)c.not_before_s) ||
            !cJSON_AddNumberToObject(v, "notAfter", (double)c.not_after_s) ||
            !cJSON_AddItemToObject(d, "validity", v) ||
            !cJSON_AddStringToObject(d, "certificateMode", c.sni_only ? "SNI_ONLY" : "DEFAULT"))
            rc = DD_ERR_NOMEM;
        else
            v = NULL;
        if (!rc && c.registration_config)
            rc = handler_add_json(o, "registrationConfig", c.registration_config);
        rc = response_json_free(res, o, rc);
    }
    cJSON_Delete(v);
    store_cacert_cleanup(&c);
    return rc;
}

static int list_ca_certificates(struct request *req, struct response *res)
{
    struct store_cacert_page page = { 0 };
    struct handler_marker m;
    char arn[NAMES_ARN_SIZE], last[24];
    int64_t after_seq = -1;
    cJSON *o = NULL, *arr;
    struct store *s;
    size_t i;
    int rc;

    rc = handler_marker_page(req, "ListCACertificates", DEFAULT_PAGE_SIZE, &m);
    if (!rc && m.key[0])
        rc = request_key_number(req, m.key, "marker", &after_seq);
    if (!rc)
        rc = handler_list_open(req, "certificates", &s, &o, &arr);
    if (rc)
        return rc;
    rc = store_cacert_list(s, m.ascending, after_seq, m.limit, &page);
    for (i = 0; !rc && i < page.n; i++) {
        const struct store_cacert *c = &page.v[i];
        cJSON *it;

        rc = handler_arn(req, NAMES_ARN_CACERT, c->cert_id, arn);
        it = rc ? NULL : handler_add_object(arr);
        if (!rc && !(it && cJSON_AddStringToObject(it, "certificateArn", arn) &&
                     cJSON_AddStringToObject(it, "certificateId", c->cert_id) &&
                     cJSON_AddStringToObject(it, "status", c->active ? "ACTIVE" : "INACTIVE") &&
                     cJSON_AddNumberToObject(it, "creationDate", (double)c->created_ms / 1000.0)))
            rc = DD_ERR_NOMEM;
    }
    if (page.n && page.more)
        snprintf(last, sizeof(last), "%lld", (long long)page.v[page.n - 1].seq);
    rc = handler_respond_page(req, res, o, rc, "nextMarker", m.scope,
                              page.n && page.more ? last : NULL);
    store_cacert_page_cleanup(&page);
    return rc;
}

/* An optional enum query argument as 1 (the first value), 0 (the second)
 * or -1 (absent). */
static int query_flag(struct request *req, const char *key, const char *const *values, int *out)
{
    const char *v = request_query(req, key);
    int rc;

    *out = -1;
    if (!v)
        return DD_OK;
    rc = names_check_enum(key, v, values, &req->eb);
    if (!rc)
        *out = names_enum_find(values, v) == 0;
    return rc;
}

static int update_ca_certificate(struct request *req, struct response *res)
{
    char id[STORE_CERT_ID_SIZE], *config = NULL;
    int status, auto_reg, rc;
    bool remove = false;
    cJSON *body = NULL;
    struct store *s;

    rc = api_certs_check_id(req, request_param(req, "caCertificateId"), id);
    if (!rc)
        rc = query_flag(req, "newStatus", ca_statuses, &status);
    if (!rc)
        rc = query_flag(req, "newAutoRegistrationStatus", auto_statuses, &auto_reg);
    if (!rc && req->body_len)
        rc = request_json_body(req, &body);
    if (!rc)
        rc = registration_config(req, body, &config);
    if (!rc)
        rc = handler_member_bool(req, body, "removeAutoRegistration", &remove);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_cacert_update(s, id, status, auto_reg, config, remove, request_now_ms(req),
                                 &req->eb);
    if (!rc)
        rc = response_json_free(res, cJSON_CreateObject(), DD_OK);
    cJSON_free(config);
    cJSON_Delete(body);
    return rc;
}

static int delete_ca_certificate(struct request *req, struct response *res)
{
    char id[STORE_CERT_ID_SIZE];
    struct store *s;
    int rc;

    rc = path_ca(req, id, &s);
    if (!rc)
        rc = store_cacert_delete(s, id, &req->eb);
    if (handler_error_as(req, res, &rc, DD_ERR_STATE, 406, "CertificateStateException") || rc)
        return rc;
    return response_json_free(res, cJSON_CreateObject(), DD_OK);
}

static int list_certificates_by_ca(struct request *req, struct response *res)
{
    char id[STORE_CERT_ID_SIZE];
    struct store *s;
    int rc = path_ca(req, id, &s);

    return rc ? rc : api_certs_respond_page(req, res, s, id, "ListCertificatesByCA");
}

/* ---- revocation at the issuer (the emulator's own API) ---- */

/* POST /_ddlocal/ca/revoke {"certificateId": ID}: ddlocal's CA puts a
 * certificate it issued on its CRL. The certificate's IoT status does not
 * change. */
static int revoke_at_issuer(struct request *req, struct response *res)
{
    struct store_cert cert = { 0 };
    struct ca_names own, names;
    char id[STORE_CERT_ID_SIZE];
    const char *v = NULL;
    struct ca *ca = NULL;
    cJSON *body = NULL, *o;
    struct store *s;
    int rc;

    rc = request_json_body(req, &body);
    if (!rc)
        rc = handler_member_string(req, body, "certificateId", NULL, &v);
    if (!rc)
        rc = api_certs_check_id(req, v, id);
    if (!rc)
        rc = api_certs_load_ca(req, &s, &ca);
    if (!rc)
        rc = store_cert_get(s, id, &cert, &req->eb);
    if (!rc)
        rc = ca_own_names(ca, &own);
    if (!rc)
        rc = ca_cert_names(cert.pem, &names, &req->eb);
    if (!rc && strcmp(names.issuer, own.subject) != 0)
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "Certificate %s was not issued by ddlocal's CA: upload its CA's CRL with "
                     "POST /_ddlocal/ca/crl instead.",
                     id);
    if (!rc)
        rc = store_crl_revoke(s, own.subject, names.serial, server_real_ms() / 1000);
    if (!rc) {
        o = cJSON_CreateObject();
        rc = response_json_free(res, o,
                                o && cJSON_AddStringToObject(o, "certificateId", id) &&
                                        cJSON_AddStringToObject(o, "serialNumber", names.serial) &&
                                        cJSON_AddStringToObject(o, "issuer", own.subject)
                                    ? DD_OK
                                    : DD_ERR_NOMEM);
    }
    store_cert_cleanup(&cert);
    ca_free(ca);
    cJSON_Delete(body);
    return rc;
}

/* GET /_ddlocal/ca.crl: ddlocal's CA's CRL, PEM, signed now. */
static int get_crl(struct request *req, struct response *res)
{
    struct store_crl_entries e = { 0 };
    const char **serials = NULL;
    int64_t *times = NULL;
    struct ca_names own;
    struct ca *ca = NULL;
    char *pem = NULL;
    struct store *s;
    size_t i;
    int rc;

    rc = api_certs_load_ca(req, &s, &ca);
    if (!rc)
        rc = ca_own_names(ca, &own);
    if (!rc)
        rc = store_crl_entries(s, own.subject, &e);
    if (!rc && e.n) {
        serials = calloc(e.n, sizeof(*serials));
        times = calloc(e.n, sizeof(*times));
        if (!serials || !times)
            rc = DD_ERR_NOMEM;
    }
    for (i = 0; !rc && i < e.n; i++) {
        serials[i] = e.v[i].serial;
        times[i] = e.v[i].revoked_real_s;
    }
    if (!rc)
        rc = ca_crl_sign(ca, serials, times, e.n, server_real_ms() / 1000, &pem, &req->eb);
    if (!rc) {
        response_take_body(res, 200, "application/x-pem-file", pem, strlen(pem));
        pem = NULL;
    }
    free(pem);
    free(serials);
    free(times);
    store_crl_entries_cleanup(&e);
    ca_free(ca);
    return rc;
}

/* POST /_ddlocal/ca/crl {"caCertificateId": ID, "crl": PEM}: the CRL of a
 * registered CA, which must have issued and signed it; it replaces that
 * CA's earlier one. */
static int put_crl(struct request *req, struct response *res)
{
    struct store_cacert ca = { 0 };
    struct ca_crl crl = { 0 };
    struct ca_names names;
    char id[STORE_CERT_ID_SIZE];
    const char *v = NULL, *crl_pem = NULL;
    cJSON *body = NULL, *o;
    struct store *s;
    int rc;

    rc = request_json_body(req, &body);
    if (!rc)
        rc = handler_member_string(req, body, "caCertificateId", NULL, &v);
    if (!rc)
        rc = api_certs_check_id(req, v, id);
    if (!rc)
        rc = api_certs_member_text(req, body, "crl", PEM_MAX, &crl_pem);
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_cacert_get(s, id, &ca, &req->eb);
    if (!rc)
        rc = ca_crl_read(crl_pem, ca.pem, &crl, &req->eb);
    if (!rc)
        rc = ca_cert_names(ca.pem, &names, &req->eb);
    if (!rc)
        rc = store_crl_replace(s, names.subject, crl_pem, (const char *const *)crl.serials,
                               crl.revoked_s, crl.n, request_now_ms(req));
    if (!rc) {
        o = cJSON_CreateObject();
        rc = response_json_free(res, o,
                                o && cJSON_AddStringToObject(o, "caCertificateId", id) &&
                                        cJSON_AddNumberToObject(o, "revoked", (double)crl.n)
                                    ? DD_OK
                                    : DD_ERR_NOMEM);
    }
    ca_crl_cleanup(&crl);
    store_cacert_cleanup(&ca);
    cJSON_Delete(body);
    return rc;
}

const struct route api_cacerts_routes[] = {
    { "GET", "/registrationcode", get_registration_code, NULL },
    { "POST", "/cacertificate", register_ca_certificate, NULL },
    { "GET", "/cacertificates", list_ca_certificates, NULL },
    { "GET", "/cacertificate/{caCertificateId}", describe_ca_certificate, NULL },
    { "PUT", "/cacertificate/{caCertificateId}", update_ca_certificate, NULL },
    { "DELETE", "/cacertificate/{caCertificateId}", delete_ca_certificate, NULL },
    { "GET", "/certificates-by-ca/{caCertificateId}", list_certificates_by_ca, NULL },
    { "POST", "/_ddlocal/ca/revoke", revoke_at_issuer, NULL },
    { "GET", "/_ddlocal/ca.crl", get_crl, NULL },
    { "POST", "/_ddlocal/ca/crl", put_crl, NULL },
    { NULL, NULL, NULL, NULL },
};
