/* SPDX-License-Identifier: MIT */
/* fuzz_snsfilter.c: SNS filter policies (Subscribe and
 * SetSubscriptionAttributes FilterPolicy).
 *
 * Input: byte 0 picks the scope (bit 0: MessageBody; the corpus writes "@"
 * for MessageAttributes and "A" for MessageBody), the rest is the
 * policy text. Whatever parses must match a few attribute maps and bodies
 * without crashing, in both match functions, and a second parse of the same
 * text must agree with the first on every match. A refusal must be
 * DD_ERR_INVALID with *out NULL and a message in AWS's InvalidParameter
 * shape. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/snsfilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const attrs[] = {
    NULL,
    "{}",
    "{\"a\":{\"Type\":\"String\",\"Value\":\"x\"},\"n\":{\"Type\":\"Number\",\"Value\":\"5\"}}",
    "{\"k\":{\"Type\":\"String.Array\",\"Value\":\"[\\\"a\\\",1,null,true,[2]]\"},"
    "\"ip\":{\"Type\":\"String\",\"Value\":\"10.0.0.1\"},"
    "\"b\":{\"Type\":\"Binary\",\"Value\":\"eA==\"}}",
    "{\"k\":{\"Type\":\"String.Array\",\"Value\":\"not json\"},\"x\":{\"Type\":\"Number\"}}",
    "not json",
};

static const char *const bodies[] = {
    NULL,
    "plain text",
    "[1,2]",
    "{}",
    "{\"a\":{\"b\":[\"x\",{\"c\":5}]},\"a.b\":null,\"n\":-1.5e3,\"t\":true,\"ip\":\"2001:db8::1\"}",
    "{\"k\":[[[\"deep\"]]],\"\":{\"\":\"\"},\"x.y\":{\"z\":\"v\"}}",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum snsfilter_scope scope;
    struct snsfilter *f = NULL, *g = NULL;
    struct dd_errbuf eb;
    char *text;
    size_t i;
    int rc;

    if (size < 1)
        return 0;
    scope = data[0] & 1 ? SNSFILTER_BODY : SNSFILTER_ATTRIBUTES;
    text = malloc(size);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    rc = snsfilter_parse(text, scope, &f, &eb);
    if (rc) {
        if (rc != DD_ERR_INVALID || f || strncmp(eb.msg, "Invalid parameter: ", 19))
            abort();
        free(text);
        return 0;
    }
    if (!f || snsfilter_scope(f) != scope || snsfilter_parse(text, scope, &g, &eb) != DD_OK)
        abort();
    if (snsfilter_numbers_in_range(f) != snsfilter_numbers_in_range(g))
        abort();
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        if (snsfilter_match_attributes(f, attrs[i]) != snsfilter_match_attributes(g, attrs[i]))
            abort();
    }
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        if (snsfilter_match_body(f, bodies[i]) != snsfilter_match_body(g, bodies[i]))
            abort();
    }
    snsfilter_free(g);
    snsfilter_free(f);
    free(text);
    return 0;
}
