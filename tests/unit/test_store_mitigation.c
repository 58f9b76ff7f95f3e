/* SPDX-License-Identifier: MIT */
/* test_store_mitigation.c: mitigation actions and Detect mitigation tasks on
 * real SQLite (":memory:" with the schema applied): action create, update
 * (the type never changes), delete and paged lists; which violations a task
 * picks (ids or profile and behavior, occurrence range, active only,
 * suppressed); executions that add things to groups, are skipped, or fail
 * without leaving a membership behind; retries and TaskAlreadyExists; that
 * a refused start writes nothing; cancel; cleared out-parameters; and
 * allocation failure for every allocating function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/defender/store_detect.h"
#include "store/defender/store_mitigation.h"
#include "store/defender/store_profiles.h"
#include "store/iot/store_registry.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define QUARANTINE "{\"addThingsToThingGroupParams\":{\"thingGroupNames\":[\"Quarantine\"]}}"
#define ISOLATE                                                                                    \
    "{\"addThingsToThingGroupParams\":{\"thingGroupNames\":[\"Quarantine\",\"SiteB\"],"            \
    "\"overrideDynamicGroups\":true}}"
#define DEACTIVATE "{\"updateDeviceCertificateParams\":{\"action\":\"DEACTIVATE\"}}"
#define ROLE       "arn:aws:iam::123456789012:role/Mitigation"

static void join(struct store *s, const char *thing, const char *group)
{
    struct dd_errbuf eb;

    assert_int_equal(store_membership_update(s, thing, &group, 1, NULL, 0, false, &eb), DD_OK);
}

static void make_profile(struct store *s, const char *name)
{
    struct store_profile_new p = { .name = name, .behaviors = "[]" };
    struct dd_errbuf eb;

    assert_int_equal(store_profile_create(s, &p, 1000, &eb), DD_OK);
}

/* A violation that opened at start_ms (and closed at end_ms when > 0). */
static void make_violation(struct store *s, const char *id, const char *thing, const char *profile,
                           const char *behavior, bool suppressed, int64_t start_ms, int64_t end_ms)
{
    struct store_violation v = { id,       thing,      profile, behavior, "{}",
                                 "STATIC", suppressed, NULL,    start_ms, "{\"count\":9}" };
    int64_t event;

    assert_int_equal(store_detect_violation_open(s, &v), DD_OK);
    assert_int_equal(store_detect_event_add(s, id, "in-alarm", start_ms, "{\"count\":9}", &event),
                     DD_OK);
    if (end_ms > 0) {
        assert_int_equal(store_detect_violation_close(s, id, end_ms, "alarm-cleared"), DD_OK);
        assert_int_equal(store_detect_event_add(s, id, "alarm-cleared", end_ms, NULL, &event),
                         DD_OK);
    }
}

static void make_action(struct store *s, const char *name, const char *type, const char *params)
{
    struct store_mitigation_action_new a = { name, NULL, type, ROLE, params, NULL };
    struct store_mitigation_action out;
    struct dd_errbuf eb;
    char id[40];

    snprintf(id, sizeof(id), "id-%s", name);
    a.action_id = id;
    assert_int_equal(store_mitigation_action_create(s, &a, 5000, &out, &eb), DD_OK);
    store_mitigation_action_cleanup(&out);
}

/* Things, groups, two profiles and five violations:
 *   v1 dev-1  P  B1 active (1000)          v2 dev-2 P B2 closed (2000-5000)
 *   v3 dev-1  P  B1 suppressed (3000)      v4 ghost P2 B1 (4000), no such thing
 *   v5 dev-3  P2 B1 (4500), dev-3 is in SiteA of the Fleet hierarchy
 * and actions Q (Quarantine), Iso (Quarantine + SiteB), D (Audit only). */
static struct store *fixture(void)
{
    struct store *s = store_fixture_open();

    store_fixture_thing(s, "dev-1", NULL, NULL);
    store_fixture_thing(s, "dev-2", NULL, NULL);
    store_fixture_thing(s, "dev-3", NULL, NULL);
    store_fixture_group(s, "Quarantine", NULL);
    store_fixture_group(s, "Fleet", NULL);
    store_fixture_group(s, "SiteA", "Fleet");
    store_fixture_group(s, "SiteB", "Fleet");
    join(s, "dev-3", "SiteA");
    make_profile(s, "P");
    make_profile(s, "P2");
    make_violation(s, "v1", "dev-1", "P", "B1", false, 1000, 0);
    make_violation(s, "v2", "dev-2", "P", "B2", false, 2000, 5000);
    make_violation(s, "v3", "dev-1", "P", "B1", true, 3000, 0);
    make_violation(s, "v4", "ghost", "P2", "B1", false, 4000, 0);
    make_violation(s, "v5", "dev-3", "P2", "B1", false, 4500, 0);
    make_action(s, "Q", "ADD_THINGS_TO_THING_GROUP", QUARANTINE);
    make_action(s, "Iso", "ADD_THINGS_TO_THING_GROUP", ISOLATE);
    make_action(s, "D", "UPDATE_DEVICE_CERTIFICATE", DEACTIVATE);
    return s;
}

/* A task over profile (or the ids in ids, comma-free names) with actions. */
static struct store_mitigation_task_new task(const char *id, const char *token, const char *profile,
                                             const char *const *ids, size_t n_ids,
                                             const char *const *actions, size_t n_actions)
{
    struct store_mitigation_task_new t;

    memset(&t, 0, sizeof(t));
    t.task_id = id;
    t.client_request_token = token;
    t.request = "{}";
    t.target = "{}";
    t.profile = profile;
    t.violation_ids = ids;
    t.n_violation_ids = n_ids;
    t.actions = actions;
    t.n_actions = n_actions;
    return t;
}

/* "violation:action:status" of every execution of task_id, comma-joined. */
static const char *runs(struct store *s, const char *task_id)
{
    static char buf[1024];
    struct store_mitigation_execution_filter f = { 0 };
    struct store_mitigation_execution_page p;
    size_t i;

    f.task_id = task_id;
    assert_int_equal(store_mitigation_execution_list(s, &f, 0, 100, &p), DD_OK);
    buf[0] = '\0';
    for (i = 0; i < p.n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s:%s:%s", i ? "," : "",
                 p.items[i].violation_id, p.items[i].action_name, p.items[i].status);
    store_mitigation_execution_page_cleanup(&p);
    return buf;
}

static const char *groups(struct store *s, const char *thing)
{
    static char buf[512];
    struct store_names l;
    struct dd_errbuf eb;
    size_t i;

    assert_int_equal(store_thing_groups(s, thing, NULL, 0, &l, &eb), DD_OK);
    buf[0] = '\0';
    for (i = 0; i < l.n; i++)
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? "," : "", l.names[i]);
    store_names_cleanup(&l);
    return buf;
}

static size_t count_tasks(struct store *s)
{
    struct store_mitigation_task_page p;
    size_t n;

    assert_int_equal(store_mitigation_task_list(s, 0, INT64_MAX, 0, NULL, 100, &p), DD_OK);
    n = p.n;
    store_mitigation_task_page_cleanup(&p);
    return n;
}

/* ---- actions ---- */

static void test_action_create_get_update_delete(void **state)
{
    struct store_mitigation_action_new a = { "Q",  "id-1",     "ADD_THINGS_TO_THING_GROUP",
                                             ROLE, QUARANTINE, "[{\"Key\":\"k\"}]" };
    struct store_mitigation_action out;
    struct store *s = store_fixture_open();
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(store_mitigation_action_create(s, &a, 7000, &out, &eb), DD_OK);
    assert_string_equal(out.name, "Q");
    assert_string_equal(out.action_id, "id-1");
    assert_string_equal(out.action_type, "ADD_THINGS_TO_THING_GROUP");
    assert_string_equal(out.role_arn, ROLE);
    assert_string_equal(out.params, QUARANTINE);
    assert_int_equal(out.created_ms, 7000);
    assert_int_equal(out.modified_ms, 7000);
    store_mitigation_action_cleanup(&out);

    /* The name is taken: the existing action comes back for resourceId. */
    a.action_id = "id-2";
    a.params = DEACTIVATE;
    assert_int_equal(store_mitigation_action_create(s, &a, 8000, &out, &eb), DD_ERR_EXISTS);
    assert_string_equal(eb.msg, "The mitigation action Q already exists.");
    assert_string_equal(out.action_id, "id-1");
    store_mitigation_action_cleanup(&out);

    /* roleArn alone, then parameters of the same type. */
    assert_int_equal(store_mitigation_action_update(s, "Q", ROLE "2", NULL, NULL, 9000, &out, &eb),
                     DD_OK);
    assert_string_equal(out.role_arn, ROLE "2");
    assert_string_equal(out.params, QUARANTINE);
    assert_int_equal(out.modified_ms, 9000);
    store_mitigation_action_cleanup(&out);
    assert_int_equal(store_mitigation_action_update(s, "Q", NULL, ISOLATE,
                                                    "ADD_THINGS_TO_THING_GROUP", 9500, &out, &eb),
                     DD_OK);
    assert_string_equal(out.params, ISOLATE);
    assert_int_equal(out.created_ms, 7000);
    store_mitigation_action_cleanup(&out);

    /* Another type, or a missing action: refused, out cleared, nothing changed. */
    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(store_mitigation_action_update(s, "Q", ROLE, DEACTIVATE,
                                                    "UPDATE_DEVICE_CERTIFICATE", 9900, &out, &eb),
                     DD_ERR_INVALID);
    assert_string_equal(eb.msg, "The type of mitigation action Q is ADD_THINGS_TO_THING_GROUP and "
                                "cannot be changed to UPDATE_DEVICE_CERTIFICATE.");
    assert_null(out.params);
    assert_string_equal(out.name, "");
    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(store_mitigation_action_update(s, "Nope", ROLE, NULL, NULL, 1, &out, &eb),
                     DD_ERR_NOT_FOUND);
    assert_null(out.role_arn);
    assert_int_equal(store_mitigation_action_get(s, "Q", &out, &eb), DD_OK);
    assert_string_equal(out.role_arn, ROLE "2");
    assert_string_equal(out.params, ISOLATE);
    assert_int_equal(out.modified_ms, 9500);
    store_mitigation_action_cleanup(&out);

    assert_int_equal(store_mitigation_action_delete(s, "Q", &eb), DD_OK);
    assert_int_equal(store_mitigation_action_delete(s, "Q", &eb), DD_OK); /* missing is fine */
    memset(&out, 0x5a, sizeof(out));
    assert_int_equal(store_mitigation_action_get(s, "Q", &out, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "The mitigation action Q does not exist.");
    assert_null(out.role_arn);
    assert_null(out.params);
    store_close(s);
}

static void test_action_list(void **state)
{
    static const char *const names[] = { "e", "a", "d", "b", "c" };
    struct store_mitigation_action_page p;
    struct store *s = store_fixture_open();
    size_t i;

    (void)state;
    for (i = 0; i < 5; i++)
        make_action(s, names[i], i % 2 ? "UPDATE_DEVICE_CERTIFICATE" : "ADD_THINGS_TO_THING_GROUP",
                    i % 2 ? DEACTIVATE : QUARANTINE);
    assert_int_equal(store_mitigation_action_list(s, NULL, NULL, 2, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_true(p.more);
    assert_string_equal(p.items[0].name, "a");
    assert_string_equal(p.items[1].name, "b");
    store_mitigation_action_page_cleanup(&p);
    assert_int_equal(store_mitigation_action_list(s, NULL, "b", 3, &p), DD_OK);
    assert_int_equal(p.n, 3);
    assert_false(p.more);
    assert_string_equal(p.items[2].name, "e");
    store_mitigation_action_page_cleanup(&p);
    assert_int_equal(store_mitigation_action_list(s, "ADD_THINGS_TO_THING_GROUP", NULL, 10, &p),
                     DD_OK);
    assert_int_equal(p.n, 3);
    assert_string_equal(p.items[0].name, "c");
    assert_string_equal(p.items[1].name, "d");
    assert_string_equal(p.items[2].name, "e");
    assert_string_equal(p.items[0].params, QUARANTINE);
    store_mitigation_action_page_cleanup(&p);
    assert_int_equal(store_mitigation_action_list(s, "ENABLE_IOT_LOGGING", NULL, 10, &p), DD_OK);
    assert_int_equal(p.n, 0);
    assert_false(p.more);
    store_mitigation_action_page_cleanup(&p);
    store_close(s);
}

/* ---- which violations a task takes ---- */

static const struct selection_row {
    const char *what;
    const char *profile;
    const char *behavior;
    const char *ids; /* space-separated, instead of profile */
    bool has_range;
    int64_t range_start, range_end;
    bool only_active, include_suppressed;
    const char *expect; /* violation ids acted on, in order */
} selection_rows[] = {
    { "profile", "P", NULL, NULL, false, 0, 0, false, false, "v1,v2" },
    { "profile with suppressed", "P", NULL, NULL, false, 0, 0, false, true, "v1,v2,v3" },
    { "profile active only", "P", NULL, NULL, false, 0, 0, true, true, "v1,v3" },
    { "behavior", "P", "B2", NULL, false, 0, 0, false, false, "v2" },
    { "other profile", "P2", NULL, NULL, false, 0, 0, false, false, "v4,v5" },
    { "range holds v2's clearing", "P", NULL, NULL, true, 4000, 6000, false, false, "v2" },
    { "range bounds are inclusive", "P", NULL, NULL, true, 1000, 2000, false, false, "v1,v2" },
    { "empty range", "P", NULL, NULL, true, 6000, 9000, false, false, "" },
    { "ids in target order", NULL, NULL, "v2 v1", false, 0, 0, false, false, "v2,v1" },
    { "a repeated id acts once", NULL, NULL, "v1 v1", false, 0, 0, false, false, "v1" },
    { "suppressed id skipped", NULL, NULL, "v3 v1", false, 0, 0, false, false, "v1" },
    { "closed id, active only", NULL, NULL, "v2 v1", false, 0, 0, true, false, "v1" },
};

static void test_task_selection(void **state)
{
    static const char *const actions[] = { "D" };
    struct store_mitigation_task_new t;
    char ids_buf[64], *ids[8], *tok, expect[64];
    struct dd_errbuf eb;
    size_t i, n, k;
    bool created;

    (void)state;
    for (i = 0; i < sizeof(selection_rows) / sizeof(selection_rows[0]); i++) {
        const struct selection_row *r = &selection_rows[i];
        struct store *s = fixture();

        print_message("row: %s\n", r->what);
        n = 0;
        if (r->ids) {
            snprintf(ids_buf, sizeof(ids_buf), "%s", r->ids);
            for (tok = strtok(ids_buf, " "); tok; tok = strtok(NULL, " "))
                ids[n++] = tok;
        }
        t = task("t", "tok", r->profile, (const char *const *)ids, n, actions, 1);
        t.behavior = r->behavior;
        t.has_range = r->has_range;
        t.range_start_ms = r->range_start;
        t.range_end_ms = r->range_end;
        t.only_active = r->only_active;
        t.include_suppressed = r->include_suppressed;
        assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
        assert_true(created);
        expect[0] = '\0';
        if (r->expect[0]) {
            char copy[64];

            snprintf(copy, sizeof(copy), "%s", r->expect);
            k = 0;
            for (tok = strtok(copy, ","); tok; tok = strtok(NULL, ","))
                snprintf(expect + strlen(expect), sizeof(expect) - strlen(expect), "%s%s:D:SKIPPED",
                         k++ ? "," : "", tok);
        }
        assert_string_equal(runs(s, "t"), expect);
        store_close(s);
    }
}

/* ---- executions ---- */

/* Run the executions due at now_ms with step_ms between them; how many ran. */
static size_t run_due(struct store *s, int64_t now_ms, int64_t step_ms)
{
    struct dd_errbuf eb;
    size_t ran = 99;

    assert_int_equal(store_mitigation_run_due(s, now_ms, step_ms, 100, &ran, &eb), DD_OK);
    return ran;
}

static void test_task_runs_actions(void **state)
{
    static const char *const actions[] = { "Q", "D" };
    struct store_mitigation_execution_filter f = { 0 };
    struct store_mitigation_task_new t = task("t1", "tok1", "P", NULL, 0, actions, 2);
    struct store_mitigation_execution_page p;
    struct store_mitigation_task got;
    struct store *s = fixture();
    struct dd_errbuf eb;
    bool created;

    (void)state;
    t.target = "{\"securityProfileName\":\"P\"}";
    t.has_range = true;
    t.range_start_ms = 0;
    t.range_end_ms = 10000;
    assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
    assert_true(created);
    /* Queued: the Audit-only action is SKIPPED at once, nothing is applied. */
    assert_string_equal(runs(s, "t1"),
                        "v1:Q:IN_PROGRESS,v1:D:SKIPPED,v2:Q:IN_PROGRESS,v2:D:SKIPPED");
    assert_string_equal(groups(s, "dev-1"), "");
    assert_int_equal(store_mitigation_task_get(s, "t1", &got, &eb), DD_OK);
    assert_string_equal(got.status, "IN_PROGRESS");
    assert_int_equal(got.end_ms, -1);
    assert_int_equal(got.n_executed, 0);
    assert_int_equal(got.n_skipped, 2);
    store_mitigation_task_cleanup(&got);
    /* One execution a second: the k-th execution (by id) at 9000 + 1000 k. */
    assert_int_equal(run_due(s, 9999, 1000), 0);
    assert_int_equal(run_due(s, 10000, 1000), 1);
    assert_string_equal(runs(s, "t1"),
                        "v1:Q:SUCCESSFUL,v1:D:SKIPPED,v2:Q:IN_PROGRESS,v2:D:SKIPPED");
    assert_string_equal(groups(s, "dev-1"), "Quarantine");
    assert_string_equal(groups(s, "dev-2"), "");
    assert_int_equal(store_mitigation_task_get(s, "t1", &got, &eb), DD_OK);
    assert_string_equal(got.status, "IN_PROGRESS");
    assert_int_equal(got.n_executed, 1);
    store_mitigation_task_cleanup(&got);
    assert_int_equal(run_due(s, 11999, 1000), 0);
    assert_int_equal(run_due(s, 12000, 1000), 1);
    assert_int_equal(run_due(s, 99000, 1000), 0);
    assert_string_equal(runs(s, "t1"), "v1:Q:SUCCESSFUL,v1:D:SKIPPED,v2:Q:SUCCESSFUL,v2:D:SKIPPED");
    assert_string_equal(groups(s, "dev-2"), "Quarantine");

    assert_int_equal(store_mitigation_task_get(s, "t1", &got, &eb), DD_OK);
    assert_string_equal(got.status, "SUCCESSFUL");
    assert_int_equal(got.start_ms, 9000);
    assert_int_equal(got.end_ms, 12000);
    assert_string_equal(got.target, "{\"securityProfileName\":\"P\"}");
    assert_true(got.has_range);
    assert_int_equal(got.range_end_ms, 10000);
    assert_int_equal(got.n_executed, 2);
    assert_int_equal(got.n_skipped, 2);
    assert_int_equal(got.n_failed, 0);
    assert_string_equal(
        got.actions, "[{\"name\":\"Q\",\"id\":\"id-Q\",\"roleArn\":\"" ROLE "\",\"actionParams\":"
                     "" QUARANTINE "},{\"name\":\"D\",\"id\":\"id-D\",\"roleArn\":\"" ROLE
                     "\",\"actionParams\":" DEACTIVATE "}]");
    store_mitigation_task_cleanup(&got);

    f.thing = "dev-2";
    f.task_id = "t1";
    assert_int_equal(store_mitigation_execution_list(s, &f, 0, 10, &p), DD_OK);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.items[0].thing, "dev-2");
    assert_string_equal(p.items[0].status, "SUCCESSFUL");
    assert_null(p.items[0].error_code);
    assert_null(p.items[0].message);
    assert_int_equal(p.items[0].start_ms, 9000);
    assert_int_equal(p.items[0].end_ms, 12000);
    assert_string_equal(p.items[1].status, "SKIPPED");
    assert_non_null(strstr(p.items[1].message, "UPDATE_DEVICE_CERTIFICATE applies only to Audit"));
    store_mitigation_execution_page_cleanup(&p);
    store_close(s);
}

static void test_refused_memberships_fail_alone(void **state)
{
    static const char *const actions[] = { "Iso" };
    struct store_mitigation_task_new t = task("t2", "tok2", "P2", NULL, 0, actions, 1);
    struct store_mitigation_execution_filter f = { 0 };
    struct store_mitigation_execution_page p;
    struct store_mitigation_task got;
    struct store *s = fixture();
    struct dd_errbuf eb;
    bool created;
    int i;

    (void)state;
    /* dev-1 is at its ten-group limit; v1 is its violation. */
    for (i = 0; i < 10; i++) {
        char g[8];

        snprintf(g, sizeof(g), "G%d", i);
        store_fixture_group(s, g, NULL);
        join(s, "dev-1", g);
    }
    make_violation(s, "v6", "dev-2", "P2", "B1", false, 4800, 0);
    make_violation(s, "v7", "dev-1", "P2", "B1", false, 4900, 0);
    assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
    assert_int_equal(run_due(s, 9000, 0), 4);
    assert_string_equal(runs(s, "t2"),
                        "v4:Iso:FAILED,v5:Iso:FAILED,v6:Iso:SUCCESSFUL,v7:Iso:FAILED");
    /* dev-3 keeps SiteA only: its Quarantine membership went with the savepoint. */
    assert_string_equal(groups(s, "dev-3"), "SiteA");
    assert_string_equal(groups(s, "dev-2"), "Quarantine,SiteB");
    assert_null(strstr(groups(s, "dev-1"), "Quarantine"));

    f.task_id = "t2";
    assert_int_equal(store_mitigation_execution_list(s, &f, 0, 10, &p), DD_OK);
    assert_int_equal(p.n, 4);
    assert_string_equal(p.items[0].thing, "ghost");
    assert_string_equal(p.items[0].error_code, "ResourceNotFoundException");
    assert_string_equal(p.items[0].message, "Thing ghost cannot be found.");
    assert_string_equal(p.items[1].error_code, "InvalidRequestException");
    assert_non_null(strstr(p.items[1].message, "same hierarchy"));
    assert_string_equal(p.items[3].error_code, "InvalidRequestException");
    assert_non_null(strstr(p.items[3].message, "at most 10 thing groups"));
    store_mitigation_execution_page_cleanup(&p);

    assert_int_equal(store_mitigation_task_get(s, "t2", &got, &eb), DD_OK);
    assert_string_equal(got.status, "FAILED");
    assert_int_equal(got.n_executed, 1);
    assert_int_equal(got.n_failed, 3);
    assert_false(got.has_range);
    store_mitigation_task_cleanup(&got);
    store_close(s);
}

/* ---- refused starts, retries, cancel ---- */

static const char *const one_q[] = { "Q" };
static const char *const missing_action[] = { "Q", "Gone" };
static const char *const v1_id[] = { "v1" };
static const char *const unknown_id[] = { "v1", "v99" };

static const struct start_row {
    const char *what;
    const char *id, *token, *request, *profile;
    const char *const *ids;
    size_t n_ids;
    const char *const *actions;
    size_t n_actions;
    int rc;
    bool created;
    const char *msg;
} start_rows[] = {
    { "a retry", "t0", "tok0", "{}", "P", NULL, 0, one_q, 1, DD_OK, false, NULL },
    { "the id with another token", "t0", "tok9", "{}", "P", NULL, 0, one_q, 1, DD_ERR_EXISTS, false,
      "A mitigation actions task with the id t0 already exists." },
    { "the id and token, another request", "t0", "tok0", "{\"x\":1}", "P", NULL, 0, one_q, 1,
      DD_ERR_EXISTS, false, "A mitigation actions task with the id t0 already exists." },
    { "the token with another id", "t9", "tok0", "{}", "P", NULL, 0, one_q, 1, DD_ERR_EXISTS, false,
      "The client request token tok0 was already used by mitigation actions task t0." },
    { "a missing action", "t9", "tok9", "{}", "P", NULL, 0, missing_action, 2, DD_ERR_INVALID,
      false, "The mitigation action Gone does not exist." },
    { "a missing violation", "t9", "tok9", "{}", NULL, unknown_id, 2, one_q, 1, DD_ERR_INVALID,
      false, "The violation v99 does not exist." },
    { "a missing profile", "t9", "tok9", "{}", "Nope", NULL, 0, one_q, 1, DD_ERR_INVALID, false,
      "The security profile Nope does not exist." },
    { "by id", "t9", "tok9", "{}", NULL, v1_id, 1, one_q, 1, DD_OK, true, NULL },
};

static void test_start_rows(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(start_rows) / sizeof(start_rows[0]); i++) {
        const struct start_row *r = &start_rows[i];
        struct store_mitigation_task_new t;
        struct store *s = fixture();
        struct dd_errbuf eb;
        bool created = true;

        print_message("row: %s\n", r->what);
        /* t0 ran once over P with Q; dev-1 and dev-2 went to Quarantine. */
        t = task("t0", "tok0", "P", NULL, 0, one_q, 1);
        assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
        assert_int_equal(run_due(s, 9000, 0), 2);
        assert_string_equal(groups(s, "dev-2"), "Quarantine");
        assert_int_equal(store_membership_update(s, "dev-2", NULL, 0,
                                                 (const char *const[]){ "Quarantine" }, 1, false,
                                                 &eb),
                         DD_OK);

        t = task(r->id, r->token, r->profile, r->ids, r->n_ids, r->actions, r->n_actions);
        t.request = r->request;
        dd_errbuf_clear(&eb);
        assert_int_equal(store_mitigation_task_start(s, &t, 9500, &created, &eb), r->rc);
        assert_int_equal(created, r->created);
        if (r->msg)
            assert_string_equal(eb.msg, r->msg);
        assert_int_equal(count_tasks(s), r->created ? 2 : 1);
        /* Nothing ran again: dev-2 stays out of Quarantine. */
        assert_string_equal(groups(s, "dev-2"), "");
        assert_string_equal(runs(s, "t0"), "v1:Q:SUCCESSFUL,v2:Q:SUCCESSFUL");
        store_close(s);
    }
}

static void test_cancel(void **state)
{
    static const char *const actions[] = { "D" };
    struct store_mitigation_task_new t = task("t", "tok", "P", NULL, 0, actions, 1);
    struct store_mitigation_task got;
    struct store *s = fixture();
    struct dd_errbuf eb;
    bool created;

    (void)state;
    assert_int_equal(store_mitigation_task_cancel(s, "t", 1, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "The mitigation actions task t does not exist.");
    assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
    assert_int_equal(store_mitigation_task_cancel(s, "t", 9100, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "The mitigation actions task t cannot be canceled because it is "
                                "not in progress (its status is SUCCESSFUL).");
    assert_int_equal(store_mitigation_task_get(s, "t", &got, &eb), DD_OK);
    assert_string_equal(got.status, "SUCCESSFUL");
    assert_int_equal(got.end_ms, 9000);
    store_mitigation_task_cleanup(&got);

    /* In progress: the applied execution stays, the queued one is SKIPPED,
     * and nothing runs after the cancel. */
    t = task("q", "tokq", "P", NULL, 0, (const char *const[]){ "Q" }, 1);
    assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
    assert_int_equal(run_due(s, 10000, 1000), 1);
    assert_int_equal(store_mitigation_task_cancel(s, "q", 10500, &eb), DD_OK);
    assert_int_equal(run_due(s, 99000, 1000), 0);
    assert_string_equal(runs(s, "q"), "v1:Q:SUCCESSFUL,v2:Q:SKIPPED");
    assert_string_equal(groups(s, "dev-1"), "Quarantine");
    assert_string_equal(groups(s, "dev-2"), "");
    assert_int_equal(store_mitigation_task_get(s, "q", &got, &eb), DD_OK);
    assert_string_equal(got.status, "CANCELED");
    assert_int_equal(got.end_ms, 10500);
    assert_int_equal(got.n_executed, 1);
    assert_int_equal(got.n_skipped, 1);
    store_mitigation_task_cleanup(&got);
    assert_int_equal(store_mitigation_task_cancel(s, "q", 10600, &eb), DD_ERR_INVALID);
    assert_string_equal(eb.msg, "The mitigation actions task q cannot be canceled because it is "
                                "not in progress (its status is CANCELED).");
    memset(&got, 0x5a, sizeof(got));
    assert_int_equal(store_mitigation_task_get(s, "nope", &got, &eb), DD_ERR_NOT_FOUND);
    assert_null(got.target);
    assert_null(got.actions);
    store_close(s);
}

/* ---- listings ---- */

static void test_task_and_execution_pages(void **state)
{
    static const char *const actions[] = { "D" };
    struct store_mitigation_execution_filter f = { 0 };
    struct store_mitigation_execution_page ep;
    struct store_mitigation_task_page tp;
    struct store_mitigation_task_new t;
    struct store *s = fixture();
    struct dd_errbuf eb;
    int64_t after;
    bool created;

    (void)state;
    t = task("b", "tb", "P", NULL, 0, actions, 1);
    assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
    t = task("a", "ta", "P", NULL, 0, actions, 1);
    assert_int_equal(store_mitigation_task_start(s, &t, 9000, &created, &eb), DD_OK);
    t = task("c", "tc", "P2", NULL, 0, actions, 1);
    assert_int_equal(store_mitigation_task_start(s, &t, 12000, &created, &eb), DD_OK);

    assert_int_equal(store_mitigation_task_list(s, 0, 20000, 0, NULL, 2, &tp), DD_OK);
    assert_int_equal(tp.n, 2);
    assert_true(tp.more);
    assert_string_equal(tp.items[0].task_id, "a");
    assert_string_equal(tp.items[1].task_id, "b");
    store_mitigation_task_page_cleanup(&tp);
    assert_int_equal(store_mitigation_task_list(s, 0, 20000, 9000, "b", 2, &tp), DD_OK);
    assert_int_equal(tp.n, 1);
    assert_false(tp.more);
    assert_string_equal(tp.items[0].task_id, "c");
    store_mitigation_task_page_cleanup(&tp);
    assert_int_equal(store_mitigation_task_list(s, 10000, 20000, 0, NULL, 5, &tp), DD_OK);
    assert_int_equal(tp.n, 1);
    store_mitigation_task_page_cleanup(&tp);

    /* Executions: 2 (b) + 2 (a) + 2 (c), in the order written. */
    assert_int_equal(store_mitigation_execution_list(s, NULL, 0, 4, &ep), DD_OK);
    assert_int_equal(ep.n, 4);
    assert_true(ep.more);
    assert_string_equal(ep.items[0].task_id, "b");
    assert_string_equal(ep.items[2].task_id, "a");
    after = ep.items[3].id;
    store_mitigation_execution_page_cleanup(&ep);
    assert_int_equal(store_mitigation_execution_list(s, NULL, after, 4, &ep), DD_OK);
    assert_int_equal(ep.n, 2);
    assert_false(ep.more);
    assert_string_equal(ep.items[0].task_id, "c");
    store_mitigation_execution_page_cleanup(&ep);
    f.violation_id = "v1";
    assert_int_equal(store_mitigation_execution_list(s, &f, 0, 10, &ep), DD_OK);
    assert_int_equal(ep.n, 2);
    store_mitigation_execution_page_cleanup(&ep);
    f.violation_id = NULL;
    f.has_range = true;
    f.start_ms = 10000;
    f.end_ms = 13000;
    assert_int_equal(store_mitigation_execution_list(s, &f, 0, 10, &ep), DD_OK);
    assert_int_equal(ep.n, 2);
    assert_string_equal(ep.items[0].violation_id, "v4");
    store_mitigation_execution_page_cleanup(&ep);
    store_close(s);
}

/* ---- allocation failure ---- */

struct sweep {
    struct store *s;
    int n; /* a fresh task id per run */
};

static int sweep_action_create(void *ctx)
{
    struct sweep *sw = ctx;
    struct store_mitigation_action_new a = { NULL, NULL,       "UPDATE_DEVICE_CERTIFICATE",
                                             ROLE, DEACTIVATE, NULL };
    struct store_mitigation_action out;
    struct dd_errbuf eb;
    char name[32];
    int rc;

    snprintf(name, sizeof(name), "new-%d", sw->n++);
    a.name = name;
    a.action_id = name;
    rc = store_mitigation_action_create(sw->s, &a, 1, &out, &eb);
    if (rc)
        assert_null(out.params);
    store_mitigation_action_cleanup(&out);
    return rc;
}

static int sweep_action_get_update(void *ctx)
{
    struct sweep *sw = ctx;
    struct store_mitigation_action out;
    struct dd_errbuf eb;
    int rc;

    rc = store_mitigation_action_get(sw->s, "Q", &out, &eb);
    store_mitigation_action_cleanup(&out);
    if (!rc)
        rc = store_mitigation_action_update(sw->s, "Q", ROLE, NULL, NULL, 2, &out, &eb);
    store_mitigation_action_cleanup(&out);
    return rc;
}

static int sweep_action_list(void *ctx)
{
    struct sweep *sw = ctx;
    struct store_mitigation_action_page p;
    int rc = store_mitigation_action_list(sw->s, NULL, NULL, 2, &p);

    if (rc)
        assert_null(p.items);
    store_mitigation_action_page_cleanup(&p);
    return rc;
}

static int sweep_task_start(void *ctx)
{
    static const char *const actions[] = { "Q", "D" };
    struct sweep *sw = ctx;
    struct store_mitigation_task_new t;
    struct dd_errbuf eb;
    char id[32];
    bool created;

    snprintf(id, sizeof(id), "sweep-%d", sw->n++);
    t = task(id, id, "Many", NULL, 0, actions, 2);
    return store_mitigation_task_start(sw->s, &t, 9000, &created, &eb);
}

static int sweep_task_reads(void *ctx)
{
    struct sweep *sw = ctx;
    struct store_mitigation_task_page p;
    struct store_mitigation_task t;
    struct dd_errbuf eb;
    int rc;

    rc = store_mitigation_task_get(sw->s, "base", &t, &eb);
    store_mitigation_task_cleanup(&t);
    if (!rc)
        rc = store_mitigation_task_list(sw->s, 0, INT64_MAX, 0, NULL, 3, &p);
    store_mitigation_task_page_cleanup(&p);
    return rc;
}

static int sweep_execution_list(void *ctx)
{
    struct sweep *sw = ctx;
    struct store_mitigation_execution_page p;
    int rc = store_mitigation_execution_list(sw->s, NULL, 0, 30, &p);

    if (rc)
        assert_null(p.items);
    store_mitigation_execution_page_cleanup(&p);
    return rc;
}

static void test_allocation_failure(void **state)
{
    static const char *const actions[] = { "Q", "D" };
    int (*cases[])(void *) = { sweep_action_create, sweep_action_get_update, sweep_action_list,
                               sweep_task_start,    sweep_task_reads,        sweep_execution_list };
    struct store_mitigation_task_new t;
    struct sweep sw = { fixture(), 0 };
    struct dd_errbuf eb;
    bool created;
    size_t i;

    (void)state;
    /* More violations than the first allocation of the picked list holds. */
    make_profile(sw.s, "Many");
    for (i = 0; i < 20; i++) {
        char id[16], thing[16];

        snprintf(id, sizeof(id), "m%02zu", i);
        snprintf(thing, sizeof(thing), "dev-m%02zu", i);
        store_fixture_thing(sw.s, thing, NULL, NULL);
        make_violation(sw.s, id, thing, "Many", "B", false, 6000 + (int64_t)i, 0);
    }
    t = task("base", "base", "Many", NULL, 0, actions, 2);
    assert_int_equal(store_mitigation_task_start(sw.s, &t, 9000, &created, &eb), DD_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_true(alloc_fail_sweep(cases[i], &sw) > 0);
    store_close(sw.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_action_create_get_update_delete),
        cmocka_unit_test(test_action_list),
        cmocka_unit_test(test_task_selection),
        cmocka_unit_test(test_task_runs_actions),
        cmocka_unit_test(test_refused_memberships_fail_alone),
        cmocka_unit_test(test_start_rows),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_task_and_execution_pages),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
