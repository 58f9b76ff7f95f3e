/* SPDX-License-Identifier: MIT */
/* jsonprint.c: see jsonprint.h. */
#include "core/jsonprint.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Room for n more bytes and the NUL; false (and failed) when there is none. */
static bool reserve(struct jsontext *t, size_t n)
{
    size_t cap;
    char *p;

    if (t->failed)
        return false;
    if (t->len + n < t->cap)
        return true;
    cap = t->cap ? t->cap : 64;
    while (cap <= t->len + n)
        cap *= 2;
    p = realloc(t->p, cap);
    if (!p) {
        t->failed = true;
        return false;
    }
    t->p = p;
    t->cap = cap;
    return true;
}

void jsontext_put(struct jsontext *t, const char *s, size_t n)
{
    if (!reserve(t, n))
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

void jsontext_cat(struct jsontext *t, const char *s)
{
    jsontext_put(t, s, strlen(s));
}

static void put_char(struct jsontext *t, char c)
{
    jsontext_put(t, &c, 1);
}

int jsontext_take(struct jsontext *t, char **out)
{
    bool failed = t->failed;

    *out = failed ? NULL : t->p;
    if (failed)
        free(t->p);
    *t = (struct jsontext){ 0 }; /* empty again, to build another text */
    return failed ? DD_ERR_NOMEM : DD_OK;
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
static void put_number(struct jsontext *t, double d)
{
    char tmp[32];
    int n;

    if (isnan(d) || isinf(d)) {
        jsontext_put(t, "null", 4);
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
        jsontext_put(t, s, (size_t)(end - s));
        return;
    }
    n = snprintf(tmp, sizeof(tmp), "%1.15g", d);
    if (!same_double(strtod(tmp, NULL), d))
        n = snprintf(tmp, sizeof(tmp), "%1.17g", d);
    jsontext_put(t, tmp, (size_t)n);
}

void jsontext_string(struct jsontext *t, const char *s)
{
    /* The bytes with a two-character escape, and the letter of each. */
    static const char named[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
    const unsigned char *p = (const unsigned char *)(s ? s : ""), *run = p;

    put_char(t, '"');
    for (; *p; p++) {
        const char *k;
        char esc[8] = "\\";
        size_t n = 2;

        if (*p >= 32 && *p != '"' && *p != '\\')
            continue;
        jsontext_put(t, (const char *)run, (size_t)(p - run));
        run = p + 1;
        if ((k = strchr(named, *p)))
            esc[1] = letter[k - named];
        else
            n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
        jsontext_put(t, esc, n);
    }
    jsontext_put(t, (const char *)run, (size_t)(p - run));
    put_char(t, '"');
}

static void put_value(struct jsontext *t, const cJSON *item)
{
    const cJSON *c;

    switch (item->type & 0xFF) {
    case cJSON_NULL:
        jsontext_put(t, "null", 4);
        break;
    case cJSON_False:
        jsontext_put(t, "false", 5);
        break;
    case cJSON_True:
        jsontext_put(t, "true", 4);
        break;
    case cJSON_Number:
        put_number(t, item->valuedouble);
        break;
    case cJSON_Raw:
        if (item->valuestring)
            jsontext_put(t, item->valuestring, strlen(item->valuestring));
        else
            t->failed = true;
        break;
    case cJSON_String:
        jsontext_string(t, item->valuestring);
        break;
    case cJSON_Array:
        put_char(t, '[');
        for (c = item->child; c && !t->failed; c = c->next) {
            put_value(t, c);
            if (c->next)
                put_char(t, ',');
        }
        put_char(t, ']');
        break;
    case cJSON_Object:
        put_char(t, '{');
        for (c = item->child; c && !t->failed; c = c->next) {
            jsontext_string(t, c->string);
            put_char(t, ':');
            put_value(t, c);
            if (c->next)
                put_char(t, ',');
        }
        put_char(t, '}');
        break;
    default:
        t->failed = true;
        break;
    }
}

char *jsonprint(const cJSON *item)
{
    struct jsontext t = { 0 };
    char *text;

    if (!item)
        return NULL;
    put_value(&t, item);
    return jsontext_take(&t, &text) ? NULL : text;
}
