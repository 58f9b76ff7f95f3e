/* SPDX-License-Identifier: MIT */
/* alert.c: the Detect alert message (device-defender reference section 9.1).
 *
 * cJSON keeps object members in insertion order and prints integers below
 * 2^53 without a fraction, so adding the members in AWS's observed order and
 * printing unformatted reproduces AWS's text exactly. */
#include "core/alert.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "core/jsonprint.h"

const char *alert_event_name(enum evaluate_event type)
{
    switch (type) {
    case EVALUATE_EVENT_IN_ALARM:
        return "in-alarm";
    case EVALUATE_EVENT_ALARM_CLEARED:
        return "alarm-cleared";
    case EVALUATE_EVENT_ALARM_INVALIDATED:
        return "alarm-invalidated";
    case EVALUATE_EVENT_NONE:
        break;
    }
    return NULL;
}

/* Add item (owned) to obj; on failure it is deleted here, so a constructor's
 * result can be passed directly (NULL: that constructor ran out of memory). */
static bool add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return false;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

int alert_build(const struct alert *a, char **out, struct dd_errbuf *eb)
{
    const char *type = alert_event_name(a->type);
    bool with_value = a->type != EVALUATE_EVENT_ALARM_INVALIDATED;
    cJSON *root = NULL, *info;
    int rc = DD_ERR_NOMEM;

    *out = NULL;
    if (!type)
        return dd_fail(eb, DD_ERR_INVALID, "alert: no violation event type");
    if (!a->thing_name || !a->behavior || !a->violation_id || !a->security_profile_name)
        return dd_fail(eb, DD_ERR_INVALID, "alert: a required member is NULL");
    if (with_value && !a->metric_value)
        return dd_fail(eb, DD_ERR_INVALID, "alert: %s needs a metric value", type);
    root = cJSON_CreateObject();
    if (!root)
        goto out;
    if (!cJSON_AddNumberToObject(root, "violationEventTime", (double)a->event_time_ms) ||
        !cJSON_AddStringToObject(root, "thingName", a->thing_name) ||
        !add_item(root, "behavior", behavior_to_json(a->behavior, BEHAVIOR_ORDER_ALERT)) ||
        !cJSON_AddStringToObject(root, "violationEventType", type) ||
        (with_value && !add_item(root, "metricValue", metric_value_to_json(a->metric_value))) ||
        !cJSON_AddStringToObject(root, "violationId", a->violation_id) ||
        !cJSON_AddStringToObject(root, "securityProfileName", a->security_profile_name))
        goto out;
    if (a->behavior->type == BEHAVIOR_TYPE_MACHINE_LEARNING) {
        info = cJSON_AddObjectToObject(root, "violationEventAdditionalInfo");
        if (!info || !cJSON_AddStringToObject(info, "confidenceLevel",
                                              behavior_confidence_name(a->behavior->confidence)))
            goto out;
    }
    *out = jsonprint(root);
    if (*out)
        rc = DD_OK;
out:
    cJSON_Delete(root);
    return rc;
}
