/* SPDX-License-Identifier: MIT */
/* policy.c: validation, compilation and evaluation of AWS IoT policies.
 *
 * A policy_set is a handful of flat arrays (statements, patterns, pattern
 * tokens, conditions, CIDR blocks) plus one text arena, all referring to
 * each other by index so the arrays can grow with realloc() while a set is
 * being built. A pattern is a run of tokens: literal text, `*`, `?`, or a
 * variable. Evaluation walks those tokens and compares a variable's value,
 * read straight from the caller's context, as literal text, so nothing is
 * ever substituted or copied at match time.
 *
 * cJSON cannot tell "out of memory" from "syntax error" (both give NULL), so
 * a small non-allocating scanner checks the syntax first, at least as
 * strictly as cJSON does; a cJSON failure after it accepted is then an
 * allocation failure. */
#include "core/policy.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/error.h"
#include "core/jsonscan.h"

/* Deeper than any policy needs, shallower than cJSON's own limit. */
#define JSON_MAX_DEPTH 64

enum tok_kind {
    TOK_LIT,  /* text[off, off+len) of the arena */
    TOK_STAR, /* any run of characters */
    TOK_ONE,  /* exactly one character */
    TOK_VAR,  /* a variable's value, matched literally */
};

/* Variables and condition keys share one list. */
enum var_id {
    VAR_CLIENT_ID,
    VAR_THING_NAME,
    VAR_THING_TYPE,
    VAR_THING_ATTR, /* name in the arena */
    VAR_IS_ATTACHED,
    VAR_CERT_ID,
    VAR_CERT_CN,
    VAR_SOURCE_IP,
    VAR_UNKNOWN, /* never resolves */
};

enum cond_op {
    OP_BOOL,
    OP_STRING_EQUALS,
    OP_STRING_NOT_EQUALS,
    OP_STRING_LIKE,
    OP_STRING_NOT_LIKE,
    OP_ARN_EQUALS,
    OP_ARN_NOT_EQUALS,
    OP_ARN_LIKE,
    OP_ARN_NOT_LIKE,
    OP_IP_ADDRESS,
    OP_NOT_IP_ADDRESS,
};

struct policy_tok {
    enum tok_kind kind;
    enum var_id var; /* TOK_VAR */
    size_t off, len; /* TOK_LIT: the text; VAR_THING_ATTR: the attribute name */
};

struct policy_pat {
    size_t first_tok, n_toks;
};

struct policy_cidr {
    int family; /* AF_INET or AF_INET6 */
    unsigned prefix;
    unsigned char addr[16];
};

struct policy_cond {
    enum cond_op op;
    enum var_id key;
    size_t key_off, key_len; /* VAR_THING_ATTR: the attribute name */
    size_t first, n;         /* values: into pats, or cidrs for IpAddress */
};

struct policy_stmt {
    bool deny, not_action, not_resource, has_vars;
    unsigned actions; /* bit (1 << enum policy_action) per action Action names */
    size_t first_res, n_res;
    size_t first_cond, n_cond;
    size_t first_tok, n_toks; /* every token of the statement, for the variable check */
    size_t name_off;          /* NUL-terminated policy name in the arena */
};

struct policy_set {
    struct policy_stmt *stmts; /* owned, as are the arrays below */
    struct policy_pat *pats;
    struct policy_tok *toks;
    struct policy_cond *conds;
    struct policy_cidr *cidrs;
    char *text; /* the arena: literals, attribute names, policy names */
    size_t n_stmts, n_pats, n_toks, n_conds, n_cidrs, text_len;
    size_t cap_stmts, cap_pats, cap_toks, cap_conds, cap_cidrs, cap_text;
};

static const char *const action_names[] = {
    "iot:Connect", "iot:Publish", "iot:RetainPublish", "iot:Subscribe", "iot:Receive",
};

#define N_ACTIONS (sizeof(action_names) / sizeof(action_names[0]))
/* A statement keeps its actions as bits of an unsigned. */
_Static_assert(N_ACTIONS <= 32, "policy actions must fit struct policy_stmt.actions");

static const struct {
    const char *name;
    enum var_id id;
} var_names[] = {
    { "iot:ClientId", VAR_CLIENT_ID },
    { "iot:Connection.Thing.ThingName", VAR_THING_NAME },
    { "iot:Connection.Thing.ThingTypeName", VAR_THING_TYPE },
    { "iot:Connection.Thing.IsAttached", VAR_IS_ATTACHED },
    { "iot:CertificateId", VAR_CERT_ID },
    { "iot:Certificate.Subject.CommonName", VAR_CERT_CN },
    { "aws:SourceIp", VAR_SOURCE_IP },
};

#define ATTR_PREFIX "iot:Connection.Thing.Attributes["

static const struct {
    const char *name;
    enum cond_op op;
} op_names[] = {
    { "Bool", OP_BOOL },
    { "StringEquals", OP_STRING_EQUALS },
    { "StringNotEquals", OP_STRING_NOT_EQUALS },
    { "StringLike", OP_STRING_LIKE },
    { "StringNotLike", OP_STRING_NOT_LIKE },
    { "ArnEquals", OP_ARN_EQUALS },
    { "ArnNotEquals", OP_ARN_NOT_EQUALS },
    { "ArnLike", OP_ARN_LIKE },
    { "ArnNotLike", OP_ARN_NOT_LIKE },
    { "IpAddress", OP_IP_ADDRESS },
    { "NotIpAddress", OP_NOT_IP_ADDRESS },
};

static bool op_negated(enum cond_op op)
{
    return op == OP_STRING_NOT_EQUALS || op == OP_STRING_NOT_LIKE || op == OP_ARN_NOT_EQUALS ||
           op == OP_ARN_NOT_LIKE || op == OP_NOT_IP_ADDRESS;
}

static bool op_is_ip(enum cond_op op)
{
    return op == OP_IP_ADDRESS || op == OP_NOT_IP_ADDRESS;
}

/* IAM's ArnEquals takes wildcards just like ArnLike. */
static bool op_has_wildcards(enum cond_op op)
{
    return op == OP_STRING_LIKE || op == OP_STRING_NOT_LIKE || op == OP_ARN_EQUALS ||
           op == OP_ARN_NOT_EQUALS || op == OP_ARN_LIKE || op == OP_ARN_NOT_LIKE;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool equal_ci(const char *a, size_t a_len, const char *b)
{
    size_t i;

    for (i = 0; i < a_len; i++) {
        if (b[i] == '\0' || lower(a[i]) != lower(b[i]))
            return false;
    }
    return b[i] == '\0';
}

/* ---- JSON syntax check (no allocation) ---------------------------------- */

static int json_check(const char *doc, size_t len, struct dd_errbuf *eb)
{
    size_t stop;
    bool too_deep;

    if (jsonscan_check(doc, len, JSON_MAX_DEPTH, &stop, &too_deep))
        return DD_OK;
    if (too_deep)
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "policy document is nested too deeply");
    return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "policy document is not valid JSON (at byte %zu)",
                   stop);
}

/* ---- building a set ----------------------------------------------------- */

/* Make room for need elements; returns the (maybe moved) array, or NULL
 * with arr untouched when out of memory. */
static void *grow(void *arr, size_t *cap, size_t need, size_t elem)
{
    size_t ncap = *cap ? *cap : 8;
    void *p;

    if (need <= *cap)
        return arr;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return NULL;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem)
        return NULL;
    p = realloc(arr, ncap * elem);
    if (p)
        *cap = ncap;
    return p;
}

static int text_add(struct policy_set *set, const char *s, size_t n, bool nul, size_t *off)
{
    char *p = grow(set->text, &set->cap_text, set->text_len + n + 1, 1);

    if (!p)
        return DD_ERR_NOMEM;
    set->text = p;
    *off = set->text_len;
    memcpy(set->text + set->text_len, s, n);
    set->text_len += n;
    if (nul)
        set->text[set->text_len++] = '\0';
    return DD_OK;
}

static int tok_add(struct policy_set *set, enum tok_kind kind, enum var_id var, size_t off,
                   size_t len)
{
    struct policy_tok *p = grow(set->toks, &set->cap_toks, set->n_toks + 1, sizeof(*p));

    if (!p)
        return DD_ERR_NOMEM;
    set->toks = p;
    set->toks[set->n_toks++] = (struct policy_tok){ kind, var, off, len };
    return DD_OK;
}

/* Append one literal byte, extending the pattern's last literal token when
 * it ends where the arena ends (a pattern's literal run is contiguous). */
static int lit_add(struct policy_set *set, size_t first_tok, char c)
{
    struct policy_tok *last = set->n_toks > first_tok ? &set->toks[set->n_toks - 1] : NULL;
    size_t off;
    int rc;

    rc = text_add(set, &c, 1, false, &off);
    if (rc)
        return rc;
    if (last && last->kind == TOK_LIT && last->off + last->len == off) {
        last->len++;
        return DD_OK;
    }
    return tok_add(set, TOK_LIT, VAR_UNKNOWN, off, 1);
}

/* The variable or condition key spelled by name[0, len). Fixed names are
 * case-insensitive, an attribute name is not; *attr_off/len locate it in
 * name. */
static enum var_id var_lookup(const char *name, size_t len, size_t *attr_off, size_t *attr_len)
{
    size_t i, plen = strlen(ATTR_PREFIX);

    *attr_off = 0;
    *attr_len = 0;
    for (i = 0; i < sizeof(var_names) / sizeof(var_names[0]); i++) {
        if (equal_ci(name, len, var_names[i].name))
            return var_names[i].id;
    }
    if (len > plen + 1 && name[len - 1] == ']') {
        for (i = 0; i < plen; i++) {
            if (lower(name[i]) != lower(ATTR_PREFIX[i]))
                return VAR_UNKNOWN;
        }
        *attr_off = plen;
        *attr_len = len - plen - 1;
        return VAR_THING_ATTR;
    }
    return VAR_UNKNOWN;
}

/* Compile s into a pattern appended to set->pats. vars: interpret ${...};
 * wildcards: `*` and `?` are wildcards rather than text. */
static int pat_compile(struct policy_set *set, const char *s, bool vars, bool wildcards,
                       const char *where, struct dd_errbuf *eb)
{
    size_t first_tok = set->n_toks, i = 0, off, attr_off, attr_len;
    struct policy_pat *pats;
    enum var_id var;
    const char *close;
    int rc;

    while (s[i] != '\0') {
        if (vars && s[i] == '$' && s[i + 1] == '{') {
            close = strchr(s + i + 2, '}');
            if (!close)
                return dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                               "%s: policy variable without a closing brace", where);
            if (close == s + i + 3 && strchr("*?$", s[i + 2])) {
                rc = lit_add(set, first_tok, s[i + 2]);
            } else {
                var = var_lookup(s + i + 2, (size_t)(close - (s + i + 2)), &attr_off, &attr_len);
                off = 0;
                rc = text_add(set, s + i + 2 + attr_off, attr_len, false, &off);
                if (!rc)
                    rc = tok_add(set, TOK_VAR, var, off, attr_len);
            }
            i = (size_t)(close - s) + 1;
        } else if (wildcards && s[i] == '*') {
            /* `**` matches what `*` does. */
            if (set->n_toks > first_tok && set->toks[set->n_toks - 1].kind == TOK_STAR)
                rc = DD_OK;
            else
                rc = tok_add(set, TOK_STAR, VAR_UNKNOWN, 0, 0);
            i++;
        } else if (wildcards && s[i] == '?') {
            rc = tok_add(set, TOK_ONE, VAR_UNKNOWN, 0, 0);
            i++;
        } else {
            rc = lit_add(set, first_tok, s[i]);
            i++;
        }
        if (rc)
            return rc;
    }
    pats = grow(set->pats, &set->cap_pats, set->n_pats + 1, sizeof(*pats));
    if (!pats)
        return DD_ERR_NOMEM;
    set->pats = pats;
    set->pats[set->n_pats++] = (struct policy_pat){ first_tok, set->n_toks - first_tok };
    return DD_OK;
}

/* Parse "ADDR" or "ADDR/PREFIX", IPv4 or IPv6. */
static bool cidr_parse(const char *s, struct policy_cidr *out)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    char addr[INET6_ADDRSTRLEN];
    unsigned long prefix;
    unsigned max;
    char *end;

    if (alen == 0 || alen >= sizeof(addr))
        return false;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof(*out));
    out->family = memchr(addr, ':', alen) ? AF_INET6 : AF_INET;
    if (inet_pton(out->family, addr, out->addr) != 1)
        return false;
    max = out->family == AF_INET ? 32 : 128;
    out->prefix = max;
    if (!slash)
        return true;
    if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
        return false;
    prefix = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || prefix > max)
        return false;
    out->prefix = (unsigned)prefix;
    return true;
}

/* Case-insensitive glob of an Action pattern (`*`, `?`) against name. */
static bool action_glob(const char *pat, const char *name)
{
    const char *star_p = NULL, *star_n = NULL;

    for (;;) {
        if (*pat == '*') {
            star_p = ++pat;
            star_n = name;
            continue;
        }
        if (*name != '\0' && (*pat == '?' || lower(*pat) == lower(*name))) {
            pat++;
            name++;
            continue;
        }
        if (*pat == '\0' && *name == '\0')
            return true;
        if (!star_p || *star_n == '\0')
            return false;
        pat = star_p;
        name = ++star_n;
    }
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "*", or SERVICE:NAME with SERVICE of letters, digits and `-`, NAME of
 * letters, digits, wildcards and spaces, not spaces alone. AWS IoT accepts
 * spaces there ("iot: *" was created on AWS in the scenario of moto issue
 * #1908); such a name is kept as written, so it matches no action. */
static bool action_well_formed(const char *s)
{
    const char *p = s;
    bool named = false;

    if (strcmp(s, "*") == 0)
        return true;
    while (is_alnum(*p) || *p == '-')
        p++;
    if (p == s || *p != ':')
        return false;
    for (p++; *p != '\0'; p++) {
        if (!is_alnum(*p) && *p != '*' && *p != '?' && *p != ' ')
            return false;
        named = named || *p != ' ';
    }
    return named;
}

/* Walk a string-or-array field: one element, or each array element. */
static const cJSON *list_first(const cJSON *item)
{
    return cJSON_IsArray(item) ? item->child : item;
}

static const cJSON *list_next(const cJSON *item, const cJSON *el)
{
    return cJSON_IsArray(item) ? el->next : NULL;
}

static int list_check(const cJSON *item, const char *what, size_t idx, struct dd_errbuf *eb)
{
    const cJSON *el;

    if (!cJSON_IsString(item) && !cJSON_IsArray(item))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                       "Statement[%zu].%s must be a string or an array of strings", idx, what);
    if (cJSON_IsArray(item) && !item->child)
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "Statement[%zu].%s must not be empty", idx,
                       what);
    for (el = list_first(item); el; el = list_next(item, el)) {
        if (!cJSON_IsString(el))
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                           "Statement[%zu].%s must contain only strings", idx, what);
    }
    return DD_OK;
}

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++) {
        if (strcmp(*list, s) == 0)
            return true;
    }
    return false;
}

/* Reject duplicate keys, and keys outside allowed (a NULL-terminated list;
 * NULL allows any). */
static int keys_check(const cJSON *obj, const char *const *allowed, const char *where,
                      struct dd_errbuf *eb)
{
    const cJSON *a, *b;

    for (a = obj->child; a; a = a->next) {
        if (allowed && !in_list(allowed, a->string))
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: unknown key \"%s\"", where, a->string);
        for (b = obj->child; b != a; b = b->next) {
            if (strcmp(a->string, b->string) == 0)
                return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: duplicate key \"%s\"", where,
                               a->string);
        }
    }
    return DD_OK;
}

static int cond_value_add(struct policy_set *set, enum cond_op op, const cJSON *v, bool vars,
                          const char *where, struct dd_errbuf *eb)
{
    const char *s = cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : v->valuestring;
    struct policy_cidr *cidrs;

    if (op == OP_BOOL && strlen(s) == 4 && equal_ci(s, 4, "true"))
        s = "true";
    if (op == OP_BOOL && strlen(s) == 5 && equal_ci(s, 5, "false"))
        s = "false";
    if (!op_is_ip(op))
        return pat_compile(set, s, vars, op_has_wildcards(op), where, eb);
    cidrs = grow(set->cidrs, &set->cap_cidrs, set->n_cidrs + 1, sizeof(*cidrs));
    if (!cidrs)
        return DD_ERR_NOMEM;
    set->cidrs = cidrs;
    if (!cidr_parse(s, &set->cidrs[set->n_cidrs]))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: \"%s\" is not an IP address or CIDR",
                       where, s);
    set->n_cidrs++;
    return DD_OK;
}

/* One key of one operator block: "iot:ClientId": "a" | ["a", "b"]. */
static int cond_add(struct policy_set *set, enum cond_op op, const cJSON *key, bool vars,
                    size_t idx, struct dd_errbuf *eb)
{
    struct policy_cond c = { op, VAR_UNKNOWN, 0, 0, 0, 0 };
    struct policy_cond *conds;
    char where[160];
    const cJSON *v;
    size_t attr_off, attr_len;
    int rc;

    snprintf(where, sizeof(where), "Statement[%zu].Condition.%s", idx, key->string);
    if (cJSON_IsArray(key) && !key->child)
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s must not be empty", where);
    if (!cJSON_IsArray(key) && !cJSON_IsString(key) && !cJSON_IsBool(key))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s must be a string or an array of strings",
                       where);
    c.key = var_lookup(key->string, strlen(key->string), &attr_off, &attr_len);
    rc = text_add(set, key->string + attr_off, attr_len, false, &c.key_off);
    if (rc)
        return rc;
    c.key_len = attr_len;
    c.first = op_is_ip(op) ? set->n_cidrs : set->n_pats;
    for (v = list_first(key); v; v = list_next(key, v)) {
        if (!cJSON_IsString(v) && !cJSON_IsBool(v))
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s must contain only strings", where);
        rc = cond_value_add(set, op, v, vars, where, eb);
        if (rc)
            return rc;
    }
    c.n = (op_is_ip(op) ? set->n_cidrs : set->n_pats) - c.first;
    conds = grow(set->conds, &set->cap_conds, set->n_conds + 1, sizeof(*conds));
    if (!conds)
        return DD_ERR_NOMEM;
    set->conds = conds;
    set->conds[set->n_conds++] = c;
    return DD_OK;
}

static int conditions_add(struct policy_set *set, const cJSON *cond, bool vars, size_t idx,
                          struct dd_errbuf *eb)
{
    char where[80];
    const cJSON *block, *key;
    size_t i;
    int rc;

    snprintf(where, sizeof(where), "Statement[%zu].Condition", idx);
    if (!cJSON_IsObject(cond))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s must be an object", where);
    rc = keys_check(cond, NULL, where, eb);
    if (rc)
        return rc;
    cJSON_ArrayForEach(block, cond)
    {
        for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
            if (strcmp(op_names[i].name, block->string) == 0)
                break;
        }
        if (i == sizeof(op_names) / sizeof(op_names[0]))
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: unsupported condition operator \"%s\"",
                           where, block->string);
        if (!cJSON_IsObject(block))
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s.%s must be an object", where,
                           block->string);
        rc = keys_check(block, NULL, where, eb);
        if (rc)
            return rc;
        cJSON_ArrayForEach(key, block)
        {
            rc = cond_add(set, op_names[i].op, key, vars, idx, eb);
            if (rc)
                return rc;
        }
    }
    return DD_OK;
}

static const char *const stmt_keys[] = {
    "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", NULL,
};

static int stmt_add(struct policy_set *set, const cJSON *st, size_t idx, bool vars, size_t name_off,
                    struct dd_errbuf *eb)
{
    struct policy_stmt s = { 0 };
    struct policy_stmt *stmts;
    const cJSON *effect, *action, *not_action, *res, *not_res, *sid, *cond, *el;
    char where[80];
    size_t i, t;
    int rc;

    snprintf(where, sizeof(where), "Statement[%zu]", idx);
    if (!cJSON_IsObject(st))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s must be an object", where);
    rc = keys_check(st, stmt_keys, where, eb);
    if (rc)
        return rc;
    effect = cJSON_GetObjectItemCaseSensitive(st, "Effect");
    action = cJSON_GetObjectItemCaseSensitive(st, "Action");
    not_action = cJSON_GetObjectItemCaseSensitive(st, "NotAction");
    res = cJSON_GetObjectItemCaseSensitive(st, "Resource");
    not_res = cJSON_GetObjectItemCaseSensitive(st, "NotResource");
    sid = cJSON_GetObjectItemCaseSensitive(st, "Sid");
    cond = cJSON_GetObjectItemCaseSensitive(st, "Condition");
    if (!effect)
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: missing Effect", where);
    if (!cJSON_IsString(effect) ||
        (strcmp(effect->valuestring, "Allow") != 0 && strcmp(effect->valuestring, "Deny") != 0))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: Effect must be \"Allow\" or \"Deny\"",
                       where);
    if (!action == !not_action)
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: needs exactly one of Action and NotAction",
                       where);
    if (!res == !not_res)
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                       "%s: needs exactly one of Resource and NotResource", where);
    if (sid && !cJSON_IsString(sid))
        return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: Sid must be a string", where);
    s.deny = strcmp(effect->valuestring, "Deny") == 0;
    s.not_action = not_action != NULL;
    s.not_resource = not_res != NULL;
    s.name_off = name_off;
    if (!action)
        action = not_action;
    if (!res)
        res = not_res;
    rc = list_check(action, s.not_action ? "NotAction" : "Action", idx, eb);
    if (!rc)
        rc = list_check(res, s.not_resource ? "NotResource" : "Resource", idx, eb);
    if (rc)
        return rc;
    for (el = list_first(action); el; el = list_next(action, el)) {
        if (!action_well_formed(el->valuestring))
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY, "%s: \"%s\" is not an action name", where,
                           el->valuestring);
        for (i = 0; i < N_ACTIONS; i++) {
            if (action_glob(el->valuestring, action_names[i]))
                s.actions |= 1u << i;
        }
    }
    s.first_tok = set->n_toks;
    s.first_res = set->n_pats;
    for (el = list_first(res); el; el = list_next(res, el)) {
        if (strcmp(el->valuestring, "*") != 0 && strncmp(el->valuestring, "arn:", 4) != 0)
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                           "%s: resource \"%s\" is not \"*\" or an ARN", where, el->valuestring);
        rc = pat_compile(set, el->valuestring, vars, true, where, eb);
        if (rc)
            return rc;
    }
    s.n_res = set->n_pats - s.first_res;
    s.first_cond = set->n_conds;
    if (cond) {
        rc = conditions_add(set, cond, vars, idx, eb);
        if (rc)
            return rc;
    }
    s.n_cond = set->n_conds - s.first_cond;
    s.n_toks = set->n_toks - s.first_tok;
    for (t = s.first_tok; t < set->n_toks; t++)
        s.has_vars = s.has_vars || set->toks[t].kind == TOK_VAR;
    stmts = grow(set->stmts, &set->cap_stmts, set->n_stmts + 1, sizeof(*stmts));
    if (!stmts)
        return DD_ERR_NOMEM;
    set->stmts = stmts;
    set->stmts[set->n_stmts++] = s;
    return DD_OK;
}

static const char *const top_keys[] = { "Version", "Id", "Statement", NULL };

/* Validate doc and append its statements to set. */
static int doc_add(struct policy_set *set, const char *name, const char *doc, size_t len,
                   struct dd_errbuf *eb)
{
    const cJSON *version, *stmts, *st;
    cJSON *root = NULL;
    size_t name_off, idx = 0;
    bool vars = false;
    int rc;

    rc = json_check(doc, len, eb);
    if (rc)
        return rc;
    root = cJSON_ParseWithLength(doc, len);
    if (!root)
        return DD_ERR_NOMEM; /* the syntax was checked above */
    if (!cJSON_IsObject(root)) {
        rc = dd_fail(eb, DD_ERR_MALFORMED_POLICY, "policy document must be a JSON object");
        goto out;
    }
    rc = keys_check(root, top_keys, "policy document", eb);
    if (rc)
        goto out;
    version = cJSON_GetObjectItemCaseSensitive(root, "Version");
    if (version) {
        if (!cJSON_IsString(version) || (strcmp(version->valuestring, "2012-10-17") != 0 &&
                                         strcmp(version->valuestring, "2008-10-17") != 0)) {
            rc = dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                         "Version must be \"2012-10-17\" or \"2008-10-17\"");
            goto out;
        }
        vars = strcmp(version->valuestring, "2012-10-17") == 0;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "Id") &&
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "Id"))) {
        rc = dd_fail(eb, DD_ERR_MALFORMED_POLICY, "Id must be a string");
        goto out;
    }
    stmts = cJSON_GetObjectItemCaseSensitive(root, "Statement");
    if (!stmts || (!cJSON_IsObject(stmts) && !cJSON_IsArray(stmts))) {
        rc = dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                     stmts ? "Statement must be an object or an array" : "missing Statement");
        goto out;
    }
    rc = text_add(set, name, strlen(name), true, &name_off);
    if (rc)
        goto out;
    if (cJSON_IsObject(stmts)) {
        rc = stmt_add(set, stmts, 0, vars, name_off, eb);
        goto out;
    }
    cJSON_ArrayForEach(st, stmts)
    {
        rc = stmt_add(set, st, idx++, vars, name_off, eb);
        if (rc)
            goto out;
    }
out:
    cJSON_Delete(root);
    return rc;
}

static size_t chars_without_ws(const char *doc, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)doc[i];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && (c & 0xC0) != 0x80)
            n++;
    }
    return n;
}

static void set_cleanup(struct policy_set *set)
{
    free(set->text);
    free(set->cidrs);
    free(set->conds);
    free(set->toks);
    free(set->pats);
    free(set->stmts);
}

int policy_validate(const char *doc, size_t len, size_t max_chars, struct dd_errbuf *eb)
{
    struct policy_set set = { 0 };
    size_t n;
    int rc;

    if (max_chars) {
        n = chars_without_ws(doc, len);
        if (n > max_chars)
            return dd_fail(eb, DD_ERR_MALFORMED_POLICY,
                           "policy document has %zu characters without white space; the limit "
                           "is %zu",
                           n, max_chars);
    }
    rc = doc_add(&set, "", doc, len, eb);
    set_cleanup(&set);
    return rc;
}

int policy_set_new(const struct policy_source *srcs, size_t n, struct policy_set **out,
                   struct dd_errbuf *eb)
{
    struct policy_set *set;
    struct dd_errbuf why;
    size_t i;
    int rc = DD_OK;

    *out = NULL;
    set = calloc(1, sizeof(*set));
    if (!set)
        return DD_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        dd_errbuf_clear(&why);
        rc = doc_add(set, srcs[i].name, srcs[i].document, srcs[i].document_len, &why);
        if (rc == DD_ERR_MALFORMED_POLICY)
            dd_fail(eb, rc, "policy %s: %s", srcs[i].name, why.msg);
        if (rc)
            goto out;
    }
    *out = set;
    set = NULL;
out:
    policy_set_free(set);
    return rc;
}

void policy_set_free(struct policy_set *set)
{
    if (!set)
        return;
    set_cleanup(set);
    free(set);
}

/* ---- evaluation (no allocation from here on) ---------------------------- */

static const char *var_value(const struct policy_set *set, const struct policy_context *ctx,
                             enum var_id var, size_t attr_off, size_t attr_len)
{
    size_t i;

    switch (var) {
    case VAR_CLIENT_ID:
        return ctx->client_id;
    case VAR_THING_NAME:
        return ctx->thing_name;
    case VAR_THING_TYPE:
        return ctx->thing_name ? ctx->thing_type_name : NULL;
    case VAR_THING_ATTR:
        if (!ctx->thing_name)
            return NULL;
        for (i = 0; i < ctx->n_attributes; i++) {
            const char *name = ctx->attributes[i].name;

            if (name && strncmp(name, set->text + attr_off, attr_len) == 0 &&
                name[attr_len] == '\0')
                return ctx->attributes[i].value;
        }
        return NULL;
    case VAR_IS_ATTACHED:
        return ctx->thing_name && ctx->thing_attached ? "true" : "false";
    case VAR_CERT_ID:
        return ctx->certificate_id;
    case VAR_CERT_CN:
        return ctx->certificate_cn;
    case VAR_SOURCE_IP:
        return ctx->source_ip;
    case VAR_UNKNOWN:
        break;
    }
    return NULL;
}

/* The text of a literal or variable token. Statements with unresolved
 * variables are filtered out before any of their patterns is matched. */
static const char *tok_text(const struct policy_set *set, const struct policy_context *ctx,
                            const struct policy_tok *t, size_t *len)
{
    const char *text;

    if (t->kind == TOK_LIT) {
        assert(t->off + t->len <= set->text_len);
        *len = t->len;
        return set->text + t->off;
    }
    assert(t->kind == TOK_VAR);
    text = var_value(set, ctx, t->var, t->off, t->len);
    assert(text); /* stmt_applies resolved every variable of the statement */
    *len = strlen(text);
    return text;
}

static size_t utf8_next(const char *s, size_t i, size_t len)
{
    assert(i < len);
    i++;
    while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Glob match of the whole subject against a pattern: the classic greedy
 * scan that, on a mismatch, lets the most recent `*` swallow one more
 * character and retries the tokens after it. Earlier stars never need
 * revisiting, because a later star can absorb anything they could. Text
 * tokens match whole (memcmp), and when a star is followed by text the
 * retry jumps straight to the next occurrence of that text's first byte,
 * so a typical ARN costs a few memchr/memcmp calls per pattern. */
static bool pat_match(const struct policy_set *set, const struct policy_context *ctx,
                      const struct policy_pat *pat, const char *subj, size_t n)
{
    size_t i = pat->first_tok, end = pat->first_tok + pat->n_toks;
    size_t s = 0, star_tok = 0, star_s = 0, len;
    const struct policy_tok *t;
    const char *text, *hit;
    bool have_star = false;

    assert(end <= set->n_toks);
    for (;;) {
        assert(s <= n && i <= end);
        if (i == end) {
            if (s == n)
                return true;
        } else {
            t = &set->toks[i];
            if (t->kind == TOK_STAR) {
                if (i + 1 == end)
                    return true;
                have_star = true;
                star_tok = ++i;
                star_s = s;
                continue;
            }
            if (t->kind == TOK_ONE) {
                if (s < n) {
                    s = utf8_next(subj, s, n);
                    i++;
                    continue;
                }
            } else {
                text = tok_text(set, ctx, t, &len);
                if (len <= n - s && memcmp(subj + s, text, len) == 0) {
                    s += len;
                    i++;
                    continue;
                }
            }
        }
        if (!have_star || star_s >= n)
            return false;
        star_s = utf8_next(subj, star_s, n);
        t = &set->toks[star_tok];
        if ((t->kind == TOK_LIT || t->kind == TOK_VAR) && star_s < n) {
            text = tok_text(set, ctx, t, &len);
            if (len > 0) {
                /* Later retries start on character boundaries only. */
                if (((unsigned char)text[0] & 0xC0) == 0x80)
                    return false;
                hit = memchr(subj + star_s, text[0], n - star_s);
                if (!hit)
                    return false;
                star_s = (size_t)(hit - subj);
            }
        }
        s = star_s;
        i = star_tok;
    }
}

static bool ip_parse(const char *s, struct policy_cidr *out)
{
    static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (!cidr_parse(s, out) || out->prefix != (out->family == AF_INET ? 32u : 128u))
        return false;
    /* A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d. */
    if (out->family == AF_INET6 && memcmp(out->addr, v4_mapped, 12) == 0) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = AF_INET;
        out->prefix = 32;
    }
    return true;
}

static bool cidr_contains(const struct policy_cidr *net, const struct policy_cidr *ip)
{
    unsigned full = net->prefix / 8, rest = net->prefix % 8;
    unsigned char mask;

    assert(net->prefix <= 8 * sizeof(net->addr)); /* cidr_parse checked it */
    if (net->family != ip->family || memcmp(net->addr, ip->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    mask = (unsigned char)(0xFFu << (8 - rest));
    return (net->addr[full] & mask) == (ip->addr[full] & mask);
}

static bool cond_holds(const struct policy_set *set, const struct policy_context *ctx,
                       const struct policy_cond *c)
{
    const char *value = var_value(set, ctx, c->key, c->key_off, c->key_len);
    struct policy_cidr ip;
    bool any = false;
    size_t i;

    assert(c->first + c->n <= (op_is_ip(c->op) ? set->n_cidrs : set->n_pats));
    if (!value)
        return op_negated(c->op);
    if (op_is_ip(c->op)) {
        if (!ip_parse(value, &ip))
            return op_negated(c->op);
        for (i = 0; i < c->n && !any; i++)
            any = cidr_contains(&set->cidrs[c->first + i], &ip);
    } else {
        for (i = 0; i < c->n && !any; i++)
            any = pat_match(set, ctx, &set->pats[c->first + i], value, strlen(value));
    }
    return op_negated(c->op) ? !any : any;
}

static bool stmt_applies(const struct policy_set *set, const struct policy_context *ctx,
                         const struct policy_stmt *st, const char *resource, size_t resource_len)
{
    bool any = false;
    size_t i;

    assert(st->first_tok + st->n_toks <= set->n_toks && st->first_res + st->n_res <= set->n_pats &&
           st->first_cond + st->n_cond <= set->n_conds);
    if (st->has_vars) {
        for (i = st->first_tok; i < st->first_tok + st->n_toks; i++) {
            const struct policy_tok *t = &set->toks[i];

            if (t->kind == TOK_VAR && !var_value(set, ctx, t->var, t->off, t->len))
                return false;
        }
    }
    for (i = 0; i < st->n_res && !any; i++)
        any = pat_match(set, ctx, &set->pats[st->first_res + i], resource, resource_len);
    if (any == st->not_resource)
        return false;
    for (i = 0; i < st->n_cond; i++) {
        if (!cond_holds(set, ctx, &set->conds[st->first_cond + i]))
            return false;
    }
    return true;
}

enum policy_decision policy_set_evaluate(const struct policy_set *set, enum policy_action action,
                                         const char *resource, const struct policy_context *ctx,
                                         const char **decided_by)
{
    static const struct policy_context nothing = { 0 };
    const struct policy_stmt *allow = NULL;
    size_t i, resource_len;
    unsigned bit;

    if (decided_by)
        *decided_by = NULL;
    if (!set || (unsigned)action >= N_ACTIONS)
        return POLICY_DENY_IMPLICIT;
    if (!ctx)
        ctx = &nothing;
    bit = 1u << (unsigned)action;
    resource_len = strlen(resource);
    for (i = 0; i < set->n_stmts; i++) {
        const struct policy_stmt *st = &set->stmts[i];

        if (((st->actions & bit) != 0) == st->not_action)
            continue;
        if (!st->deny && allow)
            continue;
        if (!stmt_applies(set, ctx, st, resource, resource_len))
            continue;
        if (st->deny) {
            if (decided_by)
                *decided_by = set->text + st->name_off;
            return POLICY_DENY_EXPLICIT;
        }
        allow = st;
    }
    if (!allow)
        return POLICY_DENY_IMPLICIT;
    assert(allow->name_off < set->text_len);
    if (decided_by)
        *decided_by = set->text + allow->name_off;
    return POLICY_ALLOW;
}

const char *policy_action_name(enum policy_action action)
{
    return (unsigned)action < N_ACTIONS ? action_names[action] : "";
}

int policy_resource_arn(char *buf, size_t size, const char *region, const char *account,
                        enum policy_action action, const char *name, size_t *len)
{
    const char *type;
    const char *parts[7];
    size_t i, n = 0, plen;

    if (len)
        *len = 0;
    if (size > 0)
        buf[0] = '\0';
    switch (action) {
    case POLICY_ACTION_CONNECT:
        type = "client/";
        break;
    case POLICY_ACTION_PUBLISH:
    case POLICY_ACTION_RETAIN_PUBLISH:
    case POLICY_ACTION_RECEIVE:
        type = "topic/";
        break;
    case POLICY_ACTION_SUBSCRIBE:
        type = "topicfilter/";
        break;
    default:
        return DD_ERR_INVALID;
    }
    parts[0] = "arn:aws:iot:";
    parts[1] = region;
    parts[2] = ":";
    parts[3] = account;
    parts[4] = ":";
    parts[5] = type;
    parts[6] = name;
    for (i = 0; i < 7; i++) {
        plen = strlen(parts[i]);
        if (plen >= size - n) {
            if (size > 0)
                buf[0] = '\0';
            return DD_ERR_TOO_LARGE;
        }
        memcpy(buf + n, parts[i], plen);
        n += plen;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
    return DD_OK;
}
