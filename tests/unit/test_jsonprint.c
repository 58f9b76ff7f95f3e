/* SPDX-License-Identifier: MIT */
/* test_jsonprint.c: core/jsonprint.c prints what cJSON_PrintUnformatted()
 * prints. Rows of documents and of numbers are printed both ways and
 * compared, then 20,000 random trees (a fixed seed) of every item type,
 * numbers of every size and strings of every byte; then what neither can
 * print, and every failed allocation; last the text builder it prints
 * into (jsontext), which core/sns.c builds with too. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "alloc_fail.h"
#include "core/error.h"
#include "core/jsonprint.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Print item both ways; they must agree (and neither fail). */
static void assert_same(const cJSON *item)
{
    char *want = cJSON_PrintUnformatted(item);
    char *got = jsonprint(item);

    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    cJSON_free(want);
    free(got);
}

static const char *const docs[] = {
    "{}",
    "[]",
    "null",
    "true",
    "false",
    "\"\"",
    "0",
    "{\"state\":{\"reported\":{\"seq\":\"1-2\"}},\"metadata\":{\"reported\":{\"seq\":"
    "{\"timestamp\":1796639400}}},\"version\":7,\"timestamp\":1796639400}",
    "[1,[2,[3,[]]],{\"a\":{}},\"x\",null,true,false]",
    "{\"\":\"\",\"a b\":\"tab\\there\",\"q\":\"\\\"\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\"}",
    "\"caf\\u00e9 \\u2603 \\ud83d\\ude00\"",
    "[0.1,0.5,-2.5,1e-7,3.14159265358979,1e300,-1e-300,5e-324,1.7976931348623157e308]",
    "[123456789012345,999999999999999,1000000000000000,-999999999999999,9007199254740993]",
    "[1e15,1e16,1e17,1e21,123456789012345678,-0.0,-0]",
};

static void test_documents(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < N(docs); i++) {
        cJSON *item = cJSON_Parse(docs[i]);

        assert_non_null(item);
        assert_same(item);
        cJSON_Delete(item);
    }
}

static void test_numbers(void **state)
{
    static const double numbers[] = {
        0,
        1,
        -1,
        10,
        1796639400,
        4294967296.0,
        -2147483649.0,
        999999999999999.0,
        1e15,
        1e15 + 1,
        9007199254740992.0,
        0.1,
        1.0 / 3,
        2.0 / 3,
        1e-5,
        123.456,
        -0.0,
        1e308,
        2.2250738585072014e-308,
        4.9e-324,
    };
    size_t i;

    (void)state;
    for (i = 0; i < N(numbers); i++) {
        cJSON *item = cJSON_CreateNumber(numbers[i]);

        assert_non_null(item);
        assert_same(item);
        cJSON_Delete(item);
    }
}

static void test_not_numbers(void **state)
{
    const double values[] = { NAN, INFINITY, -INFINITY };
    size_t i;

    (void)state;
    for (i = 0; i < N(values); i++) {
        cJSON *item = cJSON_CreateNumber(values[i]);
        char *got = jsonprint(item);

        assert_string_equal(got, "null");
        assert_same(item);
        free(got);
        cJSON_Delete(item);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A string of 0 to 12 random bytes, none NUL, into buf (13 bytes). */
static const char *random_text(char *buf)
{
    size_t n = rnd() % 13, i;

    for (i = 0; i < n; i++)
        buf[i] = (char)(1 + rnd() % 255);
    buf[n] = '\0';
    return buf;
}

/* A number of one of several kinds: small and large integers, fractions,
 * any bit pattern (NaN and infinities among them). */
static double random_number(void)
{
    uint64_t bits;
    double d;

    switch (rnd() % 5) {
    case 0:
        return (double)((int64_t)(rnd() % 2000001) - 1000000);
    case 1:
        return (double)(int64_t)rnd() / (double)(1 + rnd() % 1000000);
    case 2:
        return ldexp((double)(rnd() >> 11), (int)(rnd() % 120) - 60);
    case 3:
        return (double)(int64_t)(rnd() >> (rnd() % 64));
    default:
        bits = rnd();
        memcpy(&d, &bits, sizeof(d));
        return d;
    }
}

static cJSON *random_item(int depth)
{
    char buf[13];
    cJSON *item, *child;
    int i, n;

    switch (rnd() % (depth > 0 ? 7 : 5)) {
    case 0:
        return cJSON_CreateNull();
    case 1:
        return cJSON_CreateBool(rnd() % 2);
    case 2:
    case 3:
        return cJSON_CreateNumber(random_number());
    case 4:
        return cJSON_CreateString(random_text(buf));
    case 5:
        item = cJSON_CreateArray();
        n = (int)(rnd() % 5);
        for (i = 0; i < n; i++)
            cJSON_AddItemToArray(item, random_item(depth - 1));
        return item;
    default:
        item = cJSON_CreateObject();
        n = (int)(rnd() % 5);
        for (i = 0; i < n; i++) {
            child = random_item(depth - 1);
            cJSON_AddItemToObject(item, random_text(buf), child);
        }
        return item;
    }
}

static void test_random_trees(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < 20000; i++) {
        cJSON *item = random_item(4);

        assert_non_null(item);
        assert_same(item);
        cJSON_Delete(item);
    }
}

/* A raw item prints as its text; without text, or of no type, the tree
 * cannot print, here as in cJSON. */
static void test_raw_and_invalid(void **state)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *raw = cJSON_AddRawToObject(o, "r", "[1, 2]");
    char *got;

    (void)state;
    assert_non_null(raw);
    got = jsonprint(o);
    assert_string_equal(got, "{\"r\":[1, 2]}");
    assert_same(o);
    free(got);

    cJSON_free(raw->valuestring);
    raw->valuestring = NULL;
    assert_null(jsonprint(o));
    assert_null(cJSON_PrintUnformatted(o));

    raw->type = cJSON_Invalid;
    assert_null(jsonprint(o));
    assert_null(cJSON_PrintUnformatted(o));
    cJSON_Delete(o);
    assert_null(jsonprint(NULL));
}

static int print_case(void *ctx)
{
    char *text = jsonprint(ctx);

    if (!text)
        return DD_ERR_NOMEM;
    free(text);
    return DD_OK;
}

/* Every allocation can fail: NULL, and nothing leaks. The long string
 * makes the buffer grow after its first allocation. */
static void test_alloc_failures(void **state)
{
    char big[600];
    cJSON *o = cJSON_Parse(docs[8]);

    (void)state;
    assert_non_null(o);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_non_null(cJSON_AddStringToObject(o, "big", big));
    assert_true(alloc_fail_sweep(print_case, o) >= 2);
    cJSON_Delete(o);
}

/* Pieces appended in turn, a string escaped as jsonprint() escapes it,
 * and what take hands over: nothing for an empty text, the text, and
 * after a failure nothing but DD_ERR_NOMEM. */
static void test_jsontext(void **state)
{
    struct jsontext t = { 0 };
    char *text = (char *)"x";

    (void)state;
    assert_int_equal(jsontext_take(&t, &text), DD_OK);
    assert_null(text);
    jsontext_cat(&t, "{");
    jsontext_string(&t, "a\"\\\n\x01\x7f\xc3\xa9");
    jsontext_put(&t, ":nullx", 5);
    jsontext_string(&t, NULL);
    jsontext_cat(&t, "}");
    assert_int_equal(jsontext_take(&t, &text), DD_OK);
    assert_string_equal(text, "{\"a\\\"\\\\\\n\\u0001\x7f\xc3\xa9\":null\"\"}");
    assert_true(t.p == NULL && t.len == 0 && !t.failed);
    free(text);
    jsontext_cat(&t, "lost");
    t.failed = true;
    jsontext_cat(&t, " and more");
    assert_int_equal(jsontext_take(&t, &text), DD_ERR_NOMEM);
    assert_null(text);
    jsontext_cat(&t, "again");
    assert_int_equal(jsontext_take(&t, &text), DD_OK);
    assert_string_equal(text, "again");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_documents),       cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_not_numbers),     cmocka_unit_test(test_random_trees),
        cmocka_unit_test(test_raw_and_invalid), cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_jsontext),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
