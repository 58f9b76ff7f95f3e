/* SPDX-License-Identifier: MIT */
/* ids.h: the one generator of random identifiers (request ids, resource ids,
 * violation ids, subscription tokens, device names).
 *
 * Random bytes come from the kernel through getrandom(2): this module is the
 * one place core/ does I/O, for this purpose only, because an id generator
 * that takes its randomness as an argument would leave every caller to
 * fetch it (and to get the failure handling wrong). A failure is an error,
 * never a fixed or zero fallback: callers turn it into an error at their
 * own edge. The formatters that take bytes (ids_uuid_format, ids_hex_format)
 * are pure and are what the unit test checks shape by shape.
 *
 * No state, no globals: any thread. */
#ifndef DD_CORE_IDS_H
#define DD_CORE_IDS_H

#include <stddef.h>

#include "core/error.h"

/* "3f6c2a9e-7d1b-4c55-9a0e-2b8f1d4e6a70" and its NUL. */
#define IDS_UUID_SIZE 37

/* The buffer size ids_hex() needs for n random bytes: two digits each and
 * the NUL. */
#define IDS_HEX_SIZE(n) (2 * (n) + 1)

/* Fill buf with len random bytes from getrandom(2), retrying short reads and
 * EINTR. buf is the caller's. DD_OK, or DD_ERR_INTERNAL when the kernel
 * gives no randomness (then buf's content is unspecified). */
int ids_random(void *buf, size_t len);

/* A new random version 4 UUID, lower-case, into out. On error (see
 * ids_random) out is "". */
int ids_uuid(char out[IDS_UUID_SIZE]);

/* n_bytes random bytes as 2 * n_bytes lower-case hex digits into out, which
 * holds out_size bytes. DD_ERR_INVALID when out_size < IDS_HEX_SIZE(n_bytes)
 * or n_bytes is 0 or over 64; else as ids_random. On error out is "" (when
 * out_size > 0). */
int ids_hex(char *out, size_t out_size, size_t n_bytes);

/* len random characters drawn from alphabet (NUL-terminated, 1 to 256
 * characters; each byte picks alphabet[byte % n], so a length that does not
 * divide 256 is slightly uneven, as befits names) into out, which must hold
 * len + 1 bytes. len is at most 64. DD_ERR_INVALID for a bad alphabet or
 * len; else as ids_random. On error out is "". */
int ids_text(char *out, size_t len, const char *alphabet);

/* Lay out 16 bytes as a version 4 UUID: the version and variant bits are
 * set, the other 122 bits are the caller's. Pure, cannot fail. */
void ids_uuid_format(const unsigned char bytes[16], char out[IDS_UUID_SIZE]);

/* Lay out n bytes as 2n lower-case hex digits and a NUL into out (which
 * holds IDS_HEX_SIZE(n) bytes). Pure, cannot fail. */
void ids_hex_format(const unsigned char *bytes, size_t n, char *out);

#endif
