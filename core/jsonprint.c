/* SPDX-License-Identifier: MIT */
/* jsonprint.c: see jsonprint.h. */
#include "core/jsonprint.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The text being printed: len bytes used of cap, NUL kept after them. */
struct out {
    char *p;
    size_t len;
    size_t cap;
    bool failed; /* out of memory or unprintable: the text is dropped */
};

/* Room for n more bytes and the NUL; false (and failed) when there is none. */
static bool reserve(struct out *o, size_t n)
{
    size_t cap;
    char *p;

    if (o->failed)
        return false;
    if (o->len + n < o->cap)
        return true;
    cap = o->cap ? o->cap : 64;
    while (cap <= o->len + n)
        cap *= 2;
    p = realloc(o->p, cap);
    if (!p) {
        o->failed = true;
        return false;
    }
    o->p = p;
    o->cap = cap;
    return true;
}

static void put(struct out *o, const char *s, size_t n)
{
    if (!reserve(o, n))
        return;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put_char(struct out *o, char c)
{
    put(o, &c, 1);
}

/* cJSON's test for a number read back from its 15-digit form. */
static bool same_double(double a, double b)
{
    double max = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

    return fabs(a - b) <= max * DBL_EPSILON;
}

/* d as cJSON 1.7.15 prints it: "null" for NaN and infinities, else
 * "%1.15g", or "%1.17g" when 15 digits do not read back as d. An integer
 * below 10^15 has at most 15 digits, so "%1.15g" prints it whole and
 * without an exponent: those are written here without printf. -0 is not
 * among them ("%1.15g" keeps its sign). */
static void put_number(struct out *o, double d)
{
    char tmp[32];
    int n;

    if (isnan(d) || isinf(d)) {
        put(o, "null", 4);
        return;
    }
    if (fabs(d) < 1e15 && d == (double)(long long)d && !(d == 0 && signbit(d))) {
        long long v = (long long)d;
        unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
        char *end = tmp + sizeof(tmp), *s = end;

        do {
            *--s = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            *--s = '-';
        put(o, s, (size_t)(end - s));
        return;
    }
    n = snprintf(tmp, sizeof(tmp), "%1.15g", d);
    if (!same_double(strtod(tmp, NULL), d))
        n = snprintf(tmp, sizeof(tmp), "%1.17g", d);
    put(o, tmp, (size_t)n);
}

/* s between quotes, escaped as cJSON escapes: the two-character escapes it
 * knows, \u00xx (lower-case hex) for other control characters, and every
 * other byte as it is. NULL prints as "". */
static void put_string(struct out *o, const char *s)
{
    /* The bytes with a two-character escape, and the letter of each. */
    static const char named[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;

    put_char(o, '"');
    for (; *p; p++) {
        const char *k;
        char esc[8] = "\\";
        size_t n = 2;

        if (*p >= 32 && *p != '"' && *p != '\\')
            continue;
        put(o, (const char *)run, (size_t)(p - run));
        run = p + 1;
        if ((k = strchr(named, *p)))
            esc[1] = letter[k - named];
        else
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
        put(o, esc, n);
    }
    put(o, (const char *)run, (size_t)(p - run));
    put_char(o, '"');
}

static void put_value(struct out *o, const cJSON *item)
{
    const cJSON *c;

    switch (item->type & 0xFF) {
    case cJSON_NULL:
        put(o, "null", 4);
        break;
    case cJSON_False:
        put(o, "false", 5);
        break;
    case cJSON_True:
        put(o, "true", 4);
        break;
    case cJSON_Number:
        put_number(o, item->valuedouble);
        break;
    case cJSON_Raw:
        if (item->valuestring)
            put(o, item->valuestring, strlen(item->valuestring));
        else
            o->failed = true;
        break;
    case cJSON_String:
        put_string(o, item->valuestring);
        break;
    case cJSON_Array:
        put_char(o, '[');
        for (c = item->child; c && !o->failed; c = c->next) {
            put_value(o, c);
            if (c->next)
                put_char(o, ',');
        }
        put_char(o, ']');
        break;
    case cJSON_Object:
        put_char(o, '{');
        for (c = item->child; c && !o->failed; c = c->next) {
            put_string(o, c->string);
            put_char(o, ':');
            put_value(o, c);
            if (c->next)
                put_char(o, ',');
        }
        put_char(o, '}');
        break;
    default:
        o->failed = true;
        break;
    }
}

char *jsonprint(const cJSON *item)
{
    struct out o = { 0 };

    if (!item)
        return NULL;
    put_value(&o, item);
    if (o.failed) {
        free(o.p);
        return NULL;
    }
    return o.p;
}
