/* SPDX-License-Identifier: MIT */
/* paging.c: token layout and checks for paging.h.
 *
 * A token is KIND PAYLOAD CHECK:
 *   KIND    'N' (offset) or 'K' (key)
 *   PAYLOAD lower-case hex: the offset without leading zeros, or the key's
 *           bytes two digits each
 *   CHECK   4 lower-case hex digits: FNV-1a over scope, a 0 byte, KIND and
 *           PAYLOAD, folded to 16 bits
 * Lower-case only and no leading zeros make the encoding canonical, so a
 * decoded token re-encodes to itself. */
#include "paging.h"

#include <string.h>

#define CHECK_LEN 4

static const char hex[] = "0123456789abcdef";

/* FNV-1a of scope, a 0 byte and body[0..n), folded to 16 bits. */
static unsigned checksum(const char *scope, const char *body, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; scope && scope[i]; i++)
        h = (h ^ (unsigned char)scope[i]) * 16777619u;
    h = (h ^ 0u) * 16777619u;
    for (i = 0; i < n; i++)
        h = (h ^ (unsigned char)body[i]) * 16777619u;
    return (unsigned)((h ^ (h >> 16)) & 0xFFFFu);
}

/* Append the checksum of buf[0..n) to buf; buf has room for n + 5. */
static void seal(const char *scope, char *buf, size_t n)
{
    unsigned c = checksum(scope, buf, n);
    int i;

    for (i = CHECK_LEN - 1; i >= 0; i--) {
        buf[n + (size_t)i] = hex[c & 0xFu];
        c >>= 4;
    }
    buf[n + CHECK_LEN] = '\0';
}

static int too_large(char *buf, size_t size, struct dd_errbuf *eb, const char *what)
{
    if (size)
        buf[0] = '\0';
    return dd_fail(eb, DD_ERR_TOO_LARGE, "%s", what);
}

int paging_encode_offset(const char *scope, int64_t offset, char *buf, size_t size,
                         struct dd_errbuf *eb)
{
    char digits[16];
    size_t n = 0, i;
    uint64_t v;

    if (size)
        buf[0] = '\0';
    if (offset < 0)
        return dd_fail(eb, DD_ERR_INVALID, "negative paging offset");
    v = (uint64_t)offset;
    do {
        digits[n++] = hex[v & 0xFu];
        v >>= 4;
    } while (v);
    if (1 + n + CHECK_LEN + 1 > size)
        return too_large(buf, size, eb, "paging token buffer too small");
    buf[0] = 'N';
    for (i = 0; i < n; i++)
        buf[1 + i] = digits[n - 1 - i];
    seal(scope, buf, 1 + n);
    return DD_OK;
}

int paging_encode_key(const char *scope, const char *key, size_t key_len, char *buf, size_t size,
                      struct dd_errbuf *eb)
{
    size_t i;

    if (size)
        buf[0] = '\0';
    if (key_len > PAGING_KEY_MAX)
        return too_large(buf, size, eb, "paging key too long");
    if (1 + 2 * key_len + CHECK_LEN + 1 > size)
        return too_large(buf, size, eb, "paging token buffer too small");
    buf[0] = 'K';
    for (i = 0; i < key_len; i++) {
        unsigned char b = (unsigned char)key[i];

        buf[1 + 2 * i] = hex[b >> 4];
        buf[2 + 2 * i] = hex[b & 0xFu];
    }
    seal(scope, buf, 1 + 2 * key_len);
    return DD_OK;
}

/* The value of a lower-case hex digit, or -1. */
static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int paging_decode(const char *scope, const char *field, const char *token, struct paging_pos *out,
                  struct dd_errbuf *eb)
{
    struct paging_pos pos;
    size_t n, body, i;
    unsigned want = 0;

    memset(out, 0, sizeof(*out));
    if (!token)
        return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
    n = strlen(token);
    if (n < 1 + CHECK_LEN || n >= PAGING_TOKEN_SIZE)
        return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
    body = n - CHECK_LEN;
    for (i = body; i < n; i++) {
        int v = hex_value(token[i]);

        if (v < 0)
            return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
        want = (want << 4) | (unsigned)v;
    }
    if (checksum(scope, token, body) != want)
        return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
    memset(&pos, 0, sizeof(pos));
    if (token[0] == 'N') {
        uint64_t v = 0;

        /* 1 to 16 digits, no leading zero, at most INT64_MAX. */
        if (body < 2 || body > 17 || (token[1] == '0' && body > 2))
            return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
        for (i = 1; i < body; i++) {
            int d = hex_value(token[i]);

            if (d < 0)
                return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
            v = (v << 4) | (unsigned)d;
        }
        if (v > (uint64_t)INT64_MAX)
            return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
        pos.kind = PAGING_OFFSET;
        pos.offset = (int64_t)v;
    } else if (token[0] == 'K') {
        if ((body - 1) % 2 != 0)
            return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
        pos.kind = PAGING_KEY;
        pos.key_len = (body - 1) / 2;
        for (i = 0; i < pos.key_len; i++) {
            int hi = hex_value(token[1 + 2 * i]), lo = hex_value(token[2 + 2 * i]);

            if (hi < 0 || lo < 0)
                return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
            pos.key[i] = (char)(hi << 4 | lo);
        }
        pos.key[pos.key_len] = '\0';
    } else {
        return dd_fail(eb, DD_ERR_INVALID, "Invalid %s", field);
    }
    *out = pos;
    return DD_OK;
}
