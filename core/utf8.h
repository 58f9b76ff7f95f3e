/* SPDX-License-Identifier: MIT */
/* utf8.h: the one strict UTF-8 decoder of core/.
 *
 * Shadow documents, SNS messages, CBOR text and AWS name patterns all take
 * UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing
 * above U+10FFFF. U+0000 is a valid character here; callers that refuse it
 * say so themselves. */
#ifndef DD_CORE_UTF8_H
#define DD_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode the sequence at the start of s[0..n) (n > 0; s is borrowed and need
 * not be NUL-terminated). Returns its length (1 to 4) and sets *cp, or
 * returns 0 and leaves *cp alone when the bytes there are not well-formed.
 * Pure, cannot fail. Tested by test_utf8.c. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* True when s[0..n) is well-formed UTF-8 throughout (s borrowed, may be
 * NULL when n is 0). Pure, cannot fail. Tested by test_utf8.c. */
bool utf8_valid(const void *s, size_t n);

#endif
