/* SPDX-License-Identifier: MIT */
/* ids.c: random identifiers from getrandom(2), and their text shapes.
 *
 * The formatters are pure; only ids_random() asks the kernel. The unit test
 * (tests/unit/test_ids.c) replaces getrandom at link time to drive the
 * failure, short-read and EINTR paths. */
#include "core/ids.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#define IDS_MAX_BYTES 64 /* the largest id the helpers format at once */

static const char hex_digits[] = "0123456789abcdef";

int ids_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(p + got, len - got, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return DD_ERR_INTERNAL;
        }
        if (n == 0)
            return DD_ERR_INTERNAL; /* never from a sane kernel: do not spin */
        got += (size_t)n;
    }
    return DD_OK;
}

void ids_uuid_format(const unsigned char bytes[16], char out[IDS_UUID_SIZE])
{
    size_t i, o = 0;

    for (i = 0; i < 16; i++) {
        unsigned b = bytes[i];

        if (i == 6)
            b = (b & 0x0Fu) | 0x40u; /* version 4 */
        else if (i == 8)
            b = (b & 0x3Fu) | 0x80u; /* RFC 4122 variant */
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex_digits[b >> 4];
        out[o++] = hex_digits[b & 0x0Fu];
    }
    out[o] = '\0';
}

void ids_hex_format(const unsigned char *bytes, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex_digits[bytes[i] >> 4];
        out[2 * i + 1] = hex_digits[bytes[i] & 0x0Fu];
    }
    out[2 * n] = '\0';
}

int ids_uuid(char out[IDS_UUID_SIZE])
{
    unsigned char b[16];
    int rc = ids_random(b, sizeof(b));

    out[0] = '\0';
    if (rc)
        return rc;
    ids_uuid_format(b, out);
    return DD_OK;
}

int ids_hex(char *out, size_t out_size, size_t n_bytes)
{
    unsigned char b[IDS_MAX_BYTES];
    int rc;

    if (out_size > 0)
        out[0] = '\0';
    if (n_bytes == 0 || n_bytes > IDS_MAX_BYTES || out_size < IDS_HEX_SIZE(n_bytes))
        return DD_ERR_INVALID;
    rc = ids_random(b, n_bytes);
    if (rc)
        return rc;
    ids_hex_format(b, n_bytes, out);
    return DD_OK;
}

int ids_text(char *out, size_t len, const char *alphabet)
{
    unsigned char b[IDS_MAX_BYTES];
    size_t n = alphabet ? strlen(alphabet) : 0, i;
    int rc;

    out[0] = '\0';
    if (n == 0 || n > 256 || len == 0 || len > IDS_MAX_BYTES)
        return DD_ERR_INVALID;
    rc = ids_random(b, len);
    if (rc)
        return rc;
    for (i = 0; i < len; i++)
        out[i] = alphabet[b[i] % n];
    out[len] = '\0';
    return DD_OK;
}
