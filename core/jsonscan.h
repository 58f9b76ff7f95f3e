/* SPDX-License-Identifier: MIT */
/* jsonscan.h: a strict JSON syntax check (RFC 8259) that allocates nothing,
 * run before cJSON parses outside input.
 *
 * cJSON is lenient ("01", "+1" and trailing garbage pass) and returns NULL
 * alike for bad syntax and for a failed allocation, so callers check the
 * syntax first: a NULL from cJSON after a passing check is out of memory.
 * The rules are cJSON's where it is stricter than the RFC: UTF-16
 * surrogates in \u escapes must pair up, and a number literal may not be
 * longer than the 63 characters cJSON copies. */
#ifndef DD_CORE_JSONSCAN_H
#define DD_CORE_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>

/* The longest number literal accepted: cJSON copies a number into a 64-byte
 * buffer and fails on longer ones. */
#define JSONSCAN_MAX_NUMBER 63

/* True when text[0..len) is exactly one JSON value, optionally padded with
 * whitespace, with at most max_depth arrays and objects open at once. text
 * is borrowed and need not be NUL-terminated. On false, *stop (when not
 * NULL) is the byte offset where the scan stopped and *too_deep (when not
 * NULL) says whether the nesting was the reason. Pure, cannot fail. Tested
 * by test_policy.c and test_shadow.c. */
bool jsonscan_check(const char *text, size_t len, int max_depth, size_t *stop, bool *too_deep);

#endif
