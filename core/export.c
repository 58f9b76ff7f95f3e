/* SPDX-License-Identifier: MIT */
/* export.c: retained and exported metric values, and the export document
 * (see export.h).
 *
 * The document is written as text, not as a cJSON tree: a window close of
 * a large fleet exports one entry per thing and exported metric, and the
 * values arrive already as JSON text (the same text the datapoints store). */
#include "core/export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define HEAD "{\"version\":\"1.0\",\"metrics\":["
#define TAIL "]}"

int export_bucket_value(const struct metric_info *info, const struct metric_stats *st,
                        enum export_use use, struct metric_value *out)
{
    memset(out, 0, sizeof(*out));
    if (!info || info->kind != METRIC_KIND_COUNT || info->agg == METRIC_AGG_NONE)
        return DD_ERR_INVALID;
    if (st->n == 0)
        return DD_ERR_NOT_FOUND;
    if (info->agg == METRIC_AGG_EXTREME && use == EXPORT_PUBLISH) {
        out->numbers = malloc(3 * sizeof(*out->numbers));
        if (!out->numbers)
            return DD_ERR_NOMEM;
        out->kind = METRIC_KIND_NUMBERS;
        out->numbers[0] = (double)st->min;
        out->numbers[1] = (double)st->max;
        out->numbers[2] = (double)st->sum;
        out->n = 3;
        return DD_OK;
    }
    out->kind = METRIC_KIND_COUNT;
    switch (info->agg) {
    case METRIC_AGG_SUM:
        out->count = st->sum;
        break;
    case METRIC_AGG_LATEST:
        out->count = st->last;
        break;
    case METRIC_AGG_EXTREME:
        out->count = st->max;
        break;
    case METRIC_AGG_NONE:
        break;
    }
    return DD_OK;
}

uint64_t export_disconnect_duration(int64_t since_ms, int64_t end_ms, enum export_use use)
{
    if (since_ms <= 0 || end_ms <= since_ms)
        return 0;
    return (uint64_t)((end_ms - since_ms) / (use == EXPORT_PUBLISH ? 1000 : 60000));
}

int export_retained_key(char *key, size_t size, const char *metric, const char *dimension,
                        bool not_in)
{
    int n = dimension ? snprintf(key, size, "%s|%s|%s", metric, dimension, not_in ? "NOT_IN" : "IN")
                      : snprintf(key, size, "%s", metric);

    return n < 0 || (size_t)n >= size ? -1 : n;
}

enum export_counter export_counter_of(const char *metric)
{
    static const char *const names[] = {
        [EXPORT_COUNTER_SENT] = "aws:num-messages-sent",
        [EXPORT_COUNTER_RECEIVED] = "aws:num-messages-received",
        [EXPORT_COUNTER_AUTH_FAIL] = "aws:num-authorization-failures",
        [EXPORT_COUNTER_CONNECTS] = "aws:num-connection-attempts",
        [EXPORT_COUNTER_DISCONNECTS] = "aws:num-disconnects",
    };
    size_t i;

    for (i = EXPORT_COUNTER_SENT; metric && i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(metric, names[i]) == 0)
            return (enum export_counter)i;
    return EXPORT_COUNTER_NONE;
}

void export_batch_init(struct export_batch *b)
{
    memset(b, 0, sizeof(*b));
}

void export_batch_cleanup(struct export_batch *b)
{
    size_t i;

    if (!b)
        return;
    for (i = 0; i < b->n_done; i++)
        free(b->done[i]);
    free(b->done);
    free(b->text);
    memset(b, 0, sizeof(*b));
}

/* The bytes s needs as a JSON string body (without the quotes). */
static size_t escaped_len(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        n += c == '"' || c == '\\' ? 2 : c < 0x20 ? 6 : 1;
    }
    return n;
}

/* Append s escaped as a JSON string (with its quotes) at p; returns the end. */
static char *put_string(char *p, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            memcpy(p, "\\u00", 4);
            p[4] = hex[c >> 4];
            p[5] = hex[c & 15];
            p += 6;
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    return p;
}

static char *put(char *p, const char *s)
{
    size_t n = strlen(s);

    memcpy(p, s, n);
    return p + n;
}

int export_batch_finish(struct export_batch *b)
{
    char **done;

    if (!b->n_metrics)
        return DD_OK;
    done = realloc(b->done, (b->n_done + 1) * sizeof(*done));
    if (!done)
        return DD_ERR_NOMEM;
    b->done = done;
    memcpy(b->text + b->len, TAIL, sizeof(TAIL)); /* room kept by export_batch_add */
    done[b->n_done++] = b->text;
    b->text = NULL;
    b->len = b->cap = b->n_metrics = 0;
    return DD_OK;
}

int export_batch_add(struct export_batch *b, const char *name, const char *thing,
                     const char *value_json, int64_t timestamp_ms, const char *dimension,
                     bool not_in)
{
    size_t need;
    char *p;
    int rc;

    if (!b->stamp_len || b->stamp_ms != timestamp_ms) {
        int n = snprintf(b->stamp, sizeof(b->stamp), ",\"version\":1,\"timestamp\":%lld",
                         (long long)timestamp_ms);

        b->stamp_len = n > 0 ? (size_t)n : 0;
        b->stamp_ms = timestamp_ms;
    }
    /* {"name":N,"thing":T,"value":V<stamp>,"dimension":{"name":D,"operator":"NOT_IN"}} */
    need = 1 + sizeof("{\"name\":,\"thing\":,\"value\":}") + 4 + escaped_len(name) +
           escaped_len(thing) + strlen(value_json) + b->stamp_len +
           (dimension ? sizeof(",\"dimension\":{\"name\":,\"operator\":\"NOT_IN\"}") + 2 +
                            escaped_len(dimension)
                      : 0);
    if (sizeof(HEAD) + need + sizeof(TAIL) > EXPORT_PAYLOAD_MAX)
        return DD_ERR_TOO_LARGE;
    if (b->n_metrics && b->len + need + sizeof(TAIL) > EXPORT_PAYLOAD_MAX) {
        rc = export_batch_finish(b);
        if (rc)
            return rc;
    }
    if (!b->text || b->len + need + sizeof(TAIL) > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        char *t;

        while (cap < sizeof(HEAD) + b->len + need + sizeof(TAIL))
            cap *= 2;
        if (cap > EXPORT_PAYLOAD_MAX + 1)
            cap = EXPORT_PAYLOAD_MAX + 1;
        t = realloc(b->text, cap);
        if (!t)
            return DD_ERR_NOMEM;
        if (!b->text) {
            memcpy(t, HEAD, sizeof(HEAD) - 1);
            b->len = sizeof(HEAD) - 1;
        }
        b->text = t;
        b->cap = cap;
    }
    p = b->text + b->len;
    if (b->n_metrics)
        *p++ = ',';
    p = put(p, "{\"name\":");
    p = put_string(p, name);
    p = put(p, ",\"thing\":");
    p = put_string(p, thing);
    p = put(p, ",\"value\":");
    p = put(p, value_json);
    memcpy(p, b->stamp, b->stamp_len);
    p += b->stamp_len;
    if (dimension) {
        p = put(p, ",\"dimension\":{\"name\":");
        p = put_string(p, dimension);
        p = put(p, not_in ? ",\"operator\":\"NOT_IN\"}" : ",\"operator\":\"IN\"}");
    }
    *p++ = '}';
    b->len = (size_t)(p - b->text);
    b->n_metrics++;
    return DD_OK;
}
