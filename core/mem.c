/* SPDX-License-Identifier: MIT */
/* mem.c: allocation helpers shared by core/ (see mem.h for why). */
#include "mem.h"

#include <stdlib.h>
#include <string.h>

char *dd_strndup(const char *s, size_t n)
{
    char *copy = malloc(n + 1);

    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *dd_strdup(const char *s)
{
    return dd_strndup(s, strlen(s));
}
