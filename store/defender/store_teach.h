/* SPDX-License-Identifier: MIT */
/* store_teach.h: what the teaching views read beyond the other families'
 * functions: the alert outbox, each alert with the SNS deliveries made of
 * it (when the SNS tables exist: schema 007 lands with the SNS family; until
 * then an alert has no delivery rows and has_deliveries says so), and the
 * things the fleet view lists, registered or only seen connecting. */
#ifndef DD_STORE_TEACH_H
#define DD_STORE_TEACH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

/* Called with each thing name; registered is false for a client that
 * connected without CreateThing and has been judged (it has a datapoint
 * series, even once retention has pruned its datapoints) or has
 * violations. */
typedef int (*store_teach_thing_fn)(void *ctx, const char *name, bool registered);

/* Every thing the teaching views show, by name: the registered things and
 * every other thing name that has been judged or has violations. Errors:
 * the callback's, DD_ERR_STORE. */
int store_teach_things(struct store *s, store_teach_thing_fn fn, void *ctx);

/* One alert and one of its deliveries; every string borrowed for the call.
 * The delivery members are NULL / -1 when the alert has none (not fanned
 * out yet, no subscription, or no SNS tables). */
struct store_teach_alert {
    int64_t alert_id;
    int64_t created_ms; /* emulated */
    const char *profile;
    const char *topic_arn; /* NULL: the profile names no SNS target */
    const char *message;   /* the Detect alert JSON */
    const char *subscription_arn;
    const char *protocol;
    const char *endpoint;
    const char *status; /* pending | delivered | failed | canceled */
    int64_t attempts;
    int64_t last_http_status; /* -1: none */
    const char *last_error;
};

typedef int (*store_teach_alert_fn)(void *ctx, const struct store_teach_alert *row);

/* The newest limit alerts, newest first, each with its deliveries in order
 * (consecutive rows share alert_id). *has_deliveries tells whether the SNS
 * delivery tables exist. Errors: the callback's, DD_ERR_STORE. */
int store_teach_alerts(struct store *s, int limit, bool *has_deliveries, store_teach_alert_fn fn,
                       void *ctx);

#endif
