/* SPDX-License-Identifier: MIT */
/* delivery.h: the plugin's SNS delivery thread.
 *
 * It fans each new row of the alerts table out to the subscriptions of the
 * alert's topic (sns_deliveries, one transaction per alert, before any
 * send), then sends every due delivery with libcurl and records each attempt.
 * It owns its own SQLite connection and a curl multi handle, so a receiver
 * that hangs holds only its own transfer: never the broker, the engine, the
 * server, or other subscriptions. Retries follow SNS's default HTTP policy
 * (plugin_opt_delivery_attempts tries, plugin_opt_retry_delay_ms apart, real
 * time; only 5xx answers, timeouts and connection errors are retried).
 *
 * An sqs subscription's message becomes a row of the queue its ARN names
 * in this database, in the transaction that records it delivered; with
 * plugin_opt_sqs_endpoint it is sent by SQS SendMessage to that engine
 * instead. Either way every failure is retried. A Notification that the
 * subscription's filter policy rejects is recorded as filtered. */
#ifndef DD_PLUGIN_DELIVERY_H
#define DD_PLUGIN_DELIVERY_H

#include "core/error.h"
#include "plugin/plugin_options.h"
#include "plugin/workers.h"

struct delivery;

/* Fill the delivery fields of o with their defaults. Cannot fail. */
void delivery_options_default(struct plugin_options *o);

/* Take one plugin_opt_<key> line if it is a delivery option (public_url,
 * delivery_attempts, retry_delay_ms, webhook, webhook_format, lambda,
 * sqs_endpoint).
 * Returns DD_OK when taken, DD_ERR_NOT_FOUND when key is not a delivery
 * option, DD_ERR_INVALID (eb says why) for a bad value. Borrowed strings. */
int delivery_option(struct plugin_options *o, const char *key, const char *value,
                    struct dd_errbuf *eb);

/* Start the thread among the workers and wait until it has opened its
 * connection, loaded or created the signing key (RSA-2048 and a
 * self-signed certificate, stored in the database on first start), stored
 * the --lambda mappings and created its curl handle: all on that thread,
 * which closes them too (workers.h). curl_global_init() must have run. On
 * DD_OK *out owns the thread: stop it with delivery_stop(). Broker thread
 * (init). */
int delivery_start(const struct plugin_options *opt, struct workers *w, struct delivery **out,
                   struct dd_errbuf *eb);

/* Stop the thread (it notices within 10 ms): transfers in flight are
 * abandoned and stay pending in the database (they are sent again at the
 * next start, with the same MessageId). NULL allowed. Broker thread
 * (cleanup). */
void delivery_stop(struct delivery *d);

/* Make the delivery thread look at the database now instead of at its next
 * poll (an eventfd write). Any of the plugin's worker threads (they share
 * the descriptor table the wake-up descriptor lives in), never the broker
 * thread; d is not being stopped. Cannot fail. */
void delivery_wake(struct delivery *d);

#endif
