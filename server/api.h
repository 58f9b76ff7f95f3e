/* SPDX-License-Identifier: MIT */
/* api.h: the route tables of the API families, one file each. */
#ifndef DD_SERVER_API_H
#define DD_SERVER_API_H

#include "server/router.h"

/* /_ddlocal/: health, clock, reset (api_emulator.c). */
extern const struct route api_emulator_routes[];
/* Policies, versions, attachments, effective policies (api_policies.c). */
extern const struct route api_policies_routes[];
/* Device Defender dimensions and custom metrics (api_dimensions.c). */
extern const struct route api_dimensions_routes[];

/* Things, thing groups, membership, DescribeEndpoint (api_registry.c). */
extern const struct route api_registry_routes[];

/* The registry events' configuration (iot/api_events.c). */
extern const struct route api_events_routes[];

/* Role aliases (iot/api_role_aliases.c). */
extern const struct route api_role_aliases_routes[];
/* Registered CA certificates and revocation at the issuer (iot/api_cacerts.c). */
extern const struct route api_cacerts_routes[];
/* Logging options v1 and v2, v2 logging levels (iot/api_logging.c). */
extern const struct route api_logging_routes[];

/* Thing types (api_thing_types.c). */
extern const struct route api_thing_types_routes[];
/* Billing groups and the things in them (api_billing_groups.c). */
extern const struct route api_billing_groups_routes[];

/* Dynamic thing groups (api_thing_groups_dynamic.c). */
extern const struct route api_thing_groups_dynamic_routes[];

/* iot-data: shadows and Publish (api_shadow.c). */
extern const struct route api_shadow_routes[];

/* Detect security profiles and their targets (api_detect.c). */
extern const struct route api_detect_routes[];

/* The watch list of the datapoint budget (api_watch.c). */
extern const struct route api_watch_routes[];

/* Record that thing's datapoints were read now (a teaching view or
 * ListMetricValues), so that a fleet over the datapoint budget keeps them
 * for a while (store_watch.h). A failure is ignored: it costs the thing
 * some datapoints, never the read. Any MHD worker thread. */
void api_watch_inspected(struct request *req, struct store *s, const char *thing);

/* ListMetricValues: retained metric values (api_metric_values.c). */
extern const struct route api_metric_values_routes[];

/* Violations, violation events, verification states and the
 * /_ddlocal/datapoints view (api_violations.c). */
extern const struct route api_violations_routes[];

/* The members of one datapoint (time, value, threshold, ML band, verdict,
 * streaks, event) into o, as the /_ddlocal/datapoints view and the explain view's
 * timelines show it (api_violations.c). DD_ERR_NOMEM. */
struct cJSON;
struct store_datapoint_row;
int api_violations_datapoint_json(struct cJSON *o, const struct store_datapoint_row *r);

/* GetBehaviorModelTrainingSummaries (api_mlmodels.c). */
extern const struct route api_mlmodels_routes[];

/* The members of an ML model's summary (trainingDataCollectionStartDate,
 * modelStatus, datapointsCollectionPercentage, lastModelRefreshDate) into
 * o, as GetBehaviorModelTrainingSummaries and the explain view's timelines
 * show them (api_mlmodels.c). DD_ERR_NOMEM. */
struct store_mlmodel;
int api_mlmodels_summary_json(struct cJSON *o, const struct store_mlmodel *m);

/* Certificates, thing principals and /_ddlocal/ca.pem (api_certs.c). */
extern const struct route api_certs_routes[];

/* SNS's signing certificate, alerts view, sink and Lambda mappings
 * (api_sns.c). */
extern const struct route api_sns_routes[];

/* The query-protocol and JSON-protocol services behind POST / and GET /,
 * which query.c picks (query.h). */
struct query_form;
/* SNS: its actions, and the SubscribeURL / UnsubscribeURL links (api_sns.c). */
int api_sns_query(struct request *req, struct response *res, struct query_form *f);
/* STS GetCallerIdentity in the query protocol (api_sts.c). */
int api_sts_query(struct request *req, struct response *res, struct query_form *f);
/* STS GetCallerIdentity in the JSON protocol (api_sts.c). */
int api_sts_json(struct request *req, struct response *res, const char *op);
/* SQS in the query protocol, Version 2012-11-05 (api_sqs.c). */
int api_sqs_query(struct request *req, struct response *res, struct query_form *f);
/* SQS in the JSON protocol, X-Amz-Target AmazonSQS.<op> (api_sqs.c). */
int api_sqs_json(struct request *req, struct response *res, const char *op);

/* The teaching views: dashboard files, fleet, behavior in words, explain
 * (api_teach.c). */
extern const struct route api_teach_routes[];

/* Mitigation actions and Detect mitigation actions tasks (api_mitigation.c). */
extern const struct route api_mitigation_routes[];

/* Fleet indexing: the configuration, DescribeIndex, ListIndices,
 * SearchIndex and the aggregations (index/api_index.c). */
extern const struct route api_index_routes[];

/* IoT TagResource, UntagResource, ListTagsForResource (api_tags.c). */
extern const struct route api_tags_routes[];

/* Device Defender Audit: the account's audit configuration
 * (audit/api_audit_config.c). */
extern const struct route api_audit_config_routes[];

/* Audit tasks: start, cancel, describe, list (audit/api_audit_tasks.c). */
extern const struct route api_audit_tasks_routes[];

/* Audit findings and their related resources (audit/api_audit_findings.c). */
extern const struct route api_audit_findings_routes[];

/* Audit suppressions (audit/api_audit_suppressions.c). */
extern const struct route api_audit_suppressions_routes[];

/* Scheduled audits (audit/api_scheduled_audits.c). */
extern const struct route api_scheduled_audits_routes[];

/* Audit mitigation actions tasks (audit/api_audit_mitigation.c). */
extern const struct route api_audit_mitigation_routes[];

/* The emulator's audit views behind `ddlocal audit` (audit/api_audit_text.c). */
extern const struct route api_audit_text_routes[];

#endif
