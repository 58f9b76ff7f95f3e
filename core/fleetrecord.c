/* SPDX-License-Identifier: MIT */
/* fleetrecord.c: see fleetrecord.h. Names and strings live in one growing
 * byte buffer addressed by offsets (a realloc may move it), and become
 * pointers only when the record is sealed. */
#include "core/fleetrecord.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_BYTES 1024
#define MAX_SAFE_INT   9007199254740992.0 /* 2^53 */

struct fleetrecord_entry {
    size_t name_off;
    size_t str_off; /* FLEETQUERY_STRING: the text */
    struct fleetquery_value v;
};

void fleetrecord_init(struct fleetrecord *r)
{
    memset(r, 0, sizeof(*r));
}

void fleetrecord_cleanup(struct fleetrecord *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r->e);
    free(r->names);
    free(r->vals);
    memset(r, 0, sizeof(*r));
}

void fleetrecord_clear(struct fleetrecord *r)
{
    r->buf_len = 0;
    r->n = 0;
    r->n_sealed = 0;
    r->err = DD_OK;
}

/* Copy s[0..len) and a NUL into the buffer; *off gets its offset. */
static int put_text(struct fleetrecord *r, const char *s, size_t len, size_t *off)
{
    if (r->buf_len + len + 1 > r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap : 1024;
        char *nb;

        while (cap < r->buf_len + len + 1)
            cap *= 2;
        nb = realloc(r->buf, cap);
        if (!nb)
            return DD_ERR_NOMEM;
        r->buf = nb;
        r->buf_cap = cap;
    }
    memcpy(r->buf + r->buf_len, s, len);
    r->buf[r->buf_len + len] = '\0';
    *off = r->buf_len;
    r->buf_len += len + 1;
    return DD_OK;
}

/* Append a pair whose value is v (for a string, str is its text). */
static void add(struct fleetrecord *r, const char *name, const struct fleetquery_value *v,
                const char *str)
{
    struct fleetrecord_entry *e;

    if (r->err)
        return;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct fleetrecord_entry *ne = realloc(r->e, cap * sizeof(*ne));

        if (!ne) {
            r->err = DD_ERR_NOMEM;
            return;
        }
        r->e = ne;
        r->cap = cap;
    }
    e = &r->e[r->n];
    memset(e, 0, sizeof(*e));
    e->v = *v;
    if (put_text(r, name, strlen(name), &e->name_off) ||
        (str && put_text(r, str, strlen(str), &e->str_off))) {
        r->err = DD_ERR_NOMEM;
        return;
    }
    r->n++;
}

void fleetrecord_add_str(struct fleetrecord *r, const char *name, const char *str)
{
    struct fleetquery_value v = { FLEETQUERY_STRING, NULL, 0, false };

    add(r, name, &v, str ? str : "");
}

void fleetrecord_add_num(struct fleetrecord *r, const char *name, double num)
{
    struct fleetquery_value v = { FLEETQUERY_NUMBER, NULL, num, false };

    add(r, name, &v, NULL);
}

void fleetrecord_add_bool(struct fleetrecord *r, const char *name, bool b)
{
    struct fleetquery_value v = { FLEETQUERY_BOOL, NULL, 0, b };

    add(r, name, &v, NULL);
}

void fleetrecord_add_attr(struct fleetrecord *r, const char *name, const char *text)
{
    char *end = NULL;
    double d;

    if (text && *text && !strchr(" \t\n\r\f\v", text[0])) {
        d = strtod(text, &end);
        if (end && *end == '\0' && isfinite(d) && fabs(d) <= MAX_SAFE_INT &&
            !strpbrk(text, "xXnN")) { /* no hex, inf or nan spellings */
            fleetrecord_add_num(r, name, d);
            return;
        }
    }
    fleetrecord_add_str(r, name, text);
}

/* Whether array a holds only scalars (nulls are skipped later). */
static bool scalar_array(const cJSON *a)
{
    const cJSON *el;

    cJSON_ArrayForEach(el, a)
    {
        if (cJSON_IsObject(el) || cJSON_IsArray(el))
            return false;
    }
    return true;
}

static void add_scalar(struct fleetrecord *r, const char *name, const cJSON *v)
{
    if (cJSON_IsString(v))
        fleetrecord_add_str(r, name, v->valuestring);
    else if (cJSON_IsNumber(v))
        fleetrecord_add_num(r, name, v->valuedouble);
    else if (cJSON_IsBool(v))
        fleetrecord_add_bool(r, name, cJSON_IsTrue(v));
}

void fleetrecord_add_json(struct fleetrecord *r, const char *prefix, const cJSON *v)
{
    const cJSON *el;

    if (!v || r->err)
        return;
    if (cJSON_IsObject(v)) {
        size_t plen = strlen(prefix);
        char name[NAME_MAX_BYTES + 1];

        cJSON_ArrayForEach(el, v)
        {
            size_t klen = el->string ? strlen(el->string) : 0;

            if (!el->string || plen + 1 + klen > NAME_MAX_BYTES)
                continue;
            memcpy(name, prefix, plen);
            name[plen] = '.';
            memcpy(name + plen + 1, el->string, klen + 1);
            fleetrecord_add_json(r, name, el);
        }
    } else if (cJSON_IsArray(v)) {
        if (!scalar_array(v))
            return;
        cJSON_ArrayForEach(el, v)
        {
            add_scalar(r, prefix, el);
        }
    } else {
        add_scalar(r, prefix, v);
    }
}

int fleetrecord_seal(struct fleetrecord *r)
{
    size_t i;

    if (r->err)
        return r->err;
    if (r->n > r->vals_cap) {
        size_t cap = r->n;
        const char **nn = realloc(r->names, cap * sizeof(*nn));
        struct fleetquery_value *nv;

        if (!nn)
            return r->err = DD_ERR_NOMEM;
        r->names = nn;
        nv = realloc(r->vals, cap * sizeof(*nv));
        if (!nv)
            return r->err = DD_ERR_NOMEM;
        r->vals = nv;
        r->vals_cap = cap;
    }
    /* Pairs are few (tens) and sorting is a stable merge of families
     * added in order: an insertion sort needs no comparator state. */
    for (i = 1; i < r->n; i++) {
        struct fleetrecord_entry t = r->e[i];
        size_t j = i;

        while (j > 0 && strcmp(r->buf + r->e[j - 1].name_off, r->buf + t.name_off) > 0) {
            r->e[j] = r->e[j - 1];
            j--;
        }
        r->e[j] = t;
    }
    for (i = 0; i < r->n; i++) {
        r->names[i] = r->buf + r->e[i].name_off;
        r->vals[i] = r->e[i].v;
        if (r->vals[i].type == FLEETQUERY_STRING)
            r->vals[i].str = r->buf + r->e[i].str_off;
    }
    r->n_sealed = r->n;
    return DD_OK;
}

void fleetrecord_find(const struct fleetrecord *r, const char *field,
                      const struct fleetquery_value **vals, size_t *n_vals)
{
    size_t lo = 0, hi = r->n_sealed, end;

    *vals = NULL;
    *n_vals = 0;
    if (!field) {
        *vals = r->vals;
        *n_vals = r->n_sealed;
        return;
    }
    while (lo < hi) { /* first name >= field */
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(r->names[mid], field) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < r->n_sealed && strcmp(r->names[end], field) == 0; end++)
        ;
    if (end > lo) {
        *vals = &r->vals[lo];
        *n_vals = end - lo;
    }
}

const char *fleetrecord_disconnect_name(enum fleetrecord_disconnect why)
{
    switch (why) {
    case FLEETRECORD_DISC_CLIENT:
        return "CLIENT_INITIATED_DISCONNECT";
    case FLEETRECORD_DISC_KEEPALIVE:
        return "MQTT_KEEP_ALIVE_TIMEOUT";
    case FLEETRECORD_DISC_LOST:
        return "CONNECTION_LOST";
    case FLEETRECORD_DISC_DUPLICATE:
        return "DUPLICATE_CLIENTID";
    case FLEETRECORD_DISC_SERVER:
        return "SERVER_INITIATED_DISCONNECT";
    case FLEETRECORD_DISC_AUTH:
        return "AUTH_ERROR";
    case FLEETRECORD_DISC_FORBIDDEN:
        return "FORBIDDEN_ACCESS";
    case FLEETRECORD_DISC_PROTOCOL:
        return "CLIENT_ERROR";
    case FLEETRECORD_DISC_UNKNOWN:
        break;
    }
    return "UNKNOWN";
}
