/* SPDX-License-Identifier: MIT */
/* strlist.c: a doubling array of strdup() copies (see strlist.h). */
#include "plugin/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int strlist_add(struct strlist *l, const char *s, char **copy)
{
    char *dup;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof(*v));

        if (!v)
            return DD_ERR_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    dup = strdup(s);
    if (!dup)
        return DD_ERR_NOMEM;
    l->v[l->n++] = dup;
    if (copy)
        *copy = dup;
    return DD_OK;
}

void strlist_cleanup(struct strlist *l)
{
    size_t i;

    if (!l)
        return;
    for (i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}
