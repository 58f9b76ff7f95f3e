/* SPDX-License-Identifier: MIT */
/* error.c: names of the dd_err codes and the error buffer helpers. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *dd_strerror(int err)
{
    switch ((enum dd_err)err) {
    case DD_OK:
        return "ok";
    case DD_ERR_NOMEM:
        return "out of memory";
    case DD_ERR_INVALID:
        return "invalid request";
    case DD_ERR_NOT_FOUND:
        return "not found";
    case DD_ERR_EXISTS:
        return "already exists";
    case DD_ERR_VERSION_CONFLICT:
        return "version conflict";
    case DD_ERR_DELETE_CONFLICT:
        return "still in use";
    case DD_ERR_TOO_LARGE:
        return "too large";
    case DD_ERR_ENCODING:
        return "unsupported encoding";
    case DD_ERR_MALFORMED_POLICY:
        return "malformed policy";
    case DD_ERR_SERIALIZATION:
        return "the body is not well-formed JSON";
    case DD_ERR_LIMIT:
        return "limit exceeded";
    case DD_ERR_STATE:
        return "not allowed in the current state";
    case DD_ERR_TIMEOUT:
        return "timed out";
    case DD_ERR_BUSY:
        return "database busy";
    case DD_ERR_STORE:
        return "database error";
    case DD_ERR_TOO_NEW:
        return "database written by a newer ddlocal";
    case DD_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown error";
}

int dd_fail(struct dd_errbuf *eb, int err, const char *fmt, ...)
{
    va_list ap;

    if (!eb)
        return err;
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
    va_end(ap);
    return err;
}

void dd_errbuf_clear(struct dd_errbuf *eb)
{
    if (eb)
        eb->msg[0] = '\0';
}
