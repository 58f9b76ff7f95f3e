/* SPDX-License-Identifier: MIT */
/* jsonscan.c: the strict JSON syntax check (see jsonscan.h). A recursive
 * descent over a pointer pair; every value starts after the whitespace
 * before it, and the depth bound keeps the recursion, and so the stack,
 * small. */
#include "core/jsonscan.h"

#include <assert.h>
#include <string.h>

struct jscan {
    const char *p, *end; /* the next byte, and one past the last */
    int depth;           /* arrays and objects open */
    int max_depth;
    bool too_deep;
};

static bool js_is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void js_ws(struct jscan *js)
{
    while (js->p < js->end && js_is_ws(*js->p))
        js->p++;
}

static bool js_hex4(struct jscan *js, unsigned *out)
{
    unsigned v = 0;
    int i;

    if (js->end - js->p < 4)
        return false;
    for (i = 0; i < 4; i++) {
        char c = js->p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return false;
    }
    js->p += 4;
    *out = v;
    return true;
}

/* cJSON rejects unpaired UTF-16 surrogates, so this does too. */
static bool js_string(struct jscan *js)
{
    unsigned cp, low;

    if (js->p >= js->end || *js->p != '"')
        return false;
    js->p++;
    while (js->p < js->end) {
        char c = *js->p++;

        if (c == '"')
            return true;
        if ((unsigned char)c < 0x20)
            return false;
        if (c != '\\')
            continue;
        if (js->p >= js->end)
            return false;
        c = *js->p++;
        if (strchr("\"\\/bfnrt", c) && c != '\0')
            continue;
        if (c != 'u' || !js_hex4(js, &cp))
            return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (js->end - js->p < 2 || js->p[0] != '\\' || js->p[1] != 'u')
                return false;
            js->p += 2;
            if (!js_hex4(js, &low) || low < 0xDC00 || low > 0xDFFF)
                return false;
        }
    }
    return false;
}

static bool js_digits(struct jscan *js)
{
    const char *start = js->p;

    while (js->p < js->end && *js->p >= '0' && *js->p <= '9')
        js->p++;
    return js->p > start;
}

static bool js_number(struct jscan *js)
{
    const char *start = js->p;

    if (js->p < js->end && *js->p == '-')
        js->p++;
    if (js->p < js->end && *js->p == '0')
        js->p++;
    else if (!js_digits(js))
        return false;
    if (js->p < js->end && *js->p == '.') {
        js->p++;
        if (!js_digits(js))
            return false;
    }
    if (js->p < js->end && (*js->p == 'e' || *js->p == 'E')) {
        js->p++;
        if (js->p < js->end && (*js->p == '+' || *js->p == '-'))
            js->p++;
        if (!js_digits(js))
            return false;
    }
    return js->p - start <= JSONSCAN_MAX_NUMBER;
}

static bool js_word(struct jscan *js, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(js->end - js->p) < n || memcmp(js->p, w, n) != 0)
        return false;
    js->p += n;
    return true;
}

static bool js_value(struct jscan *js);

/* One array or object; the opening bracket is under js->p. */
static bool js_container(struct jscan *js)
{
    bool object = *js->p == '{';
    char close = object ? '}' : ']';

    if (js->depth >= js->max_depth) {
        js->too_deep = true;
        return false;
    }
    js->depth++;
    js->p++;
    js_ws(js);
    if (js->p < js->end && *js->p == close) {
        js->p++;
        js->depth--;
        return true;
    }
    for (;;) {
        if (object) {
            if (!js_string(js))
                return false;
            js_ws(js);
            if (js->p >= js->end || *js->p != ':')
                return false;
            js->p++;
            js_ws(js);
        }
        if (!js_value(js))
            return false;
        js_ws(js);
        if (js->p >= js->end)
            return false;
        if (*js->p == close) {
            js->p++;
            js->depth--;
            return true;
        }
        if (*js->p != ',')
            return false;
        js->p++;
        js_ws(js);
    }
}

/* One value, whose first byte is under js->p (whitespace already skipped). */
static bool js_value(struct jscan *js)
{
    assert(js->depth >= 0 && js->depth <= js->max_depth);
    if (js->p >= js->end)
        return false;
    switch (*js->p) {
    case '{':
    case '[':
        return js_container(js);
    case '"':
        return js_string(js);
    case 't':
        return js_word(js, "true");
    case 'f':
        return js_word(js, "false");
    case 'n':
        return js_word(js, "null");
    default:
        return js_number(js);
    }
}

bool jsonscan_check(const char *text, size_t len, int max_depth, size_t *stop, bool *too_deep)
{
    const char *base = text ? text : ""; /* NULL with len 0: no value */
    struct jscan js = { base, base + len, 0, max_depth, false };
    bool ok = false;

    assert(text || len == 0);
    js_ws(&js);
    if (js_value(&js)) {
        js_ws(&js);
        ok = js.p == js.end;
    }
    if (stop)
        *stop = (size_t)(js.p - base);
    if (too_deep)
        *too_deep = js.too_deep;
    return ok;
}
