/* SPDX-License-Identifier: MIT */
/* percent.h: percent-decoding of URL paths, query strings and form bodies.
 * Pure: any thread. */
#ifndef DD_CORE_PERCENT_H
#define DD_CORE_PERCENT_H

#include <stdbool.h>

/* Decode %XX escapes of s in place; with plus_is_space, '+' becomes ' '
 * (query strings and form bodies). Returns DD_ERR_INVALID for a malformed
 * escape or an escaped NUL; s is then partly decoded. */
int percent_decode(char *s, bool plus_is_space);

#endif
