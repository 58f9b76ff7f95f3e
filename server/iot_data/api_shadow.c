/* SPDX-License-Identifier: MIT */
/* api_shadow.c: the iot-data plane: GetThingShadow, UpdateThingShadow,
 * DeleteThingShadow, ListNamedShadowsForThing and Publish.
 *
 * Shadow bodies are raw bytes in both directions (no Content-Type in, the
 * document itself out). Every shadow write goes through store_shadow, which
 * also queues the MQTT replies (/update/accepted, /update/delta,
 * /update/documents, /delete/accepted) in the same transaction; a failed
 * REST request publishes nothing, as AWS does. Publish hands its message to
 * the broker through the MQTT outbox. Timestamps are emulated time. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/jsonprint.h"
#include "core/names.h"
#include "core/paging.h"
#include "core/shadow.h"
#include "server/api.h"
#include "server/aws_error.h"
#include "server/handler.h"
#include "store/emulator/store_outbox.h"
#include "store/iot_data/store_shadow.h"
#include "store/store.h"

#define SHADOW_DEFAULT_PAGE_SIZE 25
/* AWS IoT topic limits: 256 bytes, at most 7 slashes (not counting the
 * three of a "$aws/rules/<rule>/" Basic Ingest prefix). */
#define PUBLISH_TOPIC_MAX_BYTES  256
#define PUBLISH_TOPIC_MAX_SLASHS 7
#define PUBLISH_MAX_USER_PROPS   1024 /* decoded header bytes */

/* The iot-data error type of a shadow error document's code. */
static const char *shadow_error_type(int code)
{
    switch (code) {
    case 400:
        return "InvalidRequestException";
    case 404:
        return "ResourceNotFoundException";
    case 409:
        return "ConflictException";
    case 413:
        return "RequestEntityTooLargeException";
    case 415:
        return "UnsupportedDocumentEncodingException";
    default:
        return "InternalFailureException";
    }
}

/* Render a shadow error as the AWS error; the request is answered. */
static int respond_shadow_error(struct response *res, int rc, const struct shadow_error *err)
{
    unsigned status = err->code > 0 ? (unsigned)err->code : 500;

    aws_error_respond(res, rc, status, shadow_error_type((int)status), err->message);
    return DD_OK;
}

/* Validate {thingName} and ?name=; *shadow_name is NULL for the classic one. */
static int shadow_target(struct request *req, const char **thing, const char **shadow_name)
{
    int rc;

    *thing = request_param(req, "thingName");
    *shadow_name = request_query(req, "name");
    rc = names_check(NAMES_THING_NAME, "thingName", *thing, &req->eb);
    if (!rc && *shadow_name)
        rc = names_check(NAMES_SHADOW_NAME, "shadowName", *shadow_name, &req->eb);
    return rc;
}

/* Answer a shadow operation: doc (taken) as the 200 body on DD_OK, else
 * the shadow error err as the AWS error. The request is answered either
 * way. */
static int respond_document(struct response *res, int rc, char *doc, const struct shadow_error *err)
{
    if (rc)
        return respond_shadow_error(res, rc, err);
    response_take_body(res, 200, "application/json", doc, strlen(doc));
    return DD_OK;
}

/* The thing and shadow name of one shadow operation (handler_run's op). */
struct op {
    const char *thing, *name; /* borrowed from the request; name NULL: classic */
};

static int check_target(struct handler *h)
{
    struct op *op = h->op;

    return shadow_target(h->req, &op->thing, &op->name);
}

static int get_call(struct handler *h)
{
    const struct op *op = h->op;
    struct shadow_error err;
    char *doc = NULL;
    /* The clock and the shadow in one read transaction (store.h). */
    bool began = store_read_begin(h->s);
    int rc = store_shadow_get(h->s, op->thing, op->name, request_now_ms(h->req) / 1000, NULL, &doc,
                              &err);

    store_read_end(h->s, began);
    return respond_document(h->res, rc, doc, &err);
}

static int update_call(struct handler *h)
{
    const struct op *op = h->op;
    struct shadow_update_result r;
    struct shadow_error err;
    int rc = store_shadow_update(h->s, op->thing, op->name, h->req->body, h->req->body_len,
                                 request_now_ms(h->req) / 1000, NULL, true, &r, &err);

    if (rc)
        return respond_shadow_error(h->res, rc, &err);
    rc = respond_document(h->res, rc, r.accepted, &err);
    r.accepted = NULL; /* the response's now */
    shadow_update_result_cleanup(&r);
    return rc;
}

static int delete_call(struct handler *h)
{
    const struct op *op = h->op;
    struct shadow_error err;
    char *doc = NULL;
    int rc = store_shadow_delete(h->s, op->thing, op->name, request_now_ms(h->req) / 1000, NULL,
                                 true, &doc, &err);

    return respond_document(h->res, rc, doc, &err);
}

/* Parse a decimal integer query value (whole string) into *out. */
static int parse_int(struct request *req, const char *field, const char *v, int64_t *out)
{
    char *end;
    long long n;

    *out = 0;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || errno)
        return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid %s: '%.64s' is not an integer", field, v);
    *out = n;
    return DD_OK;
}

static int list_named(struct request *req, struct response *res)
{
    struct store_shadow_names page = { 0 };
    const char *thing = request_param(req, "thingName");
    const char *size_arg = request_query(req, "pageSize");
    const char *token = request_query(req, "nextToken");
    char scope[160], next[PAGING_TOKEN_SIZE];
    struct paging_pos pos = { 0 };
    int64_t page_size = SHADOW_DEFAULT_PAGE_SIZE;
    cJSON *o = NULL, *arr;
    struct store *s;
    size_t i;
    int rc;

    rc = names_check(NAMES_THING_NAME, "thingName", thing, &req->eb);
    if (!rc && size_arg) {
        rc = parse_int(req, "pageSize", size_arg, &page_size);
        if (!rc)
            rc = names_check_range(NAMES_SHADOW_PAGE_SIZE, "pageSize", page_size, &req->eb);
    }
    if (rc)
        return rc;
    snprintf(scope, sizeof(scope), "ListNamedShadowsForThing/%s", thing);
    if (token) {
        rc = paging_decode(scope, "nextToken", token, &pos, &req->eb);
        if (!rc && pos.kind != PAGING_KEY)
            rc = dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
        if (rc)
            return rc;
    }
    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = store_shadow_list_named(s, thing, token ? pos.key : NULL, (size_t)page_size, &page);
    if (rc)
        return rc;
    o = cJSON_CreateObject();
    arr = o ? cJSON_AddArrayToObject(o, "results") : NULL;
    if (!arr) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < page.n; i++) {
        cJSON *n = cJSON_CreateString(page.names[i]);

        if (!n || !cJSON_AddItemToArray(arr, n)) {
            cJSON_Delete(n);
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    if (page.more) {
        const char *last = page.names[page.n - 1];

        rc = paging_encode_key(scope, last, strlen(last), next, sizeof(next), &req->eb);
        if (rc)
            goto out;
        if (!cJSON_AddStringToObject(o, "nextToken", next)) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    if (!cJSON_AddNumberToObject(o, "timestamp", (double)request_now_ms(req) / 1000)) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    rc = response_json(res, o);
out:
    cJSON_Delete(o);
    store_shadow_names_cleanup(&page);
    return rc;
}

/* 1 when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], len, cp, k;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            len = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            len = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            len = 4, cp = c & 0x07;
        else
            return 0;
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        i += len;
    }
    return 1;
}

/* A topic a message can be published to: 1-256 bytes of UTF-8, no
 * wildcards, at most 7 slashes. */
static int check_topic(struct request *req, const char *field, const char *topic)
{
    size_t len = topic ? strlen(topic) : 0, slashes = 0, i;

    if (!len)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must not be empty", field);
    if (len > PUBLISH_TOPIC_MAX_BYTES)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s exceeds the maximum length of %d bytes", field,
                       PUBLISH_TOPIC_MAX_BYTES);
    if (!utf8_ok((const unsigned char *)topic, len))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s is not valid UTF-8", field);
    if (strpbrk(topic, "+#"))
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must not contain the wildcards + or #", field);
    for (i = 0; i < len; i++)
        slashes += topic[i] == '/';
    if (strncmp(topic, "$aws/rules/", 11) == 0)
        slashes = slashes >= 3 ? slashes - 3 : 0;
    if (slashes > PUBLISH_TOPIC_MAX_SLASHS)
        return dd_fail(&req->eb, DD_ERR_INVALID, "%s must not have more than %d forward slashes",
                       field, PUBLISH_TOPIC_MAX_SLASHS);
    return DD_OK;
}

static int b64_value(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode standard base64 (padding optional) into buf (size bytes), NUL
 * terminating it. DD_ERR_INVALID for bad text, DD_ERR_TOO_LARGE when it
 * does not fit. */
static int b64_decode(const char *in, char *buf, size_t size)
{
    size_t n = 0, len = strlen(in);
    unsigned acc = 0;
    int bits = 0;

    while (len && in[len - 1] == '=')
        len--;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value((unsigned char)in[i]);

        if (v < 0)
            return DD_ERR_INVALID;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= size)
                return DD_ERR_TOO_LARGE;
            buf[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    buf[n] = '\0';
    return DD_OK;
}

/* x-amz-mqtt5-user-properties: base64 of [{"k":"v"}, ...]; added to props as
 * [["k","v"], ...]. */
static int add_user_properties(struct request *req, const char *header, cJSON *props)
{
    char text[PUBLISH_MAX_USER_PROPS + 1];
    cJSON *doc = NULL, *pairs, *item;
    int rc = b64_decode(header, text, sizeof(text));

    if (rc)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "userProperties must be base64 of a JSON array of at most %d bytes",
                       PUBLISH_MAX_USER_PROPS);
    doc = cJSON_Parse(text);
    if (!doc || !cJSON_IsArray(doc)) {
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "userProperties must be a JSON array of objects with one string member");
        goto out;
    }
    pairs = cJSON_AddArrayToObject(props, "userProperties");
    if (!pairs) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    cJSON_ArrayForEach(item, doc)
    {
        const cJSON *kv = cJSON_IsObject(item) ? item->child : NULL;
        const char *pair_text[2];
        cJSON *pair;

        if (!kv || kv->next || !cJSON_IsString(kv)) {
            rc = dd_fail(&req->eb, DD_ERR_INVALID,
                         "userProperties must be a JSON array of objects with one string member");
            goto out;
        }
        pair_text[0] = kv->string;
        pair_text[1] = kv->valuestring;
        pair = cJSON_CreateStringArray(pair_text, 2);
        if (!pair || !cJSON_AddItemToArray(pairs, pair)) {
            cJSON_Delete(pair);
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
out:
    cJSON_Delete(doc);
    return rc;
}

/* The MQTT 5 properties of a Publish request as the outbox's JSON object;
 * *out is NULL when the request sets none, else cJSON_free() it. */
static int publish_properties(struct request *req, char **out)
{
    static const char *const formats[] = { "UNSPECIFIED_BYTES", "UTF8_DATA", NULL };
    const char *content_type = request_query(req, "contentType");
    const char *response_topic = request_query(req, "responseTopic");
    const char *expiry = request_query(req, "messageExpiry");
    const char *user_props = request_header(req, "x-amz-mqtt5-user-properties");
    const char *format = request_header(req, "x-amz-mqtt5-payload-format-indicator");
    const char *correlation = request_header(req, "x-amz-mqtt5-correlation-data");
    cJSON *props;
    int64_t expiry_s = 0;
    int rc = DD_OK;

    *out = NULL;
    if (response_topic)
        rc = check_topic(req, "responseTopic", response_topic);
    if (!rc && expiry) {
        rc = parse_int(req, "messageExpiry", expiry, &expiry_s);
        if (!rc)
            rc = names_check_int("messageExpiry", expiry_s, 0, UINT32_MAX, &req->eb);
    }
    if (!rc && format)
        rc = names_check_enum("payloadFormatIndicator", format, formats, &req->eb);
    if (rc)
        return rc;
    if (!content_type && !response_topic && !expiry && !user_props && !format && !correlation)
        return DD_OK;
    props = cJSON_CreateObject();
    if (!props || (content_type && !cJSON_AddStringToObject(props, "contentType", content_type)) ||
        (response_topic && !cJSON_AddStringToObject(props, "responseTopic", response_topic)) ||
        (expiry && !cJSON_AddNumberToObject(props, "messageExpiry", (double)expiry_s)) ||
        (format && !cJSON_AddStringToObject(props, "payloadFormatIndicator", format)) ||
        (correlation && !cJSON_AddStringToObject(props, "correlationData", correlation)))
        rc = DD_ERR_NOMEM;
    if (!rc && user_props)
        rc = add_user_properties(req, user_props, props);
    if (!rc) {
        *out = jsonprint(props);
        if (!*out)
            rc = DD_ERR_NOMEM;
    }
    cJSON_Delete(props);
    return rc;
}

static int publish(struct request *req, struct response *res)
{
    const char *topic = request_param(req, "topic");
    const char *qos_arg = request_query(req, "qos");
    const char *retain_arg = request_query(req, "retain");
    char *props = NULL;
    int64_t qos = 0;
    int retain = 0, rc;
    struct store *s;

    (void)res;
    rc = check_topic(req, "topic", topic);
    if (!rc && qos_arg) {
        rc = parse_int(req, "qos", qos_arg, &qos);
        if (!rc)
            rc = names_check_range(NAMES_QOS, "qos", qos, &req->eb);
    }
    if (!rc && retain_arg) {
        if (strcmp(retain_arg, "true") == 0)
            retain = 1;
        else if (strcmp(retain_arg, "false") != 0)
            rc = dd_fail(&req->eb, DD_ERR_INVALID, "retain must be true or false");
    }
    if (!rc)
        rc = publish_properties(req, &props);
    if (rc)
        return rc;
    rc = request_store(req, &s);
    if (!rc)
        rc = store_outbox_add(s, topic, req->body, req->body_len, (int)qos, retain, props);
    cJSON_free(props);
    return rc;
}

/* The operations, named in the route table: every one checks the same
 * target and answers by itself. */
static const struct handler_ops get_shadow = { check_target, get_call,          NULL,
                                               NULL,         sizeof(struct op), NULL };
static const struct handler_ops update_shadow = { check_target, update_call,       NULL,
                                                  NULL,         sizeof(struct op), NULL };
static const struct handler_ops delete_shadow = { check_target, delete_call,       NULL,
                                                  NULL,         sizeof(struct op), NULL };

const struct route api_shadow_routes[] = {
    { "GET", "/things/{thingName}/shadow", NULL, &get_shadow },
    { "POST", "/things/{thingName}/shadow", NULL, &update_shadow },
    { "DELETE", "/things/{thingName}/shadow", NULL, &delete_shadow },
    { "GET", "/api/things/shadow/ListNamedShadowsForThing/{thingName}", list_named, NULL },
    { "POST", "/topics/{topic+}", publish, NULL },
    { NULL, NULL, NULL, NULL },
};
