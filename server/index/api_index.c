/* SPDX-License-Identifier: MIT */
/* api_index.c: AWS IoT fleet indexing (fleet-indexing.md §1 and §3): the
 * indexing configuration, DescribeIndex and ListIndices, SearchIndex and the
 * four aggregation calls.
 *
 * The configuration is one row (store/index); the index itself is the
 * store read at the moment of the query, so every answer is exact and an
 * index is ACTIVE as soon as it is enabled. Queries are parsed by
 * core/fleetquery (its refusals are InvalidQueryException); the store walks
 * the things in name order, which is what makes a nextToken (the last name
 * of a page, scoped by the index and the query) stable. Aggregations read
 * one field of every matching thing or group: the field must be a managed field of
 * an enabled source or a configured custom field, and its declared type
 * decides which values count and which statistics exist. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/fleetquery.h"
#include "core/fleetrecord.h"
#include "core/jsonprint.h"
#include "core/names.h"
#include "core/paging.h"
#include "server/api.h"
#include "server/handler.h"
#include "store/index/store_index.h"
#include "store/iot/store_dyngroups.h"

#define THINGS_INDEX        "AWS_Things"
#define GROUPS_INDEX        "AWS_ThingGroups"
#define QUERY_VERSION       "2017-09-30"
#define SEARCH_PAGE_MAX     100 /* AWS: a page holds at most 100 */
#define SEARCH_MAX_RESULTS  500 /* the 1.29.27 model's maxResults ceiling */
#define LIST_MAX_RESULTS    500
#define MAX_NAMED_SHADOWS   10 /* AWS's default limit of filter.namedShadowNames */
#define MAX_PERCENTS        100
#define MAX_BUCKETS         10000
#define DEFAULT_BUCKETS     10
#define CUSTOM_FIELD_MAX    256
#define FIELD_TYPE_NUMBER   "Number"
#define FIELD_TYPE_STRING   "String"
#define FIELD_TYPE_BOOLEAN  "Boolean"
#define INVALID_QUERY       "InvalidQueryException"
#define INVALID_AGGREGATION "InvalidAggregationException"

static const char *const thing_modes[] = { "OFF", "REGISTRY", "REGISTRY_AND_SHADOW", NULL };
static const char *const connectivity_modes[] = { "OFF", "STATUS", NULL };
static const char *const defender_modes[] = { "OFF", "VIOLATIONS", NULL };
static const char *const on_off[] = { "OFF", "ON", NULL };
static const char *const field_types[] = { FIELD_TYPE_NUMBER, FIELD_TYPE_STRING, FIELD_TYPE_BOOLEAN,
                                           NULL };

/* The sources of indexed data (fleet-indexing.md §1.3). */
enum source {
    SRC_REGISTRY = 1 << 0,
    SRC_SHADOW = 1 << 1,
    SRC_NAMED = 1 << 2,
    SRC_CONN = 1 << 3,
    SRC_DD = 1 << 4,
    SRC_GROUPS = 1 << 5,
};

/* The managed fields: name (a `*` stands for one name), type, source, and
 * the record field the index answers it from (NULL: the same name). */
static const struct managed {
    const char *name;
    const char *type;
    unsigned source;
    const char *field;
} managed_fields[] = {
    { "thingId", FIELD_TYPE_STRING, SRC_REGISTRY, NULL },
    { "thingName", FIELD_TYPE_STRING, SRC_REGISTRY, NULL },
    { "registry.version", FIELD_TYPE_NUMBER, SRC_REGISTRY, NULL },
    { "registry.thingTypeName", FIELD_TYPE_STRING, SRC_REGISTRY, "thingTypeName" },
    { "registry.thingGroupNames", FIELD_TYPE_STRING, SRC_REGISTRY, "thingGroupNames" },
    { "shadow.version", FIELD_TYPE_NUMBER, SRC_SHADOW, NULL },
    { "shadow.hasDelta", FIELD_TYPE_BOOLEAN, SRC_SHADOW, NULL },
    { "shadow.name.*.version", FIELD_TYPE_NUMBER, SRC_NAMED, NULL },
    { "shadow.name.*.hasDelta", FIELD_TYPE_BOOLEAN, SRC_NAMED, NULL },
    { "connectivity.timestamp", FIELD_TYPE_NUMBER, SRC_CONN, NULL },
    { "connectivity.version", FIELD_TYPE_NUMBER, SRC_CONN, NULL },
    { "connectivity.connected", FIELD_TYPE_BOOLEAN, SRC_CONN, NULL },
    { "connectivity.disconnectReason", FIELD_TYPE_STRING, SRC_CONN, NULL },
    { "deviceDefender.violationCount", FIELD_TYPE_NUMBER, SRC_DD, NULL },
    { "deviceDefender.*.*.metricName", FIELD_TYPE_STRING, SRC_DD, NULL },
    { "deviceDefender.*.*.lastViolationTime", FIELD_TYPE_NUMBER, SRC_DD, NULL },
    { "deviceDefender.*.*.lastViolationValue", FIELD_TYPE_STRING, SRC_DD, NULL },
    { "deviceDefender.*.*.inViolation", FIELD_TYPE_BOOLEAN, SRC_DD, NULL },
    { "description", FIELD_TYPE_STRING, SRC_GROUPS, NULL },
    { "parentGroupNames", FIELD_TYPE_STRING, SRC_GROUPS, NULL },
    { "thingGroupId", FIELD_TYPE_STRING, SRC_GROUPS, NULL },
    { "thingGroupName", FIELD_TYPE_STRING, SRC_GROUPS, NULL },
    { "version", FIELD_TYPE_NUMBER, SRC_GROUPS, NULL },
};

#define N_MANAGED (sizeof(managed_fields) / sizeof(managed_fields[0]))

/* Which sources c enables. */
static unsigned sources_of(const struct store_index_config *c)
{
    unsigned s = 0;

    if (strcmp(c->thing_mode, "OFF") != 0) {
        s |= SRC_REGISTRY;
        if (strcmp(c->thing_mode, "REGISTRY_AND_SHADOW") == 0)
            s |= SRC_SHADOW;
        if (strcmp(c->named_shadow_mode, "ON") == 0)
            s |= SRC_NAMED;
        if (strcmp(c->connectivity_mode, "STATUS") == 0)
            s |= SRC_CONN;
        if (strcmp(c->defender_mode, "VIOLATIONS") == 0)
            s |= SRC_DD;
    }
    if (strcmp(c->group_mode, "ON") == 0)
        s |= SRC_GROUPS;
    return s;
}

/* Whether field matches pattern, where a `*` segment matches one segment. */
static bool field_matches(const char *pattern, const char *field)
{
    while (*pattern && *field) {
        if (pattern[0] == '*' && (pattern[1] == '.' || pattern[1] == '\0')) {
            const char *dot = strchr(field, '.');

            if (dot == field)
                return false;
            field = dot ? dot : field + strlen(field);
            pattern++;
            continue;
        }
        if (*pattern++ != *field++)
            return false;
    }
    return *pattern == '\0' && *field == '\0';
}

/* The managed field of the sources in mask named field, or NULL. */
static const struct managed *managed_find(const char *field, unsigned mask)
{
    size_t i;

    for (i = 0; i < N_MANAGED; i++)
        if ((managed_fields[i].source & mask) && field_matches(managed_fields[i].name, field))
            return &managed_fields[i];
    return NULL;
}

/* ---- the indexing configuration ---- */

struct op {
    struct store_index_config cfg; /* owned */
    const char *index;             /* borrowed: indexName */
    const char *query_text;        /* borrowed: queryString */
    const char *field;             /* borrowed: aggregationField */
    const char *field_type;        /* static: its declared type */
    char record_field[300];        /* the record field the aggregation reads */
    struct fleetquery *q;          /* owned */
    size_t limit;                  /* a page's size */
    char after[PAGING_KEY_MAX + 1];
    char scope[FLEETQUERY_MAX_CHARS + 64];
    cJSON *items;   /* owned: the page's documents */
    size_t n_items; /* in items */
    char last[256]; /* the last name of the page when more follow */
    bool more;      /* more follow */
    double percents[MAX_PERCENTS];
    size_t n_percents;
    size_t max_buckets;
    struct agg_value *vals; /* owned: the values an aggregation read */
    size_t n_vals, cap_vals;
    size_t n_things; /* things the query matched */
};

struct agg_value {
    enum fleetquery_type type;
    double num;
    char *str; /* owned for strings; NULL otherwise */
};

static void cleanup(struct handler *h)
{
    struct op *op = h->op;
    size_t i;

    store_index_config_cleanup(&op->cfg);
    fleetquery_free(op->q);
    cJSON_Delete(op->items);
    for (i = 0; i < op->n_vals; i++)
        free(op->vals[i].str);
    free(op->vals);
}

/* A member that must be one of allowed when present; *out gets it. */
static int check_mode(struct request *req, const cJSON *o, const char *key, const char *path,
                      const char *const *allowed, bool required, const char **out)
{
    int rc = handler_member_string(req, o, key, path, out);

    if (rc)
        return rc;
    if (!*out && !required)
        return DD_OK;
    return names_check_enum(path, *out, allowed, &req->eb);
}

/* Whether a custom field name is allowed by the sources in mask
 * (fleet-indexing.md §1.4): a known prefix, then letters, digits, `-`, `_`
 * and `.`. */
static bool custom_name_ok(const char *name, unsigned mask, bool groups)
{
    static const struct {
        const char *prefix;
        unsigned source;
    } prefixes[] = {
        { "attributes.", SRC_REGISTRY | SRC_GROUPS },
        { "shadow.desired.", SRC_SHADOW },
        { "shadow.reported.", SRC_SHADOW },
        { "shadow.name.", SRC_NAMED },
        { "deviceDefender.", SRC_DD },
    };

    const char *rest = NULL, *p;
    size_t i;

    for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t len = strlen(prefixes[i].prefix);

        if (groups && i > 0)
            break;
        if (strncmp(name, prefixes[i].prefix, len) == 0 && (prefixes[i].source & mask)) {
            rest = name + len;
            break;
        }
    }
    if (!rest || !*rest)
        return false;
    for (p = rest; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == ':'))
            return false;
    if (strncmp(name, "shadow.name.", 12) == 0) { /* shadow.name.<N>.desired|reported.<x> */
        const char *dot = strchr(rest, '.');

        return dot && (strncmp(dot, ".desired.", 9) == 0 || strncmp(dot, ".reported.", 10) == 0) &&
               dot[strncmp(dot, ".desired.", 9) == 0 ? 9 : 10] != '\0';
    }
    return true;
}

/* customFields of o (or, when absent, the stored *json, which an index
 * turned off drops), checked against the sources in mask; *json becomes
 * the canonical text (a new string). */
static int check_custom_fields(struct request *req, const cJSON *o, const char *path, unsigned mask,
                               bool groups, char **json)
{
    const cJSON *given = handler_member(o, "customFields"), *el;
    bool off = !(mask & (groups ? SRC_GROUPS : SRC_REGISTRY));
    cJSON *list = given ? cJSON_Duplicate(given, true)
                        : cJSON_Parse(*json && !off ? *json : "[]"); /* OFF drops them */
    int rc = list ? DD_OK : DD_ERR_NOMEM;
    char *text;

    if (!rc && !cJSON_IsArray(list))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "%s.customFields must be a list", path);
    const cJSON *walk = rc ? NULL : list;

    cJSON_ArrayForEach(el, walk)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(el, "name");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(el, "type");

        if (!cJSON_IsString(name) || !name->valuestring[0] ||
            strlen(name->valuestring) > CUSTOM_FIELD_MAX) {
            rc = dd_fail(&req->eb, DD_ERR_INVALID, "%s.customFields: every field needs a name",
                         path);
            break;
        }
        if (type &&
            (!cJSON_IsString(type) || names_enum_find(field_types, type->valuestring) < 0)) {
            rc = names_check_enum("customFields.member.type",
                                  cJSON_IsString(type) ? type->valuestring : "", field_types,
                                  &req->eb);
            break;
        }
        if (managed_find(name->valuestring, SRC_REGISTRY | SRC_SHADOW | SRC_NAMED | SRC_CONN |
                                                SRC_DD | (groups ? SRC_GROUPS : 0))) {
            rc = dd_fail(&req->eb, DD_ERR_INVALID,
                         "Custom field %s is a managed field and cannot be a custom field",
                         name->valuestring);
            break;
        }
        if (!custom_name_ok(name->valuestring, mask, groups)) {
            rc = dd_fail(&req->eb, DD_ERR_INVALID,
                         "Custom field %s is not allowed by the indexing configuration",
                         name->valuestring);
            break;
        }
    }
    if (!rc) {
        text = jsonprint(list);
        if (!text) {
            rc = DD_ERR_NOMEM;
        } else {
            free(*json);
            *json = strdup(text);
            cJSON_free(text);
            rc = *json ? DD_OK : DD_ERR_NOMEM;
        }
    }
    cJSON_Delete(list);
    return rc;
}

/* filter.namedShadowNames and filter.geoLocations, when the filter is
 * given; kept otherwise. */
static int check_filter(struct request *req, const cJSON *t, struct store_index_config *c)
{
    const cJSON *filter = handler_member(t, "filter"), *names, *geo, *el;
    char *text;
    int rc;

    if (!filter)
        return DD_OK;
    if (!cJSON_IsObject(filter))
        return dd_fail(&req->eb, DD_ERR_INVALID, "filter must be an object");
    names = handler_member(filter, "namedShadowNames");
    geo = handler_member(filter, "geoLocations");
    if (names && !cJSON_IsArray(names))
        return dd_fail(&req->eb, DD_ERR_INVALID, "filter.namedShadowNames must be a list");
    if (names && cJSON_GetArraySize(names) > MAX_NAMED_SHADOWS)
        return dd_fail(&req->eb, DD_ERR_INVALID, "filter.namedShadowNames holds more than %d names",
                       MAX_NAMED_SHADOWS);
    cJSON_ArrayForEach(el, names)
    {
        rc = names_check(NAMES_SHADOW_NAME, "filter.namedShadowNames.member",
                         cJSON_IsString(el) ? el->valuestring : "", &req->eb);
        if (rc)
            return rc;
    }
    if (geo && !cJSON_IsArray(geo))
        return dd_fail(&req->eb, DD_ERR_INVALID, "filter.geoLocations must be a list");
    text = names ? jsonprint(names) : NULL;
    free(c->named_shadows);
    c->named_shadows = strdup(text ? text : "[]");
    cJSON_free(text);
    text = geo ? jsonprint(geo) : NULL;
    free(c->geo_locations);
    c->geo_locations = strdup(text ? text : "[]");
    cJSON_free(text);
    return c->named_shadows && c->geo_locations ? DD_OK : DD_ERR_NOMEM;
}

static int check_thing_config(struct request *req, const cJSON *t, struct store_index_config *c)
{
    const char *mode, *conn, *dd, *named;
    int rc;

    if (!cJSON_IsObject(t))
        return dd_fail(&req->eb, DD_ERR_INVALID, "thingIndexingConfiguration must be an object");
    rc = check_mode(req, t, "thingIndexingMode", "thingIndexingConfiguration.thingIndexingMode",
                    thing_modes, true, &mode);
    if (!rc)
        rc = check_mode(req, t, "thingConnectivityIndexingMode",
                        "thingIndexingConfiguration.thingConnectivityIndexingMode",
                        connectivity_modes, false, &conn);
    if (!rc)
        rc = check_mode(req, t, "deviceDefenderIndexingMode",
                        "thingIndexingConfiguration.deviceDefenderIndexingMode", defender_modes,
                        false, &dd);
    if (!rc)
        rc =
            check_mode(req, t, "namedShadowIndexingMode",
                       "thingIndexingConfiguration.namedShadowIndexingMode", on_off, false, &named);
    if (rc)
        return rc;
    conn = conn ? conn : "OFF";
    dd = dd ? dd : "OFF";
    named = named ? named : "OFF";
    if (strcmp(mode, "OFF") == 0 &&
        (strcmp(conn, "OFF") != 0 || strcmp(dd, "OFF") != 0 || strcmp(named, "OFF") != 0))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "thingConnectivityIndexingMode, deviceDefenderIndexingMode and "
                       "namedShadowIndexingMode must be OFF when thingIndexingMode is OFF");
    snprintf(c->thing_mode, sizeof(c->thing_mode), "%s", mode);
    snprintf(c->connectivity_mode, sizeof(c->connectivity_mode), "%s", conn);
    snprintf(c->defender_mode, sizeof(c->defender_mode), "%s", dd);
    snprintf(c->named_shadow_mode, sizeof(c->named_shadow_mode), "%s", named);
    rc = check_filter(req, t, c);
    if (!rc)
        rc = check_custom_fields(req, t, "thingIndexingConfiguration", sources_of(c) & ~SRC_GROUPS,
                                 false, &c->thing_custom);
    return rc;
}

static int check_group_config(struct request *req, const cJSON *g, struct store_index_config *c)
{
    const char *mode;
    int rc;

    if (!cJSON_IsObject(g))
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "thingGroupIndexingConfiguration must be an object");
    rc = check_mode(req, g, "thingGroupIndexingMode",
                    "thingGroupIndexingConfiguration.thingGroupIndexingMode", on_off, true, &mode);
    if (rc)
        return rc;
    snprintf(c->group_mode, sizeof(c->group_mode), "%s", mode);
    return check_custom_fields(req, g, "thingGroupIndexingConfiguration",
                               strcmp(mode, "ON") == 0 ? SRC_GROUPS : 0, true, &c->group_custom);
}

static int check_body(struct handler *h)
{
    return handler_body(h);
}

/* UpdateIndexingConfiguration: the given parts replace the stored ones. */
static int call_update_config(struct handler *h)
{
    struct op *op = h->op;
    const cJSON *t = handler_member(h->body, "thingIndexingConfiguration");
    const cJSON *g = handler_member(h->body, "thingGroupIndexingConfiguration");
    int rc = store_index_config_get(h->s, &op->cfg);

    if (rc)
        return dd_fail(&h->req->eb, rc, "cannot read the indexing configuration");
    if (t)
        rc = check_thing_config(h->req, t, &op->cfg);
    if (!rc && g)
        rc = check_group_config(h->req, g, &op->cfg);
    if (!rc && strcmp(op->cfg.thing_mode, "OFF") == 0) /* dynamic groups need the index */
        rc = store_dyngroups_allow_index_off(h->s, &h->req->eb);
    if (!rc && (t || g))
        rc = store_index_config_put(h->s, &op->cfg, request_now_ms(h->req));
    return rc;
}

/* {name, type} of each managed field of the sources in mask. */
static int add_managed(cJSON *o, unsigned mask)
{
    cJSON *arr = cJSON_AddArrayToObject(o, "managedFields");
    size_t i;

    if (!arr)
        return DD_ERR_NOMEM;
    for (i = 0; i < N_MANAGED; i++) {
        cJSON *f;

        if (!(managed_fields[i].source & mask))
            continue;
        f = handler_add_object(arr);
        if (!f || !cJSON_AddStringToObject(f, "name", managed_fields[i].name) ||
            !cJSON_AddStringToObject(f, "type", managed_fields[i].type))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* Add the stored JSON array json under key unless it is empty. */
static int add_list(cJSON *o, const char *key, const char *json)
{
    cJSON *v = cJSON_Parse(json ? json : "[]");

    if (!v)
        return DD_ERR_NOMEM;
    if (cJSON_GetArraySize(v) == 0) {
        cJSON_Delete(v);
        return DD_OK;
    }
    if (!cJSON_AddItemToObject(o, key, v)) {
        cJSON_Delete(v);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static int call_get_config(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_index_config_get(h->s, &op->cfg);

    return rc ? dd_fail(&h->req->eb, rc, "cannot read the indexing configuration") : DD_OK;
}

static int render_config(struct handler *h, cJSON *o)
{
    const struct store_index_config *c = &((struct op *)h->op)->cfg;
    unsigned mask = sources_of(c);
    cJSON *t = cJSON_AddObjectToObject(o, "thingIndexingConfiguration");
    cJSON *g = cJSON_AddObjectToObject(o, "thingGroupIndexingConfiguration"), *filter;
    int rc = t && g ? DD_OK : DD_ERR_NOMEM;

    if (!rc &&
        (!cJSON_AddStringToObject(t, "thingIndexingMode", c->thing_mode) ||
         !cJSON_AddStringToObject(t, "thingConnectivityIndexingMode", c->connectivity_mode) ||
         !cJSON_AddStringToObject(t, "deviceDefenderIndexingMode", c->defender_mode) ||
         !cJSON_AddStringToObject(t, "namedShadowIndexingMode", c->named_shadow_mode)))
        rc = DD_ERR_NOMEM;
    if (!rc && (mask & SRC_REGISTRY))
        rc = add_managed(t, mask & ~SRC_GROUPS);
    if (!rc)
        rc = add_list(t, "customFields", c->thing_custom);
    if (!rc && (strcmp(c->named_shadows, "[]") != 0 || strcmp(c->geo_locations, "[]") != 0)) {
        filter = cJSON_AddObjectToObject(t, "filter");
        rc = filter ? add_list(filter, "namedShadowNames", c->named_shadows) : DD_ERR_NOMEM;
        if (!rc)
            rc = add_list(filter, "geoLocations", c->geo_locations);
    }
    if (!rc && !cJSON_AddStringToObject(g, "thingGroupIndexingMode", c->group_mode))
        rc = DD_ERR_NOMEM;
    if (!rc && (mask & SRC_GROUPS))
        rc = add_managed(g, SRC_GROUPS);
    if (!rc)
        rc = add_list(g, "customFields", c->group_custom);
    return rc;
}

static const struct handler_ops update_config =
    HANDLER_OPERATION(check_body, call_update_config, NULL, NULL);
static const struct handler_ops get_config =
    HANDLER_OPERATION(NULL, call_get_config, render_config, NULL);

/* ---- DescribeIndex, ListIndices ---- */

/* indexName: 1-128 of [a-zA-Z0-9:_-]. */
static int check_index_name(struct request *req, const char *name)
{
    size_t len = name ? strlen(name) : 0;

    if (!name)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at 'indexName' failed to satisfy "
                       "constraint: Member must not be null");
    if (len < 1 || len > 128 ||
        strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789:_-") != len)
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value '%s' at 'indexName' failed to satisfy "
                       "constraint: Member must satisfy regular expression pattern: "
                       "[a-zA-Z0-9:_-]+",
                       name);
    return DD_OK;
}

/* Whether index exists under c. */
static bool index_exists(const struct store_index_config *c, const char *index)
{
    unsigned mask = sources_of(c);

    if (strcmp(index, THINGS_INDEX) == 0)
        return mask & SRC_REGISTRY;
    if (strcmp(index, GROUPS_INDEX) == 0)
        return mask & SRC_GROUPS;
    return false;
}

static int check_describe(struct handler *h)
{
    struct op *op = h->op;

    op->index = request_param(h->req, "indexName");
    return check_index_name(h->req, op->index);
}

/* The configuration, and DD_ERR_NOT_FOUND unless op->index exists. */
static int load_index(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_index_config_get(h->s, &op->cfg);

    if (rc)
        return dd_fail(&h->req->eb, rc, "cannot read the indexing configuration");
    if (!index_exists(&op->cfg, op->index))
        return dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "Index %s does not exist", op->index);
    return DD_OK;
}

/* AWS_Things' schema (fleet-indexing.md §1.5). */
static const char *things_schema(const struct store_index_config *c)
{
    unsigned mask = sources_of(c);

    if (mask & (SRC_NAMED | SRC_DD))
        return "MULTI_INDEXING_MODE";
    if (mask & SRC_CONN)
        return mask & SRC_SHADOW ? "REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS"
                                 : "REGISTRY_AND_CONNECTIVITY_STATUS";
    return mask & SRC_SHADOW ? "REGISTRY_AND_SHADOW" : "REGISTRY";
}

static int render_describe(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    bool things = strcmp(op->index, THINGS_INDEX) == 0;

    if (!cJSON_AddStringToObject(o, "indexName", op->index) ||
        !cJSON_AddStringToObject(o, "indexStatus", "ACTIVE") ||
        !cJSON_AddStringToObject(o, "schema", things ? things_schema(&op->cfg) : "THING_GROUPS"))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static const struct handler_ops describe_index =
    HANDLER_OPERATION(check_describe, load_index, render_describe, NULL);

static int list_indices(struct request *req, struct response *res)
{
    static const char *const all[] = { THINGS_INDEX, GROUPS_INDEX };
    const char *v = request_query(req, "maxResults"), *names[2];
    char after[PAGING_KEY_MAX + 1];
    struct store_index_config c;
    struct store *s;
    long long max = LIST_MAX_RESULTS;
    size_t i, n = 0;
    bool more = false;
    int rc;

    if (v && !request_parse_long(v, &max))
        return dd_fail(&req->eb, DD_ERR_INVALID, "maxResults must be a number");
    rc = names_check_int("maxResults", max, 1, LIST_MAX_RESULTS, &req->eb);
    if (!rc)
        rc = request_query_key(req, "nextToken", "ListIndices", after, sizeof(after));
    if (!rc)
        rc = request_store(req, &s);
    if (!rc)
        rc = store_index_config_get(s, &c);
    if (rc)
        return rc;
    for (i = 0; after[0] && i < 2; i++) /* the token names the last index answered */
        if (strcmp(all[i], after) == 0)
            break;
    for (i = after[0] ? i + 1 : 0; i < 2; i++) {
        if (!index_exists(&c, all[i]))
            continue;
        if (n == (size_t)max) {
            more = true;
            break;
        }
        names[n++] = all[i];
    }
    store_index_config_cleanup(&c);
    return handler_respond_names(req, res, "indexNames", names, n, more, "ListIndices", NULL);
}

/* ---- SearchIndex and the aggregations: the common request ---- */

/* indexName (default AWS_Things), queryString, queryVersion. */
static int check_query_request(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    const char *version;
    int rc = handler_body(h);

    if (!rc)
        rc = handler_member_string(req, h->body, "indexName", NULL, &op->index);
    if (!rc && op->index)
        rc = check_index_name(req, op->index);
    if (!rc)
        rc = handler_member_string(req, h->body, "queryString", NULL, &op->query_text);
    if (!rc && (!op->query_text || !op->query_text[0]))
        rc = dd_fail(&req->eb, DD_ERR_INVALID,
                     "1 validation error detected: Value %s at 'queryString' failed to satisfy "
                     "constraint: %s",
                     op->query_text ? "''" : "null",
                     op->query_text ? "Member must have length greater than or equal to 1"
                                    : "Member must not be null");
    if (!rc)
        rc = handler_member_string(req, h->body, "queryVersion", NULL, &version);
    if (!rc && version && strcmp(version, QUERY_VERSION) != 0)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "Query version %s is not supported", version);
    if (!op->index)
        op->index = THINGS_INDEX;
    return rc;
}

/* Parse the query for op->index: refusals are InvalidQueryException. */
static int parse_query(struct handler *h)
{
    struct op *op = h->op;
    int rc = fleetquery_parse(op->query_text, strlen(op->query_text),
                              strcmp(op->index, GROUPS_INDEX) == 0 ? FLEETQUERY_THING_GROUPS
                                                                   : FLEETQUERY_THINGS,
                              &op->q, &h->req->eb);

    handler_error_as(h->req, h->res, &rc, DD_ERR_INVALID, 400, INVALID_QUERY);
    return rc;
}

/* ---- SearchIndex ---- */

static int check_search(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    const cJSON *max, *token;
    struct paging_pos pos;
    int rc = check_query_request(h);

    if (rc)
        return rc;
    op->limit = SEARCH_PAGE_MAX;
    max = handler_member(h->body, "maxResults");
    if (max) {
        if (!cJSON_IsNumber(max) || max->valuedouble != floor(max->valuedouble))
            return dd_fail(&req->eb, DD_ERR_INVALID, "maxResults must be a whole number");
        rc = names_check_int("maxResults", (int64_t)max->valuedouble, 1, SEARCH_MAX_RESULTS,
                             &req->eb);
        if (rc)
            return rc;
        if (max->valuedouble < SEARCH_PAGE_MAX)
            op->limit = (size_t)max->valuedouble;
    }
    snprintf(op->scope, sizeof(op->scope), "SearchIndex/%s/%s", op->index, op->query_text);
    token = handler_member(h->body, "nextToken");
    if (token) {
        if (!cJSON_IsString(token))
            return dd_fail(&req->eb, DD_ERR_INVALID, "nextToken must be a string");
        rc = paging_decode(op->scope, "nextToken", token->valuestring, &pos, &req->eb);
        if (rc)
            return rc;
        if (pos.kind != PAGING_KEY || pos.key_len >= sizeof(op->after))
            return dd_fail(&req->eb, DD_ERR_INVALID, "Invalid nextToken");
        memcpy(op->after, pos.key, pos.key_len + 1);
    }
    return parse_query(h);
}

/* Take one matching thing or group into the page, or note that more
 * follow (the walk asks for one past the page). */
static int page_add(struct op *op, const char *name, cJSON *doc)
{
    if (op->n_items == op->limit) {
        op->more = true;
        cJSON_Delete(doc);
        return DD_OK;
    }
    if (!cJSON_AddItemToArray(op->items, doc)) {
        cJSON_Delete(doc);
        return DD_ERR_NOMEM;
    }
    op->n_items++;
    snprintf(op->last, sizeof(op->last), "%s", name);
    return DD_OK;
}

static int search_thing(void *ctx, const char *name, struct store_index_thing *thing)
{
    struct op *op = ctx;
    cJSON *doc = NULL;
    int rc;

    if (op->n_items == op->limit)
        return page_add(op, name, NULL);
    rc = store_index_thing_document(thing, &doc);
    return rc ? rc : page_add(op, name, doc);
}

static int search_group(void *ctx, const char *name, const cJSON *doc,
                        const struct fleetrecord *fields)
{
    struct op *op = ctx;
    cJSON *copy;

    (void)fields;
    if (op->n_items == op->limit)
        return page_add(op, name, NULL);
    copy = cJSON_Duplicate(doc, true);
    return copy ? page_add(op, name, copy) : DD_ERR_NOMEM;
}

static int call_search(struct handler *h)
{
    struct op *op = h->op;
    const char *after = op->after[0] ? op->after : NULL;
    int rc;

    op->items = cJSON_CreateArray();
    if (!op->items)
        return DD_ERR_NOMEM;
    if (strcmp(op->index, THINGS_INDEX) == 0)
        rc = store_index_each_thing(h->s, op->q, after, op->limit + 1, search_thing, op,
                                    &h->req->eb);
    else if (strcmp(op->index, GROUPS_INDEX) == 0)
        rc = store_index_each_group(h->s, op->q, after, op->limit + 1, search_group, op,
                                    &h->req->eb);
    else
        rc = dd_fail(&h->req->eb, DD_ERR_NOT_FOUND, "Index %s does not exist", op->index);
    return rc;
}

static int render_search(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    bool things = strcmp(op->index, THINGS_INDEX) == 0;
    cJSON *empty = cJSON_CreateArray();

    if (!empty || !cJSON_AddItemToObject(o, things ? "things" : "thingGroups", op->items)) {
        cJSON_Delete(empty);
        return DD_ERR_NOMEM;
    }
    op->items = NULL;
    if (!cJSON_AddItemToObject(o, things ? "thingGroups" : "things", empty)) {
        cJSON_Delete(empty);
        return DD_ERR_NOMEM;
    }
    if (op->more)
        return handler_add_token(h->req, o, "nextToken", op->scope, op->last);
    return DD_OK;
}

static const struct handler_ops search_index =
    HANDLER_OPERATION(check_search, call_search, render_search, NULL);

/* ---- aggregations ---- */

enum agg_kind { AGG_STATISTICS, AGG_CARDINALITY, AGG_PERCENTILES, AGG_BUCKETS };

static const enum agg_kind statistics = AGG_STATISTICS, cardinality = AGG_CARDINALITY,
                           percentiles = AGG_PERCENTILES, buckets = AGG_BUCKETS;

static int check_aggregation(struct handler *h)
{
    struct request *req = h->req;
    struct op *op = h->op;
    enum agg_kind kind = *(const enum agg_kind *)h->arg;
    const cJSON *percents, *type, *terms, *max, *el;
    int rc = check_query_request(h);

    if (!rc)
        rc = handler_member_string(req, h->body, "aggregationField", NULL, &op->field);
    if (rc)
        return rc;
    if (!op->field && kind == AGG_STATISTICS)
        op->field = strcmp(op->index, GROUPS_INDEX) == 0 ? "version" : "registry.version";
    if (!op->field || !op->field[0])
        return dd_fail(&req->eb, DD_ERR_INVALID,
                       "1 validation error detected: Value null at 'aggregationField' failed to "
                       "satisfy constraint: Member must not be null");
    if (kind == AGG_PERCENTILES) {
        static const double defaults[] = { 1, 5, 25, 50, 75, 95, 99 };

        percents = handler_member(h->body, "percents");
        if (!percents) {
            memcpy(op->percents, defaults, sizeof(defaults));
            op->n_percents = sizeof(defaults) / sizeof(defaults[0]);
        } else if (!cJSON_IsArray(percents) || cJSON_GetArraySize(percents) > MAX_PERCENTS) {
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "percents must be a list of at most %d "
                           "numbers",
                           MAX_PERCENTS);
        }
        cJSON_ArrayForEach(el, percents)
        {
            if (!cJSON_IsNumber(el) || el->valuedouble < 0 || el->valuedouble > 100)
                return dd_fail(&req->eb, DD_ERR_INVALID,
                               "1 validation error detected: Value at 'percents' failed to "
                               "satisfy constraint: Member must be a number from 0 to 100");
            op->percents[op->n_percents++] = el->valuedouble;
        }
    }
    if (kind == AGG_BUCKETS) {
        type = handler_member(h->body, "bucketsAggregationType");
        terms = cJSON_IsObject(type) ? handler_member(type, "termsAggregation") : NULL;
        if (!cJSON_IsObject(type))
            return dd_fail(&req->eb, DD_ERR_INVALID,
                           "1 validation error detected: Value null at 'bucketsAggregationType' "
                           "failed to satisfy constraint: Member must not be null");
        op->max_buckets = DEFAULT_BUCKETS;
        max = terms ? handler_member(terms, "maxBuckets") : NULL;
        if (max) {
            if (!cJSON_IsNumber(max) || max->valuedouble != floor(max->valuedouble))
                return dd_fail(&req->eb, DD_ERR_INVALID, "maxBuckets must be a whole number");
            rc = names_check_int("bucketsAggregationType.termsAggregation.maxBuckets",
                                 (int64_t)max->valuedouble, 1, MAX_BUCKETS, &req->eb);
            if (rc)
                return rc;
            op->max_buckets = (size_t)max->valuedouble;
        }
    }
    return parse_query(h);
}

/* The declared type of op->field and the record field it reads, or an
 * InvalidAggregationException. */
static int aggregation_field(struct handler *h)
{
    struct op *op = h->op;
    enum agg_kind kind = *(const enum agg_kind *)h->arg;
    bool groups = strcmp(op->index, GROUPS_INDEX) == 0;
    const struct managed *m =
        managed_find(op->field, sources_of(&op->cfg) & (groups ? SRC_GROUPS : ~SRC_GROUPS));
    cJSON *custom = NULL;
    const cJSON *el;
    int rc = DD_OK;

    op->field_type = NULL;
    if (m) {
        op->field_type = m->type;
        snprintf(op->record_field, sizeof(op->record_field), "%s", m->field ? m->field : op->field);
    } else {
        custom = cJSON_Parse(groups ? op->cfg.group_custom : op->cfg.thing_custom);
        cJSON_ArrayForEach(el, custom)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(el, "name");
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(el, "type");

            if (cJSON_IsString(name) && strcmp(name->valuestring, op->field) == 0) {
                int i = names_enum_find(field_types, cJSON_IsString(type) ? type->valuestring
                                                                          : FIELD_TYPE_STRING);

                op->field_type = field_types[i < 0 ? 1 : i];
                snprintf(op->record_field, sizeof(op->record_field), "%s", op->field);
            }
        }
        cJSON_Delete(custom);
    }
    if (!op->field_type)
        rc = dd_fail(&h->req->eb, DD_ERR_INVALID,
                     "Field %s is neither a managed field of an enabled source nor a custom "
                     "field of %s",
                     op->field, op->index);
    else if (kind == AGG_PERCENTILES && strcmp(op->field_type, FIELD_TYPE_NUMBER) != 0)
        rc = dd_fail(&h->req->eb, DD_ERR_INVALID,
                     "Percentiles need a Number field, and %s is a %s field", op->field,
                     op->field_type);
    handler_error_as(h->req, h->res, &rc, DD_ERR_INVALID, 400, INVALID_AGGREGATION);
    return rc;
}

/* Text of a number as AWS prints a bucket key: no fraction when whole. */
static void number_text(double v, char *buf, size_t size)
{
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.15g", v);
}

/* Keep the n values v of a matching thing or group that have the declared
 * type (a String field takes numbers as their text). */
static int agg_take(struct op *op, const struct fleetquery_value *v, size_t n)
{
    size_t i;

    op->n_things++;
    for (i = 0; i < n; i++) {
        struct agg_value a = { v[i].type, v[i].num, NULL };
        char text[64];

        if (strcmp(op->field_type, FIELD_TYPE_NUMBER) == 0 && v[i].type != FLEETQUERY_NUMBER)
            continue;
        if (strcmp(op->field_type, FIELD_TYPE_BOOLEAN) == 0) {
            if (v[i].type != FLEETQUERY_BOOL)
                continue;
            a.num = v[i].b ? 1 : 0;
        }
        if (strcmp(op->field_type, FIELD_TYPE_STRING) == 0) {
            if (v[i].type == FLEETQUERY_BOOL)
                continue;
            if (v[i].type == FLEETQUERY_NUMBER)
                number_text(v[i].num, text, sizeof(text));
            a.type = FLEETQUERY_STRING;
            a.str = strdup(v[i].type == FLEETQUERY_STRING ? v[i].str : text);
            if (!a.str)
                return DD_ERR_NOMEM;
        }
        if (op->n_vals == op->cap_vals) {
            size_t cap = op->cap_vals ? op->cap_vals * 2 : 64;
            struct agg_value *nv = realloc(op->vals, cap * sizeof(*nv));

            if (!nv) {
                free(a.str);
                return DD_ERR_NOMEM;
            }
            op->vals = nv;
            op->cap_vals = cap;
        }
        op->vals[op->n_vals++] = a;
    }
    return DD_OK;
}

static int agg_thing(void *ctx, const char *name, struct store_index_thing *thing)
{
    struct op *op = ctx;
    const struct fleetquery_value *v;
    size_t n;
    int rc = store_index_thing_values(thing, op->record_field, &v, &n);

    (void)name;
    return rc ? rc : agg_take(op, v, n);
}

static int agg_group(void *ctx, const char *name, const cJSON *doc,
                     const struct fleetrecord *fields)
{
    struct op *op = ctx;
    const struct fleetquery_value *v;
    size_t n;

    (void)name;
    (void)doc;
    fleetrecord_find(fields, op->record_field, &v, &n);
    return agg_take(op, v, n);
}

static int call_aggregation(struct handler *h)
{
    struct op *op = h->op;
    int rc;

    rc = load_index(h);
    if (!rc)
        rc = aggregation_field(h);
    if (rc || h->res->status) /* an InvalidAggregationException was answered */
        return rc;
    if (strcmp(op->index, GROUPS_INDEX) == 0)
        return store_index_each_group(h->s, op->q, NULL, 0, agg_group, op, &h->req->eb);
    return store_index_each_thing(h->s, op->q, NULL, 0, agg_thing, op, &h->req->eb);
}

static int render_statistics(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    cJSON *st = cJSON_AddObjectToObject(o, "statistics");
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY, mean, var;
    size_t i, n = op->n_vals;

    if (!st || !cJSON_AddNumberToObject(st, "count", (double)n))
        return DD_ERR_NOMEM;
    if (n == 0 || strcmp(op->field_type, FIELD_TYPE_STRING) == 0)
        return DD_OK;
    for (i = 0; i < n; i++) {
        double v = op->vals[i].num;

        sum += v;
        sq += v * v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    mean = sum / (double)n;
    var = sq / (double)n - mean * mean; /* population variance, as AWS's sample shows */
    if (var < 0)
        var = 0;
    if (!isfinite(sum) || !isfinite(sq))
        return DD_OK; /* beyond a double: AWS answers the count only */
    if (!cJSON_AddNumberToObject(st, "average", mean) || !cJSON_AddNumberToObject(st, "sum", sum) ||
        !cJSON_AddNumberToObject(st, "minimum", lo) || !cJSON_AddNumberToObject(st, "maximum", hi))
        return DD_ERR_NOMEM;
    if (strcmp(op->field_type, FIELD_TYPE_NUMBER) == 0 &&
        (!cJSON_AddNumberToObject(st, "sumOfSquares", sq) ||
         !cJSON_AddNumberToObject(st, "variance", var) ||
         !cJSON_AddNumberToObject(st, "stdDeviation", sqrt(var))))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* Sort order of values: by text for strings, else by number. */
static int by_value(const void *a, const void *b)
{
    const struct agg_value *x = a, *y = b;

    if (x->str && y->str)
        return strcmp(x->str, y->str);
    return x->num < y->num ? -1 : x->num > y->num;
}

static int render_cardinality(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    size_t i, distinct = 0;

    if (op->n_vals) /* qsort() takes no NULL array, even empty */
        qsort(op->vals, op->n_vals, sizeof(*op->vals), by_value);
    for (i = 0; i < op->n_vals; i++)
        if (i == 0 || by_value(&op->vals[i - 1], &op->vals[i]) != 0)
            distinct++;
    return cJSON_AddNumberToObject(o, "cardinality", (double)distinct) ? DD_OK : DD_ERR_NOMEM;
}

/* Linear interpolation at rank p/100 * (n - 1) of the sorted values, which
 * reproduces AWS's sample (fleet-indexing.md §3.2). */
static int render_percentiles(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    cJSON *arr = cJSON_AddArrayToObject(o, "percentiles");
    size_t i;

    if (!arr)
        return DD_ERR_NOMEM;
    if (op->n_vals == 0)
        return DD_OK;
    qsort(op->vals, op->n_vals, sizeof(*op->vals), by_value);
    for (i = 0; i < op->n_percents; i++) {
        double rank = op->percents[i] / 100.0 * (double)(op->n_vals - 1), v;
        size_t k = (size_t)floor(rank);
        cJSON *p = handler_add_object(arr);

        v = op->vals[k].num;
        if (k + 1 < op->n_vals)
            v += (rank - (double)k) * (op->vals[k + 1].num - op->vals[k].num);
        if (!p || !cJSON_AddNumberToObject(p, "percent", op->percents[i]) ||
            !cJSON_AddNumberToObject(p, "value", v))
            return DD_ERR_NOMEM;
    }
    return DD_OK;
}

struct bucket {
    const char *key; /* borrowed from op->vals */
    size_t count;
};

static int by_count(const void *a, const void *b)
{
    const struct bucket *x = a, *y = b;

    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

static int render_buckets(struct handler *h, cJSON *o)
{
    struct op *op = h->op;
    struct bucket *b = NULL;
    cJSON *arr;
    size_t i, n = 0;
    int rc = DD_OK;

    /* Booleans and numbers become their text, so every key is a string. */
    for (i = 0; i < op->n_vals; i++) {
        char text[64];

        if (op->vals[i].str)
            continue;
        if (strcmp(op->field_type, FIELD_TYPE_BOOLEAN) == 0)
            snprintf(text, sizeof(text), "%s", op->vals[i].num != 0 ? "true" : "false");
        else
            number_text(op->vals[i].num, text, sizeof(text));
        op->vals[i].str = strdup(text);
        if (!op->vals[i].str)
            return DD_ERR_NOMEM;
    }
    if (op->n_vals) {
        qsort(op->vals, op->n_vals, sizeof(*op->vals), by_value);
        b = calloc(op->n_vals, sizeof(*b));
        if (!b)
            return DD_ERR_NOMEM;
    }
    for (i = 0; i < op->n_vals; i++) {
        if (n && strcmp(b[n - 1].key, op->vals[i].str) == 0) {
            b[n - 1].count++;
            continue;
        }
        b[n].key = op->vals[i].str;
        b[n++].count = 1;
    }
    if (n)
        qsort(b, n, sizeof(*b), by_count);
    if (!cJSON_AddNumberToObject(o, "totalCount", (double)op->n_things) ||
        !(arr = cJSON_AddArrayToObject(o, "buckets")))
        rc = DD_ERR_NOMEM;
    for (i = 0; !rc && i < n && i < op->max_buckets; i++) {
        cJSON *x = handler_add_object(arr);

        if (!x || !cJSON_AddStringToObject(x, "keyValue", b[i].key) ||
            !cJSON_AddNumberToObject(x, "count", (double)b[i].count))
            rc = DD_ERR_NOMEM;
    }
    free(b);
    return rc;
}

static const struct handler_ops get_statistics =
    HANDLER_OPERATION(check_aggregation, call_aggregation, render_statistics, &statistics);
static const struct handler_ops get_cardinality =
    HANDLER_OPERATION(check_aggregation, call_aggregation, render_cardinality, &cardinality);
static const struct handler_ops get_percentiles =
    HANDLER_OPERATION(check_aggregation, call_aggregation, render_percentiles, &percentiles);
static const struct handler_ops get_buckets =
    HANDLER_OPERATION(check_aggregation, call_aggregation, render_buckets, &buckets);

const struct route api_index_routes[] = {
    { "POST", "/indexing/config", NULL, &update_config },
    { "GET", "/indexing/config", NULL, &get_config },
    { "GET", "/indices", list_indices, NULL },
    { "POST", "/indices/search", NULL, &search_index },
    { "POST", "/indices/statistics", NULL, &get_statistics },
    { "POST", "/indices/cardinality", NULL, &get_cardinality },
    { "POST", "/indices/percentiles", NULL, &get_percentiles },
    { "POST", "/indices/buckets", NULL, &get_buckets },
    { "GET", "/indices/{indexName}", NULL, &describe_index },
    { NULL, NULL, NULL, NULL },
};
