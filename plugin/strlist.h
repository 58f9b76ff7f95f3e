/* SPDX-License-Identifier: MIT */
/* strlist.h: a growable list of owned string copies, for the engine thread's
 * loads that collect names first and use them after (the things a policy
 * snapshot covers, the names behind a behavior context). One thread at a
 * time; no internal locking. */
#ifndef DD_PLUGIN_STRLIST_H
#define DD_PLUGIN_STRLIST_H

#include <stddef.h>

/* A zeroed struct is an empty list. */
struct strlist {
    char **v; /* owned array of n owned strings */
    size_t n, cap;
};

/* Append a copy of s (borrowed, not NULL). On DD_OK the list owns the copy
 * and, when copy is not NULL, *copy points at it (valid until
 * strlist_cleanup()). DD_ERR_NOMEM leaves the list as it was. */
int strlist_add(struct strlist *l, const char *s, char **copy);

/* Free every string and the array, and zero the list. NULL-safe. */
void strlist_cleanup(struct strlist *l);

#endif
