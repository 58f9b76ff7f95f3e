/* SPDX-License-Identifier: MIT */
/* paging.h: opaque pagination tokens (nextToken, nextMarker).
 *
 * The CLI follows tokens until none comes back and fails when it receives
 * the same token twice, so a token must encode the position itself (the
 * last key returned, or an offset), never a counter that could repeat.
 * Clients send tokens back percent-encoded, so tokens use [A-Za-z0-9]
 * only. A token carries a checksum over its content and a caller-chosen
 * scope (the operation and its filters), so a token from another listing,
 * or a typed-in one, is rejected instead of silently paging wrong.
 * Encoding is canonical: one position gives one token. Everything works in
 * caller buffers. Pure: no I/O; any thread. */
#ifndef DD_CORE_PAGING_H
#define DD_CORE_PAGING_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Longest key a token can carry, in bytes. */
#define PAGING_KEY_MAX 500

/* A buffer this size (NUL included) holds any token; tokens stay within
 * the 1024 characters of ListPolicies' marker. */
#define PAGING_TOKEN_SIZE (1 + 2 * PAGING_KEY_MAX + 4 + 1)

enum paging_kind {
    PAGING_OFFSET, /* a row offset */
    PAGING_KEY,    /* the last key returned; resume after it */
};

/* A decoded position. */
struct paging_pos {
    enum paging_kind kind;
    int64_t offset;               /* PAGING_OFFSET: >= 0 */
    size_t key_len;               /* PAGING_KEY: bytes in key */
    char key[PAGING_KEY_MAX + 1]; /* PAGING_KEY: key_len bytes, then a NUL */
};

/* Write the token of offset into buf (size bytes). scope is any string the
 * decoder must repeat (NULL counts as ""); borrowed. Returns DD_OK,
 * DD_ERR_INVALID for a negative offset, DD_ERR_TOO_LARGE when buf is too
 * small; on error buf is "" (when size > 0). */
int paging_encode_offset(const char *scope, int64_t offset, char *buf, size_t size,
                         struct dd_errbuf *eb);

/* Write the token of key (key_len bytes, any values, need not be
 * NUL-terminated) into buf. Returns DD_OK, or DD_ERR_TOO_LARGE when
 * key_len exceeds PAGING_KEY_MAX or buf is too small (buf is then ""). */
int paging_encode_key(const char *scope, const char *key, size_t key_len, char *buf, size_t size,
                      struct dd_errbuf *eb);

/* Decode token, made under the same scope, into out (cleared first, left
 * cleared on error). field names the request member for the message
 * ("nextToken", "marker"). Returns DD_OK, or DD_ERR_INVALID with
 * "Invalid <field>" for a NULL, malformed, non-canonical or foreign
 * token. */
int paging_decode(const char *scope, const char *field, const char *token, struct paging_pos *out,
                  struct dd_errbuf *eb);

#endif
