/* SPDX-License-Identifier: MIT */
/* test_shadow.c: the Device Shadow model of core/shadow.c.
 *
 * The worked examples E1-E10 of the shadow reference run as one chain of
 * updates on the classic shadow of "lamp-7"; each example is its own test
 * that replays the chain up to its step. Merge, metadata, delta, validation,
 * limit, token, topic and error-document rules are table rows. Payloads are
 * compared as parsed JSON (cJSON_Compare), never as strings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "core/error.h"
#include "core/shadow.h"
#include "tests/unit/alloc_fail.h"

#define T 1700000000

/* got must be JSON equal to want; want NULL means got must be NULL. */
static void assert_json_equal(const char *got, const char *want)
{
    cJSON *g, *w;
    int same;

    if (!want) {
        if (got)
            fail_msg("expected no payload, got %s", got);
        return;
    }
    if (!got)
        fail_msg("expected %s, got no payload", want);
    g = cJSON_Parse(got);
    w = cJSON_Parse(want);
    if (!w)
        fail_msg("bad expected JSON in test: %s", want);
    same = g && cJSON_Compare(g, w, 1);
    cJSON_Delete(g);
    cJSON_Delete(w);
    if (!same)
        fail_msg("got  %s\nwant %s", got, want);
}

/* A shadow as the store keeps it. */
struct sh {
    char *stored; /* NULL = does not exist */
    int64_t version;
};

static void sh_cleanup(struct sh *sh)
{
    free(sh->stored);
    sh->stored = NULL;
    sh->version = 0;
}

/* Apply req at now and expect success; the shadow takes the new stored text,
 * the caller owns *res (NULL = not wanted). */
static void sh_update(struct sh *sh, const char *req, int64_t now, struct shadow_update_result *res)
{
    struct shadow_update_result r;
    struct shadow_error err;
    int rc = shadow_update(sh->stored, sh->version, req, strlen(req), now, NULL, &r, &err);

    if (rc)
        fail_msg("update %s: rc %d, %d %s", req, rc, err.code, err.message);
    assert_int_equal(err.code, 0);
    assert_int_equal(r.version, sh->version + 1);
    free(sh->stored);
    sh->stored = r.stored;
    sh->version = r.version;
    r.stored = NULL;
    if (res)
        *res = r;
    else
        shadow_update_result_cleanup(&r);
}

static void sh_assert_get(const struct sh *sh, int64_t now, const char *token, const char *want)
{
    char *doc = (char *)1;

    assert_int_equal(shadow_get(sh->stored, sh->version, now, token, &doc), DD_OK);
    assert_json_equal(doc, want);
    free(doc);
}

/* ---- E1-E10 -------------------------------------------------------------- */

static const struct {
    const char *req;
    int64_t now;
} chain[] = {
    /* E1 */ {
        "{\"state\":{\"reported\":{\"lamp\":\"off\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
        "\"clientToken\":\"dev-1\"}",
        T },
    /* E2 */ { "{\"state\":{\"desired\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}}}}", T + 60 },
    /* E3 */ { "{\"state\":{\"reported\":{\"lamp\":\"on\"}},\"clientToken\":\"dev-2\"}", T + 120 },
    /* E4 */
    { "{\"state\":{\"reported\":{\"fw\":{\"ver\":\"1.1.0\",\"build\":null}},\"desired\":null},"
      "\"clientToken\":\"dev-3\"}",
      T + 180 },
    /* E5 */
    { "{\"state\":{\"desired\":{\"slots\":[1,2,3]},\"reported\":{\"slots\":[1,2]}}}", T + 240 },
    /* E5, second half */ { "{\"state\":{\"reported\":{\"slots\":[1,2,3]}}}", T + 300 },
    /* E6 */
    { "{\"state\":{\"reported\":{\"lamp\":{\"mode\":\"eco\",\"level\":null},\"ghost\":{\"a\":null}}"
      "}}",
      T + 360 },
    /* E7 */ { "{\"state\":null}", T + 420 },
    /* E8, accepted */
    { "{\"state\":{\"desired\":{\"lamp\":\"off\"}},\"version\":8,\"clientToken\":\"app-9\"}",
      T + 480 },
};

/* Bring sh to the state after the first n steps of the chain. */
static void chain_replay(struct sh *sh, size_t n)
{
    size_t i;

    sh->stored = NULL;
    sh->version = 0;
    for (i = 0; i < n; i++)
        sh_update(sh, chain[i].req, chain[i].now, NULL);
}

static void chain_step(struct sh *sh, size_t step, struct shadow_update_result *res)
{
    chain_replay(sh, step);
    sh_update(sh, chain[step].req, chain[step].now, res);
}

static void test_e1_device_creates(void **state)
{
    struct sh sh;
    struct shadow_update_result r;
    const char *doc =
        "\"state\":{\"reported\":{\"lamp\":\"off\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
        "\"metadata\":{\"reported\":{\"lamp\":{\"timestamp\":1700000000},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000000},\"build\":{\"timestamp\":1700000000}}}}";
    char want[1024];

    (void)state;
    chain_step(&sh, 0, &r);
    snprintf(want, sizeof(want),
             "{%s,\"version\":1,\"timestamp\":1700000000,\"clientToken\":\"dev-1\"}", doc);
    assert_json_equal(r.accepted, want);
    snprintf(want, sizeof(want),
             "{\"previous\":null,\"current\":{%s,\"version\":1},\"timestamp\":1700000000,"
             "\"clientToken\":\"dev-1\"}",
             doc);
    assert_json_equal(r.documents, want);
    assert_null(r.delta);
    snprintf(want, sizeof(want), "{%s}", doc);
    assert_json_equal(sh.stored, want);
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e2_app_sets_desired(void **state)
{
    struct sh sh;
    struct shadow_update_result r;

    (void)state;
    chain_step(&sh, 1, &r);
    assert_json_equal(r.delta, "{\"state\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}},"
                               "\"metadata\":{\"lamp\":{\"timestamp\":1700000060},"
                               "\"fw\":{\"ver\":{\"timestamp\":1700000060}}},"
                               "\"version\":2,\"timestamp\":1700000060}");
    assert_json_equal(r.accepted,
                      "{\"state\":{\"desired\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}}},"
                      "\"metadata\":{\"desired\":{\"lamp\":{\"timestamp\":1700000060},"
                      "\"fw\":{\"ver\":{\"timestamp\":1700000060}}}},"
                      "\"version\":2,\"timestamp\":1700000060}");
    sh_assert_get(
        &sh, T + 61, NULL,
        "{\"state\":{\"desired\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}},"
        "\"reported\":{\"lamp\":\"off\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}},"
        "\"delta\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}}},"
        "\"metadata\":{\"desired\":{\"lamp\":{\"timestamp\":1700000060},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000060}}},"
        "\"reported\":{\"lamp\":{\"timestamp\":1700000000},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000000},\"build\":{\"timestamp\":1700000000}}}},"
        "\"version\":2,\"timestamp\":1700000061}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e3_device_reports_part(void **state)
{
    struct sh sh;
    struct shadow_update_result r;

    (void)state;
    chain_step(&sh, 2, &r);
    assert_json_equal(r.delta, "{\"state\":{\"fw\":{\"ver\":\"1.1.0\"}},"
                               "\"metadata\":{\"fw\":{\"ver\":{\"timestamp\":1700000060}}},"
                               "\"version\":3,\"timestamp\":1700000120,\"clientToken\":\"dev-2\"}");
    assert_json_equal(sh.stored,
                      "{\"state\":{\"desired\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}},"
                      "\"reported\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
                      "\"metadata\":{\"desired\":{\"lamp\":{\"timestamp\":1700000060},"
                      "\"fw\":{\"ver\":{\"timestamp\":1700000060}}},"
                      "\"reported\":{\"lamp\":{\"timestamp\":1700000120},"
                      "\"fw\":{\"ver\":{\"timestamp\":1700000000},"
                      "\"build\":{\"timestamp\":1700000000}}}}}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e4_null_removal_and_clearing_desired(void **state)
{
    struct sh sh;
    struct shadow_update_result r;

    (void)state;
    chain_step(&sh, 3, &r);
    assert_json_equal(r.accepted,
                      "{\"state\":{\"reported\":{\"fw\":{\"ver\":\"1.1.0\",\"build\":null}},"
                      "\"desired\":null},"
                      "\"metadata\":{\"desired\":{\"timestamp\":1700000180},"
                      "\"reported\":{\"fw\":{\"ver\":{\"timestamp\":1700000180},"
                      "\"build\":{\"timestamp\":1700000180}}}},"
                      "\"version\":4,\"timestamp\":1700000180,\"clientToken\":\"dev-3\"}");
    assert_null(r.delta);
    assert_json_equal(
        r.documents,
        "{\"previous\":{\"state\":{\"desired\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}},"
        "\"reported\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
        "\"metadata\":{\"desired\":{\"lamp\":{\"timestamp\":1700000060},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000060}}},"
        "\"reported\":{\"lamp\":{\"timestamp\":1700000120},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000000},\"build\":{\"timestamp\":1700000000}}}},"
        "\"version\":3},"
        "\"current\":{\"state\":{\"reported\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"}}},"
        "\"metadata\":{\"reported\":{\"lamp\":{\"timestamp\":1700000120},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000180}}}},\"version\":4},"
        "\"timestamp\":1700000180,\"clientToken\":\"dev-3\"}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e5_arrays(void **state)
{
    struct sh sh;
    struct shadow_update_result r;

    (void)state;
    chain_step(&sh, 4, &r);
    assert_json_equal(r.delta, "{\"state\":{\"slots\":[1,2,3]},"
                               "\"metadata\":{\"slots\":[{\"timestamp\":1700000240},"
                               "{\"timestamp\":1700000240},{\"timestamp\":1700000240}]},"
                               "\"version\":5,\"timestamp\":1700000240}");
    shadow_update_result_cleanup(&r);

    /* Reporting the same elements in another order keeps the delta. */
    sh_update(&sh, "{\"state\":{\"reported\":{\"slots\":[3,2,1]}}}", T + 300, &r);
    assert_json_equal(r.delta, "{\"state\":{\"slots\":[1,2,3]},"
                               "\"metadata\":{\"slots\":[{\"timestamp\":1700000240},"
                               "{\"timestamp\":1700000240},{\"timestamp\":1700000240}]},"
                               "\"version\":6,\"timestamp\":1700000300}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);

    chain_step(&sh, 5, &r);
    assert_int_equal(r.version, 6);
    assert_null(r.delta);
    assert_json_equal(r.accepted,
                      "{\"state\":{\"reported\":{\"slots\":[1,2,3]}},"
                      "\"metadata\":{\"reported\":{\"slots\":[{\"timestamp\":1700000300},"
                      "{\"timestamp\":1700000300},{\"timestamp\":1700000300}]}},"
                      "\"version\":6,\"timestamp\":1700000300}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e6_type_change_and_all_null_objects(void **state)
{
    struct sh sh;
    struct shadow_update_result r;

    (void)state;
    chain_step(&sh, 6, &r);
    assert_json_equal(
        r.accepted,
        "{\"state\":{\"reported\":{\"lamp\":{\"mode\":\"eco\",\"level\":null},"
        "\"ghost\":{\"a\":null}}},"
        "\"metadata\":{\"reported\":{\"lamp\":{\"mode\":{\"timestamp\":1700000360},"
        "\"level\":{\"timestamp\":1700000360}},\"ghost\":{\"a\":{\"timestamp\":1700000360}}}},"
        "\"version\":7,\"timestamp\":1700000360}");
    assert_null(r.delta);
    sh_assert_get(
        &sh, T + 361, NULL,
        "{\"state\":{\"desired\":{\"slots\":[1,2,3]},"
        "\"reported\":{\"lamp\":{\"mode\":\"eco\"},\"fw\":{\"ver\":\"1.1.0\"},\"slots\":[1,2,3]}},"
        "\"metadata\":{\"desired\":{\"slots\":[{\"timestamp\":1700000240},"
        "{\"timestamp\":1700000240},{\"timestamp\":1700000240}]},"
        "\"reported\":{\"lamp\":{\"mode\":{\"timestamp\":1700000360}},"
        "\"fw\":{\"ver\":{\"timestamp\":1700000180}},"
        "\"slots\":[{\"timestamp\":1700000300},{\"timestamp\":1700000300},"
        "{\"timestamp\":1700000300}]}},"
        "\"version\":7,\"timestamp\":1700000361}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e7_clear_everything(void **state)
{
    struct sh sh;
    struct shadow_update_result r;

    (void)state;
    chain_step(&sh, 7, &r);
    assert_json_equal(r.accepted, "{\"state\":null,\"metadata\":{\"timestamp\":1700000420},"
                                  "\"version\":8,\"timestamp\":1700000420}");
    assert_null(r.delta);
    sh_assert_get(&sh, T + 421, NULL,
                  "{\"state\":{},\"metadata\":{},\"version\":8,\"timestamp\":1700000421}");
    assert_json_equal(sh.stored, "{\"state\":{},\"metadata\":{}}");
    {
        cJSON *docs = cJSON_Parse(r.documents);
        char *cur = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(docs, "current"));

        assert_json_equal(cur, "{\"state\":{},\"metadata\":{},\"version\":8}");
        free(cur);
        cJSON_Delete(docs);
    }
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e8_optimistic_locking(void **state)
{
    struct sh sh;
    struct shadow_update_result r;
    struct shadow_error err;
    const char *req =
        "{\"state\":{\"desired\":{\"lamp\":\"off\"}},\"version\":7,\"clientToken\":\"app-9\"}";
    char *doc;

    (void)state;
    chain_replay(&sh, 8);
    assert_int_equal(sh.version, 8);
    assert_int_equal(
        shadow_update(sh.stored, sh.version, req, strlen(req), T + 480, NULL, &r, &err),
        DD_ERR_VERSION_CONFLICT);
    assert_null(r.stored);
    assert_int_equal(err.code, 409);
    assert_int_equal(shadow_error_json(&err, T + 480, &doc), DD_OK);
    assert_json_equal(doc,
                      "{\"code\":409,\"message\":\"Version conflict\",\"clientToken\":\"app-9\"}");
    free(doc);
    sh_update(&sh, chain[8].req, chain[8].now, &r);
    assert_int_equal(r.version, 9);
    assert_json_equal(r.accepted,
                      "{\"state\":{\"desired\":{\"lamp\":\"off\"}},"
                      "\"metadata\":{\"desired\":{\"lamp\":{\"timestamp\":1700000480}}},"
                      "\"version\":9,\"timestamp\":1700000480,\"clientToken\":\"app-9\"}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

static void test_e9_delete_and_404(void **state)
{
    struct sh sh;
    struct shadow_error err;
    char *doc;
    const char *del = "{\"clientToken\":\"x\"}";

    (void)state;
    chain_replay(&sh, 9);
    assert_int_equal(shadow_parse_request_token(del, strlen(del), &err), DD_OK);
    assert_true(err.has_client_token);
    assert_int_equal(shadow_delete_accepted(sh.version, T + 540, err.client_token, &doc), DD_OK);
    assert_json_equal(doc, "{\"version\":9,\"timestamp\":1700000540,\"clientToken\":\"x\"}");
    free(doc);
    assert_int_equal(shadow_parse_request_token("", 0, &err), DD_OK);
    assert_false(err.has_client_token);
    assert_int_equal(shadow_delete_accepted(sh.version, T + 540, NULL, &doc), DD_OK);
    assert_json_equal(doc, "{\"version\":9,\"timestamp\":1700000540}");
    free(doc);

    /* The store now keeps a tombstone: a GET answers 404. */
    assert_int_equal(shadow_get(NULL, 9, T + 541, NULL, &doc), DD_ERR_NOT_FOUND);
    assert_null(doc);
    assert_int_equal(shadow_parse_request_token("", 0, &err), DD_OK);
    shadow_not_found(&err, "lamp-7", NULL);
    assert_int_equal(shadow_error_json(&err, T + 541, &doc), DD_OK);
    assert_json_equal(doc, "{\"code\":404,\"message\":\"No shadow exists with name: 'lamp-7'\"}");
    free(doc);
    assert_int_equal(shadow_parse_request_token("{\"clientToken\":\"g\"}", 19, &err), DD_OK);
    shadow_not_found(&err, "lamp-7", NULL);
    assert_int_equal(shadow_error_json(&err, T + 541, &doc), DD_OK);
    assert_json_equal(doc, "{\"code\":404,\"message\":\"No shadow exists with name: 'lamp-7'\","
                           "\"clientToken\":\"g\"}");
    free(doc);

    /* Re-creating continues after the tombstone version, with no previous. */
    free(sh.stored);
    sh.stored = NULL;
    {
        struct shadow_update_result r;

        sh_update(&sh, "{\"state\":{\"reported\":{\"lamp\":\"on\"}}}", T + 600, &r);
        assert_int_equal(r.version, 10);
        assert_json_equal(
            r.documents,
            "{\"previous\":null,\"current\":{\"state\":{\"reported\":{\"lamp\":\"on\"}},"
            "\"metadata\":{\"reported\":{\"lamp\":{\"timestamp\":1700000600}}},"
            "\"version\":10},\"timestamp\":1700000600}");
        shadow_update_result_cleanup(&r);
    }
    sh_cleanup(&sh);
}

static void test_e10_depth(void **state)
{
    struct sh sh = { NULL, 0 };
    struct shadow_update_result r;
    struct shadow_error err;
    const char *deep =
        "{\"state\":{\"reported\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}}}";
    char *doc;

    (void)state;
    sh_update(&sh, "{\"state\":{\"reported\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":1}}}}}}}}",
              T, NULL);
    assert_int_equal(shadow_update(NULL, 0, deep, strlen(deep), T, NULL, &r, &err), DD_ERR_INVALID);
    assert_int_equal(err.code, 400);
    assert_string_equal(err.message, "JSON contains too many levels of nesting; maximum is 6");
    assert_int_equal(shadow_error_json(&err, T, &doc), DD_OK);
    assert_json_equal(doc, "{\"code\":400,\"message\":\"JSON contains too many levels of nesting; "
                           "maximum is 6\",\"timestamp\":1700000000}");
    free(doc);
    sh_cleanup(&sh);
}

/* ---- merge and metadata -------------------------------------------------- */

/* Start from init (applied at 100 to a new shadow; NULL = no shadow), apply
 * req at 200, compare the whole stored text. */
static const struct merge_row {
    const char *name;
    const char *init;
    const char *req;
    const char *want;
} merge_rows[] = {
    { "create", NULL, "{\"state\":{\"reported\":{\"a\":1}}}",
      "{\"state\":{\"reported\":{\"a\":1}},\"metadata\":{\"reported\":{\"a\":{\"timestamp\":200}}}"
      "}" },
    { "null removes a key", "{\"state\":{\"desired\":{\"a\":1,\"b\":2}}}",
      "{\"state\":{\"desired\":{\"a\":null}}}",
      "{\"state\":{\"desired\":{\"b\":2}},\"metadata\":{\"desired\":{\"b\":{\"timestamp\":100}}}"
      "}" },
    { "null on a missing key", "{\"state\":{\"desired\":{\"b\":2}}}",
      "{\"state\":{\"desired\":{\"zz\":null}}}",
      "{\"state\":{\"desired\":{\"b\":2}},\"metadata\":{\"desired\":{\"b\":{\"timestamp\":100}}}"
      "}" },
    { "removing the last key drops the section",
      "{\"state\":{\"desired\":{\"a\":1},\"reported\":{\"x\":1}}}",
      "{\"state\":{\"desired\":{\"a\":null}}}",
      "{\"state\":{\"reported\":{\"x\":1}},\"metadata\":{\"reported\":{\"x\":{\"timestamp\":100}}}"
      "}" },
    { "section null", "{\"state\":{\"desired\":{\"a\":1}}}", "{\"state\":{\"desired\":null}}",
      "{\"state\":{},\"metadata\":{}}" },
    { "section null when absent", NULL, "{\"state\":{\"desired\":null,\"reported\":null}}",
      "{\"state\":{},\"metadata\":{}}" },
    { "empty section creates nothing", "{\"state\":{\"reported\":{\"x\":1}}}",
      "{\"state\":{\"desired\":{},\"reported\":{}}}",
      "{\"state\":{\"reported\":{\"x\":1}},\"metadata\":{\"reported\":{\"x\":{\"timestamp\":100}}}"
      "}" },
    { "empty state changes nothing", "{\"state\":{\"reported\":{\"x\":1}}}", "{\"state\":{}}",
      "{\"state\":{\"reported\":{\"x\":1}},\"metadata\":{\"reported\":{\"x\":{\"timestamp\":100}}}"
      "}" },
    { "state null clears both", "{\"state\":{\"desired\":{\"a\":1},\"reported\":{\"x\":1}}}",
      "{\"state\":null}", "{\"state\":{},\"metadata\":{}}" },
    { "recursive merge keeps untouched leaves",
      "{\"state\":{\"reported\":{\"fw\":{\"ver\":\"1\",\"build\":7}}}}",
      "{\"state\":{\"reported\":{\"fw\":{\"ver\":\"2\"}}}}",
      "{\"state\":{\"reported\":{\"fw\":{\"ver\":\"2\",\"build\":7}}},\"metadata\":{\"reported\":"
      "{\"fw\":{\"ver\":{\"timestamp\":200},\"build\":{\"timestamp\":100}}}}}" },
    { "nested object emptied stays", "{\"state\":{\"reported\":{\"fw\":{\"ver\":\"1\"}}}}",
      "{\"state\":{\"reported\":{\"fw\":{\"ver\":null}}}}",
      "{\"state\":{\"reported\":{\"fw\":{}}},\"metadata\":{\"reported\":{\"fw\":{}}}}" },
    { "object replaces scalar without its nulls", "{\"state\":{\"reported\":{\"lamp\":\"on\"}}}",
      "{\"state\":{\"reported\":{\"lamp\":{\"mode\":\"eco\",\"level\":null}}}}",
      "{\"state\":{\"reported\":{\"lamp\":{\"mode\":\"eco\"}}},"
      "\"metadata\":{\"reported\":{\"lamp\":{\"mode\":{\"timestamp\":200}}}}}" },
    { "all-null object is not created", "{\"state\":{\"reported\":{\"x\":1}}}",
      "{\"state\":{\"reported\":{\"ghost\":{\"a\":null,\"b\":{\"c\":null}}}}}",
      "{\"state\":{\"reported\":{\"x\":1}},\"metadata\":{\"reported\":{\"x\":{\"timestamp\":100}}}"
      "}" },
    { "all-null object leaves a scalar", "{\"state\":{\"reported\":{\"lamp\":\"on\"}}}",
      "{\"state\":{\"reported\":{\"lamp\":{\"a\":null}}}}",
      "{\"state\":{\"reported\":{\"lamp\":\"on\"}},"
      "\"metadata\":{\"reported\":{\"lamp\":{\"timestamp\":100}}}}" },
    { "new object loses nested all-null members", NULL,
      "{\"state\":{\"reported\":{\"k\":{\"a\":{\"b\":null},\"c\":1,\"d\":{}}}}}",
      "{\"state\":{\"reported\":{\"k\":{\"c\":1,\"d\":{}}}},"
      "\"metadata\":{\"reported\":{\"k\":{\"c\":{\"timestamp\":200},\"d\":{}}}}}" },
    { "empty object replaces a scalar", "{\"state\":{\"reported\":{\"lamp\":\"on\"}}}",
      "{\"state\":{\"reported\":{\"lamp\":{}}}}",
      "{\"state\":{\"reported\":{\"lamp\":{}}},\"metadata\":{\"reported\":{\"lamp\":{}}}}" },
    { "empty object on an object changes nothing", "{\"state\":{\"reported\":{\"fw\":{\"v\":1}}}}",
      "{\"state\":{\"reported\":{\"fw\":{}}}}",
      "{\"state\":{\"reported\":{\"fw\":{\"v\":1}}},"
      "\"metadata\":{\"reported\":{\"fw\":{\"v\":{\"timestamp\":100}}}}}" },
    { "array replaced whole", "{\"state\":{\"reported\":{\"a\":[1,2,3]}}}",
      "{\"state\":{\"reported\":{\"a\":[4]}}}",
      "{\"state\":{\"reported\":{\"a\":[4]}},"
      "\"metadata\":{\"reported\":{\"a\":[{\"timestamp\":200}]}}}" },
    { "array metadata per element", NULL,
      "{\"state\":{\"desired\":{\"a\":[{\"x\":1},[2,\"s\"],[]]}}}",
      "{\"state\":{\"desired\":{\"a\":[{\"x\":1},[2,\"s\"],[]]}},"
      "\"metadata\":{\"desired\":{\"a\":[{\"x\":{\"timestamp\":200}},"
      "[{\"timestamp\":200},{\"timestamp\":200}],[]]}}}" },
    { "type change", "{\"state\":{\"reported\":{\"a\":\"1\",\"fw\":{\"v\":1}}}}",
      "{\"state\":{\"reported\":{\"a\":1,\"fw\":[true]}}}",
      "{\"state\":{\"reported\":{\"a\":1,\"fw\":[true]}},"
      "\"metadata\":{\"reported\":{\"a\":{\"timestamp\":200},\"fw\":[{\"timestamp\":200}]}}}" },
    { "rewriting a value refreshes its timestamp", "{\"state\":{\"reported\":{\"a\":1,\"b\":2}}}",
      "{\"state\":{\"reported\":{\"a\":1}}}",
      "{\"state\":{\"reported\":{\"a\":1,\"b\":2}},"
      "\"metadata\":{\"reported\":{\"a\":{\"timestamp\":200},\"b\":{\"timestamp\":100}}}}" },
    { "state.delta is dropped", "{\"state\":{\"desired\":{\"a\":1}}}",
      "{\"state\":{\"delta\":{\"a\":2},\"reported\":{\"a\":1},\"delta\":5}}",
      "{\"state\":{\"desired\":{\"a\":1},\"reported\":{\"a\":1}},"
      "\"metadata\":{\"desired\":{\"a\":{\"timestamp\":100}},"
      "\"reported\":{\"a\":{\"timestamp\":200}}}}" },
    { "top-level extras are ignored", NULL,
      "{\"thingName\":\"dev-V2\",\"metadata\":{\"x\":[null]},\"timestamp\":\"x\",\"foo\":1,"
      "\"state\":{\"reported\":{\"a\":1}}}",
      "{\"state\":{\"reported\":{\"a\":1}},\"metadata\":{\"reported\":{\"a\":{\"timestamp\":200}}}"
      "}" },
    { "both sections at once", "{\"state\":{\"reported\":{\"a\":1}}}",
      "{\"state\":{\"reported\":{\"b\":true},\"desired\":{\"a\":false,\"s\":"
      "\"\\u00e9\\ud83d\\ude00\"}}}",
      "{\"state\":{\"desired\":{\"a\":false,\"s\":\"\xc3\xa9\xf0\x9f\x98\x80\"},"
      "\"reported\":{\"a\":1,\"b\":true}},"
      "\"metadata\":{\"desired\":{\"a\":{\"timestamp\":200},\"s\":{\"timestamp\":200}},"
      "\"reported\":{\"a\":{\"timestamp\":100},\"b\":{\"timestamp\":200}}}}" },
    { "a GET document sent back", "{\"state\":{\"desired\":{\"a\":1}}}",
      "{\"state\":{\"desired\":{\"a\":2},\"delta\":{\"a\":2}},\"metadata\":{\"desired\":"
      "{\"a\":{\"timestamp\":1}}},\"version\":1,\"timestamp\":5}",
      "{\"state\":{\"desired\":{\"a\":2}},\"metadata\":{\"desired\":{\"a\":{\"timestamp\":200}}}"
      "}" },
};

static void test_merge_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(merge_rows) / sizeof(merge_rows[0]); i++) {
        const struct merge_row *row = &merge_rows[i];
        struct sh sh = { NULL, 0 };

        print_message("merge: %s\n", row->name);
        if (row->init)
            sh_update(&sh, row->init, 100, NULL);
        sh_update(&sh, row->req, 200, NULL);
        assert_json_equal(sh.stored, row->want);
        sh_cleanup(&sh);
    }
}

/* The accepted payload echoes the request state with nulls and a metadata
 * leaf for each of them. */
static void test_accepted_echo(void **state)
{
    struct sh sh = { NULL, 0 };
    struct shadow_update_result r;

    (void)state;
    sh_update(&sh,
              "{\"state\":{\"desired\":{\"a\":null,\"b\":{},\"c\":[1,{\"d\":2}]},\"reported\":{}}}",
              300, &r);
    assert_json_equal(
        r.accepted,
        "{\"state\":{\"desired\":{\"a\":null,\"b\":{},\"c\":[1,{\"d\":2}]},\"reported\":{}},"
        "\"metadata\":{\"desired\":{\"a\":{\"timestamp\":300},\"b\":{},"
        "\"c\":[{\"timestamp\":300},{\"d\":{\"timestamp\":300}}]},\"reported\":{}},"
        "\"version\":1,\"timestamp\":300}");
    shadow_update_result_cleanup(&r);
    sh_update(&sh, "{\"state\":{}}", 400, &r);
    assert_json_equal(r.accepted, "{\"state\":{},\"metadata\":{},\"version\":2,\"timestamp\":400}");
    shadow_update_result_cleanup(&r);
    sh_cleanup(&sh);
}

/* ---- delta --------------------------------------------------------------- */

static const struct delta_row {
    const char *name;
    const char *init; /* applied at 100 */
    const char *req;  /* applied at 200 */
    const char *want; /* the /update/delta payload (version 2), NULL = none */
} delta_rows[] = {
    { "desired alone", NULL, "{\"state\":{\"desired\":{\"a\":1,\"o\":{\"p\":2}}}}",
      "{\"state\":{\"a\":1,\"o\":{\"p\":2}},\"metadata\":{\"a\":{\"timestamp\":200},"
      "\"o\":{\"p\":{\"timestamp\":200}}},\"version\":1,\"timestamp\":200}" },
    { "in sync", "{\"state\":{\"reported\":{\"a\":1}}}", "{\"state\":{\"desired\":{\"a\":1}}}",
      NULL },
    { "keys only in reported are ignored", "{\"state\":{\"reported\":{\"a\":1,\"b\":2}}}",
      "{\"state\":{\"desired\":{\"a\":1}}}", NULL },
    { "path to a nested difference", "{\"state\":{\"reported\":{\"a\":{\"b\":1,\"c\":3}}}}",
      "{\"state\":{\"desired\":{\"a\":{\"b\":1,\"c\":2}}}}",
      "{\"state\":{\"a\":{\"c\":2}},\"metadata\":{\"a\":{\"c\":{\"timestamp\":200}}},"
      "\"version\":2,\"timestamp\":200}" },
    { "object missing from reported", "{\"state\":{\"reported\":{\"x\":1}}}",
      "{\"state\":{\"desired\":{\"a\":{\"b\":1}}}}",
      "{\"state\":{\"a\":{\"b\":1}},\"metadata\":{\"a\":{\"b\":{\"timestamp\":200}}},"
      "\"version\":2,\"timestamp\":200}" },
    { "object against a scalar", "{\"state\":{\"reported\":{\"a\":5}}}",
      "{\"state\":{\"desired\":{\"a\":{\"b\":1}}}}",
      "{\"state\":{\"a\":{\"b\":1}},\"metadata\":{\"a\":{\"b\":{\"timestamp\":200}}},"
      "\"version\":2,\"timestamp\":200}" },
    { "equal arrays", "{\"state\":{\"reported\":{\"a\":[1,[2],{\"c\":3}]}}}",
      "{\"state\":{\"desired\":{\"a\":[1,[2],{\"c\":3}]}}}", NULL },
    { "array order matters", "{\"state\":{\"reported\":{\"a\":[2,1]}}}",
      "{\"state\":{\"desired\":{\"a\":[1,2]}}}",
      "{\"state\":{\"a\":[1,2]},\"metadata\":{\"a\":[{\"timestamp\":200},{\"timestamp\":200}]},"
      "\"version\":2,\"timestamp\":200}" },
    { "string against number", "{\"state\":{\"reported\":{\"a\":1}}}",
      "{\"state\":{\"desired\":{\"a\":\"1\"}}}",
      "{\"state\":{\"a\":\"1\"},\"metadata\":{\"a\":{\"timestamp\":200}},\"version\":2,"
      "\"timestamp\":200}" },
    { "1 equals 1.0", "{\"state\":{\"reported\":{\"a\":1}}}",
      "{\"state\":{\"desired\":{\"a\":1.0}}}", NULL },
    { "true against false", "{\"state\":{\"reported\":{\"a\":false}}}",
      "{\"state\":{\"desired\":{\"a\":true}}}",
      "{\"state\":{\"a\":true},\"metadata\":{\"a\":{\"timestamp\":200}},\"version\":2,"
      "\"timestamp\":200}" },
    { "empty desired object missing from reported", NULL, "{\"state\":{\"desired\":{\"k\":{}}}}",
      "{\"state\":{\"k\":{}},\"metadata\":{\"k\":{}},\"version\":1,\"timestamp\":200}" },
    { "empty desired object against empty reported one", "{\"state\":{\"reported\":{\"k\":{}}}}",
      "{\"state\":{\"desired\":{\"k\":{}}}}", NULL },
    { "a reported update opens a gap", "{\"state\":{\"desired\":{\"a\":1},\"reported\":{\"a\":1}}}",
      "{\"state\":{\"reported\":{\"a\":2}}}",
      "{\"state\":{\"a\":1},\"metadata\":{\"a\":{\"timestamp\":100}},\"version\":2,"
      "\"timestamp\":200}" },
    { "an unrelated reported update resends the delta",
      "{\"state\":{\"desired\":{\"a\":1},\"reported\":{\"a\":2}}}",
      "{\"state\":{\"reported\":{\"z\":0}},\"clientToken\":\"c\"}",
      "{\"state\":{\"a\":1},\"metadata\":{\"a\":{\"timestamp\":100}},\"version\":2,"
      "\"timestamp\":200,\"clientToken\":\"c\"}" },
    { "removing the desired key ends the delta", "{\"state\":{\"desired\":{\"a\":1}}}",
      "{\"state\":{\"desired\":{\"a\":null}}}", NULL },
    { "reported catches up", "{\"state\":{\"desired\":{\"a\":1,\"b\":2}}}",
      "{\"state\":{\"reported\":{\"a\":1,\"b\":2}}}", NULL },
};

static void test_delta_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(delta_rows) / sizeof(delta_rows[0]); i++) {
        const struct delta_row *row = &delta_rows[i];
        struct sh sh = { NULL, 0 };
        struct shadow_update_result r;
        char *get;
        cJSON *doc;

        print_message("delta: %s\n", row->name);
        if (row->init)
            sh_update(&sh, row->init, 100, NULL);
        sh_update(&sh, row->req, 200, &r);
        assert_json_equal(r.delta, row->want);
        /* GET shows the same delta under state.delta. */
        assert_int_equal(shadow_get(sh.stored, sh.version, 201, NULL, &get), DD_OK);
        doc = cJSON_Parse(get);
        assert_non_null(doc);
        {
            cJSON *want = row->want ? cJSON_Parse(row->want) : NULL;
            const cJSON *d = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(doc, "state"), "delta");

            if (want)
                assert_true(cJSON_Compare(d, cJSON_GetObjectItemCaseSensitive(want, "state"), 1));
            else
                assert_null(d);
            cJSON_Delete(want);
        }
        assert_null(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "metadata"), "delta"));
        cJSON_Delete(doc);
        free(get);
        shadow_update_result_cleanup(&r);
        sh_cleanup(&sh);
    }
}

/* ---- rejected requests --------------------------------------------------- */

#define TOKEN64 "0123456789012345678901234567890123456789012345678901234567890123"

static const struct reject_row {
    const char *name;
    const char *req;
    size_t len;          /* 0 = strlen(req) */
    int with_stored;     /* 1: a shadow at version 3 exists */
    int64_t cur_version; /* used when !with_stored (tombstone) */
    int rc;
    int code;
    const char *message;
    const char *token; /* expected echo, NULL = none */
} reject_rows[] = {
    { "not UTF-8", "{\"state\":{\"reported\":{\"a\":\"\xff\"}}}", 0, 1, 0, DD_ERR_ENCODING, 415,
      "Unsupported documented encoding; supported encoding is UTF-8", NULL },
    { "overlong UTF-8", "{\"state\":{\"reported\":{\"a\":\"\xc0\xaf\"}}}", 0, 1, 0, DD_ERR_ENCODING,
      415, "Unsupported documented encoding; supported encoding is UTF-8", NULL },
    { "UTF-8 surrogate", "{\"clientToken\":\"\xed\xa0\x80\"}", 0, 1, 0, DD_ERR_ENCODING, 415,
      "Unsupported documented encoding; supported encoding is UTF-8", NULL },
    { "truncated UTF-8", "{\"state\":{}}\xe2\x82", 0, 1, 0, DD_ERR_ENCODING, 415,
      "Unsupported documented encoding; supported encoding is UTF-8", NULL },
    { "empty body", "", 0, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "whitespace only", " \n", 0, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "unterminated", "{\"state\":{}", 0, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "trailing bytes", "{\"state\":{}} x", 0, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "embedded NUL", "{\"state\":{}}\0", 13, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "single quotes", "{'state':{}}", 0, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "trailing comma", "{\"state\":{},}", 0, 1, 0, DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "leading zero", "{\"state\":{\"reported\":{\"a\":01}}}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid JSON", NULL },
    { "number out of range", "{\"state\":{\"reported\":{\"a\":1e999}}}", 0, 1, 0, DD_ERR_INVALID,
      400, "Invalid JSON", NULL },
    { "lone surrogate escape", "{\"state\":{\"reported\":{\"a\":\"\\ud800\"}}}", 0, 1, 0,
      DD_ERR_INVALID, 400, "Invalid JSON", NULL },
    { "raw control character", "{\"state\":{\"reported\":{\"a\":\"\t\"}}}", 0, 1, 0, DD_ERR_INVALID,
      400, "Invalid JSON", NULL },
    { "bad escape", "{\"state\":{\"reported\":{\"a\":\"\\x\"}}}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid JSON", NULL },
    { "top level array", "[{\"state\":{}}]", 0, 1, 0, DD_ERR_INVALID, 400,
      "Missing required node: state", NULL },
    { "no state", "{\"clientToken\":\"t-1\"}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Missing required node: state", "t-1" },
    { "state is a number", "{\"state\":5,\"clientToken\":\"t-2\"}", 0, 1, 0, DD_ERR_INVALID, 400,
      "State node must be an object", "t-2" },
    { "state is an array", "{\"state\":[]}", 0, 1, 0, DD_ERR_INVALID, 400,
      "State node must be an object", NULL },
    { "desired is a string", "{\"state\":{\"desired\":\"on\"}}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Desired node must be an object", NULL },
    { "reported is an array", "{\"state\":{\"reported\":[1]}}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Reported node must be an object", NULL },
    { "desired checked before reported", "{\"state\":{\"reported\":1,\"desired\":2}}", 0, 1, 0,
      DD_ERR_INVALID, 400, "Desired node must be an object", NULL },
    { "unknown node in state", "{\"state\":{\"foo\":{}}}", 0, 1, 0, DD_ERR_INVALID, 400,
      "State contains an invalid node", NULL },
    { "metadata inside state", "{\"state\":{\"desired\":{},\"metadata\":{}}}", 0, 1, 0,
      DD_ERR_INVALID, 400, "State contains an invalid node", NULL },
    { "section type before unknown node", "{\"state\":{\"foo\":1,\"desired\":2}}", 0, 1, 0,
      DD_ERR_INVALID, 400, "Desired node must be an object", NULL },
    { "clientToken a number", "{\"state\":{},\"clientToken\":5}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid clientToken", NULL },
    { "clientToken null", "{\"state\":{},\"clientToken\":null}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid clientToken", NULL },
    { "clientToken of 65 bytes", "{\"state\":{},\"clientToken\":\"" TOKEN64 "x\"}", 0, 1, 0,
      DD_ERR_INVALID, 400, "Invalid clientToken", NULL },
    { "version a string", "{\"state\":{},\"version\":\"3\",\"clientToken\":\"v\"}", 0, 1, 0,
      DD_ERR_INVALID, 400, "Invalid version", "v" },
    { "version fractional", "{\"state\":{},\"version\":3.5}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid version", NULL },
    { "version negative", "{\"state\":{},\"version\":-1}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid version", NULL },
    { "version null", "{\"state\":{},\"version\":null}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid version", NULL },
    { "version huge", "{\"state\":{},\"version\":1e300}", 0, 1, 0, DD_ERR_INVALID, 400,
      "Invalid version", NULL },
    { "too deep in desired",
      "{\"state\":{\"desired\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}}}", 0, 1,
      0, DD_ERR_INVALID, 400, "JSON contains too many levels of nesting; maximum is 6", NULL },
    { "too deep through arrays", "{\"state\":{\"reported\":{\"a\":[[[[[[1]]]]]]}}}", 0, 1, 0,
      DD_ERR_INVALID, 400, "JSON contains too many levels of nesting; maximum is 6", NULL },
    { "nesting before version", "{\"state\":{\"reported\":{\"a\":[[[[[[1]]]]]]}},\"version\":1}", 0,
      1, 0, DD_ERR_INVALID, 400, "JSON contains too many levels of nesting; maximum is 6", NULL },
    { "null in an array", "{\"state\":{\"desired\":{\"a\":[1,null]}}}", 0, 1, 0, DD_ERR_INVALID,
      400, "Invalid JSON", NULL },
    { "null below an array",
      "{\"state\":{\"desired\":{\"a\":[{\"b\":null}]}},\"clientToken\":\"n\"}", 0, 1, 0,
      DD_ERR_INVALID, 400, "Invalid JSON", "n" },
    { "version conflict", "{\"state\":{},\"version\":2,\"clientToken\":\"c\"}", 0, 1, 0,
      DD_ERR_VERSION_CONFLICT, 409, "Version conflict", "c" },
    { "version on a new shadow", "{\"state\":{},\"version\":1}", 0, 0, 0, DD_ERR_VERSION_CONFLICT,
      409, "Version conflict", NULL },
    { "version against a tombstone", "{\"state\":{},\"version\":0}", 0, 0, 9,
      DD_ERR_VERSION_CONFLICT, 409, "Version conflict", NULL },
};

static void test_reject_rows(void **state)
{
    static const char stored3[] = "{\"state\":{\"reported\":{\"a\":1}},"
                                  "\"metadata\":{\"reported\":{\"a\":{\"timestamp\":5}}}}";
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(reject_rows) / sizeof(reject_rows[0]); i++) {
        const struct reject_row *row = &reject_rows[i];
        struct shadow_update_result r;
        struct shadow_error err;
        size_t len = row->len ? row->len : strlen(row->req);
        char *doc;
        int rc;

        print_message("reject: %s\n", row->name);
        memset(&r, 0x5a, sizeof(r));
        rc = shadow_update(row->with_stored ? stored3 : NULL,
                           row->with_stored ? 3 : row->cur_version, row->req, len, T, NULL, &r,
                           &err);
        assert_int_equal(rc, row->rc);
        assert_null(r.stored);
        assert_null(r.accepted);
        assert_null(r.delta);
        assert_null(r.documents);
        assert_int_equal(r.version, 0);
        assert_int_equal(err.code, row->code);
        assert_string_equal(err.message, row->message);
        assert_int_equal(err.has_client_token, row->token != NULL);
        if (row->token)
            assert_string_equal(err.client_token, row->token);
        assert_int_equal(shadow_error_json(&err, T, &doc), DD_OK);
        {
            char want[512];
            char ts[40] = "";
            char tok[100] = "";

            if (row->code != 409)
                snprintf(ts, sizeof(ts), ",\"timestamp\":%d", T);
            if (row->token)
                snprintf(tok, sizeof(tok), ",\"clientToken\":\"%s\"", row->token);
            snprintf(want, sizeof(want), "{\"code\":%d,\"message\":\"%s\"%s%s}", row->code,
                     row->message, ts, tok);
            assert_json_equal(doc, want);
        }
        free(doc);
    }
    /* err may be NULL. */
    {
        struct shadow_update_result r;

        assert_int_equal(shadow_update(NULL, 0, "{", 1, T, NULL, &r, NULL), DD_ERR_INVALID);
        assert_null(r.stored);
    }
}

/* Requests at the edge of a rule that must be accepted. */
static void test_accepted_edges(void **state)
{
    static const char *const reqs[] = {
        "{\"state\":{},\"clientToken\":\"" TOKEN64 "\"}",
        "{\"state\":{},\"clientToken\":\"\"}",
        "{\"state\":{\"reported\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{}}}}}}}}}",
        "{\"state\":{\"reported\":{\"a\":[[[[[{},[],1]]]]]}}}",
        "{\"state\":{\"reported\":{\"a\":[]}},\"version\":0}",
        " \t\r\n{\"state\":{\"desired\":{\"\":-0.5e-3}}} \n",
        "{\"state\":{\"desired\":{\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\"}}}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
        struct sh sh = { NULL, 0 };

        print_message("accept: %s\n", reqs[i]);
        sh_update(&sh, reqs[i], T, NULL);
        sh_cleanup(&sh);
    }
}

/* The version check compares with the stored version and with a tombstone. */
static void test_version_check(void **state)
{
    struct sh sh = { NULL, 9 }; /* deleted at version 9 */
    struct shadow_update_result r;

    (void)state;
    sh_update(&sh, "{\"state\":{\"reported\":{\"a\":1}},\"version\":9}", T, &r);
    assert_int_equal(r.version, 10);
    assert_json_equal(r.accepted, "{\"state\":{\"reported\":{\"a\":1}},\"metadata\":{\"reported\":"
                                  "{\"a\":{\"timestamp\":1700000000}}},\"version\":10,"
                                  "\"timestamp\":1700000000}");
    shadow_update_result_cleanup(&r);
    sh_update(&sh, "{\"state\":{},\"version\":10}", T, NULL);
    assert_int_equal(sh.version, 11);
    sh_cleanup(&sh);
    sh_update(&sh, "{\"state\":{},\"version\":0}", T, NULL);
    assert_int_equal(sh.version, 1);
    sh_cleanup(&sh);
}

/* ---- limits -------------------------------------------------------------- */

/* {"state":{"reported":{"a":"xxx"}}} whose merged state prints as n bytes. */
static char *sized_request(const char *section, size_t n)
{
    size_t fill = n - strlen("{\"\":{\"a\":\"\"}}") - strlen(section);
    char *req = malloc(fill + 64);

    assert_non_null(req);
    snprintf(req, fill + 64, "{\"state\":{\"%s\":{\"a\":\"%0*d\"}}}", section, (int)fill, 0);
    return req;
}

static void test_size_limit(void **state)
{
    struct shadow_update_result r;
    struct shadow_error err;
    struct sh sh = { NULL, 0 };
    char *req;

    (void)state;
    req = sized_request("reported", 8192);
    sh_update(&sh, req, T, NULL);
    free(req);
    sh_cleanup(&sh);

    req = sized_request("reported", 8193);
    assert_int_equal(shadow_update(NULL, 0, req, strlen(req), T, NULL, &r, &err), DD_ERR_TOO_LARGE);
    assert_int_equal(err.code, 413);
    assert_string_equal(err.message, "The payload exceeds the maximum size allowed");
    assert_null(r.stored);
    free(req);

    /* The merged state counts: a small update to a nearly full shadow fails. */
    req = sized_request("reported", 8150);
    sh_update(&sh, req, T, NULL);
    free(req);
    {
        const char *small =
            "{\"state\":{\"desired\":{\"b\":\"0123456789012345678901234567890123456789"
            "012345678901234567890123456789\"}},\"clientToken\":\"s\"}";

        assert_int_equal(
            shadow_update(sh.stored, sh.version, small, strlen(small), T, NULL, &r, &err),
            DD_ERR_TOO_LARGE);
        assert_string_equal(err.client_token, "s");
    }
    /* A shrinking update to an oversized shadow is fine once it fits again. */
    sh_update(&sh, "{\"state\":{\"reported\":null}}", T, NULL);
    sh_cleanup(&sh);
}

static void test_custom_limits(void **state)
{
    struct shadow_limits lim;
    struct shadow_update_result r;
    struct shadow_error err;
    const char *ok = "{\"state\":{\"reported\":{\"a\":{\"b\":1}}}}";
    const char *deep = "{\"state\":{\"reported\":{\"a\":{\"b\":{\"c\":1}}}}}";

    (void)state;
    shadow_limits_default(&lim);
    assert_int_equal(lim.max_state_bytes, 8192);
    assert_int_equal(lim.max_depth, 6);
    lim.max_depth = 2;
    assert_int_equal(shadow_update(NULL, 0, ok, strlen(ok), T, &lim, &r, &err), DD_OK);
    shadow_update_result_cleanup(&r);
    assert_int_equal(shadow_update(NULL, 0, deep, strlen(deep), T, &lim, &r, &err), DD_ERR_INVALID);
    assert_string_equal(err.message, "JSON contains too many levels of nesting; maximum is 2");
    lim.max_depth = 6;
    lim.max_state_bytes = strlen("{\"reported\":{\"a\":{\"b\":1}}}");
    assert_int_equal(shadow_update(NULL, 0, ok, strlen(ok), T, &lim, &r, &err), DD_OK);
    shadow_update_result_cleanup(&r);
    lim.max_state_bytes--;
    assert_int_equal(shadow_update(NULL, 0, ok, strlen(ok), T, &lim, &r, &err), DD_ERR_TOO_LARGE);
}

/* ---- GET and stored text ------------------------------------------------- */

static void test_get(void **state)
{
    char *doc = (char *)1;

    (void)state;
    assert_int_equal(shadow_get(NULL, 3, T, NULL, &doc), DD_ERR_NOT_FOUND);
    assert_null(doc);
    doc = (char *)1;
    assert_int_equal(shadow_get("not json", 3, T, NULL, &doc), DD_ERR_INTERNAL);
    assert_null(doc);
    assert_int_equal(shadow_get("[1]", 3, T, NULL, &doc), DD_ERR_INTERNAL);
    assert_null(doc);
    /* A stored text without metadata gets the current time; junk is dropped. */
    assert_int_equal(shadow_get("{\"state\":{\"desired\":{\"a\":1},\"reported\":5,\"x\":{}},"
                                "\"metadata\":{\"desired\":{\"a\":[]}}}",
                                4, T, "tok", &doc),
                     DD_OK);
    assert_json_equal(doc, "{\"state\":{\"desired\":{\"a\":1},\"delta\":{\"a\":1}},"
                           "\"metadata\":{\"desired\":{\"a\":{\"timestamp\":1700000000}}},"
                           "\"version\":4,\"timestamp\":1700000000,\"clientToken\":\"tok\"}");
    free(doc);
    assert_int_equal(shadow_get("{}", 1, T, NULL, &doc), DD_OK);
    assert_json_equal(doc, "{\"state\":{},\"metadata\":{},\"version\":1,\"timestamp\":1700000000}");
    free(doc);
}

static void test_update_on_corrupt_stored(void **state)
{
    struct shadow_update_result r;
    struct shadow_error err;
    const char *req = "{\"state\":{},\"clientToken\":\"k\"}";

    (void)state;
    assert_int_equal(shadow_update("{", 1, req, strlen(req), T, NULL, &r, &err), DD_ERR_INTERNAL);
    assert_int_equal(err.code, 500);
    assert_string_equal(err.message, "Internal service failure");
    assert_string_equal(err.client_token, "k");
    assert_null(r.stored);
}

/* ---- MQTT get/delete payloads -------------------------------------------- */

static const struct token_row {
    const char *payload;
    size_t len; /* 0 = strlen */
    int rc;
    int code;
    const char *token;
} token_rows[] = {
    { "", 0, DD_OK, 0, NULL },
    { "{}", 0, DD_OK, 0, NULL },
    { "[1,2]", 0, DD_OK, 0, NULL },
    { "{\"clientToken\":\"abc\"}", 0, DD_OK, 0, "abc" },
    { "{\"version\":1,\"clientToken\":\"dev-XBHY-1\"}", 0, DD_OK, 0, "dev-XBHY-1" },
    { "{\"thingName\":\"dev-V2\",\"clientToken\":\"tok-1\",\"state\":5}", 0, DD_OK, 0, "tok-1" },
    { "{\"clientToken\":\"" TOKEN64 "\"}", 0, DD_OK, 0, TOKEN64 },
    { "{\"clientToken\":\"" TOKEN64 "9\"}", 0, DD_ERR_INVALID, 400, NULL },
    { "{\"clientToken\":7}", 0, DD_ERR_INVALID, 400, NULL },
    { "get", 0, DD_ERR_INVALID, 400, NULL },
    { "{\"a\":1} {}", 0, DD_ERR_INVALID, 400, NULL },
    { "\xfe", 0, DD_ERR_ENCODING, 415, NULL },
};

static void test_request_token_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(token_rows) / sizeof(token_rows[0]); i++) {
        const struct token_row *row = &token_rows[i];
        struct shadow_error err;
        size_t len = row->len ? row->len : strlen(row->payload);

        print_message("token: %s\n", row->payload);
        memset(&err, 0x5a, sizeof(err));
        assert_int_equal(shadow_parse_request_token(row->payload, len, &err), row->rc);
        assert_int_equal(err.code, row->code);
        assert_int_equal(err.has_client_token, row->token != NULL);
        if (row->token)
            assert_string_equal(err.client_token, row->token);
    }
}

/* ---- error documents ----------------------------------------------------- */

static void test_error_json(void **state)
{
    struct shadow_error err;
    char *doc;

    (void)state;
    memset(&err, 0, sizeof(err));
    shadow_not_found(&err, "lamp-7", "");
    assert_string_equal(err.message, "No shadow exists with name: 'lamp-7'");
    shadow_not_found(&err, "lamp-7", "cfg");
    assert_int_equal(err.code, 404);
    assert_string_equal(err.message, "No shadow exists with name: 'lamp-7~cfg'");
    strcpy(err.client_token, "q");
    err.has_client_token = 1;
    assert_int_equal(shadow_error_json(&err, T, &doc), DD_OK);
    assert_json_equal(doc, "{\"code\":404,\"message\":\"No shadow exists with name: 'lamp-7~cfg'\","
                           "\"clientToken\":\"q\"}");
    free(doc);
    err.code = 413;
    strcpy(err.message, "The payload exceeds the maximum size allowed");
    err.has_client_token = 0;
    assert_int_equal(shadow_error_json(&err, T, &doc), DD_OK);
    assert_json_equal(doc,
                      "{\"code\":413,\"message\":\"The payload exceeds the maximum size allowed\","
                      "\"timestamp\":1700000000}");
    free(doc);
    {
        char thing[SHADOW_THING_NAME_MAX + 1], name[SHADOW_NAME_MAX + 1], want[300];

        memset(thing, 't', sizeof(thing) - 1);
        thing[sizeof(thing) - 1] = '\0';
        memset(name, 'n', sizeof(name) - 1);
        name[sizeof(name) - 1] = '\0';
        shadow_not_found(&err, thing, name);
        snprintf(want, sizeof(want), "No shadow exists with name: '%s~%s'", thing, name);
        assert_string_equal(err.message, want);
    }
}

/* ---- topics and names ---------------------------------------------------- */

static const struct topic_row {
    const char *topic;
    int rc;
    const char *thing;
    const char *name;
    enum shadow_op op;
} topic_rows[] = {
    { "$aws/things/lamp-7/shadow/get", DD_OK, "lamp-7", "", SHADOW_OP_GET },
    { "$aws/things/lamp-7/shadow/update", DD_OK, "lamp-7", "", SHADOW_OP_UPDATE },
    { "$aws/things/lamp-7/shadow/delete", DD_OK, "lamp-7", "", SHADOW_OP_DELETE },
    { "$aws/things/a:b_C-9/shadow/name/cfg_1:x-Y/update", DD_OK, "a:b_C-9", "cfg_1:x-Y",
      SHADOW_OP_UPDATE },
    { "$aws/things/t/shadow/name/get/get", DD_OK, "t", "get", SHADOW_OP_GET },
    { "$aws/things/t/shadow/name/name/delete", DD_OK, "t", "name", SHADOW_OP_DELETE },
    { "$aws/things/t/shadow/update/accepted", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/update/delta", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/name/cfg/get/rejected", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/name/cfg", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/name/get", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/name", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/GET", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadow/get/", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/shadowx/get", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things/t/jobs/get", DD_ERR_NOT_FOUND, "", "", 0 },
    { "aws/things/t/shadow/get", DD_ERR_NOT_FOUND, "", "", 0 },
    { "", DD_ERR_NOT_FOUND, "", "", 0 },
    { "$aws/things//shadow/get", DD_ERR_INVALID, "", "", 0 },
    { "$aws/things/t/shadow/name//get", DD_ERR_INVALID, "", "", 0 },
    { "$aws/things/bad.name/shadow/get", DD_ERR_INVALID, "", "", 0 },
    { "$aws/things/+/shadow/update", DD_ERR_INVALID, "", "", 0 },
    { "$aws/things/t/shadow/name/$package/get", DD_ERR_INVALID, "", "", 0 },
    { "$aws/things/t/shadow/name/a b/get", DD_ERR_INVALID, "", "", 0 },
};

static void test_topic_parse_rows(void **state)
{
    char topic[400], thing[200], name[100];
    struct shadow_topic t;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(topic_rows) / sizeof(topic_rows[0]); i++) {
        const struct topic_row *row = &topic_rows[i];

        print_message("topic: %s\n", row->topic);
        memset(&t, 0x5a, sizeof(t));
        assert_int_equal(shadow_topic_parse(row->topic, &t), row->rc);
        assert_string_equal(t.thing, row->thing);
        assert_string_equal(t.name, row->name);
        assert_int_equal(t.op, row->op);
    }
    /* Length limits: 128 / 64 characters. */
    memset(thing, 'x', 128);
    thing[128] = '\0';
    memset(name, 'n', 64);
    name[64] = '\0';
    snprintf(topic, sizeof(topic), "$aws/things/%s/shadow/name/%s/get", thing, name);
    assert_int_equal(shadow_topic_parse(topic, &t), DD_OK);
    assert_string_equal(t.thing, thing);
    assert_string_equal(t.name, name);
    snprintf(topic, sizeof(topic), "$aws/things/%sx/shadow/get", thing);
    assert_int_equal(shadow_topic_parse(topic, &t), DD_ERR_INVALID);
    assert_string_equal(t.thing, "");
    snprintf(topic, sizeof(topic), "$aws/things/t/shadow/name/%sx/get", name);
    assert_int_equal(shadow_topic_parse(topic, &t), DD_ERR_INVALID);
}

static void test_topic_build(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(shadow_topic_build(buf, sizeof(buf), "lamp-7", NULL, "update/accepted"),
                     DD_OK);
    assert_string_equal(buf, "$aws/things/lamp-7/shadow/update/accepted");
    assert_int_equal(shadow_topic_build(buf, sizeof(buf), "lamp-7", "", "get/rejected"), DD_OK);
    assert_string_equal(buf, "$aws/things/lamp-7/shadow/get/rejected");
    assert_int_equal(shadow_topic_build(buf, sizeof(buf), "t", "cfg", "update/delta"), DD_OK);
    assert_string_equal(buf, "$aws/things/t/shadow/name/cfg/update/delta");
    /* "$aws/things/t/shadow/get" is 24 bytes plus the NUL. */
    assert_int_equal(shadow_topic_build(buf, 25, "t", NULL, "get"), DD_OK);
    assert_int_equal(shadow_topic_build(buf, 24, "t", NULL, "get"), DD_ERR_TOO_LARGE);
    assert_string_equal(buf, "");
    assert_int_equal(shadow_topic_build(NULL, 0, "t", NULL, "get"), DD_ERR_TOO_LARGE);
}

static void test_names_check(void **state)
{
    char thing[130];

    (void)state;
    assert_int_equal(shadow_names_check("lamp-7", NULL), DD_OK);
    assert_int_equal(shadow_names_check("a:b_c-D9", "cfg"), DD_OK);
    assert_int_equal(shadow_names_check("", NULL), DD_ERR_INVALID);
    assert_int_equal(shadow_names_check(NULL, NULL), DD_ERR_INVALID);
    assert_int_equal(shadow_names_check("t", ""), DD_ERR_INVALID);
    assert_int_equal(shadow_names_check("t", "$package"), DD_ERR_INVALID);
    assert_int_equal(shadow_names_check("t/x", NULL), DD_ERR_INVALID);
    memset(thing, 'a', 129);
    thing[129] = '\0';
    assert_int_equal(shadow_names_check(thing, NULL), DD_ERR_INVALID);
    thing[128] = '\0';
    assert_int_equal(shadow_names_check(thing, NULL), DD_OK);
}

/* ---- allocation failures ------------------------------------------------- */

struct update_case {
    const char *stored;
    int64_t version;
    const char *req;
};

static int update_case(void *ctx)
{
    const struct update_case *c = ctx;
    struct shadow_update_result r;
    struct shadow_error err;
    int rc = shadow_update(c->stored, c->version, c->req, strlen(c->req), T, NULL, &r, &err);

    if (rc) {
        assert_null(r.stored);
        assert_null(r.accepted);
        assert_null(r.documents);
        assert_null(r.delta);
        assert_int_equal(err.code, 500);
    }
    shadow_update_result_cleanup(&r);
    return rc;
}

static void test_update_alloc_failures(void **state)
{
    static const char stored[] =
        "{\"state\":{\"desired\":{\"lamp\":\"on\",\"fw\":{\"ver\":\"1.1.0\"},\"s\":[1,[2]]},"
        "\"reported\":{\"lamp\":\"off\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
        "\"metadata\":{\"desired\":{\"lamp\":{\"timestamp\":1},\"fw\":{\"ver\":{\"timestamp\":1}},"
        "\"s\":[{\"timestamp\":1},[{\"timestamp\":1}]]},"
        "\"reported\":{\"lamp\":{\"timestamp\":2},\"fw\":{\"ver\":{\"timestamp\":2},"
        "\"build\":{\"timestamp\":2}}}}}";
    struct update_case cases[] = {
        { NULL, 0,
          "{\"state\":{\"reported\":{\"lamp\":\"off\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
          "\"clientToken\":\"dev-1\"}" },
        { stored, 3,
          "{\"state\":{\"reported\":{\"lamp\":\"on\",\"fw\":{\"build\":null,\"x\":{\"y\":[1,{}]}},"
          "\"g\":{\"a\":null},\"h\":{\"i\":1,\"j\":null}},\"desired\":{\"fw\":{\"n\":{}}},"
          "\"delta\":1},"
          "\"version\":3,\"clientToken\":\"c\"}" },
        { stored, 3, "{\"state\":null}" },
        { stored, 3, "{\"state\":{\"desired\":null}}" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(alloc_fail_sweep(update_case, &cases[i]) > 10);
}

struct get_case {
    const char *stored;
    const char *token;
};

static int get_case(void *ctx)
{
    const struct get_case *c = ctx;
    char *doc = (char *)1;
    int rc = shadow_get(c->stored, 7, T, c->token, &doc);

    if (rc)
        assert_null(doc);
    free(doc);
    return rc;
}

static int small_calls_case(void *ctx)
{
    struct shadow_error err;
    char *doc = NULL;
    int rc;

    (void)ctx;
    rc = shadow_parse_request_token("{\"clientToken\":\"x\",\"v\":[1]}", 27, &err);
    if (rc) {
        assert_int_equal(err.code, 500);
        return rc;
    }
    rc = shadow_delete_accepted(9, T, "x", &doc);
    if (rc) {
        assert_null(doc);
        return rc;
    }
    free(doc);
    shadow_not_found(&err, "t", "n");
    rc = shadow_error_json(&err, T, &doc);
    if (rc) {
        assert_null(doc);
        return rc;
    }
    free(doc);
    err.code = 400;
    rc = shadow_error_json(&err, T, &doc);
    free(doc);
    return rc;
}

static void test_get_alloc_failures(void **state)
{
    struct get_case cases[] = {
        { "{\"state\":{\"desired\":{\"a\":{\"b\":1,\"c\":[1]},\"d\":2},\"reported\":{\"a\":{\"b\":"
          "2}}},"
          "\"metadata\":{\"desired\":{\"a\":{\"b\":{\"timestamp\":1},\"c\":[{\"timestamp\":1}]},"
          "\"d\":{\"timestamp\":1}},\"reported\":{\"a\":{\"b\":{\"timestamp\":2}}}}}",
          "tok" },
        { "{\"state\":{\"reported\":{\"a\":1}}}", NULL },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(alloc_fail_sweep(get_case, &cases[i]) > 5);
    assert_true(alloc_fail_sweep(small_calls_case, NULL) > 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_e1_device_creates),
        cmocka_unit_test(test_e2_app_sets_desired),
        cmocka_unit_test(test_e3_device_reports_part),
        cmocka_unit_test(test_e4_null_removal_and_clearing_desired),
        cmocka_unit_test(test_e5_arrays),
        cmocka_unit_test(test_e6_type_change_and_all_null_objects),
        cmocka_unit_test(test_e7_clear_everything),
        cmocka_unit_test(test_e8_optimistic_locking),
        cmocka_unit_test(test_e9_delete_and_404),
        cmocka_unit_test(test_e10_depth),
        cmocka_unit_test(test_merge_rows),
        cmocka_unit_test(test_accepted_echo),
        cmocka_unit_test(test_delta_rows),
        cmocka_unit_test(test_reject_rows),
        cmocka_unit_test(test_accepted_edges),
        cmocka_unit_test(test_version_check),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_custom_limits),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_update_on_corrupt_stored),
        cmocka_unit_test(test_request_token_rows),
        cmocka_unit_test(test_error_json),
        cmocka_unit_test(test_topic_parse_rows),
        cmocka_unit_test(test_topic_build),
        cmocka_unit_test(test_names_check),
        cmocka_unit_test(test_update_alloc_failures),
        cmocka_unit_test(test_get_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
