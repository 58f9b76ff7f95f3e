/* SPDX-License-Identifier: MIT */
/* snsfilter.c: SNS subscription filter policies (snsfilter.h).
 *
 * Parsing runs in two passes over the cJSON tree, in the order AWS checks:
 * first the policy's shape (the key count, every key's value an object or a
 * non-empty array, no nesting in the attributes scope) while counting the
 * combinations, then every match value and operator, building the tree.
 * Nested keys are flattened as they are built: {"a":{"b":[..]}} becomes the
 * leaf "a.b" of its parent's list, since AND is associative; only $or keeps
 * a level of its own (its alternatives). Everything lives in one arena of
 * chunks that snsfilter_free() releases at once.
 *
 * Matching asks a "source" for the values at a leaf's key: the attributes
 * source looks the name up in the attribute map (a String.Array's Value is
 * parsed as JSON and each element is a value); the body source walks the
 * JSON body, where a key path "a.b" matches both {"a":{"b":..}} and
 * {"a.b":..} and arrays are walked element by element. A condition holds
 * when any value satisfies it, except anything-but, which needs a value and
 * none of them listed (AWS's newest text), and exists.
 *
 * Tested by tests/unit/test_snsfilter.c. */
#include "core/snsfilter.h"

#include <assert.h>
#include <math.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/evaluate.h"
#include "core/jsonscan.h"

#define PREFIX "Invalid parameter: FilterPolicy: "
#define NESTED_MSG                                                                                 \
    "Invalid parameter: Filter policy scope MessageAttributes does not support "                   \
    "nested filter policy"
#define CHUNK_BYTES     4096
#define JSON_MAX_DEPTH  (2 * SNSFILTER_MAX_COMBINATIONS + 2) /* objects and arrays */
#define MAX_DEPTH       SNSFILTER_MAX_COMBINATIONS /* a leaf deeper than this is too complex */
#define NUM_SCALE       1e5                        /* AWS: 5 decimal places */
#define NUM_EXACT_LIMIT 1e13                       /* scaled compare below this magnitude */

/* Set to false for the older reading of anything-but over arrays (a match
 * when any element is outside the list); see sns-more.md 3.3. */
static const bool anything_but_none_listed = true;

enum sf_op {
    SF_EQ_STR,     /* str */
    SF_EQ_NUM,     /* num */
    SF_EQ_NULL,    /* JSON null */
    SF_EQ_BOOL,    /* b */
    SF_PREFIX,     /* str */
    SF_SUFFIX,     /* str */
    SF_EQ_ICASE,   /* str */
    SF_BUT,        /* set: SF_EQ_STR / SF_EQ_NUM entries */
    SF_BUT_PREFIX, /* str */
    SF_NUMERIC,    /* has_lo/lo/lo_incl, has_hi/hi/hi_incl */
    SF_EXISTS,     /* b */
    SF_CIDR,       /* net */
};

struct sf_cond {
    enum sf_op op;
    const char *str; /* arena */
    size_t len;
    double num;
    bool b;
    bool has_lo, lo_incl, has_hi, hi_incl;
    double lo, hi;
    const struct sf_cond *set; /* arena */
    size_t n_set;
    struct evaluate_cidr net;
};

struct sf_obj;

/* One AND-ed member of an object: a leaf (key path and its OR-ed
 * conditions) or an $or of alternatives. */
struct sf_item {
    bool is_or;
    const char *path; /* arena; dotted for nested body keys */
    size_t path_len;
    const struct sf_cond *conds; /* arena */
    size_t n_conds;
    const struct sf_obj *alts; /* arena */
    size_t n_alts;
};

struct sf_obj {
    const struct sf_item *items; /* arena */
    size_t n_items;
};

struct sf_chunk {
    struct sf_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

struct snsfilter {
    enum snsfilter_scope scope;
    struct sf_chunk *chunks; /* owned: the arena */
    struct sf_obj root;
};

/* ---- arena ---------------------------------------------------------- */

/* n zeroed bytes from f's arena, or NULL when out of memory. */
static void *arena_alloc(struct snsfilter *f, size_t n)
{
    struct sf_chunk *c = f->chunks;
    size_t a = alignof(max_align_t), cap;
    void *p;

    n = (n + a - 1) / a * a;
    if (n == 0)
        n = a;
    if (!c || c->cap - c->used < n) {
        cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
        c = calloc(1, sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->next = f->chunks;
        f->chunks = c;
    }
    p = (char *)c->data + c->used;
    c->used += n;
    return p;
}

static char *arena_str(struct snsfilter *f, const char *s, size_t len)
{
    char *p = arena_alloc(f, len + 1);

    if (p)
        memcpy(p, s, len);
    return p;
}

/* ---- shape pass ---------------------------------------------------- */

static bool is_operator_word(const char *k)
{
    static const char *const words[] = { "prefix", "suffix", "anything-but", "numeric",
                                         "exists", "cidr",   "wildcard",     "equals-ignore-case" };
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!strcmp(k, words[i]))
            return true;
    }
    return false;
}

/* Is key/value an $or operator: an array of at least two objects, none of
 * whose keys is an operator word (otherwise "$or" is an ordinary key). */
static bool is_or(const cJSON *kv)
{
    const cJSON *alt, *k;
    int n = 0;

    if (strcmp(kv->string, "$or") || !cJSON_IsArray(kv))
        return false;
    cJSON_ArrayForEach(alt, kv)
    {
        if (!cJSON_IsObject(alt))
            return false;
        cJSON_ArrayForEach(k, alt)
        {
            if (is_operator_word(k->string))
                return false;
        }
        n++;
    }
    return n >= 2;
}

/* Check obj's shape at depth (1 = top level) and fold its combinations into
 * *combos as AWS counts them: a leaf array multiplies by its length times
 * its depth; an $or replaces the running count by the sum of what each
 * alternative makes of it. Saturates instead of overflowing. */
static int shape(const cJSON *obj, enum snsfilter_scope scope, unsigned depth, double *combos,
                 struct dd_errbuf *eb)
{
    const cJSON *kv, *alt;
    double sum, c;
    int rc;

    if (depth > MAX_DEPTH)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Filter policy is too complex");
    cJSON_ArrayForEach(kv, obj)
    {
        if (cJSON_IsObject(kv)) {
            rc = shape(kv, scope, depth + 1, combos, eb);
            if (rc)
                return rc;
        } else if (cJSON_IsArray(kv)) {
            if (!kv->child)
                return dd_fail(eb, DD_ERR_INVALID, PREFIX "Empty arrays are not allowed");
            if (is_or(kv)) {
                sum = 0;
                cJSON_ArrayForEach(alt, kv)
                {
                    c = *combos;
                    rc = shape(alt, scope, depth, &c, eb);
                    if (rc)
                        return rc;
                    sum += c;
                }
                *combos = sum;
            } else {
                *combos *= (double)cJSON_GetArraySize(kv) * depth;
            }
            if (*combos > 1e9)
                *combos = 1e9;
        } else {
            return dd_fail(eb, DD_ERR_INVALID, PREFIX "\"%.200s\" must be an object or an array",
                           kv->string);
        }
    }
    if (scope == SNSFILTER_ATTRIBUTES && depth > 1)
        return dd_fail(eb, DD_ERR_INVALID, NESTED_MSG);
    return DD_OK;
}

/* ---- build pass ------------------------------------------------------ */

/* The JSON token AWS's reader quotes for a value in a message. */
static const char *token_text(const cJSON *v, char *buf, size_t size)
{
    if (cJSON_IsNumber(v)) {
        snprintf(buf, size, "%.15g", v->valuedouble);
        return buf;
    }
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsTrue(v))
        return "true";
    if (cJSON_IsFalse(v))
        return "false";
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsArray(v))
        return "[";
    return "{";
}

static const char *const numeric_ops[] = { "=", "<", "<=", ">", ">=" };

static int numeric_op(const char *s)
{
    int i;

    for (i = 0; i < 5; i++) {
        if (!strcmp(s, numeric_ops[i]))
            return i;
    }
    return -1;
}

/* {"numeric": [op, v]} or [lower-op, v, upper-op, v]. */
static int build_numeric(const cJSON *arr, struct sf_cond *c, struct dd_errbuf *eb)
{
    const cJSON *op1, *v1, *op2, *v2;
    char buf[64];
    int o1, o2;

    if (!cJSON_IsArray(arr))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Value of numeric must be an array.");
    op1 = arr->child;
    if (!op1)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Invalid member in numeric match: ]");
    if (!cJSON_IsString(op1))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Invalid member in numeric match: %.100s",
                       token_text(op1, buf, sizeof(buf)));
    o1 = numeric_op(op1->valuestring);
    if (o1 < 0)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Unrecognized numeric range operator: %.100s",
                       op1->valuestring);
    v1 = op1->next;
    if (!cJSON_IsNumber(v1))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Value of %s must be numeric",
                       o1 == 0 ? "equals" : numeric_ops[o1]);
    c->op = SF_NUMERIC;
    if (o1 == 0) {
        c->has_lo = c->has_hi = c->lo_incl = c->hi_incl = true;
        c->lo = c->hi = v1->valuedouble;
    } else if (o1 <= 2) {
        c->has_hi = true;
        c->hi_incl = o1 == 2;
        c->hi = v1->valuedouble;
    } else {
        c->has_lo = true;
        c->lo_incl = o1 == 4;
        c->lo = v1->valuedouble;
    }
    op2 = v1->next;
    if (!op2)
        return DD_OK;
    if (o1 < 3)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Too many elements in numeric expression");
    if (!cJSON_IsString(op2))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Bad value in numeric range: %.100s",
                       token_text(op2, buf, sizeof(buf)));
    o2 = numeric_op(op2->valuestring);
    if (o2 != 1 && o2 != 2)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Bad numeric range operator: %.100s",
                       op2->valuestring);
    v2 = op2->next;
    if (!cJSON_IsNumber(v2))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Value of %s must be numeric", numeric_ops[o2]);
    if (v2->valuedouble <= v1->valuedouble)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Bottom must be less than top");
    if (v2->next)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Too many terms in numeric range expression");
    c->has_hi = true;
    c->hi_incl = o2 == 2;
    c->hi = v2->valuedouble;
    return DD_OK;
}

/* {"cidr": "a.b.c.d/n"} or an IPv6 network. */
static int build_cidr(const cJSON *v, struct sf_cond *c, struct dd_errbuf *eb)
{
    const char *s, *slash, *p;

    if (!cJSON_IsString(v))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "prefix match pattern must be a string");
    s = v->valuestring;
    slash = strchr(s, '/');
    if (!slash || strchr(slash + 1, '/'))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Malformed CIDR, one '/' required");
    for (p = slash + 1; *p >= '0' && *p <= '9'; p++)
        ;
    if (p == slash + 1 || *p)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Malformed CIDR, mask bits must be an integer");
    if (evaluate_cidr_parse(s, &c->net))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Nonstandard IP address: %.*s",
                       (int)(slash - s > 100 ? 100 : slash - s), s);
    c->op = SF_CIDR;
    return DD_OK;
}

/* A plain match value: string, number, true, false or null. */
static int build_value(struct snsfilter *f, const cJSON *v, struct sf_cond *c, struct dd_errbuf *eb)
{
    if (cJSON_IsString(v)) {
        c->op = SF_EQ_STR;
        c->len = strlen(v->valuestring);
        c->str = arena_str(f, v->valuestring, c->len);
        return c->str ? DD_OK : DD_ERR_NOMEM;
    }
    if (cJSON_IsNumber(v)) {
        c->op = SF_EQ_NUM;
        c->num = v->valuedouble;
    } else if (cJSON_IsNull(v)) {
        c->op = SF_EQ_NULL;
    } else if (cJSON_IsBool(v)) {
        c->op = SF_EQ_BOOL;
        c->b = cJSON_IsTrue(v);
    } else {
        return dd_fail(eb, DD_ERR_INVALID,
                       PREFIX "Match value must be String, number, true, false, or null");
    }
    return DD_OK;
}

/* A string operand of prefix, suffix, equals-ignore-case. */
static int build_string_op(struct snsfilter *f, const cJSON *v, const char *name, enum sf_op op,
                           struct sf_cond *c, struct dd_errbuf *eb)
{
    if (!cJSON_IsString(v))
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "%s match pattern must be a string", name);
    c->op = op;
    c->len = strlen(v->valuestring);
    c->str = arena_str(f, v->valuestring, c->len);
    return c->str ? DD_OK : DD_ERR_NOMEM;
}

static int build_anything_but(struct snsfilter *f, const cJSON *v, struct sf_cond *c,
                              struct dd_errbuf *eb)
{
    struct sf_cond *set;
    const cJSON *e;
    size_t n = 0;
    int rc;

    if (cJSON_IsObject(v)) {
        if (!v->child)
            return dd_fail(eb, DD_ERR_INVALID, PREFIX "Anything-But expression name not found");
        if (v->child->next)
            return dd_fail(eb, DD_ERR_INVALID, PREFIX "Only one key allowed in match expression");
        if (strcmp(v->child->string, "prefix"))
            return dd_fail(eb, DD_ERR_INVALID, PREFIX "Unsupported anything-but pattern: %.100s",
                           v->child->string);
        return build_string_op(f, v->child, "prefix", SF_BUT_PREFIX, c, eb);
    }
    if (cJSON_IsString(v) || cJSON_IsNumber(v)) {
        set = arena_alloc(f, sizeof(*set));
        if (!set)
            return DD_ERR_NOMEM;
        rc = build_value(f, v, set, eb);
        if (rc)
            return rc;
        n = 1;
    } else if (cJSON_IsArray(v)) {
        if (!v->child)
            return dd_fail(eb, DD_ERR_INVALID, PREFIX "Empty arrays are not allowed");
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsString(e) && !cJSON_IsNumber(e))
                return dd_fail(eb, DD_ERR_INVALID,
                               PREFIX "Inside anything but list, start|null|boolean is not "
                                      "supported.");
        }
        set = arena_alloc(f, sizeof(*set) * (size_t)cJSON_GetArraySize(v));
        if (!set)
            return DD_ERR_NOMEM;
        cJSON_ArrayForEach(e, v)
        {
            rc = build_value(f, e, &set[n++], eb);
            if (rc)
                return rc;
        }
    } else {
        return dd_fail(eb, DD_ERR_INVALID,
                       PREFIX "Value of anything-but must be an array or single string/number "
                              "value.");
    }
    c->op = SF_BUT;
    c->set = set;
    c->n_set = n;
    return DD_OK;
}

/* One element of a key's array: a value or an {"operator": operand}. */
static int build_cond(struct snsfilter *f, const cJSON *v, struct sf_cond *c, struct dd_errbuf *eb)
{
    const cJSON *op;
    const char *name;

    if (!cJSON_IsObject(v))
        return build_value(f, v, c, eb);
    op = v->child;
    if (!op || op->next)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Only one key allowed in match expression");
    name = op->string;
    if (!strcmp(name, "prefix"))
        return build_string_op(f, op, name, SF_PREFIX, c, eb);
    if (!strcmp(name, "suffix"))
        return build_string_op(f, op, name, SF_SUFFIX, c, eb);
    if (!strcmp(name, "equals-ignore-case"))
        return build_string_op(f, op, name, SF_EQ_ICASE, c, eb);
    if (!strcmp(name, "anything-but"))
        return build_anything_but(f, op, c, eb);
    if (!strcmp(name, "numeric"))
        return build_numeric(op, c, eb);
    if (!strcmp(name, "cidr"))
        return build_cidr(op, c, eb);
    if (!strcmp(name, "exists")) {
        if (!cJSON_IsBool(op))
            return dd_fail(eb, DD_ERR_INVALID,
                           PREFIX "exists match pattern must be either true or false.");
        c->op = SF_EXISTS;
        c->b = cJSON_IsTrue(op);
        return DD_OK;
    }
    return dd_fail(eb, DD_ERR_INVALID, PREFIX "Unrecognized match type %.100s", name);
}

/* Count the items obj flattens to: its leaves and $ors, nested objects'
 * items included. */
static size_t count_items(const cJSON *obj)
{
    const cJSON *kv;
    size_t n = 0;

    cJSON_ArrayForEach(kv, obj)
    {
        n += cJSON_IsObject(kv) ? count_items(kv) : 1;
    }
    return n;
}

static int build_obj(struct snsfilter *f, const cJSON *obj, const char *path, size_t path_len,
                     struct sf_obj *out, struct dd_errbuf *eb);

/* Append obj's items to items[*n], their keys under path. */
static int build_items(struct snsfilter *f, const cJSON *obj, const char *path, size_t path_len,
                       struct sf_item *items, size_t *n, struct dd_errbuf *eb)
{
    const cJSON *kv, *e;
    struct sf_item *it;
    struct sf_cond *conds;
    struct sf_obj *alts;
    size_t klen, plen, i;
    char *p;
    int rc;

    cJSON_ArrayForEach(kv, obj)
    {
        if (!cJSON_IsObject(kv) && is_or(kv)) {
            it = &items[(*n)++];
            it->is_or = true;
            it->n_alts = (size_t)cJSON_GetArraySize(kv);
            alts = arena_alloc(f, sizeof(*alts) * it->n_alts);
            if (!alts)
                return DD_ERR_NOMEM;
            i = 0;
            cJSON_ArrayForEach(e, kv)
            {
                rc = build_obj(f, e, path, path_len, &alts[i++], eb);
                if (rc)
                    return rc;
            }
            it->alts = alts;
            continue;
        }
        klen = strlen(kv->string);
        plen = path_len ? path_len + 1 + klen : klen;
        p = arena_alloc(f, plen + 1);
        if (!p)
            return DD_ERR_NOMEM;
        if (path_len) {
            memcpy(p, path, path_len);
            p[path_len] = '.';
        }
        memcpy(p + plen - klen, kv->string, klen);
        if (cJSON_IsObject(kv)) {
            rc = build_items(f, kv, p, plen, items, n, eb);
            if (rc)
                return rc;
            continue;
        }
        it = &items[(*n)++];
        it->path = p;
        it->path_len = plen;
        it->n_conds = (size_t)cJSON_GetArraySize(kv);
        conds = arena_alloc(f, sizeof(*conds) * it->n_conds);
        if (!conds)
            return DD_ERR_NOMEM;
        i = 0;
        cJSON_ArrayForEach(e, kv)
        {
            rc = build_cond(f, e, &conds[i++], eb);
            if (rc)
                return rc;
        }
        it->conds = conds;
    }
    return DD_OK;
}

static int build_obj(struct snsfilter *f, const cJSON *obj, const char *path, size_t path_len,
                     struct sf_obj *out, struct dd_errbuf *eb)
{
    size_t n = count_items(obj);
    struct sf_item *items = NULL;
    int rc;

    if (n) {
        items = arena_alloc(f, sizeof(*items) * n);
        if (!items)
            return DD_ERR_NOMEM;
    }
    out->n_items = 0;
    rc = build_items(f, obj, path, path_len, items, &out->n_items, eb);
    assert(rc || out->n_items == n);
    out->items = items;
    return rc;
}

/* ---- JSON errors ----------------------------------------------------- */

/* AWS's reader's complaint about the text at err (inside text[0..len)). */
static int json_error(const char *text, size_t len, const char *err, struct dd_errbuf *eb)
{
    const char *p = err;
    unsigned char ch;
    bool key = false;

    if (!p || p < text || p > text + len)
        p = text + len;
    while (p < text + len && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    if (p >= text + len) {
        if (len == 0 || strspn(text, " \t\r\n") == len)
            return dd_fail(eb, DD_ERR_INVALID,
                           PREFIX "failed to parse JSON. No content to map due to end-of-input");
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "failed to parse JSON. Unexpected end-of-input");
    }
    ch = (unsigned char)*p;
    /* A field name is expected after `{` or after `,` inside an object. */
    for (err = p; err > text;) {
        err--;
        if (*err == ' ' || *err == '\t' || *err == '\r' || *err == '\n')
            continue;
        key = *err == '{';
        break;
    }
    if (key)
        return dd_fail(eb, DD_ERR_INVALID,
                       PREFIX "failed to parse JSON. Unexpected character ('%c' (code %u)): was "
                              "expecting double-quote to start field name",
                       ch >= 0x20 && ch < 0x7f ? ch : '?', ch);
    return dd_fail(eb, DD_ERR_INVALID,
                   PREFIX "failed to parse JSON. Unexpected character ('%c' (code %u)): expected "
                          "a valid value (JSON String, Number, Array, Object or token 'null', "
                          "'true' or 'false')",
                   ch >= 0x20 && ch < 0x7f ? ch : '?', ch);
}

/* ---- parse ----------------------------------------------------------- */

int snsfilter_parse(const char *policy_json, enum snsfilter_scope scope, struct snsfilter **out,
                    struct dd_errbuf *eb)
{
    struct snsfilter *f = NULL;
    cJSON *root = NULL;
    bool too_deep = false;
    size_t stop = 0;
    double combos = 1;
    size_t len;
    int rc;

    *out = NULL;
    if (!policy_json)
        return dd_fail(eb, DD_ERR_INVALID,
                       PREFIX "failed to parse JSON. No content to map due "
                              "to end-of-input");
    len = strlen(policy_json);
    if (len > SNSFILTER_MAX_BYTES)
        return dd_fail(eb, DD_ERR_INVALID, PREFIX "Filter policy is too long");
    /* Syntax first: then a NULL from cJSON means out of memory. */
    if (!jsonscan_check(policy_json, len, JSON_MAX_DEPTH, &stop, &too_deep)) {
        if (too_deep)
            return dd_fail(eb, DD_ERR_INVALID, PREFIX "Filter policy is too complex");
        return json_error(policy_json, len, policy_json + stop, eb);
    }
    root = cJSON_ParseWithLength(policy_json, len);
    if (!root)
        return DD_ERR_NOMEM;
    if (!cJSON_IsObject(root)) {
        rc = dd_fail(eb, DD_ERR_INVALID, PREFIX "Filter is not an object");
        goto out;
    }
    if (cJSON_GetArraySize(root) > SNSFILTER_MAX_KEYS) {
        rc = dd_fail(eb, DD_ERR_INVALID, PREFIX "Filter policy can not have more than 5 keys");
        goto out;
    }
    rc = shape(root, scope, 1, &combos, eb);
    if (rc)
        goto out;
    if (combos > SNSFILTER_MAX_COMBINATIONS) {
        rc = dd_fail(eb, DD_ERR_INVALID, PREFIX "Filter policy is too complex");
        goto out;
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    f->scope = scope;
    rc = build_obj(f, root, NULL, 0, &f->root, eb);
    if (rc)
        goto out;
    *out = f;
    f = NULL;
out:
    snsfilter_free(f);
    cJSON_Delete(root);
    return rc;
}

void snsfilter_free(struct snsfilter *f)
{
    struct sf_chunk *c, *next;

    if (!f)
        return;
    for (c = f->chunks; c; c = next) {
        next = c->next;
        free(c);
    }
    free(f);
}

enum snsfilter_scope snsfilter_scope(const struct snsfilter *f)
{
    return f->scope;
}

const char *snsfilter_reason(const char *msg)
{
    static const char lead[] = "Invalid parameter: ";

    if (!strncmp(msg, lead, sizeof(lead) - 1))
        return msg + sizeof(lead) - 1;
    return msg;
}

/* ---- values ---------------------------------------------------------- */

enum sf_type { SV_STR, SV_NUM, SV_BOOL, SV_NULL };

/* One value of a message at a key. */
struct sf_val {
    enum sf_type type;
    const char *s; /* SV_STR, borrowed */
    size_t len;
    double num;
    bool b;
};

/* Compare numbers as AWS does: at 5 decimal places within its range. */
static int num_cmp(double a, double b)
{
    long long x, y;

    if (fabs(a) < NUM_EXACT_LIMIT && fabs(b) < NUM_EXACT_LIMIT) {
        x = llround(a * NUM_SCALE);
        y = llround(b * NUM_SCALE);
        return (x > y) - (x < y);
    }
    return (a > b) - (a < b);
}

static bool eq_icase(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t i;
    unsigned char x, y;

    if (alen != blen)
        return false;
    for (i = 0; i < alen; i++) {
        x = (unsigned char)a[i];
        y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool ip_in(const struct evaluate_cidr *net, const struct sf_val *v)
{
    struct evaluate_cidr addr;
    char buf[64];

    if (v->type != SV_STR || v->len == 0 || v->len >= sizeof(buf) || memchr(v->s, '/', v->len))
        return false;
    memcpy(buf, v->s, v->len);
    buf[v->len] = '\0';
    if (evaluate_cidr_parse(buf, &addr))
        return false;
    return evaluate_cidr_contains(net, &addr);
}

/* Is v one of the values c (an SF_EQ_* condition) names? */
static bool equals(const struct sf_cond *c, const struct sf_val *v)
{
    switch (c->op) {
    case SF_EQ_STR:
        return v->type == SV_STR && v->len == c->len && !memcmp(v->s, c->str, c->len);
    case SF_EQ_NUM:
        return v->type == SV_NUM && num_cmp(v->num, c->num) == 0;
    case SF_EQ_NULL:
        return v->type == SV_NULL;
    case SF_EQ_BOOL:
        return v->type == SV_BOOL && v->b == c->b;
    default:
        return false;
    }
}

/* Does one value satisfy c? (Not for SF_EXISTS.) For SF_BUT and
 * SF_BUT_PREFIX: true when v is not excluded. */
static bool value_match(const struct sf_cond *c, const struct sf_val *v)
{
    size_t i;
    int lo, hi;

    switch (c->op) {
    case SF_EQ_STR:
    case SF_EQ_NUM:
    case SF_EQ_NULL:
    case SF_EQ_BOOL:
        return equals(c, v);
    case SF_PREFIX:
        return v->type == SV_STR && v->len >= c->len && !memcmp(v->s, c->str, c->len);
    case SF_SUFFIX:
        return v->type == SV_STR && v->len >= c->len &&
               !memcmp(v->s + v->len - c->len, c->str, c->len);
    case SF_EQ_ICASE:
        return v->type == SV_STR && eq_icase(v->s, v->len, c->str, c->len);
    case SF_BUT:
        for (i = 0; i < c->n_set; i++) {
            if (equals(&c->set[i], v))
                return false;
        }
        return true;
    case SF_BUT_PREFIX:
        return !(v->type == SV_STR && v->len >= c->len && !memcmp(v->s, c->str, c->len));
    case SF_NUMERIC:
        if (v->type != SV_NUM)
            return false;
        lo = c->has_lo ? num_cmp(v->num, c->lo) : 1;
        hi = c->has_hi ? num_cmp(v->num, c->hi) : -1;
        return (lo > 0 || (lo == 0 && c->lo_incl)) && (hi < 0 || (hi == 0 && c->hi_incl));
    case SF_CIDR:
        return ip_in(&c->net, v);
    case SF_EXISTS:
        break;
    }
    return false;
}

/* ---- sources --------------------------------------------------------- */

/* Called for each value at a key; returns true to stop the walk. */
typedef bool (*sf_visit_fn)(void *ctx, const struct sf_val *v);

struct sf_src {
    bool body;
    const cJSON *root; /* the attribute map or the body object; NULL: none */
};

static bool json_value(const cJSON *j, struct sf_val *v)
{
    memset(v, 0, sizeof(*v));
    if (cJSON_IsString(j)) {
        v->type = SV_STR;
        v->s = j->valuestring;
        v->len = strlen(j->valuestring);
    } else if (cJSON_IsNumber(j)) {
        v->type = SV_NUM;
        v->num = j->valuedouble;
    } else if (cJSON_IsBool(j)) {
        v->type = SV_BOOL;
        v->b = cJSON_IsTrue(j);
    } else if (cJSON_IsNull(j)) {
        v->type = SV_NULL;
    } else {
        return false;
    }
    return true;
}

/* Walk the body value j for the key path p[pos..n); see the file comment.
 * Returns true when fn asked to stop. */
static bool body_walk(const cJSON *j, const char *p, size_t n, size_t pos, sf_visit_fn fn,
                      void *ctx)
{
    const cJSON *e;
    struct sf_val v;
    size_t kl;

    if (cJSON_IsArray(j)) {
        cJSON_ArrayForEach(e, j)
        {
            if (body_walk(e, p, n, pos, fn, ctx))
                return true;
        }
        return false;
    }
    if (pos == n)
        return json_value(j, &v) && fn(ctx, &v);
    if (!cJSON_IsObject(j))
        return false;
    cJSON_ArrayForEach(e, j)
    {
        kl = strlen(e->string);
        if (kl > n - pos || memcmp(p + pos, e->string, kl) != 0)
            continue;
        if (pos + kl == n) {
            if (body_walk(e, p, n, n, fn, ctx))
                return true;
        } else if (p[pos + kl] == '.' && pos + kl + 1 < n) {
            if (body_walk(e, p, n, pos + kl + 1, fn, ctx))
                return true;
        }
    }
    return false;
}

/* A String attribute's or a Number attribute's text as a value. */
static bool number_text(const char *s, double *out)
{
    const char *p = s;
    char *end;

    /* JSON's number grammar, which is what SNS accepts for Number. */
    if (*p == '-')
        p++;
    if (*p < '0' || *p > '9')
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out) && !strpbrk(s, "xXnNiIpP");
}

static bool attr_walk(const cJSON *map, const char *name, sf_visit_fn fn, void *ctx)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(map, name), *e;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(a, "Type");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(a, "Value");
    const char *t;
    struct sf_val v;
    cJSON *arr;
    bool stop = false;

    if (!cJSON_IsString(type) || !cJSON_IsString(value))
        return false;
    t = type->valuestring;
    memset(&v, 0, sizeof(v));
    if (!strcmp(t, "String.Array")) {
        arr = cJSON_Parse(value->valuestring);
        if (cJSON_IsArray(arr)) {
            cJSON_ArrayForEach(e, arr)
            {
                if (json_value(e, &v) && fn(ctx, &v)) {
                    stop = true;
                    break;
                }
            }
        } else if (arr && json_value(arr, &v)) {
            stop = fn(ctx, &v);
        } else if (!arr) {
            v.type = SV_STR;
            v.s = value->valuestring;
            v.len = strlen(v.s);
            stop = fn(ctx, &v);
        }
        cJSON_Delete(arr);
        return stop;
    }
    if (!strncmp(t, "Number", 6) && (t[6] == '\0' || t[6] == '.')) {
        v.type = SV_NUM;
        if (!number_text(value->valuestring, &v.num))
            return false;
        return fn(ctx, &v);
    }
    if (!strncmp(t, "String", 6) && (t[6] == '\0' || t[6] == '.')) {
        v.type = SV_STR;
        v.s = value->valuestring;
        v.len = strlen(v.s);
        return fn(ctx, &v);
    }
    return false; /* Binary and unknown types are invisible */
}

static bool src_walk(const struct sf_src *src, const struct sf_item *it, sf_visit_fn fn, void *ctx)
{
    if (!src->root)
        return false;
    if (src->body)
        return body_walk(src->root, it->path, it->path_len, 0, fn, ctx);
    return attr_walk(src->root, it->path, fn, ctx);
}

/* ---- evaluation ------------------------------------------------------ */

struct cond_walk {
    const struct sf_cond *c;
    bool any;      /* a non-null value was seen */
    bool hit;      /* some value satisfied c (for anything-but: was not excluded) */
    bool excluded; /* anything-but: some value was listed */
};

static bool visit_cond(void *ctx, const struct sf_val *v)
{
    struct cond_walk *w = ctx;

    if (v->type != SV_NULL)
        w->any = true;
    switch (w->c->op) {
    case SF_EXISTS:
        return w->any;
    case SF_BUT:
    case SF_BUT_PREFIX:
        if (v->type == SV_NULL)
            return false;
        if (value_match(w->c, v))
            w->hit = true;
        else
            w->excluded = true;
        return anything_but_none_listed ? w->excluded : w->hit;
    default:
        w->hit = value_match(w->c, v);
        return w->hit;
    }
}

static bool cond_match(const struct sf_src *src, const struct sf_item *it, const struct sf_cond *c)
{
    struct cond_walk w = { c, false, false, false };

    (void)src_walk(src, it, visit_cond, &w);
    switch (c->op) {
    case SF_EXISTS:
        /* exists:false still needs a message with something in it. */
        return c->b ? w.any : !w.any && src->root && src->root->child;
    case SF_BUT:
    case SF_BUT_PREFIX:
        return anything_but_none_listed ? w.hit && !w.excluded : w.hit;
    default:
        return w.hit;
    }
}

static bool obj_match(const struct sf_src *src, const struct sf_obj *o)
{
    const struct sf_item *it;
    size_t i, j;
    bool ok;

    for (i = 0; i < o->n_items; i++) {
        it = &o->items[i];
        ok = false;
        if (it->is_or) {
            for (j = 0; j < it->n_alts && !ok; j++)
                ok = obj_match(src, &it->alts[j]);
        } else {
            for (j = 0; j < it->n_conds && !ok; j++)
                ok = cond_match(src, it, &it->conds[j]);
        }
        if (!ok)
            return false;
    }
    return true;
}

bool snsfilter_match_attributes(const struct snsfilter *f, const char *message_attributes_json)
{
    struct sf_src src = { false, NULL };
    cJSON *map = NULL;
    bool ok;

    if (f->root.n_items == 0)
        return true;
    if (message_attributes_json) {
        map = cJSON_Parse(message_attributes_json);
        if (cJSON_IsObject(map))
            src.root = map;
    }
    ok = obj_match(&src, &f->root);
    cJSON_Delete(map);
    return ok;
}

bool snsfilter_match_body(const struct snsfilter *f, const char *body)
{
    struct sf_src src = { true, NULL };
    cJSON *root = NULL;
    bool ok;

    if (f->root.n_items == 0)
        return true;
    if (body) {
        root = cJSON_Parse(body);
        if (!cJSON_IsObject(root)) {
            cJSON_Delete(root);
            return false;
        }
        src.root = root;
    }
    if (!src.root)
        return false;
    ok = obj_match(&src, &f->root);
    cJSON_Delete(root);
    return ok;
}
