/* SPDX-License-Identifier: MIT */
/* test_fleetquery.c: the fleet-indexing query language. A table of
 * (query, expected match) rows over one fixture thing covers every
 * construct and type rule, and each good row must print to a canonical form
 * that parses back to the same tree; a table of (bad query, message) rows
 * covers every refusal with AWS's InvalidQueryException text; the
 * canonical forms of a few queries are pinned; allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/fleetquery.h"
#include "core/strbuf.h"
#include "tests/unit/alloc_fail.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define S(x)                                                                                       \
    {                                                                                              \
        FLEETQUERY_STRING, x, 0, false                                                             \
    }
#define D(x)                                                                                       \
    {                                                                                              \
        FLEETQUERY_NUMBER, NULL, x, false                                                          \
    }
#define B(x)                                                                                       \
    {                                                                                              \
        FLEETQUERY_BOOL, NULL, 0, x                                                                \
    }

struct field_row {
    const char *field;
    size_t n;
    struct fleetquery_value vals[3];
};

/* The fixture thing, as the index would hold it. */
static const struct field_row thing[] = {
    { "thingName", 1, { S("pump-7") } },
    { "thingId", 1, { S("abc-123") } },
    { "thingTypeName", 1, { S("Sensor") } },
    { "thingGroupNames", 2, { S("plant1"), S("Line A") } },
    { "attributes.fw", 1, { S("2.1.0") } },
    { "attributes.temp", 1, { D(77) } },
    { "attributes.offset", 1, { D(-5) } },
    { "attributes.model", 1, { S("iot-Widget") } },
    { "attributes.serial", 1, { S("abce") } },
    { "attributes.note", 1, { S("hello big World") } },
    { "attributes.path", 1, { S("a:b") } },
    { "attributes.star", 1, { S("a*b") } },
    { "attributes.city", 1, { S("Z\xc3\xbcrich") } },
    { "attributes.other.key", 1, { S("value") } },
    { "shadow.hasDelta", 1, { B(true) } },
    { "shadow.reported.myvalues", 3, { D(1), D(2), D(3) } },
    { "shadow.reported.location", 1, { S("north") } },
    { "shadow.reported.stats.battery", 1, { D(80) } },
    { "connectivity.connected", 1, { B(false) } },
    { "connectivity.timestamp", 1, { D(1557700000000.0) } },
    { "deviceDefender.SP1.authFail.inViolation", 1, { B(true) } },
    { "deviceDefender.SP1.msgs.lastViolationValue.number", 1, { D(3) } },
    { "deviceDefender.violationCount", 1, { D(2) } },
};

static struct fleetquery_value all_values[64];
static size_t n_all_values;

static void lookup(void *ctx, const char *field, const struct fleetquery_value **vals,
                   size_t *n_vals)
{
    size_t i;

    (void)ctx;
    *vals = NULL;
    *n_vals = 0;
    if (!field) {
        *vals = all_values;
        *n_vals = n_all_values;
        return;
    }
    for (i = 0; i < N(thing); i++) {
        if (!strcmp(thing[i].field, field)) {
            *vals = thing[i].vals;
            *n_vals = thing[i].n;
            return;
        }
    }
}

static int setup_values(void **state)
{
    size_t i, k;

    (void)state;
    n_all_values = 0;
    for (i = 0; i < N(thing); i++) {
        for (k = 0; k < thing[i].n; k++) {
            assert_true(n_all_values < N(all_values));
            all_values[n_all_values++] = thing[i].vals[k];
        }
    }
    return 0;
}

struct match_row {
    const char *query;
    bool want;
};

static const struct match_row matches[] = {
    /* everything, bare values */
    { "*", true },
    { "pump-7", true },
    { "pump", false },
    { "77", true },
    { "\"hello big\"", true },
    { "nothing-has-this", false },
    /* exact terms, case-insensitive values */
    { "thingName:pump-7", true },
    { "thingName:PUMP-7", true },
    { "thingName:pump-8", false },
    { "thingName : pump-7", true },
    { "thingId:abc-123", true },
    { "thingTypeName:Sensor", true },
    { "attributes.fw:2.1.0", true },
    { "attributes.other.key:value", true },
    { "attributes.other.key:val", false },
    { "attributes.other:value", false },
    { "attributes.fw:2\\.1\\.0", true },
    /* wildcards */
    { "thingName:pump*", true },
    { "thingName:pu?p-7", true },
    { "thingName:pump?", false },
    { "thingName:*-7", true },
    { "thingName:*-8", false },
    { "attributes.model:i*t", true },
    { "attributes.model:i*x", false },
    { "attributes.city:z?rich", true },
    { "attributes.city:z??rich", false },
    { "attributes.star:a\\*b", true },
    { "attributes.star:a\\*c", false },
    { "attributes.star:a*", true },
    { "attributes.star:a\\*?", true },
    { "attributes.star:a\\??", false },
    { "attributes.path:a\\:b", true },
    /* multi-valued fields and tokens */
    { "thingGroupNames:plant1", true },
    { "thingGroupNames:plant2", false },
    { "thingGroupNames:(plant2 OR plant1)", true },
    { "thingGroupNames:(plant2 OR plant3)", false },
    { "thingGroupNames:\"line a\"", true },
    { "thingGroupNames:line", true },
    /* phrases */
    { "attributes.note:\"big world\"", true },
    { "attributes.note:\"world big\"", false },
    { "attributes.note:\"hello  big World\"", true },
    { "attributes.note:big", true },
    { "attributes.note:\"hello big World again\"", false },
    /* numeric ranges and comparisons */
    { "attributes.temp:[75 TO 80]", true },
    { "attributes.temp:{75 TO 77]", true },
    { "attributes.temp:[75 TO 77}", false },
    { "attributes.temp:{77 TO 80]", false },
    { "attributes.temp:[77 TO 77]", true },
    { "attributes.offset:-5", true },
    { "attributes.offset>-6", true },
    { "attributes.offset:[-10 TO -1]", true },
    { "connectivity.timestamp>1557651600000", true },
    { "connectivity.timestamp >= 1557700000000", true },
    { "connectivity.timestamp > 1557700000000", false },
    { "connectivity.timestamp<=1557700000000", true },
    { "connectivity.timestamp<1557700000000", false },
    { "deviceDefender.violationCount:[1 TO 100]", true },
    { "deviceDefender.SP1.msgs.lastViolationValue.number>2", true },
    { "shadow.reported.stats.battery:{70 TO 100}", true },
    /* string ranges and comparisons */
    { "attributes.serial:[\"abcd\" TO \"abcf\"]", true },
    { "attributes.serial:[\"abcf\" TO \"abcz\"]", false },
    { "attributes.serial:[ABCD TO abcf]", true },
    { "thingTypeName>\"Rock\"", true },
    { "thingTypeName<Rock", false },
    /* types: numbers, booleans, wildcards only on strings */
    { "shadow.reported.myvalues:2", true },
    { "shadow.reported.myvalues:2.0", true },
    { "shadow.reported.myvalues:4", false },
    { "shadow.reported.myvalues:\"3\"", true },
    { "attributes.temp:7*", false },
    { "attributes.temp:*", true },
    { "attributes.temp:[\"70\" TO \"80\"]", false },
    { "attributes.fw:[1 TO 3]", false },
    { "shadow.hasDelta:true", true },
    { "shadow.hasDelta:TRUE", true },
    { "shadow.hasDelta:false", false },
    { "shadow.hasDelta:tru*", false },
    { "connectivity.connected:false", true },
    { "connectivity.connected:true", false },
    { "deviceDefender.SP1.authFail.inViolation:true", true },
    { "deviceDefender.SP1.msgs.inViolation:true", false },
    /* existence and absence */
    { "shadow.reported.location:* NOT shadow.desired.stats.battery:*", true },
    { "shadow.desired.stats.battery:*", false },
    { "NOT attributes.legacy:x", true },
    { "shadow.name.cfg.hasDelta:true", false },
    /* booleans and precedence */
    { "attributes.fw:2.1.0 AND attributes.temp<80 NOT attributes.temp>100", true },
    { "thingName:pump-7 thingTypeName:Sensor", true },
    { "thingName:pump-7 thingTypeName:Other", false },
    { "thingName:x OR thingName:pump-7 AND thingTypeName:Sensor", true },
    { "thingName:pump-7 OR thingName:x AND thingTypeName:y", true },
    { "(thingName:pump-7 OR thingName:x) AND thingTypeName:y", false },
    { "thingName:pump-7 OR thingName:x thingTypeName:y", true },
    { "NOT thingName:x AND thingTypeName:Sensor", true },
    { "NOT thingName:pump-7 AND thingTypeName:Sensor", false },
    { "NOT thingName:pump-7 OR thingTypeName:Sensor", true },
    { "NOT (thingName:pump-7 AND thingTypeName:x)", true },
    { "NOT NOT thingName:pump-7", true },
    { "-thingName:pump-7", false },
    { "thingName:(pump* AND -plasma)", true },
    { "thingName:(pump* AND -pump-7)", false },
    { "thingName:(pump* NOT pump-7)", false },
    { "thingName:pump-7 and", false },
    { "thingName:pump-7 AND (* OR x)", true },
    { "attributes.temp:([1 TO 5] OR [70 TO 80])", true },
};

static struct fleetquery *parse_ok(const char *q, enum fleetquery_index index)
{
    struct fleetquery *fq = NULL;
    struct dd_errbuf eb;
    int rc = fleetquery_parse(q, strlen(q), index, &fq, &eb);

    if (rc)
        fail_msg("%s: %s", q, eb.msg);
    assert_non_null(fq);
    assert_string_equal(eb.msg, "");
    return fq;
}

static void test_match_table(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(matches); i++) {
        struct fleetquery *fq = parse_ok(matches[i].query, FLEETQUERY_THINGS);

        if (fleetquery_match(fq, lookup, NULL) != matches[i].want)
            fail_msg("%s: expected %s", matches[i].query, matches[i].want ? "match" : "no match");
        fleetquery_free(fq);
    }
}

/* Every good query prints to a text that parses back to the same tree and
 * prints the same again. */
static void test_format_round_trip(void **state)
{
    char text[1024], again[1024];
    struct strbuf sb;
    size_t i;

    (void)state;
    for (i = 0; i < N(matches); i++) {
        struct fleetquery *fq = parse_ok(matches[i].query, FLEETQUERY_THINGS), *back;

        strbuf_init(&sb, text, sizeof(text));
        assert_int_equal(fleetquery_format(fq, &sb), DD_OK);
        back = parse_ok(text, FLEETQUERY_THINGS);
        if (!fleetquery_equal(fq, back))
            fail_msg("%s printed as %s reads back differently", matches[i].query, text);
        assert_int_equal(fleetquery_n_terms(back), fleetquery_n_terms(fq));
        strbuf_init(&sb, again, sizeof(again));
        assert_int_equal(fleetquery_format(back, &sb), DD_OK);
        assert_string_equal(again, text);
        fleetquery_free(back);
        fleetquery_free(fq);
    }
}

struct canon_row {
    const char *query, *want;
};

static const struct canon_row canon[] = {
    { "thingName:(tv* AND -plasma)", "thingName:tv* AND NOT thingName:plasma" },
    { "a b OR c", "a AND b OR c" },
    { "a (b OR c)", "a AND (b OR c)" },
    { "a AND (b AND c)", "a AND (b AND c)" },
    { "(a AND b) AND c", "a AND b AND c" },
    { "- a", "NOT a" },
    { "NOT (a OR b)", "NOT (a OR b)" },
    { "attributes.t:{75 TO 80]", "attributes.t:{75 TO 80]" },
    { "attributes.s:[abcd TO \"abcf\"]", "attributes.s:[\"abcd\" TO \"abcf\"]" },
    { "attributes.s:[1 TO abc]", "attributes.s:[\"1\" TO \"abc\"]" },
    { "attributes.x >= 5", "attributes.x>=5" },
    { "attributes.x < \"b\"", "attributes.x<\"b\"" },
    { "attributes.x>-5", "attributes.x>-5" },
    { "a\\:b", "a\\:b" },
    { "\\AND", "\\AND" },
    { "and", "and" },
    { "\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\"" },
    { "a*\\*b", "a*\\*b" },
    { "\\*", "\\*" },
    { "\\-a", "\\-a" },
    { "attributes.x:(a [1 TO 2])", "attributes.x:a AND attributes.x:[1 TO 2]" },
};

static void test_canonical_forms(void **state)
{
    char text[256];
    struct strbuf sb;
    size_t i;

    (void)state;
    for (i = 0; i < N(canon); i++) {
        struct fleetquery *fq = parse_ok(canon[i].query, FLEETQUERY_THINGS);

        strbuf_init(&sb, text, sizeof(text));
        assert_int_equal(fleetquery_format(fq, &sb), DD_OK);
        if (strcmp(text, canon[i].want))
            fail_msg("%s: printed %s, expected %s", canon[i].query, text, canon[i].want);
        fleetquery_free(fq);
    }
    /* A buffer too small says so. */
    {
        struct fleetquery *fq = parse_ok("thingName:pump-7", FLEETQUERY_THINGS);

        strbuf_init(&sb, text, 8);
        assert_int_equal(fleetquery_format(fq, &sb), DD_ERR_TOO_LARGE);
        fleetquery_free(fq);
    }
}

static void test_tree_shape(void **state)
{
    struct fleetquery *fq = parse_ok("a OR b c", FLEETQUERY_THINGS);
    const struct fleetquery_node *r = fleetquery_root(fq);

    (void)state;
    assert_int_equal(r->op, FLEETQUERY_OR);
    assert_int_equal(r->a->op, FLEETQUERY_TERM);
    assert_null(r->a->field);
    assert_string_equal(r->a->value, "a");
    assert_int_equal(r->b->op, FLEETQUERY_AND);
    assert_int_equal(fleetquery_n_terms(fq), 3);
    fleetquery_free(fq);

    fq = parse_ok("attributes.t:{1 TO 2.5]", FLEETQUERY_THINGS);
    r = fleetquery_root(fq);
    assert_int_equal(r->op, FLEETQUERY_RANGE);
    assert_string_equal(r->field, "attributes.t");
    assert_false(r->lo.inclusive);
    assert_true(r->hi.inclusive);
    assert_true(r->lo.numeric && r->hi.numeric);
    assert_true(r->hi.num == 2.5);
    fleetquery_free(fq);

    fq = parse_ok("attributes.t<=9", FLEETQUERY_THINGS);
    r = fleetquery_root(fq);
    assert_null(r->lo.text);
    assert_string_equal(r->hi.text, "9");
    assert_true(r->hi.inclusive);
    fleetquery_free(fq);
}

/* Field names per index (fleet-indexing.md §2.2, §2.3). */
static void test_fields_per_index(void **state)
{
    static const char *const things_ok[] = {
        "thingName:x",
        "thingId:x",
        "thingTypeName:x",
        "thingGroupNames:x",
        "attributes.a:x",
        "shadow.reported.a.b:x",
        "shadow.desired.a:x",
        "shadow.delta.a:x",
        "shadow.metadata.reported.a.timestamp>1",
        "shadow.hasDelta:true",
        "shadow.name.cfg.hasDelta:true",
        "shadow.name.cfg.desired.filament:*",
        "connectivity.connected:true",
        "connectivity.timestamp>1",
        "connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT",
        "deviceDefender.violationCount>1",
        "deviceDefender.SP1.b.inViolation:true",
        "deviceDefender.SP1.b.inViolation:*",
        "deviceDefender.SP1.b.lastViolationTime>1",
        "deviceDefender.SP1.b.metricName:aws\\:x",
        "deviceDefender.SP1.b.lastViolationValue.count>2",
    };
    static const char *const groups_ok[] = {
        "thingGroupName:prod*", "thingGroupNames:x", "thingGroupId:x",
        "description:\"a b\"",  "attributes.a:1",    "parentGroupNames:(plant1 OR plant2)",
    };
    static const char *const groups_bad[] = { "thingName:x", "shadow.hasDelta:true",
                                              "connectivity.connected:true" };
    struct fleetquery *fq = NULL;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < N(things_ok); i++)
        fleetquery_free(parse_ok(things_ok[i], FLEETQUERY_THINGS));
    for (i = 0; i < N(groups_ok); i++)
        fleetquery_free(parse_ok(groups_ok[i], FLEETQUERY_THING_GROUPS));
    for (i = 0; i < N(groups_bad); i++) {
        assert_int_equal(fleetquery_parse(groups_bad[i], strlen(groups_bad[i]),
                                          FLEETQUERY_THING_GROUPS, &fq, &eb),
                         DD_ERR_INVALID);
        assert_null(fq);
        assert_non_null(strstr(eb.msg, "invalid field name"));
    }
    assert_int_equal(fleetquery_parse("parentGroupNames:x", 18, FLEETQUERY_THINGS, &fq, &eb),
                     DD_ERR_INVALID);
}

struct bad_row {
    const char *query;
    const char *msg;
};

#define LONG_TAIL                                                                                  \
    "attributes.a:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct bad_row bad[] = {
    { "", "Unable to parse query, the query is empty, query string: " },
    { "  \t", "Unable to parse query, the query is empty, query string:   \t" },
    { "thingNam:x",
      "Unable to parse query, invalid field name, field name: thingNam, query string: thingNam:x" },
    { "shadow.version:1", "Unable to parse query, invalid field name, field name: shadow.version, "
                          "query string: shadow.version:1" },
    { "registry.version>1", "Unable to parse query, invalid field name, field name: "
                            "registry.version, query string: registry.version>1" },
    { "attributes.:x", "Unable to parse query, invalid field name, field name: attributes., "
                       "query string: attributes.:x" },
    { "attributes.a..b:x",
      "Unable to parse query, invalid field name, field name: attributes.a..b, "
      "query string: attributes.a..b:x" },
    { "attributes.a.:x", "Unable to parse query, invalid field name, field name: attributes.a., "
                         "query string: attributes.a.:x" },
    { "shadow.reported..a:x", "Unable to parse query, invalid field name, field name: "
                              "shadow.reported..a, query string: shadow.reported..a:x" },
    { "deviceDefender.SP1.inViolation:true",
      "Unable to parse query, invalid field name, field name: deviceDefender.SP1.inViolation, "
      "query string: deviceDefender.SP1.inViolation:true" },
    { "thing*:x",
      "Unable to parse query, invalid field name, field name: thing*, query string: thing*:x" },
    { "thing\\Name:x", "Unable to parse query, invalid field name, field name: thing\\Name, query "
                       "string: thing\\Name:x" },
    { "deviceDefender.SP1.x.inViolation:false",
      "Unable to parse query, inViolation can only be searched for the value true, query string: "
      "deviceDefender.SP1.x.inViolation:false" },
    { "deviceDefender.SP1.x.inViolation:(true OR false)",
      "Unable to parse query, inViolation can only be searched for the value true, query string: "
      "deviceDefender.SP1.x.inViolation:(true OR false)" },
    { "deviceDefender.SP1.x.inViolation>0",
      "Unable to parse query, inViolation can only be searched for the value true, query string: "
      "deviceDefender.SP1.x.inViolation>0" },
    { "thingName:*a AND thingGroupNames:*b",
      "Unable to parse query, only one term may start with a wildcard, query string: "
      "thingName:*a AND thingGroupNames:*b" },
    { "thingName:*a AND " LONG_TAIL,
      "Unable to parse query, a query with a leading wildcard is limited to 100 characters, query "
      "string: thingName:*a AND " LONG_TAIL },
    { "a b c d e f g h i j k l m",
      "Unable to parse query, the query has more than 12 terms, query string: a b c d e f g h i j "
      "k l m" },
    { "thingName:(a", "Unable to parse query, expected ) at character 13, query string: "
                      "thingName:(a" },
    { "(a", "Unable to parse query, expected ) at character 3, query string: (a" },
    { "attributes.t:[1 TO 2",
      "Unable to parse query, expected ] or } to close a range at character 21, query string: "
      "attributes.t:[1 TO 2" },
    { "attributes.t:[1 2]", "Unable to parse query, expected TO in a range at character 17, query "
                            "string: attributes.t:[1 2]" },
    { "attributes.t:[a* TO b]",
      "Unable to parse query, wildcards are not allowed in a range at character 15, query string: "
      "attributes.t:[a* TO b]" },
    { "attributes.t:[( TO b]", "Unable to parse query, expected a value at character 15, query "
                               "string: attributes.t:[( TO b]" },
    { "\"abc", "Unable to parse query, unterminated phrase at character 1, query string: \"abc" },
    { "a AND",
      "Unable to parse query, unexpected end of query at character 6, query string: a AND" },
    { "a OR OR b",
      "Unable to parse query, unexpected token at character 6, query string: a OR OR b" },
    { "AND a", "Unable to parse query, unexpected token at character 1, query string: AND a" },
    { "a)", "Unable to parse query, unbalanced ) at character 2, query string: a)" },
    { "()", "Unable to parse query, unexpected token at character 2, query string: ()" },
    { "a TO b", "Unable to parse query, unexpected token at character 3, query string: a TO b" },
    { "thingName:a/b",
      "Unable to parse query, unsupported character at character 12, query string: thingName:a/b" },
    { "a,b", "Unable to parse query, unsupported character at character 2, query string: a,b" },
    { "'a'", "Unable to parse query, unsupported character at character 1, query string: 'a'" },
    { "a@b", "Unable to parse query, unsupported character at character 2, query string: a@b" },
    { "a\\", "Unable to parse query, escape character at the end of the query at character 2, "
             "query string: a\\" },
    { "a\x01", "Unable to parse query, unsupported character at character 2, query string: a\x01" },
    { "a\xff", "Unable to parse query, the query is not valid UTF-8, query string: a\xff" },
    { "thingName:\"\"", "Unable to parse query, empty phrase at character 11, query string: "
                        "thingName:\"\"" },
    { "thingName:>5", "Unable to parse query, expected a value after : at character 11, query "
                      "string: thingName:>5" },
    { "thingName:(attributes.a:b)",
      "Unable to parse query, a field inside a field group at character 24, query string: "
      "thingName:(attributes.a:b)" },
    { "(((((((((((((((((a)))))))))))))))))",
      "Unable to parse query, parentheses and NOT nested more than 16 deep at character 17, query "
      "string: (((((((((((((((((a)))))))))))))))))" },
    { "NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT a",
      "Unable to parse query, parentheses and NOT nested more than 16 deep at character 65, query "
      "string: NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT a" },
};

static void test_bad_queries(void **state)
{
    struct fleetquery *fq;
    struct dd_errbuf eb;
    size_t i;

    (void)state;
    for (i = 0; i < N(bad); i++) {
        fq = (struct fleetquery *)&eb; /* must be cleared */
        if (fleetquery_parse(bad[i].query, strlen(bad[i].query), FLEETQUERY_THINGS, &fq, &eb) !=
            DD_ERR_INVALID)
            fail_msg("%s: accepted", bad[i].query);
        assert_null(fq);
        if (strcmp(eb.msg, bad[i].msg))
            fail_msg("%s:\n got  %s\n want %s", bad[i].query, eb.msg, bad[i].msg);
    }
    /* No error buffer is fine. */
    assert_int_equal(fleetquery_parse("a)", 2, FLEETQUERY_THINGS, &fq, NULL), DD_ERR_INVALID);
}

/* Limits at their edges, and the length taken from the argument. */
static void test_limits(void **state)
{
    char q[FLEETQUERY_MAX_CHARS + 2];
    struct fleetquery *fq = NULL;
    struct dd_errbuf eb;
    size_t n;

    (void)state;
    fleetquery_free(parse_ok("a b c d e f g h i j k l", FLEETQUERY_THINGS));
    fleetquery_free(parse_ok("((((((((((((((((a))))))))))))))))", FLEETQUERY_THINGS));
    /* A leading wildcard query of exactly 100 characters. */
    memset(q, 'b', 100);
    memcpy(q, "thingName:*a ", 13);
    q[100] = '\0';
    fleetquery_free(parse_ok(q, FLEETQUERY_THINGS));
    /* The length argument bounds the read: a trailing `)` is not seen. */
    assert_int_equal(fleetquery_parse("a)", 1, FLEETQUERY_THINGS, &fq, &eb), DD_OK);
    fleetquery_free(fq);
    /* The most nodes a query can make: 12 terms under 16 NOTs each, then a
     * 13th whose NOTs are made before the term limit refuses it. */
    q[0] = '\0';
    for (n = 0; n < FLEETQUERY_MAX_TERMS + 1; n++) {
        for (size_t k = 0; k < FLEETQUERY_MAX_DEPTH; k++)
            strcat(q, "NOT ");
        strcat(q, n == FLEETQUERY_MAX_TERMS ? "b" : "a ");
    }
    assert_int_equal(fleetquery_parse(q, strlen(q) - (4 * FLEETQUERY_MAX_DEPTH + 1),
                                      FLEETQUERY_THINGS, &fq, &eb),
                     DD_OK);
    assert_int_equal(fleetquery_n_terms(fq), FLEETQUERY_MAX_TERMS);
    fleetquery_free(fq);
    assert_int_equal(fleetquery_parse(q, strlen(q), FLEETQUERY_THINGS, &fq, &eb), DD_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "more than 12 terms"));
    /* The overall ceiling. */
    memset(q, 'a', sizeof(q));
    n = FLEETQUERY_MAX_CHARS;
    assert_int_equal(fleetquery_parse(q, n, FLEETQUERY_THINGS, &fq, &eb), DD_OK);
    fleetquery_free(fq);
    assert_int_equal(fleetquery_parse(q, n + 1, FLEETQUERY_THINGS, &fq, &eb), DD_ERR_INVALID);
    assert_null(fq);
    assert_non_null(strstr(eb.msg, "longer than 8192 characters"));
}

static int parse_case(void *ctx)
{
    const char *q = ctx;
    struct fleetquery *fq = NULL;
    int rc = fleetquery_parse(q, strlen(q), FLEETQUERY_THINGS, &fq, NULL);

    if (rc)
        assert_null(fq);
    fleetquery_free(fq);
    return rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    assert_int_equal(alloc_fail_sweep(parse_case, "thingName:(a* OR \"b c\") attributes.t>5"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),      cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_canonical_forms),  cmocka_unit_test(test_tree_shape),
        cmocka_unit_test(test_fields_per_index), cmocka_unit_test(test_bad_queries),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, setup_values, NULL);
}
