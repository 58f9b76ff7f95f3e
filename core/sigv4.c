/* SPDX-License-Identifier: MIT */
/* sigv4.c: SigV4 parsing, canonical requests, signing and checking
 * (sigv4.h). Tested by tests/unit/test_sigv4.c.
 *
 * The canonical request is rebuilt the way botocore builds it (the
 * reference's section 2.1): the path as sent, dot segments and repeated
 * slashes removed, then percent-encoded a second time; the query pairs
 * decoded and re-encoded with only RFC 3986's unreserved characters left
 * bare, sorted by key and then value; each signed header's values trimmed,
 * inner whitespace runs made one space, repeats joined with ','. It is
 * built twice through one strbuf walk: once to measure, once into a buffer
 * of that size. */
#include "core/sigv4.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/ids.h"
#include "core/partition.h"
#include "core/strbuf.h"
#include "core/timefmt.h"

#define SECRET_MAX 256

static const char msg_mismatch[] =
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details.";

/* ---- small text helpers ---- */

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower((unsigned char)*a) != lower((unsigned char)*b))
            return false;
    return *a == *b;
}

static bool is_unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static const char *header_find(const struct sigv4_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_headers; i++)
        if (same_name(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

static const struct sigv4_pair *query_find(const struct sigv4_request *r, const char *name)
{
    size_t i;

    for (i = 0; i < r->n_query; i++)
        if (strcmp(r->query[i].name, name) == 0)
            return &r->query[i];
    return NULL;
}

/* The next byte of raw query text s, with a valid %XX escape decoded; *s
 * moves past it. Returns -1 at the end. */
static int raw_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    int hi, lo;

    if (!*p)
        return -1;
    if (p[0] == '%' && (hi = hex_value(p[1])) >= 0 && (lo = hex_value(p[2])) >= 0) {
        *s += 3;
        return hi * 16 + lo;
    }
    *s += 1;
    return p[0];
}

/* The next encoded character of raw query text: each decoded byte comes out
 * bare when unreserved, else as %XY. *pend holds the rest of an escape. */
struct enc {
    const char *s;
    char pend[3];
    int n_pend;
};

static int enc_next(struct enc *e)
{
    static const char digits[] = "0123456789ABCDEF";
    int c;

    if (e->n_pend) {
        c = e->pend[3 - e->n_pend];
        e->n_pend--;
        return c;
    }
    c = raw_next(&e->s);
    if (c < 0 || is_unreserved(c))
        return c;
    e->pend[1] = digits[c >> 4];
    e->pend[2] = digits[c & 15];
    e->n_pend = 2;
    return '%';
}

static void append_encoded(struct strbuf *sb, const char *raw)
{
    struct enc e = { raw ? raw : "", { 0 }, 0 };
    int c;
    char ch;

    while ((c = enc_next(&e)) >= 0) {
        ch = (char)c;
        strbuf_append_n(sb, &ch, 1);
    }
}

static int cmp_encoded(const char *a, const char *b)
{
    struct enc ea = { a ? a : "", { 0 }, 0 }, eb = { b ? b : "", { 0 }, 0 };
    int ca, cb;

    do {
        ca = enc_next(&ea);
        cb = enc_next(&eb);
    } while (ca == cb && ca >= 0);
    return ca < cb ? -1 : ca > cb;
}

static int cmp_pairs(const void *x, const void *y)
{
    const struct sigv4_pair *a = *(const struct sigv4_pair *const *)x;
    const struct sigv4_pair *b = *(const struct sigv4_pair *const *)y;
    int c = cmp_encoded(a->name, b->name);

    return c ? c : cmp_encoded(a->value, b->value);
}

/* Decode a raw query value into buf (size bytes). false when it does not
 * fit or holds a NUL. */
static bool decode_into(const char *raw, char *buf, size_t size)
{
    size_t n = 0;
    int c;

    while ((c = raw_next(&raw)) >= 0) {
        if (c == 0 || n + 1 >= size)
            return false;
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return true;
}

/* ---- dates ---- */

static bool all_digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* YYYYMMDDTHHMMSSZ into epoch seconds; false when malformed. */
static bool parse_amz_date(const char *s, int64_t *out)
{
    char iso[TIMEFMT_SECONDS_SIZE];
    struct dd_errbuf eb;
    int64_t ms;

    if (strlen(s) != 16 || !all_digits(s, 8) || s[8] != 'T' || !all_digits(s + 9, 6) ||
        s[15] != 'Z')
        return false;
    snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11,
             s + 13);
    if (timefmt_parse("X-Amz-Date", iso, &ms, &eb))
        return false;
    *out = ms / 1000;
    return true;
}

/* Epoch seconds as YYYYMMDDTHHMMSSZ. */
static void format_amz_date(int64_t s, char out[SIGV4_DATE_SIZE])
{
    char iso[TIMEFMT_SECONDS_SIZE];
    size_t i, n = 0;

    if (timefmt_format_seconds(s * 1000, iso, sizeof(iso))) {
        snprintf(out, SIGV4_DATE_SIZE, "%s", "?");
        return;
    }
    for (i = 0; iso[i] && n < SIGV4_DATE_SIZE - 1; i++)
        if (iso[i] != '-' && iso[i] != ':')
            out[n++] = iso[i];
    out[n] = '\0';
}

/* An HTTP Date header (RFC 9110's IMF-fixdate, "Tue, 05 Mar 2024 09:15:30
 * GMT") into epoch seconds; false when it is not one. */
static bool parse_http_date(const char *s, int64_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    char amz[SIGV4_DATE_SIZE];
    const char *m;

    if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || !all_digits(s + 5, 2) || s[7] != ' ' ||
        s[11] != ' ' || !all_digits(s + 12, 4) || s[16] != ' ' || !all_digits(s + 17, 2) ||
        s[19] != ':' || !all_digits(s + 20, 2) || s[22] != ':' || !all_digits(s + 23, 2) ||
        strcmp(s + 25, " GMT") != 0)
        return false;
    for (m = months; *m && strncmp(m, s + 8, 3) != 0; m += 3)
        ;
    if (!*m)
        return false;
    snprintf(amz, sizeof(amz), "%.4s%02d%.2sT%.2s%.2s%.2sZ", s + 12, (int)((m - months) / 3 + 1),
             s + 5, s + 17, s + 20, s + 23);
    return parse_amz_date(amz, out);
}

/* ---- parsing the signature ---- */

static int refuse(enum sigv4_verdict *verdict, enum sigv4_verdict v, struct dd_errbuf *eb,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int refuse(enum sigv4_verdict *verdict, enum sigv4_verdict v, struct dd_errbuf *eb,
                  const char *fmt, ...)
{
    va_list ap;

    *verdict = v;
    va_start(ap, fmt);
    vsnprintf(eb->msg, sizeof(eb->msg), fmt, ap);
    va_end(ap);
    return DD_ERR_INVALID;
}

static int bad_date(enum sigv4_verdict *verdict, struct dd_errbuf *eb, const char *date)
{
    return refuse(verdict, SIGV4_INCOMPLETE, eb,
                  "Date must be in ISO-8601 'basic format'. Got '%.64s'. See "
                  "http://en.wikipedia.org/wiki/ISO_8601",
                  date);
}

/* Copy the n bytes at s into dst (size bytes); false when they do not fit. */
static bool copy_n(char *dst, size_t size, const char *s, size_t n)
{
    if (n >= size)
        return false;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return true;
}

/* AKID/YYYYMMDD/REGION/SERVICE/aws4_request into a: core/partition's
 * reading of the scope, with a date of exactly eight digits. */
static bool parse_credential(const char *c, struct sigv4_auth *a)
{
    struct partition_scope s;

    return partition_scope_parse(c, strlen(c), &s) == DD_OK && strlen(s.date) == 8 &&
           all_digits(s.date, 8) && copy_n(a->key_id, sizeof(a->key_id), s.akid, strlen(s.akid)) &&
           copy_n(a->scope_date, sizeof(a->scope_date), s.date, 8) &&
           copy_n(a->region, sizeof(a->region), s.region, strlen(s.region)) &&
           copy_n(a->service, sizeof(a->service), s.service, strlen(s.service));
}

/* The value of "name=value" among the comma-separated parts of an
 * Authorization header (after the algorithm), into dst; false when absent
 * or too long. */
static bool auth_field(const char *fields, const char *name, char *dst, size_t size)
{
    size_t n = strlen(name);
    const char *p = fields;

    while (*p) {
        const char *end;

        while (*p == ' ' || *p == ',')
            p++;
        end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        if ((size_t)(end - p) > n && strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t len = (size_t)(end - p) - n - 1;

            while (len && p[n + 1 + len - 1] == ' ')
                len--;
            return copy_n(dst, size, p + n + 1, len);
        }
        p = end;
    }
    return false;
}

static int parse_header(const struct sigv4_request *r, const char *authz, struct sigv4_auth *a,
                        enum sigv4_verdict *verdict, struct dd_errbuf *eb)
{
    char credential[SIGV4_KEY_MAX + 2 * SIGV4_SCOPE_MAX + 32];
    const char *date = header_find(r, "X-Amz-Date"), *http_date = header_find(r, "Date");
    size_t alg_len = strcspn(authz, " ");
    struct strbuf sb;
    bool has_cred, has_signed, has_sig;

    if (alg_len != strlen(SIGV4_ALGORITHM) || strncmp(authz, SIGV4_ALGORITHM, alg_len) != 0)
        return refuse(verdict, SIGV4_INCOMPLETE, eb,
                      "Unsupported AWS 'algorithm': '%.*s'. Only '" SIGV4_ALGORITHM
                      "' is supported.",
                      (int)(alg_len > 64 ? 64 : alg_len), authz);
    authz += alg_len;
    has_cred = auth_field(authz, "Credential", credential, sizeof(credential));
    has_signed = auth_field(authz, "SignedHeaders", a->signed_headers, sizeof(a->signed_headers));
    has_sig = auth_field(authz, "Signature", a->signature, sizeof(a->signature));
    if (!has_cred || !has_signed || !has_sig || (!date && !http_date)) {
        strbuf_init(&sb, eb->msg, sizeof(eb->msg));
        if (!has_cred)
            strbuf_append(&sb, "Authorization header requires 'Credential' parameter. ");
        if (!has_sig)
            strbuf_append(&sb, "Authorization header requires 'Signature' parameter. ");
        if (!has_signed)
            strbuf_append(&sb, "Authorization header requires 'SignedHeaders' parameter. ");
        if (!date && !http_date)
            strbuf_append(&sb, "Authorization header requires existence of either a "
                               "'X-Amz-Date' or a 'Date' header. ");
        strbuf_appendf(&sb, "Authorization=%s", SIGV4_ALGORITHM);
        *verdict = SIGV4_INCOMPLETE;
        return DD_ERR_INVALID;
    }
    if (!parse_credential(credential, a))
        return refuse(verdict, SIGV4_INCOMPLETE, eb,
                      "Credential should be scoped to a valid region, service and date, as "
                      "AKID/YYYYMMDD/REGION/SERVICE/aws4_request, not '%.200s'.",
                      credential);
    if (!date) {
        int64_t t;

        if (!parse_http_date(http_date, &t))
            return bad_date(verdict, eb, http_date);
        format_amz_date(t, a->amz_date);
        return DD_OK;
    }
    if (!copy_n(a->amz_date, sizeof(a->amz_date), date, strlen(date)))
        return bad_date(verdict, eb, date);
    return DD_OK;
}

static int parse_query(const struct sigv4_request *r, struct sigv4_auth *a,
                       enum sigv4_verdict *verdict, struct dd_errbuf *eb)
{
    static const char *const names[] = { "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature",
                                         "X-Amz-Date", "X-Amz-SignedHeaders" };
    const struct sigv4_pair *p[5], *expires;
    char algorithm[32], credential[SIGV4_KEY_MAX + 2 * SIGV4_SCOPE_MAX + 32], num[16];
    char *end;
    long long n;
    size_t i;

    for (i = 0; i < 5; i++) {
        p[i] = query_find(r, names[i]);
        if (!p[i] || !p[i]->value)
            return refuse(verdict, SIGV4_INCOMPLETE, eb,
                          "AWS query-string parameters must include 'X-Amz-Algorithm', "
                          "'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', "
                          "'X-Amz-SignedHeaders'. Re-examine the query-string parameters.");
    }
    if (!decode_into(p[0]->value, algorithm, sizeof(algorithm)) ||
        strcmp(algorithm, SIGV4_ALGORITHM) != 0)
        return refuse(verdict, SIGV4_INCOMPLETE, eb,
                      "X-Amz-Algorithm only supports \"" SIGV4_ALGORITHM "\"");
    if (!decode_into(p[1]->value, credential, sizeof(credential)) ||
        !parse_credential(credential, a))
        return refuse(verdict, SIGV4_INCOMPLETE, eb,
                      "Credential should be scoped to a valid region, service and date, as "
                      "AKID/YYYYMMDD/REGION/SERVICE/aws4_request.");
    if (!decode_into(p[2]->value, a->signature, sizeof(a->signature)))
        a->signature[0] = '\0'; /* too long: it cannot match */
    if (!decode_into(p[3]->value, a->amz_date, sizeof(a->amz_date)))
        return bad_date(verdict, eb, p[3]->value);
    if (!decode_into(p[4]->value, a->signed_headers, sizeof(a->signed_headers)))
        return refuse(verdict, SIGV4_INCOMPLETE, eb, "X-Amz-SignedHeaders is too long.");
    expires = query_find(r, "X-Amz-Expires");
    if (!expires || !expires->value || !decode_into(expires->value, num, sizeof(num)) || !num[0] ||
        !all_digits(num, strlen(num)))
        return refuse(verdict, SIGV4_INCOMPLETE, eb,
                      "X-Amz-Expires must be a whole number of seconds.");
    n = strtoll(num, &end, 10);
    if (n < 1 || n > SIGV4_EXPIRES_MAX)
        return refuse(verdict, SIGV4_INCOMPLETE, eb,
                      "X-Amz-Expires must be less than a week (in seconds) that is %d",
                      SIGV4_EXPIRES_MAX);
    a->expires_s = n;
    a->presigned = true;
    return DD_OK;
}

static bool presigned(const struct sigv4_request *r)
{
    return query_find(r, "X-Amz-Algorithm") || query_find(r, "X-Amz-Credential") ||
           query_find(r, "X-Amz-Signature");
}

int sigv4_parse(const struct sigv4_request *r, struct sigv4_auth *out, enum sigv4_verdict *verdict,
                struct dd_errbuf *eb)
{
    const char *authz = header_find(r, "Authorization");
    int rc;

    memset(out, 0, sizeof(*out));
    *verdict = SIGV4_OK;
    if (authz)
        rc = parse_header(r, authz, out, verdict, eb);
    else if (presigned(r))
        rc = parse_query(r, out, verdict, eb);
    else
        return refuse(verdict, SIGV4_MISSING, eb, "Missing Authentication Token");
    if (rc)
        goto out;
    if (!parse_amz_date(out->amz_date, &out->time_s)) {
        rc = bad_date(verdict, eb, out->amz_date);
        goto out;
    }
    if (memcmp(out->scope_date, out->amz_date, 8) != 0)
        rc = refuse(verdict, SIGV4_MISMATCH, eb,
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                    "date from HTTP: '%s' != '%.8s', from '%s'.",
                    out->scope_date, out->amz_date, out->amz_date);
out:
    if (rc) {
        struct sigv4_auth empty = { 0 };

        *out = empty;
    }
    return rc;
}

/* ---- the canonical request ---- */

/* Path with dot segments and empty segments removed (botocore's
 * remove_dot_segments), into out, which holds strlen(path) + 2 bytes. */
static void normalize_path(const char *path, char *out)
{
    size_t len = strlen(path), n = 1, start;
    const char *seg = path;

    if (!len) {
        strcpy(out, "/");
        return;
    }
    out[0] = '/';
    while (seg <= path + len) {
        size_t slen = strcspn(seg, "/");

        if (slen == 2 && seg[0] == '.' && seg[1] == '.') {
            while (n > 1 && out[n - 1] != '/')
                n--;
            if (n > 1)
                n--; /* the separator before the popped segment */
        } else if (slen && !(slen == 1 && seg[0] == '.')) {
            if (n > 1)
                out[n++] = '/';
            memcpy(out + n, seg, slen);
            n += slen;
        }
        seg += slen + 1;
    }
    if (n > 1 && path[len - 1] == '/')
        out[n++] = '/';
    out[n] = '\0';
    start = path[0] == '/' ? 0 : 1; /* a relative path keeps no leading '/' */
    if (start)
        memmove(out, out + 1, n);
}

static void build(struct strbuf *sb, const struct sigv4_request *r, const struct sigv4_auth *a,
                  const char *path, const struct sigv4_pair *const *sorted, size_t n_sorted,
                  const char *payload_hex)
{
    const char *p, *name;
    size_t i, j;

    strbuf_append(sb, r->method);
    strbuf_append(sb, "\n");
    for (p = path; *p; p++) {
        if (is_unreserved((unsigned char)*p) || *p == '/')
            strbuf_append_n(sb, p, 1);
        else
            strbuf_appendf(sb, "%%%02X", (unsigned char)*p);
    }
    strbuf_append(sb, "\n");
    for (i = 0; i < n_sorted; i++) {
        if (i)
            strbuf_append(sb, "&");
        append_encoded(sb, sorted[i]->name);
        strbuf_append(sb, "=");
        append_encoded(sb, sorted[i]->value);
    }
    strbuf_append(sb, "\n");
    for (name = a->signed_headers; *name;) {
        size_t nlen = strcspn(name, ";");
        bool first = true;

        strbuf_append_n(sb, name, nlen);
        strbuf_append(sb, ":");
        for (i = 0; i < r->n_headers; i++) {
            const char *h = r->headers[i].name, *v = r->headers[i].value;
            bool space = false;

            if (strlen(h) != nlen)
                continue;
            for (j = 0; j < nlen && lower((unsigned char)h[j]) == name[j]; j++)
                ;
            if (j < nlen)
                continue;
            if (!first)
                strbuf_append(sb, ",");
            first = false;
            while (*v == ' ' || *v == '\t')
                v++;
            for (; *v; v++) {
                if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
                    space = true;
                    continue;
                }
                if (space)
                    strbuf_append(sb, " ");
                space = false;
                strbuf_append_n(sb, v, 1);
            }
        }
        strbuf_append(sb, "\n");
        name += nlen;
        if (*name == ';')
            name++;
    }
    strbuf_append(sb, "\n");
    strbuf_append(sb, a->signed_headers);
    strbuf_append(sb, "\n");
    strbuf_append(sb, payload_hex);
}

int sigv4_canonical_request(const struct sigv4_request *r, const struct sigv4_auth *a, char **out,
                            size_t *len)
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    char payload[SIGV4_HEX_SIZE], *path = NULL, *text = NULL;
    const struct sigv4_pair **sorted = NULL;
    size_t i, n_sorted = 0;
    struct strbuf sb;
    int rc = DD_ERR_NOMEM;

    *out = NULL;
    *len = 0;
    SHA256((const unsigned char *)(r->body ? r->body : ""), r->body_len, md);
    ids_hex_format(md, sizeof(md), payload);
    path = malloc(strlen(r->path) + 2);
    if (!path)
        goto out;
    normalize_path(r->path, path);
    if (r->n_query) {
        sorted = malloc(r->n_query * sizeof(*sorted));
        if (!sorted)
            goto out;
    }
    for (i = 0; i < r->n_query; i++)
        if (!(a->presigned && strcmp(r->query[i].name, "X-Amz-Signature") == 0))
            sorted[n_sorted++] = &r->query[i];
    if (n_sorted > 1)
        qsort(sorted, n_sorted, sizeof(*sorted), cmp_pairs);
    strbuf_init(&sb, NULL, 0);
    build(&sb, r, a, path, sorted, n_sorted, payload);
    text = malloc(strbuf_len(&sb) + 1);
    if (!text)
        goto out;
    strbuf_init(&sb, text, strbuf_len(&sb) + 1);
    build(&sb, r, a, path, sorted, n_sorted, payload);
    *len = strbuf_len(&sb);
    *out = text;
    text = NULL;
    rc = DD_OK;
out:
    free(text);
    free(sorted);
    free(path);
    return rc;
}

/* ---- signing ---- */

static bool hmac(const unsigned char *key, size_t key_len, const char *data, size_t len,
                 unsigned char out[SHA256_DIGEST_LENGTH])
{
    unsigned int n = 0;

    return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)data, len, out, &n) &&
           n == SHA256_DIGEST_LENGTH;
}

int sigv4_sign(const struct sigv4_auth *a, const char *secret, const char *canonical, size_t len,
               char hex[SIGV4_HEX_SIZE])
{
    unsigned char md[SHA256_DIGEST_LENGTH], k[SHA256_DIGEST_LENGTH];
    char key[4 + SECRET_MAX + 1], canon_hex[SIGV4_HEX_SIZE], sts[512];
    size_t key_len = strlen(secret);
    int n;

    hex[0] = '\0';
    if (key_len > SECRET_MAX)
        return DD_ERR_INVALID;
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret, key_len);
    SHA256((const unsigned char *)canonical, len, md);
    ids_hex_format(md, sizeof(md), canon_hex);
    n = snprintf(sts, sizeof(sts), "%s\n%s\n%s/%s/%s/aws4_request\n%s", SIGV4_ALGORITHM,
                 a->amz_date, a->scope_date, a->region, a->service, canon_hex);
    if (n < 0 || (size_t)n >= sizeof(sts))
        return DD_ERR_INTERNAL;
    if (!hmac((const unsigned char *)key, key_len + 4, a->scope_date, strlen(a->scope_date), k) ||
        !hmac(k, sizeof(k), a->region, strlen(a->region), k) ||
        !hmac(k, sizeof(k), a->service, strlen(a->service), k) ||
        !hmac(k, sizeof(k), "aws4_request", 12, k) || !hmac(k, sizeof(k), sts, (size_t)n, md)) {
        OPENSSL_cleanse(key, sizeof(key));
        return DD_ERR_INTERNAL;
    }
    OPENSSL_cleanse(key, sizeof(key));
    ids_hex_format(md, sizeof(md), hex);
    return DD_OK;
}

/* ---- the whole check ---- */

static int check_time(const struct sigv4_auth *a, int64_t now_s, int64_t skew_s,
                      enum sigv4_verdict *verdict, struct dd_errbuf *eb)
{
    char when[SIGV4_DATE_SIZE], bound[SIGV4_DATE_SIZE], now[SIGV4_DATE_SIZE];

    format_amz_date(now_s, now);
    if (a->time_s > now_s + skew_s) {
        format_amz_date(now_s + skew_s, bound);
        return refuse(verdict, SIGV4_NOT_YET, eb,
                      "Signature not yet current: %s is still later than %s (%s + %lld min.)",
                      a->amz_date, bound, now, (long long)(skew_s / 60));
    }
    if (a->presigned && a->time_s + a->expires_s < now_s) {
        format_amz_date(a->time_s + a->expires_s, when);
        return refuse(verdict, SIGV4_EXPIRED, eb,
                      "Signature expired: %s is now earlier than %s (%s + %lld sec.)", when, now,
                      a->amz_date, (long long)a->expires_s);
    }
    if (!a->presigned && a->time_s < now_s - skew_s) {
        format_amz_date(now_s - skew_s, bound);
        return refuse(verdict, SIGV4_EXPIRED, eb,
                      "Signature expired: %s is now earlier than %s (%s - %lld min.)", a->amz_date,
                      bound, now, (long long)(skew_s / 60));
    }
    return DD_OK;
}

int sigv4_check(const struct sigv4_request *r, const struct sigv4_key *keys, size_t n_keys,
                int64_t now_s, int64_t skew_s, struct sigv4_auth *auth, enum sigv4_verdict *verdict,
                struct dd_errbuf *eb)
{
    struct sigv4_auth a;
    const char *secret = NULL;
    char *canonical = NULL, mine[SIGV4_HEX_SIZE];
    size_t i, len;
    int rc;

    if (auth)
        memset(auth, 0, sizeof(*auth));
    rc = sigv4_parse(r, &a, verdict, eb);
    if (rc)
        return rc;
    if (auth)
        *auth = a;
    for (i = 0; i < n_keys && !secret; i++)
        if (strcmp(keys[i].id, a.key_id) == 0)
            secret = keys[i].secret;
    if (!secret)
        return refuse(verdict, SIGV4_UNKNOWN_KEY, eb,
                      "The security token included in the request is invalid.");
    rc = check_time(&a, now_s, skew_s, verdict, eb);
    if (rc)
        return rc;
    rc = sigv4_canonical_request(r, &a, &canonical, &len);
    if (!rc)
        rc = sigv4_sign(&a, secret, canonical, len, mine);
    free(canonical);
    if (rc) {
        snprintf(eb->msg, sizeof(eb->msg), "%s", "cannot compute the request's signature");
        return rc == DD_ERR_NOMEM ? rc : DD_ERR_INTERNAL;
    }
    if (strlen(a.signature) != SIGV4_HEX_SIZE - 1 ||
        CRYPTO_memcmp(mine, a.signature, SIGV4_HEX_SIZE - 1) != 0)
        return refuse(verdict, SIGV4_MISMATCH, eb, "%s", msg_mismatch);
    return DD_OK;
}
