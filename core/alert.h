/* SPDX-License-Identifier: MIT */
/* alert.h: the Device Defender Detect alert, the SNS "Message" string.
 *
 * One function turns a violation event into the exact JSON text AWS sends,
 * with keys in the order AWS's published alerts show (device-defender
 * reference section 9.1), so recorded workshop samples match byte for byte.
 * The SNS envelope around it is built elsewhere. */
#ifndef DD_CORE_ALERT_H
#define DD_CORE_ALERT_H

#include <stdint.h>

#include "core/behavior.h"
#include "core/error.h"
#include "core/evaluate.h"
#include "core/metric.h"

/* One violation event, all borrowed for the call. */
struct alert {
    int64_t event_time_ms;                   /* violationEventTime, epoch milliseconds */
    const char *thing_name;                  /* device identity (thing name or client ID) */
    const struct behavior *behavior;         /* echoed in alert key order */
    enum evaluate_event type;                /* IN_ALARM, ALARM_CLEARED or ALARM_INVALIDATED */
    const struct metric_value *metric_value; /* the datapoint; ignored for invalidated */
    const char *violation_id;
    const char *security_profile_name;
};

/* Build the alert text:
 * {"violationEventTime":..,"thingName":..,"behavior":{..},"violationEventType":..,
 *  "metricValue":{..},"violationId":..,"securityProfileName":..}
 * metricValue is left out for alarm-invalidated; an ML behavior adds
 * "violationEventAdditionalInfo":{"confidenceLevel":..} at the end. On DD_OK
 * *out is a new NUL-terminated string the caller frees with free(). Returns
 * DD_ERR_INVALID (a NULL member, type NONE, or no metric_value for
 * in-alarm/alarm-cleared; eb says which) or DD_ERR_NOMEM; *out is NULL on
 * error. Pure: any thread. @unittest test_alert.c test_seed_alert_bytes */
int alert_build(const struct alert *a, char **out, struct dd_errbuf *eb);

/* The wire name of an event type ("in-alarm", "alarm-cleared",
 * "alarm-invalidated"), or NULL for EVALUATE_EVENT_NONE. Pure: any thread. */
const char *alert_event_name(enum evaluate_event type);

#endif
