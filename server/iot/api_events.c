/* SPDX-License-Identifier: MIT */
/* api_events.c: the event configuration of AWS IoT's registry events
 * (UpdateEventConfigurations, DescribeEventConfigurations). The events
 * themselves are written by store/iot/store_events with the registry
 * changes they announce; the broker publishes them. */
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/lifecycle.h"
#include "server/api.h"
#include "server/handler.h"
#include "store/iot/store_events.h"

struct op {
    bool set[LIFECYCLE_N_TYPES];
    bool enabled[LIFECYCLE_N_TYPES];
    struct store_events cfg;
};

static void cleanup(struct handler *h)
{
    (void)h;
}

/* eventConfigurations: a map of AWS's event types to {"Enabled": bool}. */
static int check_update(struct handler *h)
{
    struct op *op = h->op;
    const cJSON *map, *item;
    int rc = handler_body(h);

    if (rc)
        return rc;
    map = handler_member(h->body, "eventConfigurations");
    if (!map)
        return DD_OK;
    if (!cJSON_IsObject(map))
        return dd_fail(&h->req->eb, DD_ERR_INVALID, "eventConfigurations must be a map");
    cJSON_ArrayForEach(item, map)
    {
        const cJSON *on = handler_member(item, "Enabled");
        enum lifecycle_type t;

        if (lifecycle_type_parse(item->string, strlen(item->string), &t))
            return dd_fail(&h->req->eb, DD_ERR_INVALID,
                           "1 validation error detected: Value '%s' at 'eventConfigurations' "
                           "failed to satisfy constraint: Map keys must satisfy enum value set: "
                           "[THING, THING_GROUP, THING_TYPE, THING_GROUP_MEMBERSHIP, "
                           "THING_GROUP_HIERARCHY, THING_TYPE_ASSOCIATION, JOB, JOB_EXECUTION, "
                           "POLICY, CERTIFICATE, CA_CERTIFICATE]",
                           item->string);
        if (!cJSON_IsObject(item) || (on && !cJSON_IsBool(on)))
            return dd_fail(&h->req->eb, DD_ERR_INVALID,
                           "eventConfigurations.%s must be {\"Enabled\": true|false}",
                           item->string);
        op->set[t] = true;
        op->enabled[t] = cJSON_IsTrue(on);
    }
    return DD_OK;
}

static int call_update(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_events_put(h->s, op->set, op->enabled, request_now_ms(h->req));

    return rc ? dd_fail(&h->req->eb, rc, "cannot store the event configuration") : DD_OK;
}

static int call_describe(struct handler *h)
{
    struct op *op = h->op;
    int rc = store_events_get(h->s, &op->cfg);

    return rc ? dd_fail(&h->req->eb, rc, "cannot read the event configuration") : DD_OK;
}

static int render_describe(struct handler *h, cJSON *o)
{
    const struct store_events *c = &((struct op *)h->op)->cfg;
    cJSON *map = cJSON_AddObjectToObject(o, "eventConfigurations");
    size_t i;

    if (!map)
        return DD_ERR_NOMEM;
    for (i = 0; i < LIFECYCLE_N_TYPES; i++) {
        cJSON *one = cJSON_AddObjectToObject(map, lifecycle_type_name((enum lifecycle_type)i));

        if (!one || !cJSON_AddBoolToObject(one, "Enabled", c->enabled[i]))
            return DD_ERR_NOMEM;
    }
    if (c->created_ms && (handler_add_seconds(o, "creationDate", c->created_ms) ||
                          handler_add_seconds(o, "lastModifiedDate", c->updated_ms)))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static const struct handler_ops update_events =
    HANDLER_OPERATION(check_update, call_update, NULL, NULL);
static const struct handler_ops describe_events =
    HANDLER_OPERATION(NULL, call_describe, render_describe, NULL);

const struct route api_events_routes[] = {
    { "PATCH", "/event-configurations", NULL, &update_events },
    { "GET", "/event-configurations", NULL, &describe_events },
    { NULL, NULL, NULL, NULL },
};
