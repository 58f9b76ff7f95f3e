/* SPDX-License-Identifier: MIT */
/* percent.c: percent-decoding (see percent.h). */
#include "core/percent.h"

#include <ctype.h>

#include "core/error.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int percent_decode(char *s, bool plus_is_space)
{
    char *w = s;

    for (; *s; s++) {
        if (*s == '%') {
            int hi = s[1] ? hexval(s[1]) : -1, lo = hi >= 0 && s[2] ? hexval(s[2]) : -1;

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return DD_ERR_INVALID;
            *w++ = (char)(hi * 16 + lo);
            s += 2;
        } else if (*s == '+' && plus_is_space) {
            *w++ = ' ';
        } else {
            *w++ = *s;
        }
    }
    *w = '\0';
    return DD_OK;
}
