/* SPDX-License-Identifier: MIT */
/* store_events.c: the event configuration and registry events (see
 * store_events.h). An event is a row of the MQTT outbox, written by the
 * transaction of the change it announces. */
#include "store/iot/store_events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/names.h"
#include "store/emulator/store_outbox.h"
#include "store/iot/store_registry.h"
#include "store/iot/store_thing_types.h"
#include "store/store_internal.h"

static int read_type(sqlite3_stmt *st, void *arg)
{
    struct store_events *out = arg;
    const char *type = (const char *)sqlite3_column_text(st, 0);
    enum lifecycle_type t;

    if (type && lifecycle_type_parse(type, strlen(type), &t) == DD_OK)
        out->enabled[t] = sqlite3_column_int(st, 1) != 0;
    return DD_OK;
}

int store_events_get(struct store *s, struct store_events *out)
{
    static const char list_sql[] = "SELECT type, enabled FROM event_config";
    static const char dates_sql[] =
        "SELECT coalesce(min(created_ms), 0), coalesce(max(updated_ms), 0) FROM event_config";
    sqlite3_stmt *st;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, list_sql, &st, "");
    if (!rc)
        rc = store__each(s, st, read_type, out, "read the event configuration");
    if (!rc)
        rc = store__row(s, dates_sql, "read the event configuration", "II", &out->created_ms,
                        &out->updated_ms);
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

int store_events_put(struct store *s, const bool set[LIFECYCLE_N_TYPES],
                     const bool enabled[LIFECYCLE_N_TYPES], int64_t now_ms)
{
    static const char sql[] =
        "INSERT INTO event_config (type, enabled, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?3) "
        "ON CONFLICT (type) DO UPDATE SET enabled = ?2, updated_ms = ?3";
    size_t i;
    int rc = store_begin(s);

    if (rc)
        return rc;
    for (i = 0; !rc && i < LIFECYCLE_N_TYPES; i++)
        if (set[i])
            rc = store__run(s, sql, "configure events", "tiI",
                            lifecycle_type_name((enum lifecycle_type)i), enabled[i], now_ms);
    return store__finish(s, rc);
}

void store_events_request(struct store *s, const char *account, const char *region, int64_t now_ms)
{
    snprintf(s->events.account, sizeof(s->events.account), "%s", account);
    snprintf(s->events.region, sizeof(s->events.region), "%s", region);
    s->events.now_ms = now_ms;
}

/* Whether the connection knows its partition and type t is enabled there. */
static int enabled(struct store *s, enum lifecycle_type t, bool *on)
{
    static const char sql[] = "SELECT 1 FROM event_config WHERE type = ? AND enabled = 1";

    *on = false;
    if (!s->events.account[0])
        return DD_OK;
    return store__found(
        store__exists(s, sql, "read the event configuration", "t", lifecycle_type_name(t)), on);
}

/* Queue text (owned, freed here) on topic. */
static int queue(struct store *s, const char *topic, char *text, size_t len)
{
    int rc = store_outbox_add(s, topic, text, len, 0, 0, NULL);

    free(text);
    return rc;
}

int store__event_thing(struct store *s, const char *operation, const char *name)
{
    struct lifecycle_thing ev = { 0 };
    char event_id[IDS_UUID_SIZE], topic[256], *text = NULL;
    struct store_thing t;
    size_t len;
    bool on;
    int rc = enabled(s, LIFECYCLE_THING, &on);

    if (rc || !on)
        return rc;
    rc = store_thing_get(s, name, &t, NULL);
    if (rc)
        return rc;
    rc = ids_uuid(event_id);
    if (!rc)
        rc = lifecycle_thing_topic(topic, sizeof(topic), operation, name);
    if (!rc) {
        ev.operation = operation;
        ev.event_id = event_id;
        ev.timestamp_ms = s->events.now_ms;
        ev.account_id = s->events.account;
        ev.thing_id = t.thing_id;
        ev.thing_name = t.name;
        ev.version = t.version;
        ev.type_name = t.type_name[0] ? t.type_name : NULL;
        ev.attributes = t.attributes;
        rc = lifecycle_thing_json(&ev, &text, &len);
    }
    if (!rc)
        rc = queue(s, topic, text, len);
    store_thing_cleanup(&t);
    return rc;
}

#define ANCESTORS_MAX 8 /* AWS's deepest hierarchy has 7 levels */

int store__event_group(struct store *s, const char *operation, const char *name)
{
    struct lifecycle_group ev = { 0 };
    char event_id[IDS_UUID_SIZE], topic[256], *text = NULL;
    char arn_buf[ANCESTORS_MAX][400], id_buf[ANCESTORS_MAX][STORE_ID_SIZE];
    const char *arns[ANCESTORS_MAX], *ids[ANCESTORS_MAX];
    struct store_names up = { 0 };
    struct store_thing_group g;
    size_t i, len;
    bool on;
    int rc = enabled(s, LIFECYCLE_THING_GROUP, &on);

    if (rc || !on)
        return rc;
    rc = store_group_get(s, name, &g, NULL);
    if (rc)
        return rc;
    rc = store_group_ancestors(s, name, &up);
    for (i = 0; !rc && i < up.n && i < ANCESTORS_MAX; i++) {
        struct store_thing_group a;

        rc = store_group_get(s, up.names[i], &a, NULL);
        if (rc)
            break;
        snprintf(id_buf[i], sizeof(id_buf[i]), "%s", a.group_id);
        store_thing_group_cleanup(&a);
        rc = names_arn_format(arn_buf[i], sizeof(arn_buf[i]), NAMES_ARN_THING_GROUP,
                              s->events.region, s->events.account, up.names[i]);
        arns[i] = arn_buf[i];
        ids[i] = id_buf[i];
    }
    if (!rc)
        rc = ids_uuid(event_id);
    if (!rc)
        rc = lifecycle_group_topic(topic, sizeof(topic), operation, name);
    if (!rc) {
        ev.operation = operation;
        ev.event_id = event_id;
        ev.timestamp_ms = s->events.now_ms;
        ev.account_id = s->events.account;
        ev.group_id = g.group_id;
        ev.group_name = g.name;
        ev.version = g.version;
        ev.parent_name = g.parent[0] ? g.parent : NULL;
        ev.parent_id = i > 0 ? ids[i - 1] : NULL;
        ev.description = g.description;
        ev.root_arns = arns;
        ev.root_ids = ids;
        ev.n_root = i;
        ev.attributes = g.attributes;
        rc = lifecycle_group_json(&ev, &text, &len);
    }
    if (!rc)
        rc = queue(s, topic, text, len);
    store_names_cleanup(&up);
    store_thing_group_cleanup(&g);
    return rc;
}

int store__event_membership(struct store *s, bool added, const char *thing, const char *group)
{
    struct lifecycle_membership ev = { 0 };
    char event_id[IDS_UUID_SIZE], membership_id[IDS_UUID_SIZE], topic[512], *text = NULL;
    char thing_arn[400], group_arn[400];
    struct store_thing_group g;
    struct store_thing t;
    size_t len;
    bool on;
    int rc = enabled(s, LIFECYCLE_THING_GROUP_MEMBERSHIP, &on);

    if (rc || !on)
        return rc;
    rc = store_thing_get(s, thing, &t, NULL);
    if (rc)
        return rc;
    rc = store_group_get(s, group, &g, NULL);
    if (rc) {
        store_thing_cleanup(&t);
        return rc;
    }
    rc = ids_uuid(event_id);
    if (!rc)
        rc = ids_uuid(membership_id);
    if (!rc)
        rc = names_arn_format(thing_arn, sizeof(thing_arn), NAMES_ARN_THING, s->events.region,
                              s->events.account, thing);
    if (!rc)
        rc = names_arn_format(group_arn, sizeof(group_arn), NAMES_ARN_THING_GROUP, s->events.region,
                              s->events.account, group);
    if (!rc)
        rc = lifecycle_membership_topic(topic, sizeof(topic), added, group, thing);
    if (!rc) {
        ev.added = added;
        ev.event_id = event_id;
        ev.timestamp_ms = s->events.now_ms;
        ev.account_id = s->events.account;
        ev.group_arn = group_arn;
        ev.group_id = g.group_id;
        ev.thing_arn = thing_arn;
        ev.thing_id = t.thing_id;
        ev.membership_id = membership_id;
        rc = lifecycle_membership_json(&ev, &text, &len);
    }
    if (!rc)
        rc = queue(s, topic, text, len);
    store_thing_cleanup(&t);
    store_thing_group_cleanup(&g);
    return rc;
}

int store__event_thing_type(struct store *s, const char *operation, const char *name)
{
    struct lifecycle_thing_type ev = { 0 };
    char event_id[IDS_UUID_SIZE], topic[256], *text = NULL;
    struct store_thing_type t;
    size_t len;
    bool on;
    int rc = enabled(s, LIFECYCLE_THING_TYPE, &on);

    if (rc || !on)
        return rc;
    rc = store_thing_type_get(s, name, &t, NULL);
    if (rc)
        return rc;
    rc = ids_uuid(event_id);
    if (!rc)
        rc = lifecycle_thing_type_topic(topic, sizeof(topic), operation, name);
    if (!rc) {
        ev.operation = operation;
        ev.event_id = event_id;
        ev.timestamp_ms = s->events.now_ms;
        ev.account_id = s->events.account;
        ev.type_id = t.type_id;
        ev.type_name = t.name;
        ev.deprecated = t.deprecated;
        ev.deprecation_ms = t.deprecated_ms;
        ev.properties = t.properties;
        rc = lifecycle_thing_type_json(&ev, &text, &len);
    }
    if (!rc)
        rc = queue(s, topic, text, len);
    store_thing_type_cleanup(&t);
    return rc;
}

int store__event_association(struct store *s, bool added, const char *thing, const char *type)
{
    struct lifecycle_type_association ev = { 0 };
    char event_id[IDS_UUID_SIZE], topic[512], *text = NULL;
    struct store_thing t;
    size_t len;
    bool on;
    int rc = enabled(s, LIFECYCLE_THING_TYPE_ASSOCIATION, &on);

    if (rc || !on)
        return rc;
    rc = store_thing_get(s, thing, &t, NULL);
    if (rc)
        return rc;
    if (!type)
        type = t.type_name;
    if (!type[0])
        goto out; /* a thing without a type: no association */
    rc = ids_uuid(event_id);
    if (!rc)
        rc = lifecycle_type_association_topic(topic, sizeof(topic), thing, type);
    if (!rc) {
        ev.added = added;
        ev.event_id = event_id;
        ev.timestamp_ms = s->events.now_ms;
        ev.thing_id = t.thing_id;
        ev.thing_name = t.name;
        ev.type_name = type;
        rc = lifecycle_type_association_json(&ev, &text, &len);
    }
    if (!rc)
        rc = queue(s, topic, text, len);
out:
    store_thing_cleanup(&t);
    return rc;
}

int store__event_hierarchy(struct store *s, bool added, const char *child)
{
    struct lifecycle_hierarchy ev = { 0 };
    char event_id[IDS_UUID_SIZE], topic[512], *text = NULL;
    struct store_thing_group c, p = { 0 };
    size_t len;
    bool on;
    int rc = enabled(s, LIFECYCLE_THING_GROUP_HIERARCHY, &on);

    if (rc || !on)
        return rc;
    rc = store_group_get(s, child, &c, NULL);
    if (rc)
        return rc;
    if (!c.parent[0])
        goto out; /* a root group has no parent to announce */
    rc = store_group_get(s, c.parent, &p, NULL);
    if (!rc)
        rc = ids_uuid(event_id);
    if (!rc)
        rc = lifecycle_hierarchy_topic(topic, sizeof(topic), added, c.parent, child);
    if (!rc) {
        ev.added = added;
        ev.event_id = event_id;
        ev.timestamp_ms = s->events.now_ms;
        ev.account_id = s->events.account;
        ev.group_id = p.group_id;
        ev.group_name = p.name;
        ev.child_id = c.group_id;
        ev.child_name = c.name;
        rc = lifecycle_hierarchy_json(&ev, &text, &len);
    }
    if (!rc)
        rc = queue(s, topic, text, len);
out:
    store_thing_group_cleanup(&p);
    store_thing_group_cleanup(&c);
    return rc;
}
