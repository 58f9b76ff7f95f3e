/* SPDX-License-Identifier: MIT */
/* fuzz_http_input.c: what the HTTP edge reads before any handler runs.
 *
 * Byte 0 picks the parser, the rest is its input:
 *   0  a request body through jsonscan_check(), as request_json_body()
 *      runs it: an accepted body must parse with cJSON as exactly one
 *      value (anything else would be an out-of-memory report on good
 *      input);
 *   1  a path segment, query value or form field through percent_decode(),
 *      compared with a plain decoder written here, both with and without
 *      '+' as space;
 *   2  an Authorization header through partition_scope_from_authorization():
 *      an accepted scope must be found, part for part, in the header;
 *   3  a Host header through origin_host_of() and the served-name rules: an
 *      accepted host is non-empty, lowercase and printable.
 * Every input is NUL-terminated first, as MHD hands values over. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/jsonscan.h"
#include "core/origin.h"
#include "core/partition.h"
#include "core/percent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 128

static void body(const char *text, size_t len)
{
    cJSON *doc;

    if (!jsonscan_check(text, len, MAX_DEPTH, NULL, NULL))
        return;
    doc = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
    if (!doc)
        abort();
    cJSON_Delete(doc);
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The reference: decode into out, false for a bad or NUL escape. */
static bool plain_decode(const char *in, bool plus, char *out)
{
    size_t i, o = 0, n = strlen(in);

    for (i = 0; i < n; i++) {
        if (in[i] == '%') {
            if (i + 2 >= n || hex(in[i + 1]) < 0 || hex(in[i + 2]) < 0)
                return false;
            out[o] = (char)(hex(in[i + 1]) * 16 + hex(in[i + 2]));
            if (!out[o])
                return false;
            o++;
            i += 2;
        } else {
            out[o++] = plus && in[i] == '+' ? ' ' : in[i];
        }
    }
    out[o] = '\0';
    return true;
}

static void percent(const char *text, size_t len)
{
    char *a = malloc(len + 1), *b = malloc(len + 1);
    int mode;

    if (!a || !b)
        abort();
    for (mode = 0; mode < 2; mode++) {
        bool ok;

        memcpy(a, text, len + 1);
        ok = percent_decode(a, mode == 1) == DD_OK;
        if (ok != plain_decode(text, mode == 1, b) || (ok && strcmp(a, b) != 0))
            abort();
    }
    free(a);
    free(b);
}

static void scope(const char *text)
{
    struct partition_scope s;
    char cred[sizeof(s.akid) + sizeof(s.date) + sizeof(s.region) + sizeof(s.service) + 32];

    if (partition_scope_from_authorization(text, &s))
        return;
    if (!s.akid[0] || !s.date[0] || !s.region[0] || !s.service[0])
        abort();
    snprintf(cred, sizeof(cred), "Credential=%s/%s/%s/%s/aws4_request", s.akid, s.date, s.region,
             s.service);
    if (!strstr(text, cred))
        abort();
    (void)partition_region_ok(s.region);
    (void)partition_is_account(s.akid);
}

static void host(const char *text)
{
    static const char *const extra[] = { "emulator" };
    char name[ORIGIN_HOST_MAX + 1];
    size_t i;

    if (origin_host_of(text, name, sizeof(name)))
        return;
    if (!name[0])
        abort();
    for (i = 0; name[i]; i++)
        if (name[i] <= ' ' || name[i] >= 0x7f || (name[i] >= 'A' && name[i] <= 'Z'))
            abort();
    (void)origin_host_served(name, "0.0.0.0", extra, 1);
    (void)origin_host_served(name, "127.0.0.1", extra, 1);
    (void)origin_is_same(text, text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size < 1)
        return 0;
    text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % 4) {
    case 0:
        body(text, size - 1);
        break;
    case 1:
        percent(text, strlen(text));
        break;
    case 2:
        scope(text);
        break;
    default:
        host(text);
        break;
    }
    free(text);
    return 0;
}
