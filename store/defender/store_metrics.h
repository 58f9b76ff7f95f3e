/* SPDX-License-Identifier: MIT */
/* store_metrics.h: Device Defender dimensions and custom metrics (tables of
 * schema/003_policies.sql).
 *
 * Creation is idempotent per clientRequestToken: a create that repeats the
 * stored token and the same content returns the stored row instead of
 * failing, as AWS does for a client retry. Values are validated by the
 * caller; JSON columns (string values, tags) are stored as the caller
 * printed them, so "the same content" is a byte comparison of canonical
 * text. Each write is one transaction, on the caller's connection. */
#ifndef DD_STORE_METRICS_H
#define DD_STORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/iot/store_policies.h"
#include "store/store.h"

struct store_dimension {
    char *name;                 /* owned */
    char *type;                 /* owned: "TOPIC_FILTER" */
    char *string_values;        /* owned: a JSON array of strings */
    char *tags;                 /* owned, NULL when none */
    char *client_request_token; /* owned */
    int64_t created_ms;
    int64_t modified_ms;
};

struct store_custom_metric {
    char *name;                 /* owned */
    char *metric_type;          /* owned: "number", "string-list", ... */
    char *display_name;         /* owned, NULL when none */
    char *tags;                 /* owned, NULL when none */
    char *client_request_token; /* owned */
    int64_t created_ms;
    int64_t modified_ms;
};

/* What a create request gives: every string borrowed; tags and display_name
 * may be NULL. */
struct store_dimension_new {
    const char *name;
    const char *type;
    const char *string_values; /* JSON array text */
    const char *tags;          /* JSON array text or NULL */
    const char *client_request_token;
};

struct store_custom_metric_new {
    const char *name;
    const char *metric_type;
    const char *display_name;
    const char *tags;
    const char *client_request_token;
};

/* Free what the structs own and zero them; NULL allowed, cannot fail. */
void store_dimension_cleanup(struct store_dimension *d);
void store_custom_metric_cleanup(struct store_custom_metric *m);

/* Create the dimension described by *d (borrowed) at now_ms. *created is set true when a row was
 * written, false when an identical create with the same client_request_token had already stored it
 * (then nothing changes). DD_ERR_EXISTS when the name is taken otherwise
 * (eb: AWS's message), DD_ERR_BUSY, DD_ERR_STORE. */
int store_dimension_create(struct store *s, const struct store_dimension_new *d, int64_t now_ms,
                           bool *created, struct dd_errbuf *eb);

/* Read dimension name into *out (cleared first; clean up with
 * store_dimension_cleanup(), also on error). DD_ERR_NOT_FOUND,
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_dimension_get(struct store *s, const char *name, struct store_dimension *out,
                        struct dd_errbuf *eb);

/* Replace the string values (a JSON array, borrowed) of dimension name and
 * read it back into *out as store_dimension_get() does. DD_ERR_NOT_FOUND,
 * DD_ERR_BUSY, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_dimension_update(struct store *s, const char *name, const char *string_values,
                           int64_t now_ms, struct store_dimension *out, struct dd_errbuf *eb);

/* Delete dimension name; a missing one succeeds (AWS's DeleteDimension has
 * no ResourceNotFound). DD_ERR_INVALID while a security profile refers to
 * it (a behavior's metricDimension or a metric to retain), DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_dimension_delete(struct store *s, const char *name, struct dd_errbuf *eb);

/* One page of dimension names, sorted, after after_name (NULL: from the
 * start), at most limit (>= 1). out is cleared first; clean up with
 * store_name_page_cleanup(). DD_ERR_STORE, DD_ERR_NOMEM. */
int store_dimension_list(struct store *s, const char *after_name, size_t limit,
                         struct store_name_page *out);

/* Create custom metric *m (borrowed) as store_dimension_create() does,
 * with the same idempotency and errors. */
int store_custom_metric_create(struct store *s, const struct store_custom_metric_new *m,
                               int64_t now_ms, bool *created, struct dd_errbuf *eb);

/* Read custom metric name into *out (cleared first; clean up with
 * store_custom_metric_cleanup()). DD_ERR_NOT_FOUND, DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_custom_metric_get(struct store *s, const char *name, struct store_custom_metric *out,
                            struct dd_errbuf *eb);

/* Set the display name (borrowed, NULL clears it) of custom metric name and
 * read it back into *out. DD_ERR_NOT_FOUND, DD_ERR_BUSY, DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_custom_metric_update(struct store *s, const char *name, const char *display_name,
                               int64_t now_ms, struct store_custom_metric *out,
                               struct dd_errbuf *eb);

/* Delete custom metric name; a missing one succeeds. DD_ERR_INVALID while a
 * security profile's behavior or metric to retain uses it, DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_custom_metric_delete(struct store *s, const char *name, struct dd_errbuf *eb);

/* One page of custom metric names, like store_dimension_list(). */
int store_custom_metric_list(struct store *s, const char *after_name, size_t limit,
                             struct store_name_page *out);

#endif
