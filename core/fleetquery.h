/* SPDX-License-Identifier: MIT */
/* fleetquery.h: AWS IoT fleet-indexing queries (queryVersion 2017-09-30),
 * parsed into a small tree and matched against one thing or thing group.
 *
 * The parser takes a pointer and a length, checks AWS's rules (field names
 * of the chosen index, at most 12 terms, one leading wildcard and then at
 * most 100 characters, the rejected characters, inViolation only `true`)
 * and answers DD_ERR_INVALID with AWS's InvalidQueryException text in the
 * caller's dd_errbuf. The tree lives in one allocation that
 * fleetquery_free() releases at once; matching walks it and allocates
 * nothing. Where the record is, what a value is and which type it has is
 * the caller's business: fleetquery_match() asks a lookup callback.
 *
 * Grammar (precedence NOT/`-` > AND, written or implied > OR):
 *   or_e    = and_e { "OR" and_e }
 *   and_e   = unary { [ "AND" ] unary }
 *   unary   = ( "NOT" | "-" ) unary | primary
 *   primary = "(" or_e ")" | FIELD ":" ( value | range | "(" or_e ")" )
 *           | FIELD ( "<" | "<=" | ">" | ">=" ) value | value
 *   range   = ( "[" | "{" ) value "TO" value ( "]" | "}" )
 * Inside `FIELD:( ... )` the leaves are values bound to FIELD. A bare value
 * searches every field; a bare `*` matches everything.
 *
 * Pure: no I/O, no globals; any thread. Tested by tests/unit/test_fleetquery.c
 * and fuzzed by tests/fuzz/fuzz_fleetquery.c. */
#ifndef DD_CORE_FLEETQUERY_H
#define DD_CORE_FLEETQUERY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/strbuf.h"

#define FLEETQUERY_MAX_TERMS          12   /* AWS: terms per query */
#define FLEETQUERY_MAX_DEPTH          16   /* ddlocal: nested parentheses and NOTs */
#define FLEETQUERY_MAX_CHARS          8192 /* ddlocal's ceiling (AWS's model has none) */
#define FLEETQUERY_WILDCARD_MAX_CHARS 100  /* AWS: length of a query with a leading wildcard */

/* Which index a query is written for: it decides the valid field names. */
enum fleetquery_index {
    FLEETQUERY_THINGS,       /* AWS_Things */
    FLEETQUERY_THING_GROUPS, /* AWS_ThingGroups */
};

enum fleetquery_op {
    FLEETQUERY_ALL,    /* a bare `*`: every record */
    FLEETQUERY_TERM,   /* field:value, value may hold wildcards */
    FLEETQUERY_PHRASE, /* field:"some words" */
    FLEETQUERY_RANGE,  /* field:[a TO b], or a comparison (one open bound) */
    FLEETQUERY_AND,
    FLEETQUERY_OR,
    FLEETQUERY_NOT,
};

/* One end of a range. */
struct fleetquery_bound {
    const char *text; /* NULL: open (a comparison's other side) */
    bool numeric;     /* an unquoted number: compares numerically */
    double num;       /* the number when numeric */
    bool inclusive;   /* `[`/`]`, `<=`, `>=` */
};

/* A node of the tree. Every pointer points into the same allocation as the
 * node and dies with fleetquery_free(). */
struct fleetquery_node {
    enum fleetquery_op op;
    const char *field; /* TERM, PHRASE, RANGE: the field; NULL = every field */
    /* TERM: when wild, a pattern where `*` and `?` are wildcards and `\*`,
     * `\?`, `\\` literals; otherwise the plain text. PHRASE: the text. */
    const char *value;
    bool wild;
    struct fleetquery_bound lo, hi;      /* RANGE */
    const struct fleetquery_node *a, *b; /* AND, OR: a and b; NOT: a */
};

struct fleetquery;

/* The type of a value as the record holds it (fleet-indexing.md §2.4). */
enum fleetquery_type {
    FLEETQUERY_STRING,
    FLEETQUERY_NUMBER,
    FLEETQUERY_BOOL,
};

struct fleetquery_value {
    enum fleetquery_type type;
    const char *str; /* FLEETQUERY_STRING: NUL-terminated text */
    double num;      /* FLEETQUERY_NUMBER */
    bool b;          /* FLEETQUERY_BOOL */
};

/* Answer the values of field (NUL-terminated; NULL asks for every value of
 * every field, for a bare term) on the record ctx: *vals an array of
 * *n_vals values that stays valid until the next call; *n_vals 0 when the
 * record has no such field. A multi-valued field (thingGroupNames, a JSON
 * array) gives several values. Must not fail. */
typedef void (*fleetquery_lookup_fn)(void *ctx, const char *field,
                                     const struct fleetquery_value **vals, size_t *n_vals);

/* Parse the query q[0..len) (borrowed, need not be NUL-terminated) written
 * for index. On success *out is a tree the caller frees with
 * fleetquery_free(). *out is NULL on failure. Errors: DD_ERR_INVALID with
 * AWS's InvalidQueryException message in eb (eb may be NULL), naming the
 * rule and, for syntax errors, the character position (1-based);
 * DD_ERR_NOMEM. Any thread. */
int fleetquery_parse(const char *q, size_t len, enum fleetquery_index index,
                     struct fleetquery **out, struct dd_errbuf *eb);

/* Free a parsed query. NULL is allowed. */
void fleetquery_free(struct fleetquery *fq);

/* The root of the tree (borrowed from fq). Cannot fail. */
const struct fleetquery_node *fleetquery_root(const struct fleetquery *fq);

/* Number of terms (leaves) in the query. Cannot fail. */
size_t fleetquery_n_terms(const struct fleetquery *fq);

/* Whether the record behind lookup/ctx matches fq. Type rules: a term on a
 * string matches a whitespace-separated token or the whole value, ignoring
 * case, with wildcards; on a number it matches when it reads as an equal
 * number; on a boolean when it reads `true`/`false`; `field:*` matches any
 * present value; a numeric range holds numbers, a string range (quoted or
 * not a number) compares strings ignoring case; a multi-valued field
 * matches when any value does; NOT of an absent field is true. Allocates
 * nothing, cannot fail. */
bool fleetquery_match(const struct fleetquery *fq, fleetquery_lookup_fn lookup, void *ctx);

/* Print fq in its canonical form, which fleetquery_parse() reads back to an
 * equal tree, unless the text outgrows a length limit: field groups are
 * printed expanded (`f:(a OR b)` as `f:a OR f:b`), so a query can pass the
 * 100 characters allowed with a leading wildcard, or 8192. Returns
 * strbuf_check(sb): DD_ERR_TOO_LARGE when the text did not fit. */
int fleetquery_format(const struct fleetquery *fq, struct strbuf *sb);

/* Whether two trees are the same query node for node. Cannot fail. */
bool fleetquery_equal(const struct fleetquery *x, const struct fleetquery *y);

#endif
