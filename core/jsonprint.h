/* SPDX-License-Identifier: MIT */
/* jsonprint.h: cJSON trees printed compactly, byte for byte as
 * cJSON_PrintUnformatted() prints them, only faster.
 *
 * Debian 12's cJSON (1.7.15) prints every number with sprintf("%1.15g")
 * and reads it back with sscanf() to see whether 17 digits are needed: a
 * shadow update spent a tenth of its time there, on timestamps and
 * versions. Integers below 10^15 are printed here digit by digit, which is
 * what "%1.15g" gives for them; every other number, and every string
 * escape, follows cJSON's rules (test_jsonprint.c compares the two on
 * tables and on random trees, tests/fuzz/fuzz_jsonprint.c on any input). */
#ifndef DD_CORE_JSONPRINT_H
#define DD_CORE_JSONPRINT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* item (borrowed) printed without whitespace, as a NUL-terminated string
 * the caller frees with free() (or cJSON_free(), which is free() here: no
 * code of ours sets cJSON's hooks but the unit tests', whose free() is the
 * same wrapped one, so the callers that freed cJSON_PrintUnformatted()'s
 * text with either stay right); NULL when out of memory, or when the tree
 * holds what cJSON cannot print either (an invalid item, a raw item with no
 * text). Pure; any thread. */
char *jsonprint(const cJSON *item);

/* Text built piece by piece in a growing buffer: what jsonprint() prints
 * into, and what core/sns.c builds the SNS bodies with, whose key order
 * and spacing no cJSON print gives. Start it zeroed. The first failed
 * allocation sets failed, and every later append does nothing. Pure; one
 * thread at a time. */
struct jsontext {
    char *p; /* owned until jsontext_take(); NUL-terminated once appended to */
    size_t len, cap;
    bool failed;
};

/* Append the n bytes at s, or s up to its NUL. */
void jsontext_put(struct jsontext *t, const char *s, size_t n);
void jsontext_cat(struct jsontext *t, const char *s);

/* Append s (NULL: "") as a JSON string literal with cJSON's escapes: the
 * two-character ones it knows, \u00xx (lower-case hex) for the other
 * control characters, every other byte as it is. */
void jsontext_string(struct jsontext *t, const char *s);

/* Hand the text to *out (the caller frees it with free(); NULL when
 * nothing was appended) and return DD_OK, or free it and return
 * DD_ERR_NOMEM when t failed. Either way t is empty again. */
int jsontext_take(struct jsontext *t, char **out);

#endif
