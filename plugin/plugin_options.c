/* SPDX-License-Identifier: MIT */
/* plugin_options.c: the parsers of one plugin_opt_* value (plugin_options.h). */
#include "plugin/plugin_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int plugin_options_copy(char *dst, size_t size, const char *key, const char *value,
                        struct dd_errbuf *eb)
{
    if (strlen(value) >= size)
        return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_%s is too long", key);
    memcpy(dst, value, strlen(value) + 1);
    return DD_OK;
}

int plugin_options_long(const char *key, const char *value, long min, long max, long *out,
                        struct dd_errbuf *eb)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(value, &end, 10);
    if (errno || end == value || *end || n < min || n > max)
        return dd_fail(eb, DD_ERR_INVALID, "plugin_opt_%s must be a number from %ld to %ld", key,
                       min, max);
    *out = n;
    return DD_OK;
}
