/* SPDX-License-Identifier: MIT */
/* plugin_options.h: the plugin's settings (the plugin_opt_* lines of
 * mosquitto.conf) and the parsers of one option value.
 *
 * This header sits below every file that reads options: plugin.c parses
 * the lines and hands the delivery options to delivery.c, which parses its
 * own keys with the same helpers. Neither includes the other's header for
 * them, so the dependency runs one way: plugin.c -> delivery.h ->
 * plugin_options.h. Pure string handling; any thread. */
#ifndef DD_PLUGIN_PLUGIN_OPTIONS_H
#define DD_PLUGIN_PLUGIN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/error.h"
#include "core/mlmodel.h"

#define PLUGIN_MAX_LAMBDAS 8
/* The default datapoint budget, in things (docs/performance.md). */
#define PLUGIN_DATAPOINT_BUDGET 10000

/* Settings from the plugin_opt_* lines of mosquitto.conf. */
struct plugin_options {
    char db_path[512];    /* plugin_opt_database (required) */
    char region[32];      /* plugin_opt_region, default us-east-1 */
    char account[16];     /* plugin_opt_account, default 123456789012 */
    enum clock_mode mode; /* plugin_opt_time_mode: real | scaled | manual */
    double scale;         /* plugin_opt_time_scale, for scaled mode */
    bool authz_aws;       /* plugin_opt_authz: "aws" (an Allow is needed) or "open" */
    bool deny_drops;      /* plugin_opt_deny_action: "drop" or "disconnect" (AWS, MQTT 3.1.1) */
    int retention_days;   /* plugin_opt_datapoint_retention_days, default 14 */
    /* plugin_opt_datapoint_budget: a window of more things than this keeps
     * judged datapoints only for things in violation, watched or inspected
     * (core/keep.h); default PLUGIN_DATAPOINT_BUDGET */
    size_t datapoint_budget;
    uint32_t publish_rate_limit; /* plugin_opt_publish_rate_limit: PUBLISH a second, 0 = none */
    /* The ML model lifecycle (core/mlmodel.h), AWS's numbers by default:
     * plugin_opt_ml_training_seconds, _ml_min_datapoints,
     * _ml_refresh_seconds, _ml_expiry_seconds. */
    struct mlmodel_params ml;
    /* SNS delivery (delivery.c) */
    char public_url[256];   /* plugin_opt_public_url: the server as receivers reach it */
    int delivery_attempts;  /* plugin_opt_delivery_attempts, default 4 (SNS HTTP policy) */
    long retry_delay_ms;    /* plugin_opt_retry_delay_ms, default 20000 */
    char webhook[512];      /* plugin_opt_webhook: subscribed to every alert topic */
    int webhook_sns_format; /* plugin_opt_webhook_format sns (else lambda) */
    char sqs_endpoint[256]; /* plugin_opt_sqs_endpoint: sqs deliveries go there, "" = our SQS */
    int n_lambdas;          /* plugin_opt_lambda ARN=URL lines */
    char lambdas[PLUGIN_MAX_LAMBDAS][768];
};

/* Copy the value of plugin_opt_<key> into dst, which holds size bytes.
 * key and value are borrowed. DD_ERR_INVALID (eb names the option) when the
 * value does not fit; dst is then untouched. */
int plugin_options_copy(char *dst, size_t size, const char *key, const char *value,
                        struct dd_errbuf *eb);

/* Parse the value of plugin_opt_<key> as a whole number from min to max
 * into *out. DD_ERR_INVALID (eb names the option and the range) for
 * anything else; *out is then untouched. */
int plugin_options_long(const char *key, const char *value, long min, long max, long *out,
                        struct dd_errbuf *eb);

#endif
