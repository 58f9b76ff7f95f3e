/* SPDX-License-Identifier: MIT */
/* fuzz_sigv4.c: a request as strict mode sees it, written as text: the
 * method on the first line, the raw path on the second, the raw query
 * (name=value pairs joined with '&') on the third, then "Name: value"
 * header lines up to an empty line, then the body. It is checked against
 * the reference's key at the reference's time; whatever the bytes, the
 * check must answer, and a refusal must say why. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAIRS 32

/* The next line of *p (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p, char *end)
{
    char *line = *p, *nl;

    if (line >= end)
        return NULL;
    nl = memchr(line, '\n', (size_t)(end - line));
    if (!nl)
        nl = end;
    *nl = '\0';
    *p = nl + 1;
    return line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sigv4_key keys[] = {
        { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    };
    struct sigv4_pair query[MAX_PAIRS], headers[MAX_PAIRS];
    struct sigv4_request r = { 0 };
    struct sigv4_auth auth;
    enum sigv4_verdict verdict;
    struct dd_errbuf eb = { { 0 } };
    char *buf = malloc(size + 1), *p, *end, *line, *q;
    int rc;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    p = buf;
    end = buf + size;
    r.method = next_line(&p, end);
    r.path = next_line(&p, end);
    line = next_line(&p, end);
    if (!r.method || !r.path || !line)
        goto out;
    r.query = query;
    while (line && *line && r.n_query < MAX_PAIRS) {
        char *amp = strchr(line, '&'), *eq;

        if (amp)
            *amp = '\0';
        eq = strchr(line, '=');
        if (eq)
            *eq = '\0';
        query[r.n_query].name = line;
        query[r.n_query].value = eq ? eq + 1 : NULL;
        r.n_query++;
        line = amp ? amp + 1 : NULL;
    }
    r.headers = headers;
    while ((line = next_line(&p, end)) && *line && r.n_headers < MAX_PAIRS) {
        q = strchr(line, ':');
        if (!q)
            continue;
        *q++ = '\0';
        while (*q == ' ')
            q++;
        headers[r.n_headers].name = line;
        headers[r.n_headers].value = q;
        r.n_headers++;
    }
    r.body = p < end ? p : NULL;
    r.body_len = p < end ? (size_t)(end - p) : 0;
    rc = sigv4_check(&r, keys, 1, 1709630130, 300, &auth, &verdict, &eb);
    assert((rc == 0) == (verdict == SIGV4_OK) || rc != DD_ERR_INVALID);
    assert(rc != DD_ERR_INVALID || eb.msg[0]);
    assert(rc || strcmp(auth.key_id, "AKIDEXAMPLE") == 0);
out:
    free(buf);
    return 0;
}
