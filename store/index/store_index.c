/* SPDX-License-Identifier: MIT */
/* store_index.c: the fleet index read straight from the tables
 * (store_index.h).
 *
 * A walk steps over the things in name order and builds each one's record
 * (core/fleetrecord) lazily: the registry columns come with the row, and
 * the other families (attributes, thing groups, shadows, connectivity,
 * Device Defender) are read only when the matcher first asks for a field of
 * theirs, so `thingName:x` never parses a shadow. The configuration decides
 * which families exist at all. */
#include "store/index/store_index.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "core/fleetrecord.h"
#include "core/jsonprint.h"
#include "core/shadow.h"
#include "store/iot/store_registry.h"
#include "store/store_internal.h"

enum family {
    FAM_ATTRS = 1 << 0,
    FAM_GROUPS = 1 << 1,
    FAM_SHADOW = 1 << 2,
    FAM_CONN = 1 << 3,
    FAM_DD = 1 << 4,
    FAM_ALL = (1 << 5) - 1,
};

struct store_index_thing {
    struct store *s;                      /* borrowed */
    const struct store_index_config *cfg; /* borrowed */
    const cJSON *named;                   /* borrowed: the named-shadow filter */
    struct fleetrecord rec;               /* owned, reused thing after thing */
    char name[256];                       /* the thing */
    char *attrs;                          /* owned: its attributes JSON, reused */
    size_t attrs_cap;
    unsigned loaded;  /* families in rec */
    unsigned enabled; /* families the configuration indexes */
    int rc;           /* the first error a lookup met */
};

/* The statements a thing's families and its document share. */
static const char shadows_sql[] = "SELECT shadow_name, version, document, updated_s FROM shadows"
                                  " WHERE thing_name = ?1 AND document IS NOT NULL"
                                  " ORDER BY shadow_name";
static const char connectivity_sql[] = "SELECT connected, timestamp_ms, disconnect_reason, version"
                                       " FROM connectivity WHERE client_id = ?1";
static const char violations_sql[] =
    "SELECT profile_name, behavior_name, behavior, last_violation_ms, last_value"
    " FROM violations WHERE end_ms IS NULL AND thing_name = ?1"
    " ORDER BY profile_name, behavior_name";

void store_index_config_cleanup(struct store_index_config *c)
{
    if (!c)
        return;
    free(c->named_shadows);
    free(c->geo_locations);
    free(c->thing_custom);
    free(c->group_custom);
    memset(c, 0, sizeof(*c));
}

int store_index_config_get(struct store *s, struct store_index_config *out)
{
    static const char sql[] =
        "SELECT thing_mode, connectivity_mode, defender_mode, named_shadow_mode, named_shadows,"
        " geo_locations, thing_custom, group_mode, group_custom, updated_ms"
        " FROM index_config WHERE id = 1";
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__row(s, sql, "read the indexing configuration", "ssssSSSsSI", out->thing_mode,
                    sizeof(out->thing_mode), out->connectivity_mode, sizeof(out->connectivity_mode),
                    out->defender_mode, sizeof(out->defender_mode), out->named_shadow_mode,
                    sizeof(out->named_shadow_mode), &out->named_shadows, &out->geo_locations,
                    &out->thing_custom, out->group_mode, sizeof(out->group_mode),
                    &out->group_custom, &out->updated_ms);
    if (rc == DD_ERR_NOT_FOUND) {
        store_index_config_cleanup(out);
        strcpy(out->thing_mode, "OFF");
        strcpy(out->connectivity_mode, "OFF");
        strcpy(out->defender_mode, "OFF");
        strcpy(out->named_shadow_mode, "OFF");
        strcpy(out->group_mode, "OFF");
        out->named_shadows = strdup("[]");
        out->geo_locations = strdup("[]");
        out->thing_custom = strdup("[]");
        out->group_custom = strdup("[]");
        rc = out->named_shadows && out->geo_locations && out->thing_custom && out->group_custom
                 ? DD_OK
                 : DD_ERR_NOMEM;
    }
    if (rc)
        store_index_config_cleanup(out);
    return rc;
}

static const char *or_empty(const char *json)
{
    return json ? json : "[]";
}

int store_index_config_put(struct store *s, const struct store_index_config *c, int64_t now_ms)
{
    static const char sql[] =
        "INSERT OR REPLACE INTO index_config (id, thing_mode, connectivity_mode, defender_mode,"
        " named_shadow_mode, named_shadows, geo_locations, thing_custom, group_mode,"
        " group_custom, updated_ms) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, sql, "write the indexing configuration", "sssssssssI", c->thing_mode,
                    c->connectivity_mode, c->defender_mode, c->named_shadow_mode,
                    or_empty(c->named_shadows), or_empty(c->geo_locations),
                    or_empty(c->thing_custom), c->group_mode, or_empty(c->group_custom),
                    (int64_t)now_ms);
    return store__finish(s, rc);
}

int store_index_connectivity_set(struct store *s, const char *client_id, bool connected,
                                 int64_t ts_ms, const char *reason)
{
    static const char sql[] =
        "INSERT INTO connectivity (client_id, connected, timestamp_ms, disconnect_reason, version)"
        " VALUES (?1, ?2, ?3, ?4, 1) ON CONFLICT (client_id) DO UPDATE SET"
        " connected = excluded.connected, timestamp_ms = excluded.timestamp_ms,"
        " disconnect_reason = excluded.disconnect_reason, version = version + 1";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, sql, "record connectivity", "siIs", client_id, connected ? 1 : 0,
                    (int64_t)ts_ms, connected ? NULL : reason);
    return store__finish(s, rc);
}

int store_index_connectivity_reset(struct store *s, int64_t ts_ms, const char *reason)
{
    static const char sql[] =
        "UPDATE connectivity SET connected = 0, timestamp_ms = ?1, disconnect_reason = ?2,"
        " version = version + 1 WHERE connected = 1";
    int rc = store_begin(s);

    if (rc)
        return rc;
    rc = store__run(s, sql, "reset connectivity", "Is", (int64_t)ts_ms, reason);
    return store__finish(s, rc);
}

/* ---- the families of one thing ---- */

static int load_attrs(struct store_index_thing *t)
{
    cJSON *root, *el;

    if (!t->attrs || !t->attrs[0])
        return DD_OK;
    root = cJSON_Parse(t->attrs);
    if (!root) /* the registry stores valid JSON: only memory can fail */
        return DD_ERR_NOMEM;
    cJSON_ArrayForEach(el, root)
    {
        char name[300];

        if (!el->string || !cJSON_IsString(el) ||
            strlen(el->string) + sizeof("attributes.") > sizeof(name))
            continue;
        strcpy(name, "attributes.");
        strcat(name, el->string);
        fleetrecord_add_attr(&t->rec, name, el->valuestring);
    }
    cJSON_Delete(root);
    return DD_OK;
}

static int add_group(void *ctx, const char *name)
{
    struct store_index_thing *t = ctx;

    if (name)
        fleetrecord_add_str(&t->rec, "thingGroupNames", name);
    return DD_OK;
}

static int load_groups(struct store_index_thing *t)
{
    static const char sql[] = "SELECT group_name FROM thing_group_members WHERE thing_name = ?1"
                              " UNION SELECT billing_group FROM things WHERE name = ?1"
                              " AND billing_group IS NOT NULL ORDER BY 1";
    sqlite3_stmt *st;
    int rc = store__stmt(t->s, sql, &st, "t", t->name);

    if (rc)
        return rc;
    return store__each_text(t->s, st, add_group, NULL, t, "read a thing's groups");
}

/* Whether the named-shadow filter lists name. */
static bool named_listed(const cJSON *filter, const char *name)
{
    const cJSON *el;

    cJSON_ArrayForEach(el, filter)
    {
        if (cJSON_IsString(el) && strcmp(el->valuestring, name) == 0)
            return true;
    }
    return false;
}

/* Add one shadow's sections under prefix ("shadow" or "shadow.name.N"). */
static int add_shadow(struct fleetrecord *rec, const char *prefix, const char *stored,
                      int64_t version, int64_t updated_s)
{
    char *full = NULL, name[128];
    const cJSON *state, *delta;
    cJSON *doc = NULL;
    int rc;

    rc = shadow_get(stored, version, updated_s, NULL, &full);
    if (rc)
        return rc;
    doc = cJSON_Parse(full);
    if (!doc) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    state = cJSON_GetObjectItemCaseSensitive(doc, "state");
    delta = cJSON_GetObjectItemCaseSensitive(state, "delta");
    snprintf(name, sizeof(name), "%s.reported", prefix);
    fleetrecord_add_json(rec, name, cJSON_GetObjectItemCaseSensitive(state, "reported"));
    snprintf(name, sizeof(name), "%s.desired", prefix);
    fleetrecord_add_json(rec, name, cJSON_GetObjectItemCaseSensitive(state, "desired"));
    snprintf(name, sizeof(name), "%s.delta", prefix);
    fleetrecord_add_json(rec, name, delta);
    snprintf(name, sizeof(name), "%s.metadata", prefix);
    fleetrecord_add_json(rec, name, cJSON_GetObjectItemCaseSensitive(doc, "metadata"));
    snprintf(name, sizeof(name), "%s.version", prefix);
    fleetrecord_add_num(rec, name, (double)version);
    snprintf(name, sizeof(name), "%s.hasDelta", prefix);
    fleetrecord_add_bool(rec, name, delta != NULL);
out:
    cJSON_Delete(doc);
    free(full);
    return rc;
}

static int shadow_each(sqlite3_stmt *st, void *arg)
{
    struct store_index_thing *t = arg;
    const char *shadow_name = store__text(st, 0), *doc = store__text(st, 2);
    int64_t version = sqlite3_column_int64(st, 1), updated_s = sqlite3_column_int64(st, 3);
    char prefix[96];

    if (!shadow_name || !doc)
        return DD_OK;
    if (shadow_name[0] == '\0') {
        if (strcmp(t->cfg->thing_mode, "REGISTRY_AND_SHADOW") != 0)
            return DD_OK;
        return add_shadow(&t->rec, "shadow", doc, version, updated_s);
    }
    if (strcmp(t->cfg->named_shadow_mode, "ON") != 0 || !named_listed(t->named, shadow_name))
        return DD_OK;
    snprintf(prefix, sizeof(prefix), "shadow.name.%s", shadow_name);
    return add_shadow(&t->rec, prefix, doc, version, updated_s);
}

static int load_shadows(struct store_index_thing *t)
{
    sqlite3_stmt *st;
    int rc = store__stmt(t->s, shadows_sql, &st, "t", t->name);

    if (rc)
        return rc;
    return store__each(t->s, st, shadow_each, t, "read a thing's shadows");
}

static int load_conn(struct store_index_thing *t)
{
    sqlite3_stmt *st;
    int rc = store__one(t->s, connectivity_sql, &st, "read a thing's connectivity", "t", t->name);

    if (rc == DD_ERR_NOT_FOUND) {
        fleetrecord_add_bool(&t->rec, "connectivity.connected", false);
        return DD_OK;
    }
    if (rc)
        return rc;
    fleetrecord_add_bool(&t->rec, "connectivity.connected", sqlite3_column_int(st, 0) != 0);
    fleetrecord_add_num(&t->rec, "connectivity.timestamp", (double)sqlite3_column_int64(st, 1));
    fleetrecord_add_num(&t->rec, "connectivity.version", (double)sqlite3_column_int64(st, 3));
    if (store__text(st, 2))
        fleetrecord_add_str(&t->rec, "connectivity.disconnectReason", store__text(st, 2));
    sqlite3_reset(st);
    return DD_OK;
}

static int dd_each(sqlite3_stmt *st, void *arg)
{
    struct store_index_thing *t = arg;
    const char *profile = store__text(st, 0), *behavior = store__text(st, 1);
    cJSON *b = cJSON_Parse(store__text(st, 2)), *value = cJSON_Parse(store__text(st, 4));
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(b, "metric");
    char prefix[300], name[340];

    if (!b || !value) { /* Detect stores valid JSON: only memory can fail */
        cJSON_Delete(b);
        cJSON_Delete(value);
        return DD_ERR_NOMEM;
    }
    snprintf(prefix, sizeof(prefix), "deviceDefender.%s.%s", profile ? profile : "",
             behavior ? behavior : "");
    snprintf(name, sizeof(name), "%s.inViolation", prefix);
    fleetrecord_add_bool(&t->rec, name, true);
    if (cJSON_IsString(metric)) {
        snprintf(name, sizeof(name), "%s.metricName", prefix);
        fleetrecord_add_str(&t->rec, name, metric->valuestring);
    }
    snprintf(name, sizeof(name), "%s.lastViolationTime", prefix);
    fleetrecord_add_num(&t->rec, name, (double)sqlite3_column_int64(st, 3));
    snprintf(name, sizeof(name), "%s.lastViolationValue", prefix);
    fleetrecord_add_json(&t->rec, name, value);
    cJSON_Delete(b);
    cJSON_Delete(value);
    return DD_OK;
}

static int load_dd(struct store_index_thing *t)
{
    static const char count_sql[] =
        "SELECT count(*) FROM violations WHERE end_ms IS NULL AND thing_name = ?1";
    sqlite3_stmt *st;
    int64_t n = 0;
    int rc = store__int64(t->s, count_sql, "count a thing's violations", &n, "t", t->name);

    if (rc)
        return rc;
    fleetrecord_add_num(&t->rec, "deviceDefender.violationCount", (double)n);
    if (n == 0)
        return DD_OK;
    rc = store__stmt(t->s, violations_sql, &st, "t", t->name);
    if (rc)
        return rc;
    return store__each(t->s, st, dd_each, t, "read a thing's violations");
}

/* The families field needs (NULL: all of them). */
static unsigned family_of(const char *field)
{
    if (!field)
        return FAM_ALL;
    if (strncmp(field, "attributes.", 11) == 0)
        return FAM_ATTRS;
    if (strcmp(field, "thingGroupNames") == 0)
        return FAM_GROUPS;
    if (strncmp(field, "shadow.", 7) == 0)
        return FAM_SHADOW;
    if (strncmp(field, "connectivity.", 13) == 0)
        return FAM_CONN;
    if (strncmp(field, "deviceDefender.", 15) == 0)
        return FAM_DD;
    return 0;
}

int store_index_thing_values(struct store_index_thing *t, const char *field,
                             const struct fleetquery_value **vals, size_t *n_vals)
{
    unsigned want = family_of(field) & t->enabled & ~t->loaded;
    int rc = DD_OK;

    *vals = NULL;
    *n_vals = 0;
    if (want) {
        if (!rc && (want & FAM_ATTRS))
            rc = load_attrs(t);
        if (!rc && (want & FAM_GROUPS))
            rc = load_groups(t);
        if (!rc && (want & FAM_SHADOW))
            rc = load_shadows(t);
        if (!rc && (want & FAM_CONN))
            rc = load_conn(t);
        if (!rc && (want & FAM_DD))
            rc = load_dd(t);
        t->loaded |= want;
        if (!rc)
            rc = fleetrecord_seal(&t->rec);
        if (rc) {
            if (!t->rc)
                t->rc = rc;
            return rc;
        }
    }
    fleetrecord_find(&t->rec, field, vals, n_vals);
    return DD_OK;
}

static void lookup(void *ctx, const char *field, const struct fleetquery_value **vals,
                   size_t *n_vals)
{
    (void)store_index_thing_values(ctx, field, vals, n_vals); /* errors kept in t->rc */
}

/* Start thing t's record from the registry row st. */
static int thing_start(struct store_index_thing *t, sqlite3_stmt *st)
{
    const char *type = store__text(st, 2), *attrs = store__text(st, 3);
    size_t alen = attrs ? strlen(attrs) : 0;

    fleetrecord_clear(&t->rec);
    t->loaded = 0;
    store__copy_text(t->name, sizeof(t->name), st, 0);
    if (alen + 1 > t->attrs_cap) {
        char *na = realloc(t->attrs, alen + 1);

        if (!na)
            return DD_ERR_NOMEM;
        t->attrs = na;
        t->attrs_cap = alen + 1;
    }
    memcpy(t->attrs, attrs ? attrs : "", alen + 1);
    fleetrecord_add_str(&t->rec, "thingName", t->name);
    fleetrecord_add_str(&t->rec, "thingId", store__text(st, 1));
    if (type)
        fleetrecord_add_str(&t->rec, "thingTypeName", type);
    fleetrecord_add_num(&t->rec, "registry.version", (double)sqlite3_column_int64(st, 4));
    return fleetrecord_seal(&t->rec);
}

/* Which families cfg indexes. */
static unsigned families_enabled(const struct store_index_config *cfg)
{
    unsigned f = FAM_ATTRS | FAM_GROUPS;

    if (strcmp(cfg->thing_mode, "REGISTRY_AND_SHADOW") == 0 ||
        strcmp(cfg->named_shadow_mode, "ON") == 0)
        f |= FAM_SHADOW;
    if (strcmp(cfg->connectivity_mode, "STATUS") == 0)
        f |= FAM_CONN;
    if (strcmp(cfg->defender_mode, "VIOLATIONS") == 0)
        f |= FAM_DD;
    return f;
}

/* The literal start of thingName that every match of q must have, from a
 * thingName term on the root's chain of ANDs, lower-cased into prefix
 * (size bytes); *exact when the term is the whole name. false when q
 * bounds no name (then every thing is a candidate). A bound only narrows
 * the candidates: the matcher still decides each one. */
static bool name_bound(const struct fleetquery_node *n, char *prefix, size_t size, bool *exact)
{
    size_t len = 0;
    const char *v;

    if (n->op == FLEETQUERY_AND)
        return name_bound(n->a, prefix, size, exact) || name_bound(n->b, prefix, size, exact);
    if (n->op != FLEETQUERY_TERM || !n->field || strcmp(n->field, "thingName") != 0)
        return false;
    for (v = n->value; *v; v++) {
        if (n->wild && (*v == '*' || *v == '?' || *v == '\\'))
            break;
        if ((unsigned char)*v >= 0x80 || len + 2 > size)
            return false; /* NOCASE folds ASCII only */
        prefix[len++] = (*v >= 'A' && *v <= 'Z') ? (char)(*v - 'A' + 'a') : *v;
    }
    prefix[len] = '\0';
    *exact = !n->wild;
    return len > 0;
}

/* A word every match of q holds in its attributes' JSON text, from an
 * `attributes.<name>:<word>` term on the root's chain of ANDs, lower-cased
 * into word (size bytes): a term matches a token of the value or the whole
 * value, so the word is in the text. Only words of characters JSON never
 * escapes, and never a number (a number term also matches another spelling
 * of the same number). false when q has no such term. */
static bool attr_word(const struct fleetquery_node *n, char *word, size_t size)
{
    size_t len = strlen(n->value ? n->value : "");
    char *end = NULL;
    size_t i;

    if (n->op == FLEETQUERY_AND)
        return attr_word(n->a, word, size) || attr_word(n->b, word, size);
    if (n->op != FLEETQUERY_TERM || n->wild || !n->field ||
        strncmp(n->field, "attributes.", 11) != 0 || len == 0 || len >= size)
        return false;
    (void)strtod(n->value, &end);
    if (end && *end == '\0')
        return false;
    for (i = 0; i < len; i++) {
        char c = n->value[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return false;
        word[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    word[len] = '\0';
    return true;
}

/* The registry rows a walk of q steps over, after after_name, into *st:
 * every thing, narrowed by SQL where that is exact (a thingName bound, an
 * attribute word); the matcher still decides each row. */
static int walk_stmt(struct store *s, const struct fleetquery *q, const char *after_name,
                     sqlite3_stmt **st)
{
#define WALK_COLUMNS "SELECT name, thing_id, type_name, attributes, version FROM things WHERE "
#define WALK_WORD    " AND (?4 IS NULL OR instr(lower(attributes), ?4) > 0) ORDER BY name"
    static const char all_sql[] = WALK_COLUMNS "name > ?1" WALK_WORD;
    static const char exact_sql[] = WALK_COLUMNS "name = ?2 COLLATE NOCASE AND name > ?1" WALK_WORD;
    static const char prefix_sql[] =
        WALK_COLUMNS "name COLLATE NOCASE >= ?2 AND"
                     " name COLLATE NOCASE < ?3 AND name > ?1" WALK_WORD;
#undef WALK_COLUMNS
#undef WALK_WORD
    char lo[256], hi[256], word[256];
    const char *w = attr_word(fleetquery_root(q), word, sizeof(word)) ? word : NULL;
    bool exact = false;
    size_t len;

    after_name = after_name ? after_name : "";
    if (!name_bound(fleetquery_root(q), lo, sizeof(lo), &exact))
        return store__stmt(s, all_sql, st, "s--s", after_name, w);
    if (exact)
        return store__stmt(s, exact_sql, st, "ss-s", after_name, lo, w);
    len = strlen(lo);
    memcpy(hi, lo, len + 1);
    hi[len - 1]++; /* ASCII below 0x80: no carry; just past every "lo..." */
    return store__stmt(s, prefix_sql, st, "ssss", after_name, lo, hi, w);
}

int store_index_each_thing(struct store *s, const struct fleetquery *q, const char *after_name,
                           size_t limit, store_index_each_fn fn, void *ctx, struct dd_errbuf *eb)
{
    struct store_index_config cfg;
    struct store_index_thing t;
    sqlite3_stmt *st = NULL;
    cJSON *named = NULL;
    size_t n = 0;
    int rc;

    memset(&t, 0, sizeof(t));
    fleetrecord_init(&t.rec);
    rc = store_index_config_get(s, &cfg);
    if (rc) {
        dd_fail(eb, rc, "cannot read the indexing configuration");
        goto out_nocfg;
    }
    if (strcmp(cfg.thing_mode, "OFF") == 0) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Index AWS_Things does not exist");
        goto out;
    }
    named = cJSON_Parse(cfg.named_shadows);
    if (!named) { /* written by the server as a JSON array: only memory can fail */
        rc = dd_fail(eb, DD_ERR_NOMEM, "out of memory");
        goto out;
    }
    t.s = s;
    t.cfg = &cfg;
    t.named = named;
    t.enabled = families_enabled(&cfg);
    rc = walk_stmt(s, q, after_name, &st);
    if (rc) {
        dd_fail(eb, rc, "cannot read the things");
        goto out;
    }
    for (;;) {
        rc = store__step_row(s, st, "walk the things");
        if (rc == DD_ERR_NOT_FOUND) {
            rc = DD_OK;
            st = NULL; /* reset by store__step_row */
            break;
        }
        if (rc) {
            dd_fail(eb, rc, "cannot read the things");
            st = NULL;
            break;
        }
        rc = thing_start(&t, st);
        t.rc = DD_OK;
        if (!rc && fleetquery_match(q, lookup, &t) && !t.rc) {
            rc = fn(ctx, t.name, &t);
            if (!rc && limit && ++n >= limit)
                break;
        }
        if (!rc)
            rc = t.rc;
        if (rc) {
            if (rc == DD_ERR_NOMEM)
                dd_fail(eb, rc, "out of memory");
            else if (rc == DD_ERR_BUSY || rc == DD_ERR_STORE)
                dd_fail(eb, rc, "cannot read the index");
            break;
        }
    }
    if (st)
        sqlite3_reset(st);
out:
    cJSON_Delete(named);
    store_index_config_cleanup(&cfg);
out_nocfg:
    fleetrecord_cleanup(&t.rec);
    free(t.attrs);
    return rc;
}

struct match_ctx {
    store_index_thing_fn fn;
    void *ctx;
};

static int match_one(void *ctx, const char *thing_name, struct store_index_thing *thing)
{
    struct match_ctx *m = ctx;

    (void)thing;
    return m->fn(m->ctx, thing_name);
}

int store_index_each_match(struct store *s, const struct fleetquery *q, const char *after_name,
                           size_t limit, store_index_thing_fn fn, void *ctx, struct dd_errbuf *eb)
{
    struct match_ctx m = { fn, ctx };

    return store_index_each_thing(s, q, after_name, limit, match_one, &m, eb);
}

/* ---- the document SearchIndex answers ---- */

struct doc {
    struct store_index_thing *t;
    cJSON *shadow;   /* owned until added: the shadow object */
    cJSON *defender; /* owned until added: the deviceDefender object */
};

/* One shadow's section: desired, reported, metadata, version, timestamp. */
static int shadow_section(const char *stored, int64_t version, int64_t updated_s, cJSON **out)
{
    char *full = NULL;
    cJSON *doc = NULL, *o = NULL, *state, *m;
    int rc;

    *out = NULL;
    rc = shadow_get(stored, version, updated_s, NULL, &full);
    if (rc)
        return rc;
    doc = cJSON_Parse(full);
    o = cJSON_CreateObject();
    if (!doc || !o) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    state = cJSON_GetObjectItemCaseSensitive(doc, "state");
    for (m = state ? state->child : NULL; m;) {
        cJSON *next = m->next;

        if (strcmp(m->string, "delta") != 0)
            cJSON_AddItemToObject(o, m->string, cJSON_DetachItemViaPointer(state, m));
        m = next;
    }
    m = cJSON_DetachItemFromObjectCaseSensitive(doc, "metadata");
    if (m && !cJSON_AddItemToObject(o, "metadata", m)) {
        cJSON_Delete(m);
        rc = DD_ERR_NOMEM;
        goto out;
    }
    if (!cJSON_AddNumberToObject(o, "version", (double)version) ||
        !cJSON_AddNumberToObject(o, "timestamp", (double)updated_s)) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    *out = o;
    o = NULL;
out:
    cJSON_Delete(o);
    cJSON_Delete(doc);
    free(full);
    return rc;
}

static int doc_shadow_row(sqlite3_stmt *st, void *arg)
{
    struct doc *d = arg;
    struct store_index_thing *t = d->t;
    const char *shadow_name = store__text(st, 0), *stored = store__text(st, 2);
    cJSON *section = NULL, *names;
    int rc;

    if (!shadow_name || !stored)
        return DD_OK;
    if (shadow_name[0]
            ? strcmp(t->cfg->named_shadow_mode, "ON") != 0 || !named_listed(t->named, shadow_name)
            : strcmp(t->cfg->thing_mode, "REGISTRY_AND_SHADOW") != 0)
        return DD_OK;
    if (!d->shadow && !(d->shadow = cJSON_CreateObject()))
        return DD_ERR_NOMEM;
    rc = shadow_section(stored, sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 3), &section);
    if (rc)
        return rc;
    if (!shadow_name[0]) { /* the classic shadow's members at the top */
        cJSON *m;

        while ((m = section->child) != NULL)
            cJSON_AddItemToObject(d->shadow, m->string, cJSON_DetachItemViaPointer(section, m));
        cJSON_Delete(section);
        return DD_OK;
    }
    names = cJSON_GetObjectItemCaseSensitive(d->shadow, "name");
    if (!names && !(names = cJSON_AddObjectToObject(d->shadow, "name"))) {
        cJSON_Delete(section);
        return DD_ERR_NOMEM;
    }
    if (!cJSON_AddItemToObject(names, shadow_name, section)) {
        cJSON_Delete(section);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static int doc_defender_row(sqlite3_stmt *st, void *arg)
{
    struct doc *d = arg;
    const char *profile = store__text(st, 0), *behavior = store__text(st, 1);
    cJSON *b = cJSON_Parse(store__text(st, 2)), *value = cJSON_Parse(store__text(st, 4));
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(b, "metric");
    cJSON *p, *o = NULL;
    int rc = DD_ERR_NOMEM;

    if (!b || !value || !profile || !behavior)
        goto out;
    p = cJSON_GetObjectItemCaseSensitive(d->defender, profile);
    if (!p && !(p = cJSON_AddObjectToObject(d->defender, profile)))
        goto out;
    o = cJSON_AddObjectToObject(p, behavior);
    if (!o || !cJSON_AddTrueToObject(o, "inViolation") ||
        (cJSON_IsString(metric) &&
         !cJSON_AddStringToObject(o, "metricName", metric->valuestring)) ||
        !cJSON_AddNumberToObject(o, "lastViolationTime", (double)sqlite3_column_int64(st, 3)) ||
        !cJSON_AddItemToObject(o, "lastViolationValue", value))
        goto out;
    value = NULL;
    rc = DD_OK;
out:
    cJSON_Delete(b);
    cJSON_Delete(value);
    return rc;
}

/* Add tree to o as its printed text under key, and free it. */
static int add_as_text(cJSON *o, const char *key, cJSON *tree)
{
    char *text = jsonprint(tree);
    int rc = text && cJSON_AddStringToObject(o, key, text) ? DD_OK : DD_ERR_NOMEM;

    cJSON_free(text);
    cJSON_Delete(tree);
    return rc;
}

static int doc_connectivity(struct store_index_thing *t, cJSON *o)
{
    sqlite3_stmt *st;
    cJSON *c = cJSON_AddObjectToObject(o, "connectivity");
    int rc;

    if (!c)
        return DD_ERR_NOMEM;
    rc = store__one(t->s, connectivity_sql, &st, "read a thing's connectivity", "t", t->name);
    if (rc == DD_ERR_NOT_FOUND)
        return cJSON_AddFalseToObject(c, "connected") ? DD_OK : DD_ERR_NOMEM;
    if (rc)
        return rc;
    if (!cJSON_AddBoolToObject(c, "connected", sqlite3_column_int(st, 0) != 0) ||
        !cJSON_AddNumberToObject(c, "timestamp", (double)sqlite3_column_int64(st, 1)) ||
        (store__text(st, 2) && !cJSON_AddStringToObject(c, "disconnectReason", store__text(st, 2))))
        rc = DD_ERR_NOMEM;
    sqlite3_reset(st);
    return rc;
}

int store_index_thing_document(struct store_index_thing *t, cJSON **out)
{
    const struct fleetquery_value *v;
    struct doc d = { t, NULL, NULL };
    cJSON *o = cJSON_CreateObject(), *attrs = NULL, *groups;
    sqlite3_stmt *st;
    size_t i, n;
    int rc = o ? DD_OK : DD_ERR_NOMEM;

    *out = NULL;
    if (!rc) {
        if (!cJSON_AddStringToObject(o, "thingName", t->name))
            rc = DD_ERR_NOMEM;
        fleetrecord_find(&t->rec, "thingId", &v, &n);
        if (!rc && n && !cJSON_AddStringToObject(o, "thingId", v[0].str))
            rc = DD_ERR_NOMEM;
        fleetrecord_find(&t->rec, "thingTypeName", &v, &n);
        if (!rc && n && !cJSON_AddStringToObject(o, "thingTypeName", v[0].str))
            rc = DD_ERR_NOMEM;
    }
    if (!rc)
        rc = store_index_thing_values(t, "thingGroupNames", &v, &n);
    if (!rc && n) {
        groups = cJSON_AddArrayToObject(o, "thingGroupNames");
        for (i = 0; !rc && i < n; i++)
            if (!groups || !cJSON_AddItemToArray(groups, cJSON_CreateString(v[i].str)))
                rc = DD_ERR_NOMEM;
    }
    if (!rc) {
        attrs = cJSON_Parse(t->attrs && t->attrs[0] ? t->attrs : "{}");
        if (!attrs || !cJSON_AddItemToObject(o, "attributes", attrs)) {
            cJSON_Delete(attrs);
            rc = DD_ERR_NOMEM;
        }
    }
    if (!rc && (t->enabled & FAM_SHADOW)) {
        rc = store__stmt(t->s, shadows_sql, &st, "t", t->name);
        if (!rc)
            rc = store__each(t->s, st, doc_shadow_row, &d, "read a thing's shadows");
        if (!rc && d.shadow) {
            rc = add_as_text(o, "shadow", d.shadow);
            d.shadow = NULL;
        }
    }
    if (!rc && (t->enabled & FAM_DD)) {
        int64_t count = 0;

        d.defender = cJSON_CreateObject();
        rc = d.defender ? DD_OK : DD_ERR_NOMEM;
        if (!rc)
            rc = store__stmt(t->s, violations_sql, &st, "t", t->name);
        if (!rc)
            rc = store__each(t->s, st, doc_defender_row, &d, "read a thing's violations");
        for (cJSON *p = d.defender ? d.defender->child : NULL; p; p = p->next)
            count += cJSON_GetArraySize(p);
        if (!rc && !cJSON_AddNumberToObject(d.defender, "violationCount", (double)count))
            rc = DD_ERR_NOMEM;
        if (!rc) {
            rc = add_as_text(o, "deviceDefender", d.defender);
            d.defender = NULL;
        }
    }
    if (!rc && (t->enabled & FAM_CONN))
        rc = doc_connectivity(t, o);
    cJSON_Delete(d.shadow);
    cJSON_Delete(d.defender);
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return DD_OK;
}

/* ---- the thing group index ---- */

static void group_lookup(void *ctx, const char *field, const struct fleetquery_value **vals,
                         size_t *n_vals)
{
    fleetrecord_find(ctx, field && strcmp(field, "thingGroupNames") == 0 ? "thingGroupName" : field,
                     vals, n_vals);
}

/* Group row st (name, id, description, attributes, version) into rec and
 * doc. */
static int group_start(struct store *s, sqlite3_stmt *st, struct fleetrecord *rec, cJSON **doc)
{
    const char *name = store__text(st, 0), *id = store__text(st, 1), *desc = store__text(st, 2);
    cJSON *o = cJSON_CreateObject(), *attrs = cJSON_Parse(store__text(st, 3)), *el, *parents;
    struct store_names anc;
    size_t i;
    int rc = o && attrs ? DD_OK : DD_ERR_NOMEM;

    *doc = NULL;
    memset(&anc, 0, sizeof(anc));
    fleetrecord_clear(rec);
    if (!rc)
        rc = store_group_ancestors(s, name, &anc);
    if (rc)
        goto out;
    fleetrecord_add_str(rec, "thingGroupName", name);
    fleetrecord_add_str(rec, "thingGroupId", id);
    if (desc)
        fleetrecord_add_str(rec, "description", desc);
    fleetrecord_add_num(rec, "version", (double)sqlite3_column_int64(st, 4));
    cJSON_ArrayForEach(el, attrs)
    {
        char field[300];

        if (cJSON_IsString(el) && strlen(el->string) + sizeof("attributes.") <= sizeof(field)) {
            snprintf(field, sizeof(field), "attributes.%s", el->string);
            fleetrecord_add_attr(rec, field, el->valuestring);
        }
    }
    for (i = 0; i < anc.n; i++)
        fleetrecord_add_str(rec, "parentGroupNames", anc.names[i]);
    rc = fleetrecord_seal(rec);
    if (rc)
        goto out;
    if (!cJSON_AddStringToObject(o, "thingGroupName", name) ||
        !cJSON_AddStringToObject(o, "thingGroupId", id) ||
        (desc && !cJSON_AddStringToObject(o, "thingGroupDescription", desc)) ||
        !cJSON_AddItemToObject(o, "attributes", attrs)) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    attrs = NULL;
    parents = cJSON_AddArrayToObject(o, "parentGroupNames");
    for (i = 0; i < anc.n; i++)
        if (!parents || !cJSON_AddItemToArray(parents, cJSON_CreateString(anc.names[i])))
            rc = DD_ERR_NOMEM;
    if (!rc) {
        *doc = o;
        o = NULL;
    }
out:
    store_names_cleanup(&anc);
    cJSON_Delete(attrs);
    cJSON_Delete(o);
    return rc;
}

int store_index_each_group(struct store *s, const struct fleetquery *q, const char *after_name,
                           size_t limit, store_index_group_fn fn, void *ctx, struct dd_errbuf *eb)
{
    static const char sql[] = "SELECT name, group_id, description, attributes, version"
                              " FROM thing_groups WHERE name > ?1 ORDER BY name";
    struct store_index_config cfg;
    struct fleetrecord rec;
    sqlite3_stmt *st = NULL;
    size_t n = 0;
    int rc;

    fleetrecord_init(&rec);
    rc = store_index_config_get(s, &cfg);
    if (rc)
        return dd_fail(eb, rc, "cannot read the indexing configuration");
    if (strcmp(cfg.group_mode, "ON") != 0) {
        rc = dd_fail(eb, DD_ERR_NOT_FOUND, "Index AWS_ThingGroups does not exist");
        goto out;
    }
    rc = store__stmt(s, sql, &st, "s", after_name ? after_name : "");
    while (!rc) {
        cJSON *doc = NULL;

        rc = store__step_row(s, st, "walk the thing groups");
        if (rc == DD_ERR_NOT_FOUND) {
            rc = DD_OK;
            st = NULL;
            break;
        }
        if (rc) {
            st = NULL;
            break;
        }
        rc = group_start(s, st, &rec, &doc);
        if (!rc && fleetquery_match(q, group_lookup, &rec)) {
            rc = fn(ctx, store__text(st, 0), doc, &rec);
            if (!rc && limit && ++n >= limit) {
                cJSON_Delete(doc);
                break;
            }
        }
        cJSON_Delete(doc);
    }
    if (st)
        sqlite3_reset(st);
    if (rc == DD_ERR_NOMEM || rc == DD_ERR_BUSY || rc == DD_ERR_STORE)
        dd_fail(eb, rc, rc == DD_ERR_NOMEM ? "out of memory" : "cannot read the index");
out:
    store_index_config_cleanup(&cfg);
    fleetrecord_cleanup(&rec);
    return rc;
}
