/* SPDX-License-Identifier: MIT */
/* error.h: the one error enum of ddlocal, and the caller-owned error buffer.
 *
 * Every fallible function returns an enum dd_err, zero on success, so callers
 * write `rc = f(); if (rc) goto out;`. The human reason goes into a struct
 * dd_errbuf that the caller owns (a fixed array: filling it never allocates).
 * Each adapter maps dd_err to its own world in one place: server/aws_error.c
 * to HTTP statuses and AWS error types, plugin/ to MOSQ_ERR_*. */
#ifndef DD_CORE_ERROR_H
#define DD_CORE_ERROR_H

#include <stddef.h>

enum dd_err {
    DD_OK = 0,
    DD_ERR_NOMEM,            /* an allocation failed */
    DD_ERR_INVALID,          /* the input breaks a rule (AWS InvalidRequestException) */
    DD_ERR_NOT_FOUND,        /* no such resource */
    DD_ERR_EXISTS,           /* the resource already exists */
    DD_ERR_VERSION_CONFLICT, /* expectedVersion / shadow version mismatch */
    DD_ERR_DELETE_CONFLICT,  /* still in use (a policy attached somewhere) */
    DD_ERR_TOO_LARGE,        /* over a size ceiling, decided before reading more */
    DD_ERR_ENCODING,         /* not UTF-8 */
    DD_ERR_MALFORMED_POLICY, /* a policy document breaks the policy grammar */
    DD_ERR_SERIALIZATION,    /* a request body is not one well-formed JSON value */
    DD_ERR_LIMIT,            /* an AWS quota (profiles per target, versions per policy) */
    DD_ERR_STATE,            /* not allowed now (the clock is not manual) */
    DD_ERR_TIMEOUT,          /* waited long enough for another process */
    DD_ERR_BUSY,             /* the database stayed locked past the busy timeout */
    DD_ERR_STORE,            /* any other database failure */
    DD_ERR_TOO_NEW,          /* the database was written by a newer ddlocal */
    DD_ERR_INTERNAL,         /* a bug or an unexpected library failure */
};

/* A reason for a failure, written by the callee, owned by the caller.
 * msg is always NUL-terminated; empty means "no detail". */
struct dd_errbuf {
    char msg[512];
};

/* The fixed English name of an error code ("not found"). Never NULL, any
 * thread, cannot fail. */
const char *dd_strerror(int err);

/* Format a reason into eb (truncated to fit). eb may be NULL: then nothing
 * happens. Returns err unchanged, so `return dd_fail(eb, DD_ERR_INVALID, ...)`
 * reads as one statement. Any thread, cannot fail. */
int dd_fail(struct dd_errbuf *eb, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear eb (msg becomes ""). eb may be NULL. */
void dd_errbuf_clear(struct dd_errbuf *eb);

#endif
