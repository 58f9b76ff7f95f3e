/* SPDX-License-Identifier: MIT */
/* test_store_index.c: the fleet index over real SQLite (":memory:" with the
 * schema applied): the indexing configuration (defaults, replace), the
 * connectivity records, and which things a query matches for each field
 * family under each configuration (registry, attributes, groups, classic and
 * named shadows, connectivity, Device Defender), in name order with after
 * and limit; indexing OFF; a callback that stops the walk; allocation
 * failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/fleetquery.h"
#include "core/shadow.h"
#include "store/index/store_index.h"
#include "store/iot_data/store_shadow.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

static void configure(struct store *s, const char *thing_mode, const char *conn, const char *dd,
                      const char *named_mode, const char *named)
{
    struct store_index_config c;

    memset(&c, 0, sizeof(c));
    strcpy(c.thing_mode, thing_mode);
    strcpy(c.connectivity_mode, conn);
    strcpy(c.defender_mode, dd);
    strcpy(c.named_shadow_mode, named_mode);
    strcpy(c.group_mode, "OFF");
    c.named_shadows = (char *)(uintptr_t)named;
    assert_int_equal(store_index_config_put(s, &c, 5000), DD_OK);
}

static void shadow(struct store *s, const char *thing, const char *name, const char *doc)
{
    struct shadow_update_result r;
    struct shadow_limits lim;
    struct shadow_error err;

    shadow_limits_default(&lim);
    assert_int_equal(
        store_shadow_update(s, thing, name, doc, strlen(doc), 100, &lim, false, &r, &err), DD_OK);
    shadow_update_result_cleanup(&r);
}

/* Four things: pump-1 (type Pump, attrs, group plant1, billing group b1,
 * shadows, connected, one violation), pump-2 (attrs, disconnected),
 * valve-1 (no attributes), and a shadow of an unregistered name. */
static struct store *fleet(void)
{
    struct store *s = store_fixture_open();

    store_fixture_thing(s, "pump-1", "Pump", "{\"temp\":\"77\",\"fw\":\"2.1.0\"}");
    store_fixture_thing(s, "pump-2", NULL, "{\"temp\":\"60\",\"fw\":\"1.0\"}");
    store_fixture_thing(s, "valve-1", NULL, NULL);
    store_fixture_group(s, "plant1", NULL);
    store_fixture_exec(s, "INSERT INTO thing_group_members VALUES ('pump-1', 'plant1');"
                          "INSERT INTO billing_groups (name, group_id, version, created_ms)"
                          " VALUES ('b1', 'bid', 1, 1);"
                          "UPDATE things SET billing_group = 'b1' WHERE name = 'pump-1';");
    shadow(s, "pump-1", "",
           "{\"state\":{\"reported\":{\"stats\":{\"battery\":80},\"on\":true,\"v\":[1,2,3]},"
           "\"desired\":{\"on\":false}}}");
    shadow(s, "pump-2", "", "{\"state\":{\"reported\":{\"stats\":{\"battery\":20}}}}");
    shadow(s, "pump-2", "cfg", "{\"state\":{\"desired\":{\"filament\":\"pla\"}}}");
    shadow(s, "pump-2", "other", "{\"state\":{\"desired\":{\"filament\":\"abs\"}}}");
    shadow(s, "ghost", "", "{\"state\":{\"reported\":{\"stats\":{\"battery\":99}}}}");
    assert_int_equal(store_index_connectivity_set(s, "pump-1", true, 7000, NULL), DD_OK);
    assert_int_equal(store_index_connectivity_set(s, "pump-2", true, 6000, NULL), DD_OK);
    assert_int_equal(
        store_index_connectivity_set(s, "pump-2", false, 8000, "CLIENT_INITIATED_DISCONNECT"),
        DD_OK);
    store_fixture_exec(
        s, "INSERT INTO violations (violation_id, thing_name, profile_name, behavior_name,"
           " behavior, criteria_type, start_ms, last_violation_ms, last_value) VALUES"
           " ('v1', 'pump-1', 'SP1', 'msgs', '{\"name\":\"msgs\",\"metric\":"
           "\"aws:num-messages-sent\"}', 'STATIC', 1000, 1634227300000, '{\"count\":120}'),"
           " ('v2', 'pump-2', 'SP1', 'msgs', '{\"name\":\"msgs\",\"metric\":"
           "\"aws:num-messages-sent\"}', 'STATIC', 1000, 2000, '{\"count\":3}');"
           "UPDATE violations SET end_ms = 3000, end_type = 'alarm-cleared' WHERE"
           " violation_id = 'v2'");
    return s;
}

struct names {
    char text[256];
    int stop_after; /* 0: never */
    int n;
};

static int collect(void *ctx, const char *name)
{
    struct names *c = ctx;

    if (c->text[0])
        strcat(c->text, ",");
    strcat(c->text, name);
    if (c->stop_after && ++c->n >= c->stop_after)
        return DD_ERR_INTERNAL;
    return DD_OK;
}

static void expect(struct store *s, const char *query, const char *after, size_t limit,
                   const char *want)
{
    struct fleetquery *q = NULL;
    struct names c = { "", 0, 0 };
    struct dd_errbuf eb;

    assert_int_equal(fleetquery_parse(query, strlen(query), FLEETQUERY_THINGS, &q, &eb), DD_OK);
    assert_int_equal(store_index_each_match(s, q, after, limit, collect, &c, &eb), DD_OK);
    fleetquery_free(q);
    if (strcmp(c.text, want) != 0)
        fail_msg("%s: got [%s], want [%s]", query, c.text, want);
}

static void test_config_defaults_and_replace(void **state)
{
    struct store *s = store_fixture_open();
    struct store_index_config c;

    (void)state;
    assert_int_equal(store_index_config_get(s, &c), DD_OK);
    assert_string_equal(c.thing_mode, "OFF");
    assert_string_equal(c.connectivity_mode, "OFF");
    assert_string_equal(c.defender_mode, "OFF");
    assert_string_equal(c.named_shadow_mode, "OFF");
    assert_string_equal(c.group_mode, "OFF");
    assert_string_equal(c.named_shadows, "[]");
    assert_string_equal(c.thing_custom, "[]");
    assert_int_equal(c.updated_ms, 0);
    store_index_config_cleanup(&c);
    configure(s, "REGISTRY", "STATUS", "OFF", "ON", "[\"cfg\"]");
    configure(s, "REGISTRY_AND_SHADOW", "OFF", "VIOLATIONS", "ON", "[\"cfg\",\"x\"]");
    assert_int_equal(store_index_config_get(s, &c), DD_OK);
    assert_string_equal(c.thing_mode, "REGISTRY_AND_SHADOW");
    assert_string_equal(c.connectivity_mode, "OFF");
    assert_string_equal(c.defender_mode, "VIOLATIONS");
    assert_string_equal(c.named_shadows, "[\"cfg\",\"x\"]");
    assert_int_equal(c.updated_ms, 5000);
    store_index_config_cleanup(&c);
    store_index_config_cleanup(NULL);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM index_config"), 1);
    store_close(s);
}

static void test_connectivity_records(void **state)
{
    struct store *s = fleet();

    (void)state;
    assert_int_equal(store_fixture_int(s, "SELECT version FROM connectivity WHERE"
                                          " client_id = 'pump-2' AND connected = 0 AND"
                                          " timestamp_ms = 8000 AND disconnect_reason ="
                                          " 'CLIENT_INITIATED_DISCONNECT'"),
                     2);
    assert_int_equal(store_index_connectivity_reset(s, 9000, "SERVER_INITIATED_DISCONNECT"), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM connectivity WHERE connected = 0"
                                          " AND disconnect_reason IS NOT NULL"),
                     2);
    assert_int_equal(store_fixture_int(s, "SELECT timestamp_ms FROM connectivity"
                                          " WHERE client_id = 'pump-2'"),
                     8000); /* already disconnected: kept */
    store_close(s);
}

static void test_off_is_not_found(void **state)
{
    struct store *s = fleet();
    struct fleetquery *q = NULL;
    struct names c = { "", 0, 0 };
    struct dd_errbuf eb;

    (void)state;
    assert_int_equal(fleetquery_parse("*", 1, FLEETQUERY_THINGS, &q, &eb), DD_OK);
    assert_int_equal(store_index_each_match(s, q, NULL, 0, collect, &c, &eb), DD_ERR_NOT_FOUND);
    assert_string_equal(eb.msg, "Index AWS_Things does not exist");
    assert_string_equal(c.text, "");
    configure(s, "OFF", "STATUS", "VIOLATIONS", "OFF", NULL);
    assert_int_equal(store_index_each_match(s, q, NULL, 0, collect, &c, &eb), DD_ERR_NOT_FOUND);
    fleetquery_free(q);
    store_close(s);
}

static void test_registry_fields(void **state)
{
    static const struct {
        const char *query;
        const char *want;
    } cases[] = {
        { "*", "pump-1,pump-2,valve-1" },
        { "thingName:pump-1", "pump-1" },
        { "thingName:pump*", "pump-1,pump-2" },
        { "thingName:*-1", "pump-1,valve-1" },
        { "thingId:id-valve-1", "valve-1" },
        /* a thingName bound narrows the walk; case never matters */
        { "thingName:PUMP-1", "pump-1" },
        { "thingName:Pump*", "pump-1,pump-2" },
        { "thingName:pu?p-2", "pump-2" },
        { "thingName:pump-1 OR thingName:valve*", "pump-1,valve-1" },
        { "thingTypeName:pump AND thingName:pump*", "pump-1" },
        { "thingName:pump\\-1", "pump-1" },
        { "thingName:nothing*", "" },
        /* an attribute word narrows the walk too */
        { "attributes.fw:1.0 AND thingName:pump*", "pump-2" },
        { "attributes.FW:2.1.0", "" }, /* field names keep their case */
        { "attributes.fw:2.1.0 OR attributes.fw:1.0", "pump-1,pump-2" },
        { "attributes.fw:none", "" },
        { "attributes.temp:77", "pump-1" },
        { "attributes.temp:77.0", "pump-1" },
        { "thingTypeName:pump", "pump-1" },
        { "thingGroupNames:plant1", "pump-1" },
        { "thingGroupNames:b1", "pump-1" },
        { "NOT thingGroupNames:*", "pump-2,valve-1" },
        { "attributes.temp:[60 TO 77]", "pump-1,pump-2" },
        { "attributes.temp>60", "pump-1" },
        { "attributes.fw:2.1.0", "pump-1" },
        { "attributes.fw:*", "pump-1,pump-2" },
        { "NOT attributes.fw:*", "valve-1" },
        { "thingName:pump* AND attributes.temp<70 OR thingName:valve*", "pump-2,valve-1" },
        { "plant1", "pump-1" }, /* a bare term looks at every field */
        /* sources that are not indexed match nothing */
        { "shadow.reported.stats.battery:*", "" },
        { "connectivity.connected:true", "" },
        { "deviceDefender.violationCount:*", "" },
    };
    struct store *s = fleet();
    size_t i;

    (void)state;
    configure(s, "REGISTRY", "OFF", "OFF", "OFF", NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(s, cases[i].query, NULL, 0, cases[i].want);
    expect(s, "*", "pump-1", 0, "pump-2,valve-1");
    expect(s, "*", NULL, 2, "pump-1,pump-2");
    expect(s, "*", "pump-2", 5, "valve-1");
    expect(s, "*", "valve-1", 0, "");
    expect(s, "thingName:pump*", "pump-1", 0, "pump-2");
    expect(s, "thingName:PUMP-2", "pump-1", 0, "pump-2");
    expect(s, "thingName:pump-1", "pump-1", 0, "");
    store_close(s);
}

static void test_shadow_connectivity_defender_fields(void **state)
{
    static const struct {
        const char *query;
        const char *want;
    } cases[] = {
        { "shadow.reported.stats.battery:{70 TO 100}", "pump-1" },
        { "shadow.reported.stats.battery<50", "pump-2" },
        { "shadow.reported.v:2", "pump-1" },
        { "shadow.reported.on:true", "pump-1" },
        { "shadow.desired.on:false", "pump-1" },
        { "shadow.hasDelta:true", "pump-1" },
        { "shadow.hasDelta:false", "pump-2" },
        { "shadow.delta.on:false", "pump-1" },
        { "shadow.metadata.reported.stats.battery.timestamp:100", "pump-1,pump-2" },
        { "shadow.name.cfg.desired.filament:pla", "pump-2" },
        { "shadow.name.cfg.hasDelta:true", "pump-2" },
        { "shadow.name.other.desired.filament:*", "" }, /* not in the filter */
        { "connectivity.connected:true", "pump-1" },
        { "connectivity.connected:false", "pump-2,valve-1" },
        { "connectivity.timestamp>7500", "pump-2" },
        { "connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT", "pump-2" },
        { "connectivity.connected:* AND NOT connectivity.timestamp:*", "valve-1" },
        { "deviceDefender.violationCount:[1 TO 100]", "pump-1" },
        { "deviceDefender.violationCount:0", "pump-2,valve-1" },
        { "deviceDefender.SP1.msgs.inViolation:true", "pump-1" },
        { "deviceDefender.SP1.msgs.metricName:aws\\:num-messages-sent", "pump-1" },
        { "deviceDefender.SP1.msgs.lastViolationValue.count>100", "pump-1" },
        { "deviceDefender.SP1.msgs.lastViolationTime>1634227200000", "pump-1" },
        { "pla", "pump-2" },
        { "connectivity.connected:true AND shadow.reported.on:true", "pump-1" },
    };
    struct store *s = fleet();
    size_t i;

    (void)state;
    configure(s, "REGISTRY_AND_SHADOW", "STATUS", "VIOLATIONS", "ON", "[\"cfg\"]");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(s, cases[i].query, NULL, 0, cases[i].want);
    /* the classic shadow needs REGISTRY_AND_SHADOW; named ones their mode */
    configure(s, "REGISTRY", "OFF", "OFF", "ON", "[\"cfg\"]");
    expect(s, "shadow.reported.stats.battery:*", NULL, 0, "");
    expect(s, "shadow.name.cfg.desired.filament:pla", NULL, 0, "pump-2");
    configure(s, "REGISTRY_AND_SHADOW", "OFF", "OFF", "OFF", "[\"cfg\"]");
    expect(s, "shadow.name.cfg.desired.filament:pla", NULL, 0, "");
    expect(s, "shadow.reported.stats.battery:*", NULL, 0, "pump-1,pump-2");
    store_close(s);
}

static void test_callback_stops_walk(void **state)
{
    struct store *s = fleet();
    struct fleetquery *q = NULL;
    struct names c = { "", 2, 0 };
    struct dd_errbuf eb;

    (void)state;
    configure(s, "REGISTRY", "OFF", "OFF", "OFF", NULL);
    assert_int_equal(fleetquery_parse("*", 1, FLEETQUERY_THINGS, &q, &eb), DD_OK);
    assert_int_equal(store_index_each_match(s, q, NULL, 0, collect, &c, &eb), DD_ERR_INTERNAL);
    assert_string_equal(c.text, "pump-1,pump-2");
    fleetquery_free(q);
    store_close(s);
}

static int walk_case(void *ctx)
{
    struct store *s = ctx;
    struct fleetquery *q = NULL;
    struct names c = { "", 0, 0 };
    struct dd_errbuf eb;
    const char *text = "pla OR shadow.reported.v:2 OR deviceDefender.SP1.msgs.inViolation:true";
    int rc = fleetquery_parse(text, strlen(text), FLEETQUERY_THINGS, &q, &eb);

    if (!rc)
        rc = store_index_each_match(s, q, NULL, 0, collect, &c, &eb);
    fleetquery_free(q);
    if (!rc && strcmp(c.text, "pump-1,pump-2") != 0)
        fail_msg("got [%s]", c.text);
    return rc;
}

static int config_case(void *ctx)
{
    struct store_index_config c;
    int rc = store_index_config_get(ctx, &c);

    store_index_config_cleanup(&c);
    return rc;
}

static void test_allocation_failure(void **state)
{
    struct store *s = fleet();

    (void)state;
    configure(s, "REGISTRY_AND_SHADOW", "STATUS", "VIOLATIONS", "ON", "[\"cfg\"]");
    assert_true(alloc_fail_sweep(walk_case, s) > 0);
    assert_true(alloc_fail_sweep(config_case, s) > 0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_and_replace),
        cmocka_unit_test(test_connectivity_records),
        cmocka_unit_test(test_off_is_not_found),
        cmocka_unit_test(test_registry_fields),
        cmocka_unit_test(test_shadow_connectivity_defender_fields),
        cmocka_unit_test(test_callback_stops_walk),
        cmocka_unit_test(test_allocation_failure),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
