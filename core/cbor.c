/* SPDX-License-Identifier: MIT */
/* cbor.c: strict CBOR decoding into cJSON, and a counting encoder.
 *
 * The decoder is a recursive descent bounded by CBOR_MAX_DEPTH, so its stack
 * use is fixed. Before looping over an array or map it checks that the
 * declared count could fit in the bytes left (every item takes at least one
 * byte), so a hostile header cannot make it spin. See cbor.h for the subset. */
#include "core/cbor.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"

struct cbor_reader {
    const uint8_t *buf; /* borrowed */
    size_t len;
    size_t pos;
};

/* Read the argument of a head whose additional information is ai. */
static int read_arg(struct cbor_reader *r, uint8_t ai, uint64_t *arg, struct dd_errbuf *eb)
{
    size_t n;

    assert(r->pos <= r->len);
    if (ai < 24) {
        *arg = ai;
        return DD_OK;
    }
    if (ai == 31)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR indefinite length at offset %zu", r->pos - 1);
    if (ai > 27)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR reserved head at offset %zu", r->pos - 1);
    assert(ai >= 24 && ai <= 27);
    n = (size_t)1 << (ai - 24);
    if (r->len - r->pos < n)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR truncated at offset %zu", r->pos);
    *arg = 0;
    for (size_t i = 0; i < n; i++)
        *arg = (*arg << 8) | r->buf[r->pos + i];
    r->pos += n;
    return DD_OK;
}

/* IEEE 754 half precision, as RFC 8949 appendix D decodes it. */
static double half_to_double(uint16_t h)
{
    int exp = (h >> 10) & 0x1f;
    double mant = h & 0x3ff;
    double v;

    if (exp == 0)
        v = ldexp(mant, -24);
    else if (exp != 31)
        v = ldexp(mant + 1024, exp - 25);
    else
        v = mant == 0 ? INFINITY : NAN;
    return (h & 0x8000) ? -v : v;
}

static double bits_to_double(uint64_t bits, uint8_t ai)
{
    uint32_t b32 = (uint32_t)bits;
    float f;
    double d;

    if (ai == 25)
        return half_to_double((uint16_t)bits);
    if (ai == 26) {
        memcpy(&f, &b32, sizeof(f));
        return f;
    }
    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* A NUL-terminated copy of a text string's bytes, after checking them. */
static int read_text(struct cbor_reader *r, uint64_t n, char **out, struct dd_errbuf *eb)
{
    const uint8_t *s = r->buf + r->pos;

    *out = NULL;
    if (n > r->len - r->pos)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR text at offset %zu runs past the end", r->pos);
    if (memchr(s, 0, (size_t)n) || !utf8_valid(s, (size_t)n))
        return dd_fail(eb, DD_ERR_INVALID, "CBOR text at offset %zu is not UTF-8 without NUL",
                       r->pos);
    *out = dd_strndup((const char *)s, (size_t)n);
    if (!*out)
        return DD_ERR_NOMEM;
    r->pos += (size_t)n;
    return DD_OK;
}

static int decode_item(struct cbor_reader *r, int depth, cJSON **out, struct dd_errbuf *eb);

static int decode_array(struct cbor_reader *r, uint64_t n, int depth, cJSON **out,
                        struct dd_errbuf *eb)
{
    cJSON *arr = NULL;
    int rc = DD_OK;

    if (n > r->len - r->pos)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR array at offset %zu is longer than the input",
                       r->pos);
    arr = cJSON_CreateArray();
    if (!arr)
        return DD_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++) {
        cJSON *item;

        rc = decode_item(r, depth + 1, &item, eb);
        if (rc)
            goto out;
        if (!cJSON_AddItemToArray(arr, item)) {
            cJSON_Delete(item);
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    *out = arr;
    arr = NULL;
out:
    cJSON_Delete(arr);
    return rc;
}

static int decode_map(struct cbor_reader *r, uint64_t n, int depth, cJSON **out,
                      struct dd_errbuf *eb)
{
    cJSON *obj = NULL;
    char *key = NULL;
    cJSON *val = NULL;
    int rc = DD_OK;

    if (n > (r->len - r->pos) / 2)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR map at offset %zu is longer than the input",
                       r->pos);
    obj = cJSON_CreateObject();
    if (!obj)
        return DD_ERR_NOMEM;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t klen;
        uint8_t ib;

        if (r->pos >= r->len || (r->buf[r->pos] >> 5) != 3) {
            rc = dd_fail(eb, DD_ERR_INVALID, "CBOR map key at offset %zu is not text", r->pos);
            goto out;
        }
        ib = r->buf[r->pos++];
        rc = read_arg(r, ib & 0x1f, &klen, eb);
        if (rc)
            goto out;
        rc = read_text(r, klen, &key, eb);
        if (rc)
            goto out;
        rc = decode_item(r, depth + 1, &val, eb);
        if (rc)
            goto out;
        if (!cJSON_AddItemToObject(obj, key, val)) { /* copies key */
            rc = DD_ERR_NOMEM;
            goto out;
        }
        val = NULL;
        free(key);
        key = NULL;
    }
    *out = obj;
    obj = NULL;
out:
    cJSON_Delete(val);
    free(key);
    cJSON_Delete(obj);
    return rc;
}

static int decode_simple(struct cbor_reader *r, uint8_t ai, cJSON **out, struct dd_errbuf *eb)
{
    size_t at = r->pos - 1;
    uint64_t bits;
    double d;
    int rc;

    switch (ai) {
    case 20:
        *out = cJSON_CreateFalse();
        break;
    case 21:
        *out = cJSON_CreateTrue();
        break;
    case 22:
        *out = cJSON_CreateNull();
        break;
    case 25:
    case 26:
    case 27:
        rc = read_arg(r, ai, &bits, eb);
        if (rc)
            return rc;
        d = bits_to_double(bits, ai);
        if (!isfinite(d))
            return dd_fail(eb, DD_ERR_INVALID, "CBOR float at offset %zu is not finite", at);
        *out = cJSON_CreateNumber(d);
        break;
    default:
        return dd_fail(eb, DD_ERR_INVALID, "CBOR simple value %u at offset %zu not allowed",
                       (unsigned)ai, at);
    }
    return *out ? DD_OK : DD_ERR_NOMEM;
}

static int decode_item(struct cbor_reader *r, int depth, cJSON **out, struct dd_errbuf *eb)
{
    uint8_t ib, major, ai;
    uint64_t arg;
    char *text = NULL;
    int rc;

    *out = NULL;
    assert(depth >= 1 && r->pos <= r->len);
    if (depth > CBOR_MAX_DEPTH)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR nested deeper than %d at offset %zu",
                       CBOR_MAX_DEPTH, r->pos);
    if (r->pos >= r->len)
        return dd_fail(eb, DD_ERR_INVALID, "CBOR truncated at offset %zu", r->pos);
    ib = r->buf[r->pos++];
    major = (uint8_t)(ib >> 5);
    ai = ib & 0x1f;
    if (major == 7)
        return decode_simple(r, ai, out, eb);
    rc = read_arg(r, ai, &arg, eb);
    if (rc)
        return rc;
    switch (major) {
    case 0:
        *out = cJSON_CreateNumber((double)arg);
        break;
    case 1:
        *out = cJSON_CreateNumber(-1.0 - (double)arg);
        break;
    case 3:
        rc = read_text(r, arg, &text, eb);
        if (rc)
            return rc;
        *out = cJSON_CreateString(text);
        free(text);
        break;
    case 4:
        return decode_array(r, arg, depth, out, eb);
    case 5:
        return decode_map(r, arg, depth, out, eb);
    default: /* 2 byte string, 6 tag: no JSON equivalent */
        return dd_fail(eb, DD_ERR_INVALID, "CBOR major type %u at offset %zu not allowed",
                       (unsigned)major, r->pos - 1);
    }
    return *out ? DD_OK : DD_ERR_NOMEM;
}

int cbor_decode_json(const uint8_t *buf, size_t len, cJSON **out, struct dd_errbuf *eb)
{
    struct cbor_reader r = { buf, len, 0 };
    cJSON *root = NULL;
    int rc;

    *out = NULL;
    rc = decode_item(&r, 1, &root, eb);
    if (rc)
        goto out;
    if (r.pos != len) {
        rc = dd_fail(eb, DD_ERR_INVALID, "CBOR has %zu bytes after the item", len - r.pos);
        goto out;
    }
    *out = root;
    root = NULL;
out:
    cJSON_Delete(root);
    return rc;
}

void cbor_writer_init(struct cbor_writer *w, uint8_t *buf, size_t cap)
{
    assert(buf || cap == 0);
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
}

static void put_byte(struct cbor_writer *w, uint8_t b)
{
    if (w->buf && w->len < w->cap)
        w->buf[w->len] = b;
    w->len++;
}

static void put_head(struct cbor_writer *w, uint8_t major, uint64_t arg)
{
    int n;

    assert(major < 8);
    if (arg < 24) {
        put_byte(w, (uint8_t)((unsigned)major << 5 | (unsigned)arg));
        return;
    }
    if (arg <= UINT8_MAX)
        n = 0;
    else if (arg <= UINT16_MAX)
        n = 1;
    else if (arg <= UINT32_MAX)
        n = 2;
    else
        n = 3;
    put_byte(w, (uint8_t)((unsigned)major << 5 | (unsigned)(24 + n)));
    for (int i = (1 << n) - 1; i >= 0; i--)
        put_byte(w, (uint8_t)(arg >> (8 * i)));
}

void cbor_put_map(struct cbor_writer *w, uint64_t n)
{
    put_head(w, 5, n);
}

void cbor_put_text(struct cbor_writer *w, const char *s, size_t len)
{
    put_head(w, 3, len);
    for (size_t i = 0; i < len; i++)
        put_byte(w, (uint8_t)s[i]);
}

void cbor_put_int(struct cbor_writer *w, int64_t v)
{
    if (v >= 0)
        put_head(w, 0, (uint64_t)v);
    else
        put_head(w, 1, (uint64_t)(-(v + 1)));
}
