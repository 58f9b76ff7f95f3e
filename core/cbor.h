/* SPDX-License-Identifier: MIT */
/* cbor.h: the small, strict subset of CBOR (RFC 8949) that Device Defender
 * metrics reports and their replies use.
 *
 * Decoding turns one CBOR data item into a cJSON tree, so a CBOR report and a
 * JSON report go through the same validation code (core/report.c) and cannot
 * drift apart. Only what has a JSON equivalent is accepted: maps with text
 * keys, arrays, integers, text strings, half/single/double floats (finite),
 * true, false and null. Byte strings, tags, undefined, other simple values,
 * indefinite lengths (AWS's own agent never sends them) and nesting deeper
 * than CBOR_MAX_DEPTH are rejected, as is anything after the first item.
 * Integers become cJSON doubles, so magnitudes above 2^53 are rounded, as
 * they are for JSON reports.
 *
 * Encoding writes definite-length items in preferred (shortest) form into a
 * caller's buffer through a counting writer: run it once without a buffer
 * to learn the size, allocate, run it again. The writer never allocates. */
#ifndef DD_CORE_CBOR_H
#define DD_CORE_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "core/error.h"

/* The deepest nesting accepted: the top item is depth 1. Reports need 7. */
#define CBOR_MAX_DEPTH 16

/* Decode the one CBOR data item that fills buf[0..len) into a new cJSON tree.
 * buf is borrowed and need not be NUL-terminated. On DD_OK *out owns the
 * tree: free it with cJSON_Delete(). Errors: DD_ERR_INVALID (not well-formed,
 * outside the subset above, trailing bytes, text that is not UTF-8 or holds
 * U+0000; eb says which byte offset), DD_ERR_NOMEM. On error *out is NULL.
 * Pure: any thread. Tested by test_report.c (cbor_* rows). */
int cbor_decode_json(const uint8_t *buf, size_t len, cJSON **out, struct dd_errbuf *eb);

/* A counting writer over a caller's buffer (which may be NULL with cap 0).
 * Every cbor_put_* call advances len by the bytes the item needs and writes
 * them only where they fit, so after a run len is the size the output needs
 * and the output is complete iff len <= cap. */
struct cbor_writer {
    uint8_t *buf; /* borrowed; NULL to only count */
    size_t cap;   /* bytes buf can hold */
    size_t len;   /* bytes the items put so far need */
};

/* Start a writer over buf[0..cap). w is the caller's. Cannot fail. */
void cbor_writer_init(struct cbor_writer *w, uint8_t *buf, size_t cap);

/* Put the head of a definite-length map of n pairs; the caller then puts
 * 2n items (key, value, ...). Cannot fail. */
void cbor_put_map(struct cbor_writer *w, uint64_t n);

/* Put a text string; s (borrowed, len bytes, need not be NUL-terminated)
 * must be UTF-8 (not checked). Cannot fail. */
void cbor_put_text(struct cbor_writer *w, const char *s, size_t len);

/* Put an integer in its shortest major-0 or major-1 form. Cannot fail. */
void cbor_put_int(struct cbor_writer *w, int64_t v);

#endif
