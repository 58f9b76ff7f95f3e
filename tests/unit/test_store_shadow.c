/* SPDX-License-Identifier: MIT */
/* test_store_shadow.c: store_shadow on real SQLite (update, get, delete,
 * tombstones, named-shadow listing, the outbox rows of the REST door,
 * rejected requests writing nothing, concurrent writers on one file never
 * repeating a version) and the MQTT door shadow_mqtt_handle() driven
 * through a recording publish callback, with allocation-failure sweeps.
 *
 * The Makefile links store tests with store/ and core/ only, so the MQTT
 * door (plugin/shadow_mqtt.c, which needs nothing else) is compiled into
 * this test by including its source. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/shadow.h"
#include "plugin/shadow_mqtt.c"
#include "store/emulator/store_outbox.h"
#include "store/iot_data/store_shadow.h"
#include "store/store.h"
#include "store/store_internal.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define T0 1700000000

/* --- outbox inspection --------------------------------------------------- */

#define MAX_MSGS 8

struct msgs {
    int n;
    char topic[MAX_MSGS][160];
    char payload[MAX_MSGS][2048];
    int qos[MAX_MSGS];
};

static int collect(void *ctx, const char *topic, const void *payload, size_t len, int qos,
                   int retain, const char *props)
{
    struct msgs *m = ctx;

    (void)retain;
    (void)props;
    assert_true(m->n < MAX_MSGS);
    assert_true(len < sizeof(m->payload[0]));
    snprintf(m->topic[m->n], sizeof(m->topic[0]), "%s", topic);
    memcpy(m->payload[m->n], payload, len);
    m->payload[m->n][len] = '\0';
    m->qos[m->n] = qos;
    m->n++;
    return DD_OK;
}

static void take_outbox(struct store *s, struct msgs *m)
{
    size_t n;

    memset(m, 0, sizeof(*m));
    assert_int_equal(store_outbox_take(s, MAX_MSGS, collect, m, &n), DD_OK);
    assert_int_equal((int)n, m->n);
}

/* --- store_shadow ---------------------------------------------------------- */

static void test_update_get_and_replies(void **state)
{
    struct shadow_update_result r;
    struct shadow_error err;
    struct store *s = store_fixture_open();
    struct msgs m;
    char *doc;
    const char *req1 = "{\"state\":{\"desired\":{\"debug\":\"off\"}}}";
    const char *req2 = "{\"state\":{\"desired\":{\"quarantine\":true}}}";

    (void)state;
    assert_int_equal(store_shadow_update(s, "dev-XBHY", NULL, req1, strlen(req1), 1574251760, NULL,
                                         true, &r, &err),
                     DD_OK);
    assert_int_equal(err.code, 0);
    assert_true(r.version == 1);
    shadow_update_result_cleanup(&r);
    assert_int_equal(store_shadow_update(s, "dev-XBHY", "", req2, strlen(req2), 1574254539, NULL,
                                         true, &r, &err),
                     DD_OK);
    assert_string_equal(r.accepted,
                        "{\"state\":{\"desired\":{\"quarantine\":true}},\"metadata\":{\"desired\":{"
                        "\"quarantine\":{\"timestamp\":1574254539}}},\"version\":2,\"timestamp\":"
                        "1574254539}");
    shadow_update_result_cleanup(&r);
    /* The seed's document, byte for byte apart from key order AWS does not fix. */
    assert_int_equal(store_shadow_get(s, "dev-XBHY", NULL, 1574256114, NULL, &doc, &err), DD_OK);
    assert_string_equal(doc, "{\"state\":{\"desired\":{\"debug\":\"off\",\"quarantine\":true},"
                             "\"delta\":{\"debug\":\"off\",\"quarantine\":true}},\"metadata\":{"
                             "\"desired\":{\"debug\":{\"timestamp\":1574251760},\"quarantine\":{"
                             "\"timestamp\":1574254539}}},\"version\":2,\"timestamp\":1574256114}");
    free(doc);
    /* Two updates, each accepted + delta + documents, in order. */
    take_outbox(s, &m);
    assert_int_equal(m.n, 6);
    assert_string_equal(m.topic[0], "$aws/things/dev-XBHY/shadow/update/accepted");
    assert_string_equal(m.topic[1], "$aws/things/dev-XBHY/shadow/update/delta");
    assert_string_equal(m.topic[2], "$aws/things/dev-XBHY/shadow/update/documents");
    assert_string_equal(m.topic[5], "$aws/things/dev-XBHY/shadow/update/documents");
    assert_int_equal(m.qos[0], STORE_SHADOW_REPLY_QOS);
    assert_non_null(strstr(m.payload[4], "\"state\":{\"debug\":\"off\",\"quarantine\":true}"));
    assert_non_null(strstr(m.payload[5], "\"previous\":{"));
    store_close(s);
}

static void test_mqtt_door_queues_nothing(void **state)
{
    struct shadow_update_result r;
    struct shadow_error err;
    struct store *s = store_fixture_open();
    const char *req = "{\"state\":{\"reported\":{\"a\":1}}}";
    struct msgs m;
    char *doc;

    (void)state;
    assert_int_equal(store_shadow_update(s, "t", "s1", req, strlen(req), T0, NULL, false, &r, &err),
                     DD_OK);
    assert_null(r.delta);
    shadow_update_result_cleanup(&r);
    assert_int_equal(store_shadow_delete(s, "t", "s1", T0, NULL, false, &doc, &err), DD_OK);
    free(doc);
    take_outbox(s, &m);
    assert_int_equal(m.n, 0);
    store_close(s);
}

struct reject_row {
    const char *req;
    size_t len; /* 0 = strlen(req) */
    int rc;
    int code;
    const char *message;
};

static void test_rejects_write_nothing(void **state)
{
    static char big[9000], deep[200];
    const struct reject_row rows[] = {
        { "{", 0, DD_ERR_INVALID, 400, "Invalid JSON" },
        { "", 0, DD_ERR_INVALID, 400, "Invalid JSON" },
        { "[]", 0, DD_ERR_INVALID, 400, "Missing required node: state" },
        { "{\"state\":{\"foo\":{}}}", 0, DD_ERR_INVALID, 400, "State contains an invalid node" },
        { "{\"state\":{\"desired\":{\"a\":1}},\"version\":3}", 0, DD_ERR_VERSION_CONFLICT, 409,
          "Version conflict" },
        { "{\"state\":{\"desired\":{\"a\":\"\xff\"}}}", 0, DD_ERR_ENCODING, 415,
          "Unsupported documented encoding; supported encoding is UTF-8" },
        { big, 0, DD_ERR_TOO_LARGE, 413, "The payload exceeds the maximum size allowed" },
        { deep, 0, DD_ERR_INVALID, 400, "JSON contains too many levels of nesting; maximum is 6" },
    };
    struct shadow_update_result r;
    struct shadow_error err;
    struct store *s = store_fixture_open();
    struct store_shadow_names names;
    struct msgs m;
    char *doc;
    size_t i;

    (void)state;
    snprintf(big, sizeof(big), "{\"state\":{\"desired\":{\"k\":\"%08200d\"}}}", 0);
    snprintf(
        deep, sizeof(deep), "%s",
        "{\"state\":{\"reported\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":1}}}}}}}}}");
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *name = i % 2 ? "named" : NULL;

        memset(&r, 0x5a, sizeof(r));
        assert_int_equal(store_shadow_update(s, "t", name, rows[i].req,
                                             rows[i].len ? rows[i].len : strlen(rows[i].req), T0,
                                             NULL, true, &r, &err),
                         rows[i].rc);
        assert_int_equal(err.code, rows[i].code);
        assert_string_equal(err.message, rows[i].message);
        assert_null(r.stored);
        assert_null(r.accepted);
        assert_null(r.delta);
        assert_null(r.documents);
        assert_int_equal(store_shadow_get(s, "t", name, T0, NULL, &doc, &err), DD_ERR_NOT_FOUND);
        assert_null(doc);
    }
    take_outbox(s, &m);
    assert_int_equal(m.n, 0);
    assert_int_equal(store_shadow_list_named(s, "t", NULL, 10, &names), DD_OK);
    assert_int_equal((int)names.n, 0);
    store_shadow_names_cleanup(&names);
    store_close(s);
}

static void test_delete_tombstone_and_404(void **state)
{
    struct shadow_update_result r;
    struct shadow_error err;
    struct store *s = store_fixture_open();
    const char *req = "{\"state\":{\"desired\":{\"a\":1}}}";
    const char *v0 = "{\"state\":{\"desired\":{\"a\":1}},\"version\":0}";
    struct msgs m;
    char *doc;
    int i;

    (void)state;
    for (i = 0; i < 3; i++) {
        assert_int_equal(
            store_shadow_update(s, "lamp-7", NULL, req, strlen(req), T0, NULL, false, &r, &err),
            DD_OK);
        shadow_update_result_cleanup(&r);
    }
    assert_int_equal(store_shadow_delete(s, "lamp-7", NULL, T0 + 5, "x", true, &doc, &err), DD_OK);
    assert_string_equal(doc, "{\"version\":3,\"timestamp\":1700000005,\"clientToken\":\"x\"}");
    free(doc);
    take_outbox(s, &m);
    assert_int_equal(m.n, 1);
    assert_string_equal(m.topic[0], "$aws/things/lamp-7/shadow/delete/accepted");
    /* Gone: GET and DELETE are 404 with AWS's message and the token. */
    assert_int_equal(store_shadow_get(s, "lamp-7", NULL, T0, "tok", &doc, &err), DD_ERR_NOT_FOUND);
    assert_null(doc);
    assert_int_equal(err.code, 404);
    assert_string_equal(err.message, "No shadow exists with name: 'lamp-7'");
    assert_true(err.has_client_token);
    assert_string_equal(err.client_token, "tok");
    assert_int_equal(store_shadow_delete(s, "lamp-7", NULL, T0, NULL, true, &doc, &err),
                     DD_ERR_NOT_FOUND);
    assert_null(doc);
    assert_false(err.has_client_token);
    assert_int_equal(store_shadow_delete(s, "lamp-7", "n", T0, NULL, true, &doc, &err),
                     DD_ERR_NOT_FOUND);
    assert_string_equal(err.message, "No shadow exists with name: 'lamp-7~n'");
    take_outbox(s, &m);
    assert_int_equal(m.n, 0);
    /* The version check sees the tombstone's version; re-creation continues it. */
    assert_int_equal(
        store_shadow_update(s, "lamp-7", NULL, v0, strlen(v0), T0 + 10, NULL, false, &r, &err),
        DD_ERR_VERSION_CONFLICT);
    assert_int_equal(
        store_shadow_update(s, "lamp-7", NULL, req, strlen(req), T0 + 10, NULL, false, &r, &err),
        DD_OK);
    assert_true(r.version == 4);
    assert_non_null(strstr(r.documents, "\"previous\":null"));
    shadow_update_result_cleanup(&r);
    /* After 48 hours a tombstone is forgotten. */
    assert_int_equal(store_shadow_delete(s, "lamp-7", NULL, T0 + 20, NULL, false, &doc, &err),
                     DD_OK);
    free(doc);
    assert_int_equal(store_shadow_update(s, "lamp-7", NULL, req, strlen(req),
                                         T0 + 20 + STORE_SHADOW_TOMBSTONE_S, NULL, false, &r, &err),
                     DD_OK);
    assert_true(r.version == 1);
    shadow_update_result_cleanup(&r);
    store_close(s);
}

static void test_list_named(void **state)
{
    static const char *const names[] = { "b", "a", "c:1", "d_2", "e-3" };
    struct shadow_update_result r;
    struct shadow_error err;
    struct store_shadow_names l;
    struct store *s = store_fixture_open();
    const char *req = "{\"state\":{\"reported\":{\"on\":true}}}";
    const char *after = NULL;
    char seen[64] = "";
    char *doc;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(
            store_shadow_update(s, "t", names[i], req, strlen(req), T0, NULL, false, &r, &err),
            DD_OK);
        shadow_update_result_cleanup(&r);
    }
    /* Neither the classic shadow, another thing's nor a deleted one is listed. */
    assert_int_equal(store_shadow_update(s, "t", NULL, req, strlen(req), T0, NULL, false, &r, &err),
                     DD_OK);
    shadow_update_result_cleanup(&r);
    assert_int_equal(
        store_shadow_update(s, "other", "zz", req, strlen(req), T0, NULL, false, &r, &err), DD_OK);
    shadow_update_result_cleanup(&r);
    assert_int_equal(store_shadow_delete(s, "t", "d_2", T0, NULL, false, &doc, &err), DD_OK);
    free(doc);
    /* Pages of two: a b | c:1 e-3 (no more). */
    for (i = 0; i < 3; i++) {
        assert_int_equal(store_shadow_list_named(s, "t", after, 2, &l), DD_OK);
        for (size_t k = 0; k < l.n; k++) {
            strcat(seen, l.names[k]);
            strcat(seen, " ");
        }
        if (!l.more) {
            store_shadow_names_cleanup(&l);
            break;
        }
        assert_int_equal((int)l.n, 2);
        static char last[80];
        snprintf(last, sizeof(last), "%s", l.names[l.n - 1]);
        after = last;
        store_shadow_names_cleanup(&l);
    }
    assert_int_equal((int)i, 1);
    assert_string_equal(seen, "a b c:1 e-3 ");
    assert_int_equal(store_shadow_list_named(s, "nobody", NULL, 100, &l), DD_OK);
    assert_int_equal((int)l.n, 0);
    assert_false(l.more);
    store_shadow_names_cleanup(&l);
    store_shadow_names_cleanup(NULL);
    store_close(s);
}

static void test_store_failure_is_500(void **state)
{
    struct shadow_update_result r;
    struct shadow_error err;
    struct store_shadow_names l;
    struct store *s = store_fixture_open();
    const char *req = "{\"state\":{},\"clientToken\":\"c\"}";
    char *doc = (char *)"x";

    (void)state;
    assert_int_equal(sqlite3_exec(s->db, "DROP TABLE shadows", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_shadow_update(s, "t", NULL, req, strlen(req), T0, NULL, true, &r, &err),
                     DD_ERR_STORE);
    assert_int_equal(err.code, 500);
    assert_string_equal(err.message, "Internal service failure");
    assert_null(r.accepted);
    assert_int_equal(store_shadow_get(s, "t", NULL, T0, "g", &doc, &err), DD_ERR_STORE);
    assert_null(doc);
    assert_int_equal(err.code, 500);
    assert_true(err.has_client_token);
    assert_int_equal(store_shadow_delete(s, "t", NULL, T0, NULL, true, &doc, &err), DD_ERR_STORE);
    assert_int_equal(err.code, 500);
    assert_int_equal(store_shadow_list_named(s, "t", NULL, 5, &l), DD_ERR_STORE);
    assert_null(l.names);
    store_close(s);
}

/* --- concurrency: two connections to one file ------------------------------ */

struct writer {
    char path[96];
    int id;
    int n;
    int failures;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct shadow_update_result r;
    struct shadow_error err;
    struct dd_errbuf eb;
    struct store *s;
    char req[96];

    if (store_open(w->path, &s, &eb) != DD_OK) {
        w->failures = w->n;
        return NULL;
    }
    for (int i = 0; i < w->n; i++) {
        snprintf(req, sizeof(req), "{\"state\":{\"reported\":{\"w%d_%d\":%d}}}", w->id, i, i);
        if (store_shadow_update(s, "race", NULL, req, strlen(req), T0, NULL, w->id % 2 == 0, &r,
                                &err) != DD_OK)
            w->failures++;
        shadow_update_result_cleanup(&r);
    }
    store_close(s);
    return NULL;
}

static void test_concurrent_writers(void **state)
{
    enum { N_WRITERS = 4, PER_WRITER = 50 };
    struct writer w[N_WRITERS];
    pthread_t th[N_WRITERS];
    struct store_fixture_dir d;
    struct shadow_error err;
    struct dd_errbuf eb;
    struct store *s;
    char *doc;
    int i;

    (void)state;
    store_fixture_dir_make(&d, "shadow", "db");
    assert_int_equal(store_open(d.path, &s, &eb), DD_OK);
    for (i = 0; i < N_WRITERS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        snprintf(w[i].path, sizeof(w[i].path), "%s", d.path);
        w[i].id = i;
        w[i].n = PER_WRITER;
        assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
    }
    for (i = 0; i < N_WRITERS; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(store_shadow_get(s, "race", NULL, T0, NULL, &doc, &err), DD_OK);
    assert_non_null(strstr(doc, "\"version\":200,"));
    for (i = 0; i < N_WRITERS; i++) {
        for (int k = 0; k < PER_WRITER; k++) {
            char key[32];

            snprintf(key, sizeof(key), "\"w%d_%d\":%d", i, k, k);
            assert_non_null(strstr(doc, key));
        }
    }
    free(doc);
    store_close(s);
    store_fixture_dir_remove(&d);
}

/* --- the MQTT door ---------------------------------------------------------- */

struct recorder {
    int n;
    char topic[4][160];
    char payload[4][1024];
};

static void record(void *ctx, const char *topic, const void *payload, size_t len)
{
    struct recorder *rec = ctx;

    assert_true(rec->n < 4);
    assert_true(len < sizeof(rec->payload[0]));
    assert_int_equal(strlen(payload), len);
    snprintf(rec->topic[rec->n], sizeof(rec->topic[0]), "%s", topic);
    memcpy(rec->payload[rec->n], payload, len);
    rec->payload[rec->n][len] = '\0';
    rec->n++;
}

struct mqtt_step {
    const char *topic;
    const char *payload;
    int rc;
    const char *topics[3]; /* reply topic suffixes after the shadow prefix, in order */
    const char *contains;  /* in the first reply, or NULL */
};

#define P  "$aws/things/lamp-7/shadow/"
#define PN "$aws/things/lamp-7/shadow/name/cfg/"

static const struct mqtt_step mqtt_steps[] = {
    /* Not requests: replies, other topics, bad names. */
    { P "update/accepted", "{}", DD_ERR_NOT_FOUND, { NULL }, NULL },
    { "dt/lamp-7/metrics", "{}", DD_ERR_NOT_FOUND, { NULL }, NULL },
    { "$aws/things/bad!/shadow/get", "", DD_ERR_INVALID, { NULL }, NULL },
    /* GET before anything exists. */
    { P "get",
      "{\"clientToken\":\"g0\"}",
      DD_OK,
      { P "get/rejected" },
      "{\"code\":404,\"message\":\"No shadow exists with name: "
      "'lamp-7'\",\"clientToken\":\"g0\"}" },
    /* E1 of the reference: the device creates the shadow. */
    { P "update",
      "{\"state\":{\"reported\":{\"lamp\":\"off\",\"fw\":{\"ver\":\"1.0.3\",\"build\":17}}},"
      "\"clientToken\":\"dev-1\"}",
      DD_OK,
      { P "update/accepted", P "update/documents" },
      "\"version\":1,\"timestamp\":1700000000,\"clientToken\":\"dev-1\"}" },
    /* desired opens a delta. */
    { P "update",
      "{\"state\":{\"desired\":{\"lamp\":\"on\"}}}",
      DD_OK,
      { P "update/accepted", P "update/delta", P "update/documents" },
      NULL },
    { P "get", "", DD_OK, { P "get/accepted" }, "\"delta\":{\"lamp\":\"on\"}" },
    { P "get",
      "{\"version\":2,\"clientToken\":\"g1\"}",
      DD_OK,
      { P "get/accepted" },
      "\"version\":2,\"timestamp\":1700000000,\"clientToken\":\"g1\"}" },
    /* Rejections answered on /rejected. */
    { P "update",
      "{\"state\":",
      DD_OK,
      { P "update/rejected" },
      "{\"code\":400,\"message\":\"Invalid JSON\",\"timestamp\":1700000000}" },
    { P "update",
      "{\"state\":{\"desired\":{\"lamp\":\"off\"}},\"version\":1,\"clientToken\":\"c9\"}",
      DD_OK,
      { P "update/rejected" },
      "{\"code\":409,\"message\":\"Version conflict\",\"clientToken\":\"c9\"}" },
    { P "get", "not json", DD_OK, { P "get/rejected" }, "\"code\":400" },
    { P "delete",
      "{\"clientToken\":7}",
      DD_OK,
      { P "delete/rejected" },
      "\"message\":\"Invalid clientToken\"" },
    /* Named shadows are separate documents. */
    { PN "update",
      "{\"state\":{\"desired\":{\"mode\":\"eco\"}}}",
      DD_OK,
      { PN "update/accepted", PN "update/delta", PN "update/documents" },
      "\"version\":1," },
    { PN "delete", "", DD_OK, { PN "delete/accepted" }, "{\"version\":1," },
    { PN "get", "", DD_OK, { PN "get/rejected" }, "'lamp-7~cfg'" },
    /* Delete and 404. */
    { P "delete",
      "{\"clientToken\":\"x\"}",
      DD_OK,
      { P "delete/accepted" },
      "{\"version\":2,\"timestamp\":1700000000,\"clientToken\":\"x\"}" },
    { P "delete", "", DD_OK, { P "delete/rejected" }, "{\"code\":404," },
};

static void test_mqtt_steps(void **state)
{
    struct store *s = store_fixture_open();
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(mqtt_steps) / sizeof(mqtt_steps[0]); i++) {
        const struct mqtt_step *st = &mqtt_steps[i];
        struct recorder rec = { 0 };
        int k;

        assert_int_equal(
            shadow_mqtt_handle(s, st->topic, st->payload, strlen(st->payload), T0, record, &rec),
            st->rc);
        for (k = 0; k < 3 && st->topics[k]; k++)
            assert_string_equal(rec.topic[k], st->topics[k]);
        assert_int_equal(rec.n, k);
        if (st->contains && !strstr(rec.payload[0], st->contains))
            fail_msg("step %zu: %s lacks %s", i, rec.payload[0], st->contains);
    }
    store_close(s);
}

static void test_mqtt_store_failure(void **state)
{
    struct store *s = store_fixture_open();
    struct recorder rec = { 0 };

    (void)state;
    assert_int_equal(sqlite3_exec(s->db, "DROP TABLE shadows", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(
        shadow_mqtt_handle(s, P "get", "{\"clientToken\":\"a\"}", 19, T0, record, &rec),
        DD_ERR_STORE);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.topic[0], P "get/rejected");
    assert_string_equal(rec.payload[0], "{\"code\":500,\"message\":\"Internal service failure\","
                                        "\"timestamp\":1700000000,\"clientToken\":\"a\"}");
    rec.n = 0;
    assert_int_equal(shadow_mqtt_handle(s, P "update", "{\"state\":{}}", 12, T0, record, &rec),
                     DD_ERR_STORE);
    assert_int_equal(rec.n, 1);
    assert_string_equal(rec.topic[0], P "update/rejected");
    store_close(s);
}

/* --- allocation failure ----------------------------------------------------- */

struct sweep {
    struct store *s;
    int run; /* a fresh thing per run keeps every run identical */
};

static int store_ops_case(void *ctx)
{
    struct sweep *sw = ctx;
    const char *req = "{\"state\":{\"desired\":{\"a\":{\"b\":[1,2]}},\"reported\":{\"a\":2}},"
                      "\"clientToken\":\"t\"}";
    struct shadow_update_result r;
    struct store_shadow_names l;
    struct shadow_error err;
    char thing[32];
    char *doc;
    int rc;

    snprintf(thing, sizeof(thing), "sweep-%d", sw->run++);
    rc = store_shadow_update(sw->s, thing, "n", req, strlen(req), T0, NULL, true, &r, &err);
    if (rc)
        return rc;
    shadow_update_result_cleanup(&r);
    rc = store_shadow_get(sw->s, thing, "n", T0, "t", &doc, &err);
    if (rc)
        return rc;
    free(doc);
    rc = store_shadow_list_named(sw->s, thing, NULL, 3, &l);
    if (rc)
        return rc;
    store_shadow_names_cleanup(&l);
    rc = store_shadow_delete(sw->s, thing, "n", T0, "t", true, &doc, &err);
    if (rc)
        return rc;
    free(doc);
    return DD_OK;
}

static void drop_publish(void *ctx, const char *topic, const void *payload, size_t len)
{
    (void)ctx;
    (void)topic;
    (void)payload;
    (void)len;
}

static int mqtt_case(void *ctx)
{
    struct sweep *sw = ctx;
    const char *req = "{\"state\":{\"desired\":{\"x\":1}},\"clientToken\":\"m\"}";
    char topic[96];
    int rc;

    snprintf(topic, sizeof(topic), "$aws/things/m-%d/shadow/update", sw->run++);
    rc = shadow_mqtt_handle(sw->s, topic, req, strlen(req), T0, drop_publish, NULL);
    if (rc)
        return rc;
    /* A rejection is answered too (only NOMEM fails the call). */
    rc = shadow_mqtt_handle(sw->s, topic, "{", 1, T0, drop_publish, NULL);
    if (rc)
        return rc;
    strcpy(topic + strlen(topic) - strlen("update"), "get");
    rc = shadow_mqtt_handle(sw->s, topic, "{\"clientToken\":\"g\"}", 19, T0, drop_publish, NULL);
    if (rc)
        return rc;
    strcpy(topic + strlen(topic) - strlen("get"), "delete");
    return shadow_mqtt_handle(sw->s, topic, "", 0, T0, drop_publish, NULL);
}

static void test_alloc_failures(void **state)
{
    struct sweep sw = { store_fixture_open(), 0 };

    (void)state;
    assert_true(alloc_fail_sweep(store_ops_case, &sw) > 10);
    assert_true(alloc_fail_sweep(mqtt_case, &sw) > 10);
    store_close(sw.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_update_get_and_replies),
        cmocka_unit_test(test_mqtt_door_queues_nothing),
        cmocka_unit_test(test_rejects_write_nothing),
        cmocka_unit_test(test_delete_tombstone_and_404),
        cmocka_unit_test(test_list_named),
        cmocka_unit_test(test_store_failure_is_500),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_mqtt_steps),
        cmocka_unit_test(test_mqtt_store_failure),
        cmocka_unit_test(test_alloc_failures),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
