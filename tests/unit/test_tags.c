/* SPDX-License-Identifier: MIT */
/* test_tags.c: the tag rules of core/tags.c as a table: key and value
 * shapes at their bounds, the reserved prefix in any case, duplicates, the
 * count per request, and the untag key checks; each error row checks the
 * fault, the position and the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/tags.h"
#include "tests/unit/alloc_fail.h"

#define MAX_PAIRS 60

/* What one call must answer: its result, the fault and its position, and
 * a part of the message (NULL: any). */
struct expect {
    int rc;
    enum tags_fault fault;
    size_t at;
    const char *msg;
};

#define OK_ROW                                                                                     \
    {                                                                                              \
        DD_OK, TAGS_FAULT_NONE, 0, NULL                                                            \
    }
#define TOO_MANY                                                                                   \
    {                                                                                              \
        DD_ERR_LIMIT, TAGS_FAULT_TOO_MANY, 0, "at most 50"                                         \
    }
#define LE       "Member must have length less than or equal to "
#define KEY_AT   "at 'tags.member.Key'"
#define RESERVED "reserved for system use: aws:x"
#define DUP      "Duplicated keys are not allowed: a"
/* An InvalidRequest row: the fault, its position, a part of the message. */
#define BAD(fault, at, msg)                                                                        \
    {                                                                                              \
        DD_ERR_INVALID, TAGS_FAULT_##fault, at, msg                                                \
    }

/* One tags_check() case: n pairs; a pair with key NULL takes a generated
 * key ("k<i>") so that large requests need no literal. long_key and
 * long_value, when non-zero, replace pair 0's key or value with that many
 * 'x'. */
struct check_case {
    const char *what;
    size_t n;
    struct tags_pair pairs[4];
    size_t long_key, long_value;
    struct expect want;
};

static const struct check_case check_cases[] = {
    { "none", 0, { { NULL, NULL } }, 0, 0, OK_ROW },
    { "one", 1, { { "env", "prod" } }, 0, 0, OK_ROW },
    { "empty value", 1, { { "env", "" } }, 0, 0, OK_ROW },
    { "no value", 1, { { "env", NULL } }, 0, 0, OK_ROW },
    { "key pattern chars", 1, { { "a b_.:/=+-@9", "v" } }, 0, 0, OK_ROW },
    { "unicode key", 1, { { "caf\xc3\xa9", "v" } }, 0, 0, OK_ROW },
    { "key 128", 1, { { "k", "v" } }, 128, 0, OK_ROW },
    { "key 129", 1, { { "k", "v" } }, 129, 0, BAD(KEY, 0, LE "128") },
    { "empty key", 2, { { "a", "v" }, { "", "v" } }, 0, 0, BAD(KEY, 1, KEY_AT) },
    { "bad key char", 1, { { "a*b", "v" } }, 0, 0, BAD(KEY, 0, "expression pattern") },
    { "value 256", 1, { { "k", "v" } }, 0, 256, OK_ROW },
    { "value 257", 1, { { "k", "v" } }, 0, 257, BAD(VALUE, 0, "at 'tags.member.Value'") },
    { "aws: prefix", 2, { { "a", "v" }, { "aws:x", "v" } }, 0, 0, BAD(RESERVED, 1, RESERVED) },
    { "AWS: prefix", 1, { { "AWS:cost", "v" } }, 0, 0, BAD(RESERVED, 0, "reserved") },
    { "aws without colon", 1, { { "awsx", "v" } }, 0, 0, OK_ROW },
    { "shape first", 2, { { "aws:x", "v" }, { "a*", "v" } }, 0, 0, BAD(KEY, 1, NULL) },
    { "duplicate", 3, { { "a", "1" }, { "b", "2" }, { "a", "3" } }, 0, 0, BAD(DUPLICATE, 2, DUP) },
    { "keys are case-sensitive", 2, { { "a", "1" }, { "A", "2" } }, 0, 0, OK_ROW },
    { "50 tags", 50, { { NULL, NULL } }, 0, 0, OK_ROW },
    { "51 tags", 51, { { NULL, NULL } }, 0, 0, TOO_MANY },
};

/* Fail the test unless rc, fault, at and eb are what want says. */
static void check_answer(const char *what, const struct expect *want, int rc, enum tags_fault fault,
                         size_t at, const struct dd_errbuf *eb)
{
    if (rc != want->rc || fault != want->fault || at != want->at)
        fail_msg("%s: rc %d fault %d at %zu (%s)", what, rc, fault, at, eb->msg);
    if (want->msg && !strstr(eb->msg, want->msg))
        fail_msg("%s: message '%s' lacks '%s'", what, eb->msg, want->msg);
}

static void test_check_table(void **state)
{
    static char keys[MAX_PAIRS][24];
    char long_key[200], long_value[300];
    struct tags_pair pairs[MAX_PAIRS];
    struct dd_errbuf eb;
    enum tags_fault fault;
    size_t i, j, at;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        const struct check_case *c = &check_cases[i];

        assert_true(c->n <= MAX_PAIRS);
        for (j = 0; j < c->n; j++) {
            pairs[j] = j < 4 ? c->pairs[j] : (struct tags_pair){ NULL, NULL };
            if (!pairs[j].key) {
                snprintf(keys[j], sizeof(keys[j]), "k%zu", j);
                pairs[j].key = keys[j];
            }
        }
        if (c->long_key) {
            memset(long_key, 'x', c->long_key);
            long_key[c->long_key] = '\0';
            pairs[0].key = long_key;
        }
        if (c->long_value) {
            memset(long_value, 'x', c->long_value);
            long_value[c->long_value] = '\0';
            pairs[0].value = long_value;
        }
        dd_errbuf_clear(&eb);
        fault = TAGS_FAULT_DUPLICATE;
        at = 99;
        rc = tags_check(c->n ? pairs : NULL, c->n, "tags.member.Key", "tags.member.Value", &fault,
                        &at, &eb);
        check_answer(c->what, &c->want, rc, fault, at, &eb);
    }
}

/* One tags_check_keys() case. */
struct keys_case {
    const char *what;
    size_t n;
    const char *keys[3];
    struct expect want;
};

static const struct keys_case keys_cases[] = {
    { "none", 0, { NULL }, OK_ROW },
    { "plain", 2, { "a", "b" }, OK_ROW },
    { "repeated is fine", 2, { "a", "a" }, OK_ROW },
    { "empty", 2, { "a", "" }, BAD(KEY, 1, "at 'tagKeys.member'") },
    { "missing", 1, { NULL }, BAD(KEY, 0, "Member must not be null") },
    { "reserved", 2, { "a", "aws:b" }, BAD(RESERVED, 1, "reserved") },
};

static void test_keys_table(void **state)
{
    struct dd_errbuf eb;
    enum tags_fault fault;
    size_t i, at;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(keys_cases) / sizeof(keys_cases[0]); i++) {
        const struct keys_case *c = &keys_cases[i];

        dd_errbuf_clear(&eb);
        fault = TAGS_FAULT_DUPLICATE;
        at = 99;
        rc = tags_check_keys(c->keys, c->n, "tagKeys.member", &fault, &at, &eb);
        check_answer(c->what, &c->want, rc, fault, at, &eb);
    }
}

static void test_reserved_and_limit(void **state)
{
    struct dd_errbuf eb;

    (void)state;
    assert_true(tags_reserved("aws:"));
    assert_true(tags_reserved("Aws:x"));
    assert_false(tags_reserved("aws"));
    assert_false(tags_reserved("x:aws:"));
    assert_int_equal(tags_fail_limit(&eb), DD_ERR_LIMIT);
    assert_non_null(strstr(eb.msg, "50"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_keys_table),
        cmocka_unit_test(test_reserved_and_limit),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
