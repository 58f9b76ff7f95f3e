/* SPDX-License-Identifier: MIT */
/* utf8.c: strict UTF-8 decoding (see utf8.h). */
#include "core/utf8.h"

#include <assert.h>

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c, min;
    size_t len, i;

    assert(n > 0);
    c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        min = 0x80;
        c &= 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        min = 0x800;
        c &= 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        min = 0x10000;
        c &= 0x07u;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

bool utf8_valid(const void *s, size_t n)
{
    const unsigned char *p = s;
    size_t i = 0;
    uint32_t cp;

    while (i < n) {
        size_t len = utf8_decode(p + i, n - i, &cp);

        if (len == 0)
            return false;
        i += len;
    }
    return true;
}
