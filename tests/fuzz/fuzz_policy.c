/* SPDX-License-Identifier: MIT */
/* fuzz_policy.c: policy documents (CreatePolicy bodies) and one request.
 *
 * Input: byte 0 picks the mode and the action, byte 1 the context, then
 * text up to the first NUL, then the rest.
 * - Document mode: the text is the resource (after an ARN prefix), the rest
 *   a policy document. It goes through policy_validate() and
 *   policy_set_new() as the server and the engine call them; both must
 *   agree, and neither may report out of memory (that would mean the syntax
 *   pre-check accepted something cJSON refuses). A compiled set is then
 *   evaluated for the request.
 * - Glob mode (byte 0 bit 7): the text is a Resource pattern, the rest the
 *   resource. The pattern is wrapped in a 2008-10-17 Allow statement and
 *   the decision is compared with a plain dynamic-programming glob. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PFX      "arn:aws:iot:us-east-1:123456789012:"
#define MAX_GLOB 96

/* Compiled next to the fuzzed document: variables, a condition, a Deny. */
#define SECOND_DOC                                                                                 \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\","       \
    "\"Resource\":\"arn:aws:iot:*:*:topic/${iot:ClientId}/*\"},{\"Effect\":\"Deny\",\"Action\":"   \
    "\"iot:Publish\",\"Resource\":\"*\",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"           \
    "\"10.0.0.0/8\"}}}]}"

static const struct policy_attribute attrs[] = { { "floor", "3" }, { "room", "r*" } };

static void context_from(uint8_t bits, struct policy_context *ctx)
{
    static const char *const ips[] = { NULL, "192.0.2.7", "2001:db8::5", "::ffff:10.1.2.3" };

    memset(ctx, 0, sizeof(*ctx));
    ctx->client_id = bits & 1 ? "lamp-7" : "a*?${x}";
    ctx->thing_name = bits & 2 ? "lamp-7" : NULL;
    ctx->thing_type_name = bits & 4 ? "bulb" : NULL;
    ctx->attributes = attrs;
    ctx->n_attributes = bits & 8 ? 2 : 0;
    ctx->thing_attached = (bits & 16) != 0;
    ctx->certificate_id = bits & 32 ? "abc123" : NULL;
    ctx->source_ip = ips[bits >> 6];
}

/* The next UTF-8 sequence starts after s[i]. */
static size_t next_char(const char *s, size_t i, size_t n)
{
    i++;
    while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* m[i][j]: pattern from i matches subject from j. */
static bool reference_glob(const char *p, size_t pn, const char *s, size_t sn)
{
    static bool m[MAX_GLOB + 1][MAX_GLOB + 1];
    size_t i, j;

    for (i = pn + 1; i-- > 0;) {
        for (j = sn + 1; j-- > 0;) {
            if (i == pn)
                m[i][j] = j == sn;
            else if (p[i] == '*')
                m[i][j] = m[i + 1][j] || (j < sn && m[i][next_char(s, j, sn)]);
            else if (p[i] == '?')
                m[i][j] = j < sn && m[i + 1][next_char(s, j, sn)];
            else
                m[i][j] = j < sn && p[i] == s[j] && m[i + 1][j + 1];
        }
    }
    return m[0][0];
}

static void glob_mode(const char *pat, size_t pn, const char *subj, size_t sn, uint8_t action)
{
    char pattern[MAX_GLOB + 8], resource[MAX_GLOB + 8];
    struct policy_source src = { "g", NULL, 0 };
    struct policy_set *set = NULL;
    cJSON *doc, *st;
    char *text = NULL;
    enum policy_decision d;

    if (pn > MAX_GLOB - 4 || sn > MAX_GLOB - 4 || memchr(subj, '\0', sn))
        return;
    memcpy(pattern, "arn:", 4);
    memcpy(pattern + 4, pat, pn);
    pattern[pn + 4] = '\0';
    memcpy(resource, "arn:", 4);
    memcpy(resource + 4, subj, sn);
    resource[sn + 4] = '\0';
    doc = cJSON_CreateObject();
    st = cJSON_AddObjectToObject(doc, "Statement");
    if (!st || !cJSON_AddStringToObject(st, "Effect", "Allow") ||
        !cJSON_AddStringToObject(st, "Action", "iot:*") ||
        !cJSON_AddStringToObject(st, "Resource", pattern))
        abort();
    text = cJSON_PrintUnformatted(doc);
    if (!text)
        abort();
    src.document = text;
    src.document_len = strlen(text);
    if (policy_set_new(&src, 1, &set, NULL) != DD_OK)
        abort();
    d = policy_set_evaluate(set, (enum policy_action)(action % 5), resource, NULL, NULL);
    if ((d == POLICY_ALLOW) != reference_glob(pattern, pn + 4, resource, sn + 4))
        abort();
    policy_set_free(set);
    cJSON_free(text);
    cJSON_Delete(doc);
}

static void document_mode(const char *res, size_t rn, const char *doc, size_t dn, uint8_t action,
                          uint8_t ctx_bits)
{
    struct policy_source srcs[2] = { { "a", doc, dn }, { "b", SECOND_DOC, strlen(SECOND_DOC) } };
    struct policy_set *set = NULL;
    struct policy_context ctx;
    struct dd_errbuf eb;
    char arn[512];
    const char *by;
    int rc, rc_set;

    rc = policy_validate(doc, dn, 0, &eb);
    if (rc != DD_OK && rc != DD_ERR_MALFORMED_POLICY)
        abort();
    (void)policy_validate(doc, dn, POLICY_MAX_CHARS, &eb);
    rc_set = policy_set_new(srcs, 2, &set, &eb);
    if (rc_set != rc || (rc_set == DD_OK) != (set != NULL))
        abort();
    if (!set)
        return;
    if (rn > sizeof(arn) - sizeof(PFX)) {
        policy_set_free(set);
        return;
    }
    memcpy(arn, PFX, sizeof(PFX) - 1);
    memcpy(arn + sizeof(PFX) - 1, res, rn);
    arn[sizeof(PFX) - 1 + rn] = '\0';
    context_from(ctx_bits, &ctx);
    (void)policy_set_evaluate(set, (enum policy_action)(action % 5), arn, &ctx, &by);
    (void)policy_set_evaluate(set, (enum policy_action)(action % 5), arn, NULL, NULL);
    policy_set_free(set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text, *nul;
    size_t tn;

    if (size < 2)
        return 0;
    text = (const char *)data + 2;
    nul = memchr(text, '\0', size - 2);
    if (!nul)
        return 0;
    tn = (size_t)(nul - text);
    if (data[0] & 0x80)
        glob_mode(text, tn, nul + 1, size - 2 - tn - 1, data[0]);
    else
        document_mode(text, tn, nul + 1, size - 2 - tn - 1, data[0], data[1]);
    return 0;
}
