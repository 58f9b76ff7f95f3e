/* SPDX-License-Identifier: MIT */
/* strbuf.h: a bounded text buffer over the caller's fixed storage.
 *
 * Text assembled piece by piece (an error message, a subjectAltName, a
 * report) goes through one of these instead of pointer arithmetic on
 * snprintf results. Appends never write past the capacity given at init:
 * what does not fit is cut off, the text stays NUL-terminated, and the
 * buffer remembers it overflowed, so one strbuf_check() at the end says
 * whether the whole text is there. Like snprintf, the buffer keeps counting
 * the length the whole text needs, so a buffer of capacity 0 measures a text
 * before the caller allocates room for it.
 *
 * No allocation, no I/O; any thread on its own buffer. */
#ifndef DD_CORE_STRBUF_H
#define DD_CORE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

struct strbuf {
    char *buf;     /* borrowed storage of cap bytes; NULL when cap is 0 */
    size_t cap;    /* bytes of storage, the NUL included */
    size_t len;    /* length of the whole text appended so far, fitted or not */
    bool overflow; /* some text did not fit */
    bool bad;      /* a format could not be rendered (vsnprintf failed) */
};

/* Start an empty text in buf, which holds cap bytes (buf may be NULL only
 * when cap is 0: the buffer then measures). buf stays the caller's. Cannot
 * fail. */
void strbuf_init(struct strbuf *sb, char *buf, size_t cap);

/* Append s (borrowed, NUL-terminated). Cannot fail: see strbuf_check. */
void strbuf_append(struct strbuf *sb, const char *s);

/* Append the first n bytes of s (which need not be NUL-terminated). */
void strbuf_append_n(struct strbuf *sb, const char *s, size_t n);

/* Append printf-formatted text. Cannot fail: see strbuf_check. */
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* strbuf_appendf with a va_list (which it consumes). */
void strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* DD_OK when all the text appended since init is in the buffer;
 * DD_ERR_TOO_LARGE when some was cut off (the buffer holds the part that
 * fit); DD_ERR_INVALID when a format failed to render. Cannot fail. */
int strbuf_check(const struct strbuf *sb);

/* The length the whole text needs, without the NUL (more than fits when
 * the buffer overflowed). Cannot fail. */
size_t strbuf_len(const struct strbuf *sb);

#endif
