/* SPDX-License-Identifier: MIT */
/* strbuf.c: bounded appends into the caller's storage (strbuf.h).
 * Tested by tests/unit/test_strbuf.c. */
#include "core/strbuf.h"

#include <stdio.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, char *buf, size_t cap)
{
    sb->buf = cap ? buf : NULL;
    sb->cap = sb->buf ? cap : 0;
    sb->len = 0;
    sb->overflow = false;
    sb->bad = false;
    if (sb->cap)
        sb->buf[0] = '\0';
}

/* Room left for text (the NUL not counted). */
static size_t room(const struct strbuf *sb)
{
    return sb->len + 1 < sb->cap ? sb->cap - 1 - sb->len : 0;
}

void strbuf_append_n(struct strbuf *sb, const char *s, size_t n)
{
    size_t fit = room(sb);

    if (n > fit)
        sb->overflow = true;
    else
        fit = n;
    if (fit) {
        memcpy(sb->buf + sb->len, s, fit);
        sb->buf[sb->len + fit] = '\0';
    }
    sb->len += n;
}

void strbuf_append(struct strbuf *sb, const char *s)
{
    strbuf_append_n(sb, s, strlen(s));
}

void strbuf_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
    size_t fit = room(sb);
    int n;

    /* Past an overflow the text is no longer written, only counted. */
    n = vsnprintf(fit ? sb->buf + sb->len : NULL, fit ? fit + 1 : 0, fmt, ap);
    if (n < 0) {
        sb->bad = true;
        if (fit)
            sb->buf[sb->len] = '\0';
        return;
    }
    if ((size_t)n > fit)
        sb->overflow = true;
    sb->len += (size_t)n;
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    strbuf_vappendf(sb, fmt, ap);
    va_end(ap);
}

int strbuf_check(const struct strbuf *sb)
{
    if (sb->bad)
        return DD_ERR_INVALID;
    return sb->overflow ? DD_ERR_TOO_LARGE : DD_OK;
}

size_t strbuf_len(const struct strbuf *sb)
{
    return sb->len;
}
