/* SPDX-License-Identifier: MIT */
/* test_snsfilter.c: SNS filter policies. One table of (policy, scope,
 * message, expected match) rows covers every operator and edge in both
 * scopes (the attribute rows are written name=Type:value|...); one table of
 * (bad policy, scope, AWS's message) rows covers every refusal; the limits
 * are checked at their edges; allocation failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/error.h"
#include "core/snsfilter.h"
#include "tests/unit/alloc_fail.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define A    SNSFILTER_ATTRIBUTES
#define B    SNSFILTER_BODY

struct match_row {
    const char *policy;
    enum snsfilter_scope scope;
    const char *message; /* A: name=Type:value|...; NULL = no attributes. B: the body */
    bool want;
};

#define OBJ_P                                                                                      \
    "{\"object\":{\"key\":[{\"prefix\":\"auto-\"},\"hardcodedvalue\"],"                            \
    "\"nested_key\":[{\"exists\":false}]},\"test\":[{\"exists\":false}]}"
#define CW_P                                                                                       \
    "{\"source\":[\"aws.cloudwatch\"],\"$or\":[{\"metricName\":[\"CPUUtilization\"]},"             \
    "{\"namespace\":[\"AWS/EC2\"]}]}"
#define IP_P                                                                                       \
    "{\"detail\":{\"$or\":[{\"sourceIPAddress\":[{\"cidr\":\"10.0.0.0/24\"}]},"                    \
    "{\"sourceIPAddressV6\":[{\"cidr\":\"2001:db8:1234:1a00::/64\"}]}]}}"
#define OR2_P                                                                                      \
    "{\"$or\":[{\"metricName\":[\"CPUUtilization\",\"ReadLatency\"]},"                             \
    "{\"namespace\":[\"AWS/EC2\",\"AWS/ES\"]}],\"detail\":{\"scope\":[\"Service\"],"               \
    "\"$or\":[{\"source\":[\"aws.cloudwatch\"]},{\"type\":[\"CloudWatch Alarm\"]}]}}"

static const struct match_row match_rows[] = {
    /* exact strings, case, missing keys, Binary, AND */
    { "{\"store\":[\"example_corp\"]}", A, "store=String:example_corp", true },
    { "{\"store\":[\"example_corp\"]}", A, "store=String:Example_Corp", false },
    { "{\"store\":[\"example_corp\"]}", A, NULL, false },
    { "{\"store\":[\"example_corp\"]}", A, "other=String:example_corp", false },
    { "{\"store\":[\"example_corp\"]}", A, "store=Binary:ZXhhbXBsZV9jb3Jw", false },
    { "{\"store\":[\"example_corp\"]}", A, "store=String.custom:example_corp", true },
    { "{\"store\":[\"a\"],\"event\":[\"b\"]}", A, "store=String:a", false },
    { "{\"store\":[\"a\"],\"event\":[\"b\"]}", A, "store=String:a|event=String:b", true },
    { "{\"store\":[\"a\",\"b\"]}", A, "store=String:b", true },
    { "{}", A, NULL, true },
    { "{}", B, "not json", true },
    /* String.Array */
    { "{\"ci\":[\"basketball\",\"baseball\"]}", A, "ci=String.Array:[\"basketball\",\"rugby\"]",
      true },
    { "{\"ci\":[\"rugby\",\"tennis\"]}", A, "ci=String.Array:[\"baseball\"]", false },
    { "{\"price\":[100,500]}", A, "price=String.Array:[100, 50]", true },
    { "{\"price\":[100,500]}", A, "price=String.Array:100", true },
    { "{\"price\":[100]}", A, "price=String.Array:one hundred", false },
    { "{\"w\":[\"one hundred\"]}", A, "w=String.Array:one hundred", true },
    /* numbers: strict types, 5 decimals, exponents */
    { "{\"price\":[100]}", A, "price=Number:100", true },
    { "{\"price\":[100]}", A, "price=String:100", false },
    { "{\"price\":[\"100\"]}", A, "price=Number:100", false },
    { "{\"price\":[100]}", A, "price=Number:100.000001", true },
    { "{\"price\":[100]}", A, "price=Number:100.0001", false },
    { "{\"price\":[100.123456789]}", A, "price=Number:100.1234567", true },
    { "{\"p\":[{\"numeric\":[\"=\",301.5]}]}", A, "p=Number:3.015e2", true },
    { "{\"p\":[{\"numeric\":[\"=\",301.5]}]}", A, "p=Number.float:301.50", true },
    { "{\"p\":[{\"numeric\":[\"=\",301.5]}]}", A, "p=String:301.5", false },
    { "{\"p\":[{\"numeric\":[\"=\",301.5]}]}", A, "p=Number:bad", false },
    /* numeric ranges */
    { "{\"a\":[{\"numeric\":[\">\",0,\"<=\",100]}]}", A, "a=Number:99", true },
    { "{\"a\":[{\"numeric\":[\">\",0,\"<=\",100]}]}", A, "a=Number:100", true },
    { "{\"a\":[{\"numeric\":[\">\",0,\"<=\",100]}]}", A, "a=Number:111", false },
    { "{\"a\":[{\"numeric\":[\">\",0,\"<=\",100]}]}", A, "a=Number:0", false },
    { "{\"a\":[{\"numeric\":[\">=\",0,\"<\",100]}]}", A, "a=Number:0", true },
    { "{\"a\":[{\"numeric\":[\">=\",0,\"<\",100]}]}", A, "a=Number:100", false },
    { "{\"a\":[{\"numeric\":[\"<\",0]}]}", A, "a=Number:-0.5", true },
    { "{\"a\":[{\"numeric\":[\"<=\",0]}]}", A, "a=Number:0", true },
    { "{\"a\":[{\"numeric\":[\">\",10]}]}", A, "a=Number:10", false },
    { "{\"a\":[{\"numeric\":[\">\",10]}]}", A, "a=String.Array:[1, 20]", true },
    { "{\"a\":[{\"numeric\":[\">\",10]}]}", B, "{\"a\":[1,20]}", true },
    { "{\"a\":[{\"numeric\":[\">\",10]}]}", B, "{\"a\":\"20\"}", false },
    /* anything-but */
    { "{\"p\":[{\"anything-but\":[100,500]}]}", A, "p=Number:100.1", true },
    { "{\"p\":[{\"anything-but\":[100,500]}]}", A, "p=Number:100", false },
    { "{\"n\":[{\"anything-but\":[\"100\"]}]}", A, "n=Number:100", true },
    { "{\"n\":[{\"anything-but\":\"x\"}]}", A, "n=String:x", false },
    { "{\"n\":[{\"anything-but\":\"x\"}]}", A, "n=String:y", true },
    { "{\"n\":[{\"anything-but\":5}]}", A, "n=Number:5", false },
    { "{\"n\":[{\"anything-but\":\"x\"}]}", A, "m=String:y", false },
    { "{\"e\":[{\"anything-but\":{\"prefix\":\"order-\"}}]}", A, "e=String:order_number", true },
    { "{\"e\":[{\"anything-but\":{\"prefix\":\"order-\"}}]}", A, "e=String:order-cancelled",
      false },
    { "{\"ci\":[{\"anything-but\":[\"rugby\",\"tennis\"]}]}", A,
      "ci=String.Array:[\"rugby\",\"baseball\"]", false },
    { "{\"ci\":[{\"anything-but\":[\"rugby\",\"tennis\"]}]}", A,
      "ci=String.Array:[\"golf\",\"baseball\"]", true },
    { "{\"ci\":[{\"anything-but\":[\"rugby\",\"tennis\"]}]}", B, "{\"ci\":[\"rugby\",\"golf\"]}",
      false },
    { "{\"ci\":[{\"anything-but\":[\"rugby\"]}]}", B, "{\"ci\":[]}", false },
    { "{\"a\":[null,{\"anything-but\":\"whatever\"}]}", A, NULL, false },
    /* prefix, suffix, equals-ignore-case */
    { "{\"ci\":[{\"prefix\":\"bas\"}]}", A, "ci=String:baseball", true },
    { "{\"ci\":[{\"prefix\":\"bas\"}]}", A, "ci=String:rugby", false },
    { "{\"ci\":[{\"prefix\":\"bas\"}]}", A, "ci=String:ba", false },
    { "{\"ci\":[{\"suffix\":\"ball\"}]}", A, "ci=String:basketball", true },
    { "{\"ci\":[{\"suffix\":\"ball\"}]}", A, "ci=String:rugby", false },
    { "{\"ci\":[{\"suffix\":\"100\"}]}", A, "ci=Number:100", false },
    { "{\"ci\":[{\"equals-ignore-case\":\"tennis\"}]}", A, "ci=String:TeNnis", true },
    { "{\"ci\":[{\"equals-ignore-case\":\"tennis\"}]}", A, "ci=String:tenis", false },
    { "{\"ci\":[{\"equals-ignore-case\":\"tennis\"}]}", B, "{\"ci\":\"TENNIS\"}", true },
    /* cidr */
    { "{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", A, "ip=String:10.0.0.255", true },
    { "{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", A, "ip=String:10.1.1.0", false },
    { "{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", A, "ip=String:10.0.0.256", false },
    { "{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", A, "ip=String:10.0.0.1/32", false },
    { "{\"ip\":[{\"cidr\":\"10.0.0.0/24\"}]}", A, "ip=String:::ffff:10.0.0.1", false },
    { "{\"ip\":[{\"cidr\":\"0.0.0.0/0\"}]}", A, "ip=String:192.168.1.1", true },
    { "{\"ip\":[{\"cidr\":\"2001:db8::/32\"}]}", A, "ip=String:2001:db8:ffff::1", true },
    { "{\"ip\":[{\"cidr\":\"2001:db8::/32\"}]}", A, "ip=String:2001:db9::1", false },
    /* exists */
    { "{\"store\":[{\"exists\":true}]}", A, "store=Number:99", true },
    { "{\"store\":[{\"exists\":true}]}", A, "event=String:x", false },
    { "{\"store\":[{\"exists\":true}]}", A, "store=Binary:eA==", false },
    { "{\"store\":[{\"exists\":false}]}", A, "event=String:x", true },
    { "{\"store\":[{\"exists\":false}]}", A, "store=Number:99", false },
    { "{\"store\":[{\"exists\":false}]}", A, NULL, false },
    { "{\"store\":[{\"exists\":false}]}", B, "{\"other\":1}", true },
    { "{\"store\":[{\"exists\":true}]}", B, "{\"store\":null}", false },
    { "{\"store\":[{\"exists\":false}]}", B, "{\"store\":null}", true },
    { "{\"store\":[\"x\",{\"exists\":false}]}", A, "store=String:x", true },
    /* $or */
    { CW_P, A, "source=String:aws.cloudwatch|namespace=String:AWS/EC2", true },
    { CW_P, A, "source=String:aws.cloudwatch", false },
    { CW_P, A, "source=String:aws.cloudwatch|metricName=String:CPUUtilization", true },
    { CW_P, A, "namespace=String:AWS/EC2", false },
    { "{\"$or\":[{\"prefix\":\"x\"},{\"suffix\":\"y\"}]}", A, "$or=String:xa", true },
    /* body scope: nesting, dots, arrays, types */
    { OBJ_P, B, "{\"object\":{\"key\":\"auto-test\"}}", true },
    { OBJ_P, B, "{\"object\":{\"key\":\"hardcodedvalue\"}}", true },
    { OBJ_P, B, "{\"object\":{\"key\":\"auto-test\"},\"test\":\"x\"}", false },
    { OBJ_P, B, "{\"object\":{\"key\":\"auto-test\",\"nested_key\":\"x\"}}", false },
    { OBJ_P, B, "{\"object\":{\"key\":\"test-auto\"}}", false },
    { OBJ_P, B, "Regular string message", false },
    { OBJ_P, B, "\"json string\"", false },
    { OBJ_P, B, "[{\"object\":{\"key\":\"auto-test\"}}]", false },
    { OBJ_P, B, NULL, false },
    { "{\"object.nested\":[\"v\"]}", B, "{\"object\":{\"nested\":\"v\"}}", true },
    { "{\"object.nested\":[\"v\"]}", B, "{\"object.nested\":\"v\"}", true },
    { "{\"a\":{\"b\":{\"c\":[\"v\"]}}}", B, "{\"a\":{\"b.c\":\"v\"}}", true },
    { "{\"a\":{\"b\":[\"v\"]}}", B, "{\"a\":{\"b\":{\"c\":\"v\"}}}", false },
    { "{\"a\":{\"b\":[\"v\"]}}", B, "{\"a\":\"v\"}", false },
    { "{\"headers\":{\"route-to\":[\"queue1\"]}}", B,
      "{\"headers\":{\"route-to\":[\"queue1\",\"q2\"]}}", true },
    { "{\"headers\":{\"route-to\":[\"queue1\"]}}", B, "{\"headers\":{\"route-to\":[\"queue3\"]}}",
      false },
    { "{\"Records\":{\"eventName\":[{\"prefix\":\"ObjectCreated:\"}]}}", B,
      "{\"Records\":[{\"eventName\":\"ObjectRemoved:Delete\"},{\"eventName\":\"ObjectCreated:Put\"}"
      "]}",
      true },
    { "{\"Records\":{\"eventName\":[{\"prefix\":\"ObjectCreated:\"}]}}", B,
      "{\"Records\":[{\"eventName\":\"ObjectRemoved:Delete\"}]}", false },
    { "{\"detail\":{\"eventVersion\":[\"\"]}}", B,
      "{\"resources\":[],\"detail\":{\"eventVersion\":\"\",\"responseElements\":null}}", true },
    { "{\"price\":[100]}", B, "{\"price\":100}", true },
    { "{\"price\":[100]}", B, "{\"price\":\"100\"}", false },
    { "{\"price\":[100]}", B, "{\"price\":1e2}", true },
    { "{\"ok\":[true]}", B, "{\"ok\":true}", true },
    { "{\"ok\":[true]}", B, "{\"ok\":\"true\"}", false },
    { "{\"ok\":[false]}", B, "{\"ok\":true}", false },
    { "{\"v\":[null]}", B, "{\"v\":null}", true },
    { "{\"v\":[null]}", B, "{\"v\":0}", false },
    { IP_P, B, "{\"detail\":{\"sourceIPAddress\":\"10.0.0.255\"}}", true },
    { IP_P, B, "{\"detail\":{\"sourceIPAddress\":\"10.0.0.256\"}}", false },
    { IP_P, B, "{\"detail\":{\"sourceIPAddressV6\":\"2001:0db8:1234:1a00:0000:0000:0000:0000\"}}",
      true },
    { IP_P, B, "{\"detail\":{\"sourceIPAddressV6\":\"2001:0db8:123f:1a01::\"}}", false },
    { OR2_P, B,
      "{\"namespace\":\"AWS/"
      "EC2\",\"detail\":{\"scope\":\"Service\",\"source\":\"aws.cloudwatch\"}}",
      true },
    { OR2_P, B, "{\"metricName\":\"CPUUtilization\",\"detail\":{\"scope\":\"Service\"}}", false },
    { OR2_P, B,
      "{\"metricName\":\"ReadLatency\",\"detail\":{\"scope\":\"Other\",\"type\":\"CloudWatch "
      "Alarm\"}}",
      false },
};

/* name=Type:value|... as SNS's attribute map JSON (a new string to free). */
static char *attrs_json(const char *spec)
{
    cJSON *map = cJSON_CreateObject(), *a;
    char buf[512], *p, *next, *eq, *colon, *out;

    assert_non_null(map);
    assert_true(strlen(spec) < sizeof(buf));
    strcpy(buf, spec);
    for (p = buf; p; p = next) {
        next = strchr(p, '|');
        if (next)
            *next++ = '\0';
        eq = strchr(p, '=');
        assert_non_null(eq);
        colon = strchr(eq, ':');
        assert_non_null(colon);
        *eq = *colon = '\0';
        a = cJSON_AddObjectToObject(map, p);
        assert_non_null(a);
        assert_non_null(cJSON_AddStringToObject(a, "Type", eq + 1));
        assert_non_null(cJSON_AddStringToObject(a, "Value", colon + 1));
    }
    out = cJSON_PrintUnformatted(map);
    assert_non_null(out);
    cJSON_Delete(map);
    return out;
}

static void test_match_table(void **state)
{
    struct snsfilter *f;
    struct dd_errbuf eb;
    char *attrs;
    size_t i;
    bool got;
    int rc;

    (void)state;
    for (i = 0; i < N(match_rows); i++) {
        const struct match_row *r = &match_rows[i];

        f = NULL;
        rc = snsfilter_parse(r->policy, r->scope, &f, &eb);
        if (rc)
            fail_msg("row %zu: %s: %s", i, r->policy, eb.msg);
        assert_int_equal(snsfilter_scope(f), r->scope);
        if (r->scope == A) {
            attrs = r->message ? attrs_json(r->message) : NULL;
            got = snsfilter_match_attributes(f, attrs);
            cJSON_free(attrs);
        } else {
            got = snsfilter_match_body(f, r->message);
        }
        if (got != r->want)
            fail_msg("row %zu: %s against %s: got %d", i, r->policy,
                     r->message ? r->message : "(none)", got);
        snsfilter_free(f);
    }
}

struct bad_row {
    const char *policy;
    enum snsfilter_scope scope;
    const char *msg; /* after "Invalid parameter: " */
};

#define FP "FilterPolicy: "

static const struct bad_row bad_rows[] = {
    { "{invalidjson}", A,
      FP "failed to parse JSON. Unexpected character ('i' (code 105)): was expecting "
         "double-quote to start field name" },
    { "", A, FP "failed to parse JSON. No content to map due to end-of-input" },
    { "{\"a\":[\"b\"]", A, FP "failed to parse JSON. Unexpected end-of-input" },
    { "{\"a\":[\"b\"]} x", A,
      FP "failed to parse JSON. Unexpected character ('x' (code 120)): expected a valid value "
         "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')" },
    { "[\"a\"]", A, FP "Filter is not an object" },
    { "{\"key_a\":\"value_one\"}", A, FP "\"key_a\" must be an object or an array" },
    { "{\"key_a\":5}", B, FP "\"key_a\" must be an object or an array" },
    { "{\"key\":{\"suffix\":\"v\"}}", A, FP "\"suffix\" must be an object or an array" },
    { "{\"a\":{\"b\":[\"v\"]}}", A,
      "Filter policy scope MessageAttributes does not support nested filter policy" },
    { "{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],\"e\":[1],\"f\":[1]}", A,
      FP "Filter policy can not have more than 5 keys" },
    { "{\"a\":[1],\"b\":[1],\"c\":[1],\"d\":[1],\"e\":[1],\"f\":[1]}", B,
      FP "Filter policy can not have more than 5 keys" },
    { "{\"key\":[]}", A, FP "Empty arrays are not allowed" },
    { "{\"key\":[[\"v\"]]}", A, FP "Match value must be String, number, true, false, or null" },
    { "{\"key\":[{\"wrong-operator\":true}]}", A, FP "Unrecognized match type wrong-operator" },
    { "{\"$or\":[{\"a\":[\"x\"]}]}", A, FP "Unrecognized match type a" },
    { "{\"key\":[{\"prefix\":\"a\",\"suffix\":\"b\"}]}", A,
      FP "Only one key allowed in match expression" },
    { "{\"key\":[{}]}", A, FP "Only one key allowed in match expression" },
    { "{\"key\":[{\"suffix\":1}]}", A, FP "suffix match pattern must be a string" },
    { "{\"key\":[{\"prefix\":null}]}", A, FP "prefix match pattern must be a string" },
    { "{\"key\":[{\"equals-ignore-case\":[\"a\"]}]}", A,
      FP "equals-ignore-case match pattern must be a string" },
    { "{\"key\":[{\"cidr\":[\"x\"]}]}", A, FP "prefix match pattern must be a string" },
    { "{\"key\":[{\"cidr\":\"bad-filter\"}]}", A, FP "Malformed CIDR, one '/' required" },
    { "{\"key\":[{\"cidr\":\"1.2.3.4/8/8\"}]}", A, FP "Malformed CIDR, one '/' required" },
    { "{\"key\":[{\"cidr\":\"bad-/64filter\"}]}", A,
      FP "Malformed CIDR, mask bits must be an integer" },
    { "{\"key\":[{\"cidr\":\"10.0.0.0/\"}]}", A,
      FP "Malformed CIDR, mask bits must be an integer" },
    { "{\"key\":[{\"cidr\":\"xx.11.xx/8\"}]}", A, FP "Nonstandard IP address: xx.11.xx" },
    { "{\"key\":[{\"cidr\":\"10.0.0.0/33\"}]}", A, FP "Nonstandard IP address: 10.0.0.0" },
    { "{\"key\":[{\"exists\":null}]}", A, FP "exists match pattern must be either true or false." },
    { "{\"key\":[{\"exists\":\"no\"}]}", A,
      FP "exists match pattern must be either true or false." },
    { "{\"key\":[{\"anything-but\":{\"suffix\":\"t\"}}]}", A,
      FP "Unsupported anything-but pattern: suffix" },
    { "{\"key\":[{\"anything-but\":{\"prefix\":false}}]}", A,
      FP "prefix match pattern must be a string" },
    { "{\"key\":[{\"anything-but\":{}}]}", A, FP "Anything-But expression name not found" },
    { "{\"key\":[{\"anything-but\":{\"prefix\":\"a\",\"x\":1}}]}", A,
      FP "Only one key allowed in match expression" },
    { "{\"key\":[{\"anything-but\":[]}]}", A, FP "Empty arrays are not allowed" },
    { "{\"key\":[{\"anything-but\":[\"a\",true]}]}", A,
      FP "Inside anything but list, start|null|boolean is not supported." },
    { "{\"key\":[{\"anything-but\":null}]}", A,
      FP "Value of anything-but must be an array or single string/number value." },
    { "{\"key\":[{\"numeric\":[]}]}", A, FP "Invalid member in numeric match: ]" },
    { "{\"key\":[{\"numeric\":5}]}", A, FP "Value of numeric must be an array." },
    { "{\"key\":[{\"numeric\":[\"operator\"]}]}", A,
      FP "Unrecognized numeric range operator: operator" },
    { "{\"key\":[{\"numeric\":[1,\"<=\"]}]}", A, FP "Invalid member in numeric match: 1" },
    { "{\"key\":[{\"numeric\":[\"=\",\"000\"]}]}", A, FP "Value of equals must be numeric" },
    { "{\"key\":[{\"numeric\":[\">=\"]}]}", A, FP "Value of >= must be numeric" },
    { "{\"key\":[{\"numeric\":[\"<\",100,\">\",10]}]}", A,
      FP "Too many elements in numeric expression" },
    { "{\"key\":[{\"numeric\":[\">=\",1,\">\",2]}]}", A, FP "Bad numeric range operator: >" },
    { "{\"key\":[{\"numeric\":[\">\",3,\"<\",1]}]}", A, FP "Bottom must be less than top" },
    { "{\"key\":[{\"numeric\":[\">\",3,\"<\",3]}]}", A, FP "Bottom must be less than top" },
    { "{\"key\":[{\"numeric\":[\">\",20,30]}]}", A, FP "Bad value in numeric range: 30" },
    { "{\"key\":[{\"numeric\":[\">\",20,\"<\"]}]}", A, FP "Value of < must be numeric" },
    { "{\"key\":[{\"numeric\":[\">\",20,\"<\",30,\"<\",50]}]}", A,
      FP "Too many terms in numeric range expression" },
};

static void test_bad_table(void **state)
{
    char want[600];
    struct snsfilter *f;
    struct dd_errbuf eb;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < N(bad_rows); i++) {
        f = (struct snsfilter *)&eb; /* must be cleared */
        rc = snsfilter_parse(bad_rows[i].policy, bad_rows[i].scope, &f, &eb);
        if (rc != DD_ERR_INVALID)
            fail_msg("row %zu: %s: rc %d", i, bad_rows[i].policy, rc);
        assert_null(f);
        snprintf(want, sizeof(want), "Invalid parameter: %s", bad_rows[i].msg);
        if (strcmp(eb.msg, want))
            fail_msg("row %zu: %s:\n got  %s\n want %s", i, bad_rows[i].policy, eb.msg, want);
        assert_string_equal(snsfilter_reason(eb.msg), bad_rows[i].msg);
    }
    f = (struct snsfilter *)&eb;
    assert_int_equal(snsfilter_parse(NULL, A, &f, &eb), DD_ERR_INVALID);
    assert_null(f);
    assert_string_equal(snsfilter_reason("other"), "other");
}

/* Parse and expect DD_OK (want_ok) or "too complex". */
static void expect_complexity(const char *policy, enum snsfilter_scope scope, bool want_ok)
{
    struct snsfilter *f = NULL;
    struct dd_errbuf eb;
    int rc = snsfilter_parse(policy, scope, &f, &eb);

    if (want_ok) {
        if (rc)
            fail_msg("%s: %s", policy, eb.msg);
    } else {
        assert_int_equal(rc, DD_ERR_INVALID);
        assert_string_equal(eb.msg,
                            "Invalid parameter: FilterPolicy: Filter policy is too complex");
    }
    snsfilter_free(f);
}

/* A JSON array of n distinct strings. */
static void values(char *buf, size_t size, int n)
{
    size_t len = 0;
    int i;

    len += (size_t)snprintf(buf + len, size - len, "[");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s\"v%d\"", i ? "," : "", i);
    snprintf(buf + len, size - len, "]");
}

static void test_limits(void **state)
{
    char a[2048], b[2048], p[8192];
    struct snsfilter *f = NULL;
    struct dd_errbuf eb;
    char *big;

    (void)state;
    values(a, sizeof(a), 150);
    snprintf(p, sizeof(p), "{\"k\":%s}", a);
    expect_complexity(p, A, true);
    values(a, sizeof(a), 151);
    snprintf(p, sizeof(p), "{\"k\":%s}", a);
    expect_complexity(p, A, false);
    /* 10 x 15 flat is 150; x 16 is 160. */
    values(a, sizeof(a), 10);
    values(b, sizeof(b), 15);
    snprintf(p, sizeof(p), "{\"k\":%s,\"l\":%s}", a, b);
    expect_complexity(p, A, true);
    values(b, sizeof(b), 16);
    snprintf(p, sizeof(p), "{\"k\":%s,\"l\":%s}", a, b);
    expect_complexity(p, A, false);
    /* The guide's nested example: 3 x 4 x 2 x 3 = 72; with a third key of 3 values, 216. */
    expect_complexity("{\"a\":{\"b\":{\"c\":[1,2,3,4]}},\"d\":{\"e\":[1,2,3]}}", B, true);
    expect_complexity("{\"a\":{\"b\":{\"c\":[1,2,3,4]}},\"d\":{\"e\":[1,2,3]},\"f\":[1,2,3]}", B,
                      false);
    /* $or adds its alternatives: 75 + 75 = 150 passes, 75 + 76 does not. */
    values(a, sizeof(a), 75);
    values(b, sizeof(b), 76);
    snprintf(p, sizeof(p), "{\"$or\":[{\"x\":%s},{\"y\":%s}]}", a, a);
    expect_complexity(p, A, true);
    snprintf(p, sizeof(p), "{\"$or\":[{\"x\":%s},{\"y\":%s}]}", a, b);
    expect_complexity(p, A, false);
    /* Nesting: a leaf 150 levels down is 150 combinations, 151 too many. */
    {
        char deep[4096];
        size_t len = 0;
        int i;

        for (i = 0; i < 149; i++)
            len += (size_t)snprintf(deep + len, sizeof(deep) - len, "{\"k\":");
        len += (size_t)snprintf(deep + len, sizeof(deep) - len, "{\"k\":[1]}");
        for (i = 0; i < 149; i++)
            deep[len++] = '}';
        deep[len] = '\0';
        expect_complexity(deep, B, true);
        memmove(deep + 5, deep, len + 1);
        memcpy(deep, "{\"k\":", 5);
        strcat(deep, "}");
        expect_complexity(deep, B, false);
    }
    /* 256 KB. */
    big = malloc(SNSFILTER_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, ' ', SNSFILTER_MAX_BYTES + 1);
    memcpy(big, "{\"k\":[\"v\"]}", 11);
    big[SNSFILTER_MAX_BYTES] = '\0';
    assert_int_equal(snsfilter_parse(big, A, &f, &eb), DD_OK);
    snsfilter_free(f);
    big[SNSFILTER_MAX_BYTES] = ' ';
    big[SNSFILTER_MAX_BYTES + 1] = '\0';
    assert_int_equal(snsfilter_parse(big, A, &f, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "Invalid parameter: FilterPolicy: Filter policy is too long");
    free(big);
}

static int parse_case(void *ctx)
{
    struct snsfilter *f = NULL;
    struct dd_errbuf eb;
    int rc = snsfilter_parse(ctx, B, &f, &eb);

    snsfilter_free(f);
    return rc;
}

static void test_alloc_failures(void **state)
{
    (void)state;
    assert_true(alloc_fail_sweep(parse_case, "{\"a\":{\"b\":[\"x\",{\"prefix\":\"y\"}]},"
                                             "\"$or\":[{\"n\":[{\"numeric\":[\">\",1]}]},"
                                             "{\"m\":[{\"anything-but\":[1,\"z\"]}]}]}") > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_bad_table),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
