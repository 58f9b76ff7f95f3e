/* SPDX-License-Identifier: MIT */
/* fuzz_fleetquery.c: fleet-indexing query strings (SearchIndex, dynamic
 * thing groups).
 *
 * Input: byte 0 picks the index (bit 0) and the record's values (bits
 * 1-7), the rest is the query. Whatever parses must: hold at most 12
 * terms; match a record without crashing; print to a canonical text that
 * parses back to an equal tree (the allowed refusals: a query that grew
 * past the 100 characters of a leading wildcard, or past 8192, when field
 * groups were expanded) and
 * prints to the same text again. A refusal must be DD_ERR_INVALID with a
 * message in AWS's shape. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/fleetquery.h"
#include "core/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct record {
    uint8_t bits;
    struct fleetquery_value vals[4];
};

/* Values that depend on the field's name and the input's bits, so every
 * type meets every kind of leaf. */
static void lookup(void *ctx, const char *field, const struct fleetquery_value **vals,
                   size_t *n_vals)
{
    struct record *r = ctx;
    size_t h = field ? strlen(field) : 3;

    r->vals[0].type = FLEETQUERY_STRING;
    r->vals[0].str = (r->bits ^ h) & 2 ? "Pump-7 a*b Z\xc3\xbcrich" : "";
    r->vals[1].type = FLEETQUERY_NUMBER;
    r->vals[1].num = (double)(r->bits & 0x1c) - 8.5;
    r->vals[2].type = FLEETQUERY_BOOL;
    r->vals[2].b = (r->bits & 0x20) != 0;
    r->vals[3].type = FLEETQUERY_STRING;
    r->vals[3].str = "abcd";
    *vals = r->vals;
    *n_vals = (r->bits + h) % 5;
}

/* Print fq into a fresh heap text, or abort. */
static char *format(const struct fleetquery *fq)
{
    struct strbuf sb;
    char *text;
    size_t need;

    strbuf_init(&sb, NULL, 0);
    (void)fleetquery_format(fq, &sb);
    need = strbuf_len(&sb) + 1;
    text = malloc(need);
    if (!text)
        abort();
    strbuf_init(&sb, text, need);
    if (fleetquery_format(fq, &sb) != DD_OK)
        abort();
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum fleetquery_index index;
    struct fleetquery *fq = NULL, *back = NULL;
    struct record rec;
    struct dd_errbuf eb;
    char *text = NULL, *again = NULL;
    int rc;

    if (size < 1)
        return 0;
    index = data[0] & 1 ? FLEETQUERY_THING_GROUPS : FLEETQUERY_THINGS;
    rc = fleetquery_parse((const char *)data + 1, size - 1, index, &fq, &eb);
    if (rc) {
        if (rc != DD_ERR_INVALID || fq || strncmp(eb.msg, "Unable to parse query, ", 23))
            abort();
        return 0;
    }
    if (fleetquery_n_terms(fq) < 1 || fleetquery_n_terms(fq) > FLEETQUERY_MAX_TERMS)
        abort();
    memset(&rec, 0, sizeof(rec));
    rec.bits = data[0];
    (void)fleetquery_match(fq, lookup, &rec);
    text = format(fq);
    rc = fleetquery_parse(text, strlen(text), index, &back, &eb);
    if (rc) {
        if (!strstr(eb.msg, "leading wildcard is limited to 100 characters") &&
            !strstr(eb.msg, "longer than 8192 characters"))
            abort();
    } else {
        if (!fleetquery_equal(fq, back))
            abort();
        if (fleetquery_match(fq, lookup, &rec) != fleetquery_match(back, lookup, &rec))
            abort();
        again = format(back);
        if (strcmp(text, again))
            abort();
    }
    free(again);
    free(text);
    fleetquery_free(back);
    fleetquery_free(fq);
    return 0;
}
