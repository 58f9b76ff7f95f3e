/* SPDX-License-Identifier: MIT */
/* mem.h: string copies for core/ that allocate through malloc().
 *
 * core/ allocates only with malloc/calloc/realloc/free (never strdup, which
 * libc would call malloc for behind our back): the unit tests wrap those four
 * symbols at link time to count allocations and fail the Nth one. */
#ifndef DD_CORE_MEM_H
#define DD_CORE_MEM_H

#include <stddef.h>

/* A NUL-terminated copy of the first n bytes of s (s need not be
 * NUL-terminated). The caller frees it with free(). NULL only when out of
 * memory. Any thread. */
char *dd_strndup(const char *s, size_t n);

/* A copy of the NUL-terminated s; free() it. NULL when out of memory. */
char *dd_strdup(const char *s);

#endif
