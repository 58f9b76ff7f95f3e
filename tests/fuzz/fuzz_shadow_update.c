/* SPDX-License-Identifier: MIT */
/* fuzz_shadow_update.c: shadow update documents through shadow_update().
 *
 * Input layout: one control byte, then two parts split at the first NUL
 * byte (the second may be missing). The low two bits of the control byte
 * pick where the current shadow comes from:
 *   0  no shadow (tombstone version = control byte >> 4), the whole rest is
 *      the request;
 *   1  part one is the stored text, taken as is (damaged stored data);
 *   2  part one is a first update applied to a new shadow, whose stored
 *      result the second part then updates (the common path).
 * Bit 2 switches to small limits (256 bytes, depth 3) so 413 is reachable.
 * Any accepted result must be parseable JSON in every payload, its stored
 * state must fit the limits, and GET on it must succeed; a rejection must
 * leave the result empty and give a printable error document. Part two also
 * goes through shadow_parse_request_token() as an MQTT get/delete payload. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../../core/error.h"
#include "../../core/mem.h"
#include "../../core/shadow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000

static void check(int ok)
{
    if (!ok)
        abort();
}

/* The depth rule of shadow.c: a non-empty container below a section is one
 * level deeper than its parent; the section is level 1. */
static int depth_of(const cJSON *c, int level)
{
    const cJSON *k;
    int max = level;

    for (k = c->child; k; k = k->next) {
        if ((cJSON_IsObject(k) || cJSON_IsArray(k)) && k->child) {
            int d = depth_of(k, level + 1);

            if (d > max)
                max = d;
        }
    }
    return max;
}

static cJSON *parse_ok(const char *text)
{
    cJSON *j;

    check(text != NULL);
    j = cJSON_Parse(text);
    check(j != NULL);
    return j;
}

static void check_accepted(const struct shadow_update_result *r, int64_t cur_version,
                           const struct shadow_limits *lim, int check_depth)
{
    cJSON *stored = parse_ok(r->stored), *st, *sec;
    char *text, *get = NULL;

    check(r->version == cur_version + 1);
    st = cJSON_GetObjectItemCaseSensitive(stored, "state");
    check(cJSON_IsObject(st));
    check(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(stored, "metadata")));
    text = cJSON_PrintUnformatted(st);
    check(text != NULL);
    check(strlen(text) <= lim->max_state_bytes);
    free(text);
    cJSON_ArrayForEach(sec, st)
    {
        check(cJSON_IsObject(sec) && sec->child != NULL);
        check(!check_depth || depth_of(sec, 1) <= lim->max_depth);
    }
    cJSON_Delete(stored);
    cJSON_Delete(parse_ok(r->accepted));
    cJSON_Delete(parse_ok(r->documents));
    if (r->delta)
        cJSON_Delete(parse_ok(r->delta));
    check(shadow_get(r->stored, r->version, NOW, "t", &get) == DD_OK);
    cJSON_Delete(parse_ok(get));
    free(get);
}

static void check_rejected(int rc, const struct shadow_update_result *r,
                           const struct shadow_error *err)
{
    char *doc = NULL;

    check(rc == DD_ERR_INVALID || rc == DD_ERR_ENCODING || rc == DD_ERR_TOO_LARGE ||
          rc == DD_ERR_VERSION_CONFLICT || rc == DD_ERR_INTERNAL);
    check(!r->stored && !r->accepted && !r->delta && !r->documents);
    check(err->code >= 400 && err->message[0] != '\0');
    check(shadow_error_json(err, NOW, &doc) == DD_OK);
    cJSON_Delete(parse_ok(doc));
    free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct shadow_limits lim;
    struct shadow_update_result r, first;
    struct shadow_error err;
    const char *rest, *sep, *req;
    char *stored = NULL;
    size_t rest_len, req_len;
    int64_t cur = 0;
    int mode, rc;

    if (size < 1)
        return 0;
    mode = data[0] & 3;
    shadow_limits_default(&lim);
    if (data[0] & 4) {
        lim.max_state_bytes = 256;
        lim.max_depth = 3;
    }
    rest = (const char *)data + 1;
    rest_len = size - 1;
    sep = memchr(rest, '\0', rest_len);
    req = sep ? sep + 1 : rest;
    req_len = sep ? rest_len - (size_t)(sep + 1 - rest) : rest_len;

    memset(&first, 0, sizeof(first));
    if (mode == 0 || !sep) {
        req = rest;
        req_len = rest_len;
        cur = data[0] >> 4;
    } else if (mode == 1) {
        stored = dd_strndup(rest, (size_t)(sep - rest));
        check(stored != NULL);
        cur = 5;
    } else {
        rc = shadow_update(NULL, 0, rest, (size_t)(sep - rest), NOW - 60, &lim, &first, &err);
        if (rc) {
            check_rejected(rc, &first, &err);
        } else {
            check_accepted(&first, 0, &lim, 1);
            stored = first.stored;
            first.stored = NULL;
            cur = first.version;
        }
    }

    rc = shadow_update(stored, cur, req, req_len, NOW, &lim, &r, &err);
    check(rc != DD_ERR_NOMEM);
    if (rc)
        check_rejected(rc, &r, &err);
    else
        check_accepted(&r, cur, &lim, mode != 1);
    shadow_update_result_cleanup(&r);
    shadow_update_result_cleanup(&first);

    rc = shadow_parse_request_token(req, req_len, &err);
    check(rc == DD_OK || rc == DD_ERR_INVALID || rc == DD_ERR_ENCODING);
    check(!err.has_client_token || strlen(err.client_token) <= SHADOW_CLIENT_TOKEN_MAX);
    free(stored);
    return 0;
}
