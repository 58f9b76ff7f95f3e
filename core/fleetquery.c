/* SPDX-License-Identifier: MIT */
/* fleetquery.c: the fleet-indexing query language (fleetquery.h).
 *
 * A tokenizer and a recursive-descent parser apart. The tokenizer has two
 * modes: in an expression `-` at the start of a token is NOT and the
 * keywords AND/OR/NOT/TO are operators; where a value is expected (after
 * `:`, a comparison, `[` or TO) every word is a value, so `attributes.t>-5`
 * and `thingName:OR` read as they look. The whole tree lives in one calloc:
 * the node array is sized by the limits (see MAX_NODES) and the strings
 * by the query, which decoding never lengthens.
 *
 * Tested by tests/unit/test_fleetquery.c. */
#include "core/fleetquery.h"

#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"

/* 12 leaves and 11 AND/OR; each NOT is nested above some leaf, and a leaf
 * has at most FLEETQUERY_MAX_DEPTH of them, counting the NOTs already made
 * for a 13th leaf that the term limit then refuses. */
#define MAX_NODES     ((FLEETQUERY_MAX_TERMS + 1) * (FLEETQUERY_MAX_DEPTH + 1) + FLEETQUERY_MAX_TERMS)
#define MSG_QUERY_MAX 300 /* characters of the query quoted back in a message */
/* The printf arguments that quote the query back, cut at MSG_QUERY_MAX. */
#define QUOTED_QUERY(p) (int)((p)->len < MSG_QUERY_MAX ? (p)->len : MSG_QUERY_MAX), (p)->q
#define INVALID_FIELD   "Unable to parse query, invalid field name, field name: "
#define REJECTED_CHARS  "`@#%/';,"
#define WORD_STOPS      "()[]{}:<>\""

struct fleetquery {
    enum fleetquery_index index;
    const struct fleetquery_node *root;
    size_t n_nodes, n_terms;
    struct fleetquery_node nodes[MAX_NODES];
    char text[]; /* every string of the tree, NUL-terminated */
};

enum tok_kind {
    T_EOF,
    T_WORD,
    T_PHRASE,
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_LBRACE,
    T_RBRACE,
    T_COLON,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_MINUS,
    T_AND,
    T_OR,
    T_NOT,
    T_TO,
};

enum lex_mode { EXPR, VALUE };

/* One-character tokens, and their kinds in the same order. */
#define PUNCT "()[]{}:"

static const enum tok_kind punct_kinds[] = { T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK,
                                             T_LBRACE, T_RBRACE, T_COLON };

struct tok {
    enum tok_kind kind;
    size_t start, end; /* the token's bytes; a phrase without its quotes */
};

struct parser {
    const char *q;
    size_t len, pos;
    struct fleetquery *fq;
    size_t text_used, text_cap;
    struct dd_errbuf *eb;
    int depth;
    size_t n_leading;        /* terms starting with a wildcard */
    bool group_in_violation; /* inside `deviceDefender.*.inViolation:( ... )` */
    int rc;
};

static int fail_syntax(struct parser *p, size_t at, const char *rule)
{
    if (!p->rc)
        p->rc = dd_fail(p->eb, DD_ERR_INVALID,
                        "Unable to parse query, %s at character %zu, query string: %.*s", rule,
                        at + 1, QUOTED_QUERY(p));
    return p->rc;
}

static int fail_rule(struct parser *p, const char *rule)
{
    if (!p->rc)
        p->rc = dd_fail(p->eb, DD_ERR_INVALID, "Unable to parse query, %s, query string: %.*s",
                        rule, QUOTED_QUERY(p));
    return p->rc;
}

static int fail_field(struct parser *p, const struct tok *t)
{
    if (!p->rc)
        p->rc = dd_fail(p->eb, DD_ERR_INVALID, INVALID_FIELD "%.*s, query string: %.*s",
                        (int)(t->end - t->start), p->q + t->start, QUOTED_QUERY(p));
    return p->rc;
}

/* Java's Character.isWhitespace over ASCII: what splits tokens. */
static bool is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static unsigned char fold(char c)
{
    unsigned char u = (unsigned char)c;

    return u >= 'A' && u <= 'Z' ? (unsigned char)(u + 32) : u;
}

/* Compare a and b ignoring ASCII case: <0, 0, >0 as strcmp. */
static int compare_fold(const char *a, const char *b)
{
    size_t i;

    for (i = 0; a[i] && b[i] && fold(a[i]) == fold(b[i]); i++)
        ;
    return (int)fold(a[i]) - (int)fold(b[i]);
}

static bool has_token(const char *s)
{
    for (; *s; s++) {
        if (!is_space((unsigned char)*s))
            return true;
    }
    return false;
}

static bool is_word_char(unsigned char c)
{
    return c && !is_space(c) && !strchr(WORD_STOPS, c);
}

/* T_AND, T_OR, T_NOT or T_TO when s[0..n) spells one, else T_WORD. */
static enum tok_kind keyword_kind(const char *s, size_t n)
{
    static const struct {
        const char *word;
        enum tok_kind kind;
    } keywords[] = { { "AND", T_AND }, { "OR", T_OR }, { "NOT", T_NOT }, { "TO", T_TO } };

    size_t i;

    for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (strlen(keywords[i].word) == n && !memcmp(s, keywords[i].word, n))
            return keywords[i].kind;
    }
    return T_WORD;
}

static bool is_keyword(const char *s, size_t n)
{
    return keyword_kind(s, n) != T_WORD;
}

/* Read the next token at p->pos in mode; on error p->rc is set. */
static int lex(struct parser *p, enum lex_mode mode, struct tok *t)
{
    const char *q = p->q;
    size_t i = p->pos;
    const char *punct;
    unsigned char c;
    bool escaped = false;

    while (i < p->len && is_space((unsigned char)q[i]))
        i++;
    t->start = i;
    t->end = i;
    if (i == p->len) {
        t->kind = T_EOF;
        p->pos = i;
        return DD_OK;
    }
    c = (unsigned char)q[i];
    t->end = i + 1;
    punct = c ? strchr(PUNCT, c) : NULL;
    if (punct) {
        t->kind = punct_kinds[punct - PUNCT];
        p->pos = t->end;
        return DD_OK;
    }
    switch (c) {
    case '<':
    case '>':
        t->kind = c == '<' ? T_LT : T_GT;
        if (i + 1 < p->len && q[i + 1] == '=') {
            t->kind = c == '<' ? T_LE : T_GE;
            t->end = i + 2;
        }
        break;
    case '"':
        t->kind = T_PHRASE;
        t->start = ++i;
        while (i < p->len && q[i] != '"')
            i += q[i] == '\\' && i + 1 < p->len ? 2 : 1;
        if (i >= p->len)
            return fail_syntax(p, t->start - 1, "unterminated phrase");
        t->end = i;
        p->pos = i + 1;
        return DD_OK;
    default:
        if (c == '-' && mode == EXPR) {
            t->kind = T_MINUS;
            break;
        }
        t->kind = T_WORD;
        while (i < p->len && is_word_char((unsigned char)q[i])) {
            if (strchr(REJECTED_CHARS, q[i]))
                return fail_syntax(p, i, "unsupported character");
            if (q[i] == '\\') {
                if (i + 1 == p->len)
                    return fail_syntax(p, i, "escape character at the end of the query");
                escaped = true;
                i++;
            }
            i++;
        }
        t->end = i;
        if (mode == EXPR && !escaped)
            t->kind = keyword_kind(q + t->start, i - t->start);
    }
    p->pos = t->end;
    return DD_OK;
}

static int peek(struct parser *p, enum lex_mode mode, struct tok *t)
{
    size_t pos = p->pos;
    int rc = lex(p, mode, t);

    p->pos = pos;
    return rc;
}

static char *text_alloc(struct parser *p, size_t n)
{
    char *s = p->fq->text + p->text_used;

    assert(p->text_used + n + 1 <= p->text_cap);
    p->text_used += n + 1;
    return s;
}

/* Whether the word t has an unescaped `*` or `?`. */
static bool word_is_wild(const struct parser *p, const struct tok *t)
{
    size_t i;

    for (i = t->start; i < t->end; i++) {
        if (p->q[i] == '\\')
            i++;
        else if (p->q[i] == '*' || p->q[i] == '?')
            return true;
    }
    return false;
}

/* Copy a word or phrase into the tree: escapes resolved, except that in a
 * wild pattern the literal `*`, `?` and `\` keep their backslash. */
static const char *copy_text(struct parser *p, const struct tok *t, bool wild)
{
    char *s = text_alloc(p, t->end - t->start), *o = s;
    size_t i;

    for (i = t->start; i < t->end; i++) {
        if (p->q[i] == '\\') {
            i++;
            if (wild && strchr("*?\\", p->q[i]))
                *o++ = '\\';
        }
        *o++ = p->q[i];
    }
    *o = '\0';
    return s;
}

/* Whether s is a number as the index reads one: strtod over the whole
 * text, finite, decimal digits only (no hex, inf or nan). */
static bool parse_number(const char *s, double *out)
{
    char *end;
    size_t i;
    bool digit = false;

    for (i = 0; s[i]; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            digit = true;
        else if (!strchr("+-.eE", s[i]))
            return false;
    }
    if (!digit)
        return false;
    *out = strtod(s, &end);
    return *end == '\0' && isfinite(*out);
}

static bool field_part(const char *s, size_t n)
{
    return n > 0 && !memchr(s, '.', n);
}

/* Whether s[0..n) has at least one non-empty segment and no empty one. */
static bool valid_path(const char *s, size_t n)
{
    size_t i, seg = 0;

    if (n == 0)
        return false;
    for (i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (i == seg)
                return false;
            seg = i + 1;
        }
    }
    return true;
}

static bool has_prefix(const char *s, size_t n, const char *pfx, size_t *rest)
{
    size_t k = strlen(pfx);

    if (n < k || memcmp(s, pfx, k))
        return false;
    *rest = k;
    return true;
}

static bool is_exact(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && !memcmp(s, name, n);
}

/* A shadow's fields after `shadow.` or `shadow.name.<N>.`. */
static bool valid_shadow(const char *s, size_t n)
{
    size_t k;

    if (is_exact(s, n, "hasDelta"))
        return true;
    if (has_prefix(s, n, "reported.", &k) || has_prefix(s, n, "desired.", &k) ||
        has_prefix(s, n, "delta.", &k))
        return valid_path(s + k, n - k);
    if (has_prefix(s, n, "metadata.reported.", &k) || has_prefix(s, n, "metadata.desired.", &k))
        return valid_path(s + k, n - k);
    return false;
}

/* deviceDefender.<profile>.<behavior>.<what>: true when s is the tail
 * after `deviceDefender.`; *in_violation says the field is inViolation. */
static bool valid_defender(const char *s, size_t n, bool *in_violation)
{
    const char *dot1 = memchr(s, '.', n), *dot2, *what;
    size_t k, wn;

    if (is_exact(s, n, "violationCount"))
        return true;
    if (!dot1 || dot1 == s)
        return false;
    dot2 = memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - s));
    if (!dot2 || dot2 == dot1 + 1)
        return false;
    what = dot2 + 1;
    wn = n - (size_t)(what - s);
    *in_violation = is_exact(what, wn, "inViolation");
    if (*in_violation || is_exact(what, wn, "lastViolationTime") ||
        is_exact(what, wn, "metricName"))
        return true;
    return has_prefix(what, wn, "lastViolationValue.", &k) && field_part(what + k, wn - k);
}

/* Whether the field name s[0..n) is searchable in index (fleet-indexing.md
 * §2.2, §2.3). */
static bool valid_field(enum fleetquery_index index, const char *s, size_t n, bool *in_violation)
{
    static const char *const things[] = { "thingName",
                                          "thingId",
                                          "thingTypeName",
                                          "thingGroupNames",
                                          "connectivity.connected",
                                          "connectivity.timestamp",
                                          "connectivity.disconnectReason" };
    static const char *const groups[] = { "thingGroupName", "thingGroupNames", "thingGroupId",
                                          "description", "parentGroupNames" };
    const char *const *names = index == FLEETQUERY_THINGS ? things : groups;
    size_t n_names = index == FLEETQUERY_THINGS ? sizeof(things) / sizeof(things[0])
                                                : sizeof(groups) / sizeof(groups[0]);
    const char *dot;
    size_t i, k;

    *in_violation = false;
    for (i = 0; i < n_names; i++) {
        if (is_exact(s, n, names[i]))
            return true;
    }
    if (has_prefix(s, n, "attributes.", &k))
        return valid_path(s + k, n - k); /* a name may hold dots: `other.key` */
    if (index != FLEETQUERY_THINGS)
        return false;
    if (has_prefix(s, n, "deviceDefender.", &k))
        return valid_defender(s + k, n - k, in_violation);
    if (has_prefix(s, n, "shadow.name.", &k)) {
        dot = memchr(s + k, '.', n - k);
        if (!dot || dot == s + k)
            return false;
        k = (size_t)(dot + 1 - s);
        return valid_shadow(s + k, n - k);
    }
    if (has_prefix(s, n, "shadow.", &k))
        return valid_shadow(s + k, n - k);
    return false;
}

static struct fleetquery_node *node_new(struct parser *p, enum fleetquery_op op)
{
    struct fleetquery_node *n;

    assert(p->fq->n_nodes < MAX_NODES);
    if (p->fq->n_nodes == MAX_NODES) {
        fail_rule(p, "the query is too complex");
        return NULL;
    }
    n = &p->fq->nodes[p->fq->n_nodes++];
    n->op = op;
    return n;
}

/* Count a leaf against the term limit, then create it. */
static struct fleetquery_node *leaf_new(struct parser *p, enum fleetquery_op op)
{
    if (p->fq->n_terms == FLEETQUERY_MAX_TERMS) {
        fail_rule(p, "the query has more than 12 terms");
        return NULL;
    }
    p->fq->n_terms++;
    return node_new(p, op);
}

/* A value token (word or phrase) as a TERM or PHRASE leaf of field. */
static const struct fleetquery_node *value_leaf(struct parser *p, const char *field,
                                                const struct tok *t, bool in_violation)
{
    struct fleetquery_node *n;
    bool wild = t->kind == T_WORD && word_is_wild(p, t);

    n = leaf_new(p, t->kind == T_PHRASE ? FLEETQUERY_PHRASE : FLEETQUERY_TERM);
    if (!n)
        return NULL;
    n->field = field;
    n->wild = wild;
    n->value = copy_text(p, t, wild);
    if (wild && !field && !strcmp(n->value, "*")) {
        n->op = FLEETQUERY_ALL;
        n->value = NULL;
        n->wild = false;
        return n;
    }
    if (wild && strcmp(n->value, "*") && (n->value[0] == '*' || n->value[0] == '?'))
        p->n_leading++;
    if (n->op == FLEETQUERY_PHRASE && !has_token(n->value)) {
        fail_syntax(p, t->start - 1, "empty phrase");
        return NULL;
    }
    if (in_violation && !(wild && !strcmp(n->value, "*")) &&
        !(n->op == FLEETQUERY_TERM && !wild && !compare_fold(n->value, "true"))) {
        fail_rule(p, "inViolation can only be searched for the value true");
        return NULL;
    }
    return n;
}

static int bound_read(struct parser *p, struct fleetquery_bound *b)
{
    struct tok t;

    if (lex(p, VALUE, &t))
        return p->rc;
    if (t.kind != T_WORD && t.kind != T_PHRASE)
        return fail_syntax(p, t.start, "expected a value");
    if (t.kind == T_WORD && word_is_wild(p, &t))
        return fail_syntax(p, t.start, "wildcards are not allowed in a range");
    b->text = copy_text(p, &t, false);
    b->numeric = t.kind == T_WORD && parse_number(b->text, &b->num);
    return DD_OK;
}

/* A RANGE leaf of field, refused on inViolation (only `true` is valid). */
static struct fleetquery_node *range_leaf(struct parser *p, const char *field, bool in_violation)
{
    struct fleetquery_node *n;

    if (in_violation) {
        fail_rule(p, "inViolation can only be searched for the value true");
        return NULL;
    }
    n = leaf_new(p, FLEETQUERY_RANGE);
    if (n)
        n->field = field;
    return n;
}

/* `[a TO b}` after the field's colon; t is the opening bracket. */
static const struct fleetquery_node *range(struct parser *p, const char *field,
                                           const struct tok *open, bool in_violation)
{
    struct fleetquery_node *n;
    struct tok t;

    n = range_leaf(p, field, in_violation);
    if (!n)
        return NULL;
    n->lo.inclusive = open->kind == T_LBRACK;
    if (bound_read(p, &n->lo) || lex(p, EXPR, &t))
        return NULL;
    if (t.kind != T_TO) {
        fail_syntax(p, t.start, "expected TO in a range");
        return NULL;
    }
    if (bound_read(p, &n->hi) || lex(p, EXPR, &t))
        return NULL;
    if (t.kind != T_RBRACK && t.kind != T_RBRACE) {
        fail_syntax(p, t.start, "expected ] or } to close a range");
        return NULL;
    }
    n->hi.inclusive = t.kind == T_RBRACK;
    if (n->lo.numeric != n->hi.numeric)
        n->lo.numeric = n->hi.numeric = false;
    return n;
}

static const struct fleetquery_node *or_expr(struct parser *p, const char *field);

static bool depth_enter(struct parser *p, size_t at)
{
    if (++p->depth > FLEETQUERY_MAX_DEPTH) {
        fail_syntax(p, at, "parentheses and NOT nested more than 16 deep");
        return false;
    }
    return true;
}

/* `( ... )` after its opening parenthesis open, for field or every field. */
static const struct fleetquery_node *group(struct parser *p, const char *field,
                                           const struct tok *open)
{
    const struct fleetquery_node *n;
    struct tok t;

    if (!depth_enter(p, open->start))
        return NULL;
    n = or_expr(p, field);
    if (!n || lex(p, EXPR, &t))
        return NULL;
    if (t.kind != T_RPAREN) {
        fail_syntax(p, t.start, "expected )");
        return NULL;
    }
    p->depth--;
    return n;
}

/* What follows `field:`. */
static const struct fleetquery_node *field_value(struct parser *p, const char *field,
                                                 bool in_violation)
{
    const struct fleetquery_node *n;
    struct tok t;

    if (lex(p, VALUE, &t))
        return NULL;
    switch (t.kind) {
    case T_WORD:
    case T_PHRASE:
        return value_leaf(p, field, &t, in_violation);
    case T_LBRACK:
    case T_LBRACE:
        return range(p, field, &t, in_violation);
    case T_LPAREN:
        p->group_in_violation = in_violation;
        n = group(p, field, &t);
        p->group_in_violation = false;
        return n;
    default:
        fail_syntax(p, t.start, "expected a value after :");
        return NULL;
    }
}

/* `field<v` and friends: a range with one open end. */
static const struct fleetquery_node *comparison(struct parser *p, const char *field,
                                                const struct tok *op, bool in_violation)
{
    struct fleetquery_node *n;
    struct fleetquery_bound *b;

    n = range_leaf(p, field, in_violation);
    if (!n)
        return NULL;
    b = op->kind == T_GT || op->kind == T_GE ? &n->lo : &n->hi;
    b->inclusive = op->kind == T_GE || op->kind == T_LE;
    return bound_read(p, b) ? NULL : n;
}

static const struct fleetquery_node *primary(struct parser *p, const char *field)
{
    struct tok t, next;
    bool in_violation;

    if (lex(p, EXPR, &t))
        return NULL;
    if (t.kind == T_LPAREN)
        return group(p, field, &t);
    if (field && (t.kind == T_LBRACK || t.kind == T_LBRACE))
        return range(p, field, &t, p->group_in_violation);
    if (t.kind == T_PHRASE)
        return value_leaf(p, field, &t, p->group_in_violation);
    if (t.kind != T_WORD) {
        fail_syntax(p, t.start, t.kind == T_EOF ? "unexpected end of query" : "unexpected token");
        return NULL;
    }
    if (peek(p, EXPR, &next))
        return NULL;
    switch (next.kind) {
    case T_COLON:
    case T_LT:
    case T_LE:
    case T_GT:
    case T_GE:
        if (field) {
            fail_syntax(p, next.start, "a field inside a field group");
            return NULL;
        }
        if (memchr(p->q + t.start, '\\', t.end - t.start) || word_is_wild(p, &t) ||
            !valid_field(p->fq->index, p->q + t.start, t.end - t.start, &in_violation)) {
            fail_field(p, &t);
            return NULL;
        }
        field = copy_text(p, &t, false);
        (void)lex(p, EXPR, &next);
        return next.kind == T_COLON ? field_value(p, field, in_violation)
                                    : comparison(p, field, &next, in_violation);
    default:
        return value_leaf(p, field, &t, p->group_in_violation);
    }
}

static const struct fleetquery_node *unary(struct parser *p, const char *field)
{
    struct fleetquery_node *n;
    struct tok t;

    if (peek(p, EXPR, &t))
        return NULL;
    if (t.kind != T_NOT && t.kind != T_MINUS)
        return primary(p, field);
    (void)lex(p, EXPR, &t);
    if (!depth_enter(p, t.start))
        return NULL;
    n = node_new(p, FLEETQUERY_NOT);
    if (!n || !(n->a = unary(p, field)))
        return NULL;
    p->depth--;
    return n;
}

/* Whether t can start an operand that an implied AND joins on. */
static bool starts_operand(const struct tok *t, const char *field)
{
    switch (t->kind) {
    case T_WORD:
    case T_PHRASE:
    case T_LPAREN:
    case T_NOT:
    case T_MINUS:
        return true;
    case T_LBRACK:
    case T_LBRACE:
        return field != NULL;
    default:
        return false;
    }
}

static const struct fleetquery_node *binary_expr(struct parser *p, const char *field,
                                                 enum fleetquery_op op);

static const struct fleetquery_node *operand(struct parser *p, const char *field,
                                             enum fleetquery_op op)
{
    return op == FLEETQUERY_AND ? unary(p, field) : binary_expr(p, field, FLEETQUERY_AND);
}

/* One left-associative level: AND over unary operands (the keyword may be
 * left out), or OR over AND levels. */
static const struct fleetquery_node *binary_expr(struct parser *p, const char *field,
                                                 enum fleetquery_op op)
{
    const struct fleetquery_node *n = operand(p, field, op), *b;
    struct fleetquery_node *joined;
    struct tok t;

    while (n) {
        if (peek(p, EXPR, &t))
            return NULL;
        if (t.kind == (op == FLEETQUERY_AND ? T_AND : T_OR))
            (void)lex(p, EXPR, &t);
        else if (op == FLEETQUERY_OR || !starts_operand(&t, field))
            return n;
        b = operand(p, field, op);
        joined = b ? node_new(p, op) : NULL;
        if (joined) {
            joined->a = n;
            joined->b = b;
        }
        n = joined;
    }
    return NULL;
}

static const struct fleetquery_node *or_expr(struct parser *p, const char *field)
{
    return binary_expr(p, field, FLEETQUERY_OR);
}

/* Checks on the raw text before parsing: length, encoding, controls. */
static int check_text(struct parser *p)
{
    size_t i;

    if (p->len > FLEETQUERY_MAX_CHARS)
        return fail_rule(p, "the query is longer than 8192 characters");
    if (!utf8_valid(p->q, p->len))
        return fail_rule(p, "the query is not valid UTF-8");
    for (i = 0; i < p->len; i++) {
        unsigned char c = (unsigned char)p->q[i];

        if ((c < 0x20 && !is_space(c)) || c == 0x7f)
            return fail_syntax(p, i, "unsupported character");
    }
    for (i = 0; i < p->len && is_space((unsigned char)p->q[i]); i++)
        ;
    if (i == p->len)
        return fail_rule(p, "the query is empty");
    return DD_OK;
}

int fleetquery_parse(const char *q, size_t len, enum fleetquery_index index,
                     struct fleetquery **out, struct dd_errbuf *eb)
{
    struct parser p = { 0 };
    struct tok t;
    int rc;

    *out = NULL;
    dd_errbuf_clear(eb);
    p.q = q;
    p.len = len;
    p.eb = eb;
    rc = check_text(&p);
    if (rc)
        return rc;
    p.text_cap = 2 * len + 2;
    p.fq = calloc(1, sizeof(*p.fq) + p.text_cap);
    if (!p.fq)
        return DD_ERR_NOMEM;
    p.fq->index = index;
    p.fq->root = or_expr(&p, NULL);
    if (p.fq->root && !lex(&p, EXPR, &t) && t.kind != T_EOF)
        fail_syntax(&p, t.start, t.kind == T_RPAREN ? "unbalanced )" : "unexpected token");
    if (!p.rc && p.n_leading > 1)
        fail_rule(&p, "only one term may start with a wildcard");
    if (!p.rc && p.n_leading == 1 && len > FLEETQUERY_WILDCARD_MAX_CHARS)
        fail_rule(&p, "a query with a leading wildcard is limited to 100 characters");
    rc = p.rc;
    assert(rc || p.fq->root);
    if (rc) {
        free(p.fq);
        return rc;
    }
    *out = p.fq;
    return DD_OK;
}

void fleetquery_free(struct fleetquery *fq)
{
    free(fq);
}

const struct fleetquery_node *fleetquery_root(const struct fleetquery *fq)
{
    return fq->root;
}

size_t fleetquery_n_terms(const struct fleetquery *fq)
{
    return fq->n_terms;
}

/* ---- matching ---- */

/* Skip one UTF-8 character starting at s[i] (s[i] not NUL). */
static size_t next_char(const char *s, size_t i)
{
    i++;
    while (((unsigned char)s[i] & 0xC0) == 0x80)
        i++;
    return i;
}

/* Glob pat (a wild pattern, see struct fleetquery_node) against s[0..n),
 * ignoring ASCII case. Iterative with one backtrack point: the last `*`
 * seen, which is enough because `*` matches any run (no recursion, linear
 * memory, quadratic time at worst on a bounded query). */
static bool glob(const char *pat, const char *s, size_t n)
{
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

    while (si < n) {
        if (pat[pi] == '*') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pat[pi] == '?') {
            pi++;
            si = next_char(s, si);
            if (si > n)
                si = n;
            continue;
        }
        if (pat[pi]) {
            size_t lit = pat[pi] == '\\' ? pi + 1 : pi;

            if (fold(pat[lit]) == fold(s[si])) {
                pi = lit + 1;
                si++;
                continue;
            }
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p;
        si = next_char(s, star_s);
        star_s = si;
        if (si > n)
            return false;
    }
    while (pat[pi] == '*')
        pi++;
    return pat[pi] == '\0';
}

static bool text_equal(const char *a, const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!a[i] || fold(a[i]) != fold(s[i]))
            return false;
    }
    return a[n] == '\0';
}

static bool word_match(const struct fleetquery_node *n, const char *s, size_t len)
{
    return n->wild ? glob(n->value, s, len) : text_equal(n->value, s, len);
}

/* Advance *i over whitespace, then over the token there: its start, and
 * its length in *len (0 at the end of s). */
static size_t token_at(const char *s, size_t *i, size_t *len)
{
    size_t start;

    while (s[*i] && is_space((unsigned char)s[*i]))
        (*i)++;
    start = *i;
    while (s[*i] && !is_space((unsigned char)s[*i]))
        (*i)++;
    *len = *i - start;
    return start;
}

/* A term against a string: the whole value, or any whitespace-separated
 * token of it. */
static bool term_match_string(const struct fleetquery_node *n, const char *s)
{
    size_t i = 0, start, len;

    if (word_match(n, s, strlen(s)))
        return true;
    for (;;) {
        start = token_at(s, &i, &len);
        if (len == 0)
            return false;
        if (word_match(n, s + start, len))
            return true;
    }
}

/* Whether the tokens of phrase (which has one at least) follow each other
 * in s from the token at from on. */
static bool phrase_at(const char *phrase, const char *s, size_t from)
{
    size_t pi = 0, si = from, plen, slen, ps, ss, k;

    for (;;) {
        ps = token_at(phrase, &pi, &plen);
        if (plen == 0)
            return true;
        ss = token_at(s, &si, &slen);
        if (plen != slen)
            return false;
        for (k = 0; k < plen; k++) {
            if (fold(phrase[ps + k]) != fold(s[ss + k]))
                return false;
        }
    }
}

static bool phrase_match_string(const char *phrase, const char *s)
{
    size_t i = 0, len, start;

    for (;;) {
        start = token_at(s, &i, &len);
        if (len == 0)
            return false;
        if (phrase_at(phrase, s, start))
            return true;
    }
}

static bool text_is_bool(const char *t, bool b)
{
    return text_equal(b ? "true" : "false", t, strlen(t));
}

static bool leaf_value_match(const struct fleetquery_node *n, const struct fleetquery_value *v)
{
    double num;

    if (n->op == FLEETQUERY_TERM && n->wild && !strcmp(n->value, "*"))
        return true; /* field:* = the field exists, whatever its type */
    switch (v->type) {
    case FLEETQUERY_STRING:
        return n->op == FLEETQUERY_TERM ? term_match_string(n, v->str)
                                        : phrase_match_string(n->value, v->str);
    case FLEETQUERY_NUMBER:
        return !n->wild && parse_number(n->value, &num) && num == v->num;
    default:
        return !n->wild && text_is_bool(n->value, v->b);
    }
}

static bool range_value_match(const struct fleetquery_node *n, const struct fleetquery_value *v)
{
    const struct fleetquery_bound *lo = &n->lo, *hi = &n->hi;
    bool numeric = (lo->text ? lo->numeric : hi->numeric);
    int c;

    if (numeric) {
        if (v->type != FLEETQUERY_NUMBER)
            return false;
        if (lo->text && (lo->inclusive ? v->num < lo->num : v->num <= lo->num))
            return false;
        return !hi->text || (hi->inclusive ? v->num <= hi->num : v->num < hi->num);
    }
    if (v->type != FLEETQUERY_STRING)
        return false;
    if (lo->text) {
        c = compare_fold(v->str, lo->text);
        if (lo->inclusive ? c < 0 : c <= 0)
            return false;
    }
    if (hi->text) {
        c = compare_fold(v->str, hi->text);
        if (hi->inclusive ? c > 0 : c >= 0)
            return false;
    }
    return true;
}

static bool node_match(const struct fleetquery_node *n, fleetquery_lookup_fn lookup, void *ctx)
{
    const struct fleetquery_value *vals = NULL;
    size_t n_vals = 0, i;

    switch (n->op) {
    case FLEETQUERY_ALL:
        return true;
    case FLEETQUERY_AND:
        return node_match(n->a, lookup, ctx) && node_match(n->b, lookup, ctx);
    case FLEETQUERY_OR:
        return node_match(n->a, lookup, ctx) || node_match(n->b, lookup, ctx);
    case FLEETQUERY_NOT:
        return !node_match(n->a, lookup, ctx);
    default:
        break;
    }
    lookup(ctx, n->field, &vals, &n_vals);
    for (i = 0; i < n_vals; i++) {
        if (n->op == FLEETQUERY_RANGE ? range_value_match(n, &vals[i])
                                      : leaf_value_match(n, &vals[i]))
            return true;
    }
    return false;
}

bool fleetquery_match(const struct fleetquery *fq, fleetquery_lookup_fn lookup, void *ctx)
{
    return node_match(fq->root, lookup, ctx);
}

/* ---- printing ---- */

static bool needs_escape(char c)
{
    return is_space((unsigned char)c) || strchr(WORD_STOPS "\\*?=-" REJECTED_CHARS, c);
}

/* A word as the lexer reads it back: specials escaped; in a wild pattern
 * `*` and `?` stay bare and the stored `\x` pairs are kept. */
static void format_word(struct strbuf *sb, const char *s, bool wild)
{
    size_t i;

    if (!wild && is_keyword(s, strlen(s)))
        strbuf_append(sb, "\\");
    for (i = 0; s[i]; i++) {
        if (wild && s[i] == '\\') {
            strbuf_append_n(sb, s + i, 2);
            i++;
        } else if (wild && (s[i] == '*' || s[i] == '?')) {
            strbuf_append_n(sb, s + i, 1);
        } else {
            if (needs_escape(s[i]))
                strbuf_append(sb, "\\");
            strbuf_append_n(sb, s + i, 1);
        }
    }
}

static void format_phrase(struct strbuf *sb, const char *s)
{
    size_t i;

    strbuf_append(sb, "\"");
    for (i = 0; s[i]; i++) {
        if (s[i] == '"' || s[i] == '\\')
            strbuf_append(sb, "\\");
        strbuf_append_n(sb, s + i, 1);
    }
    strbuf_append(sb, "\"");
}

static void format_bound(struct strbuf *sb, const struct fleetquery_bound *b)
{
    if (b->numeric)
        strbuf_append(sb, b->text);
    else
        format_phrase(sb, b->text);
}

static void format_node(struct strbuf *sb, const struct fleetquery_node *n);

static void format_child(struct strbuf *sb, const struct fleetquery_node *c, bool parens)
{
    if (parens)
        strbuf_append(sb, "(");
    format_node(sb, c);
    if (parens)
        strbuf_append(sb, ")");
}

static void format_node(struct strbuf *sb, const struct fleetquery_node *n)
{
    switch (n->op) {
    case FLEETQUERY_ALL:
        strbuf_append(sb, "*");
        return;
    case FLEETQUERY_NOT:
        strbuf_append(sb, "NOT ");
        format_child(sb, n->a, n->a->op == FLEETQUERY_AND || n->a->op == FLEETQUERY_OR);
        return;
    case FLEETQUERY_AND:
    case FLEETQUERY_OR:
        /* Left-associative: only a right child of the same operator, or an
         * OR under an AND, needs parentheses. */
        format_child(sb, n->a, n->op == FLEETQUERY_AND && n->a->op == FLEETQUERY_OR);
        strbuf_append(sb, n->op == FLEETQUERY_AND ? " AND " : " OR ");
        format_child(sb, n->b,
                     n->b->op == n->op || (n->op == FLEETQUERY_AND && n->b->op == FLEETQUERY_OR));
        return;
    default:
        break;
    }
    if (n->field)
        strbuf_append(sb, n->field);
    if (n->op == FLEETQUERY_RANGE && (!n->lo.text || !n->hi.text)) {
        strbuf_append(sb, n->lo.text ? ">" : "<");
        if ((n->lo.text ? &n->lo : &n->hi)->inclusive)
            strbuf_append(sb, "=");
        format_bound(sb, n->lo.text ? &n->lo : &n->hi);
        return;
    }
    if (n->field)
        strbuf_append(sb, ":");
    if (n->op == FLEETQUERY_RANGE) {
        strbuf_append(sb, n->lo.inclusive ? "[" : "{");
        format_bound(sb, &n->lo);
        strbuf_append(sb, " TO ");
        format_bound(sb, &n->hi);
        strbuf_append(sb, n->hi.inclusive ? "]" : "}");
    } else if (n->op == FLEETQUERY_PHRASE) {
        format_phrase(sb, n->value);
    } else {
        format_word(sb, n->value, n->wild);
    }
}

int fleetquery_format(const struct fleetquery *fq, struct strbuf *sb)
{
    format_node(sb, fq->root);
    return strbuf_check(sb);
}

static bool str_equal(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static bool bound_equal(const struct fleetquery_bound *a, const struct fleetquery_bound *b)
{
    return str_equal(a->text, b->text) && a->numeric == b->numeric &&
           a->inclusive == b->inclusive && (!a->numeric || a->num == b->num);
}

static bool node_equal(const struct fleetquery_node *a, const struct fleetquery_node *b)
{
    if (!a || !b)
        return a == b;
    return a->op == b->op && str_equal(a->field, b->field) && str_equal(a->value, b->value) &&
           a->wild == b->wild && bound_equal(&a->lo, &b->lo) && bound_equal(&a->hi, &b->hi) &&
           node_equal(a->a, b->a) && node_equal(a->b, b->b);
}

bool fleetquery_equal(const struct fleetquery *x, const struct fleetquery *y)
{
    return x->index == y->index && node_equal(x->root, y->root);
}
