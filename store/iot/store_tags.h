/* SPDX-License-Identifier: MIT */
/* store_tags.h: resource tags, keyed by the resource's ARN (the tags table
 * of schema/014_tags.sql), for IoT's and SNS's tagging operations.
 *
 * The caller validates tags with core/tags.h first; the store keeps the one
 * rule that needs the stored rows, the count per resource after a merge,
 * inside the write transaction. A resource's tags are deleted with it by
 * the schema's triggers, so the resources' own stores need no change;
 * store_tags_drop() is for owners without a table. Which IoT resource kinds
 * take tags, and how to tell that one exists, is one table in
 * store_tags.c. Each call runs on the caller's connection and thread. */
#ifndef DD_STORE_TAGS_H
#define DD_STORE_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/names.h"
#include "core/tags.h"
#include "store/store.h"

/* One stored tag. */
struct store_tag {
    char *key;   /* owned */
    char *value; /* owned, "" when empty */
};

/* A page of one resource's tags, by key. */
struct store_tags_page {
    struct store_tag *v; /* owned: n items */
    size_t n;
    bool more; /* another tag follows the last one */
};

/* Free what page owns and zero it. NULL allowed; cannot fail. */
void store_tags_page_cleanup(struct store_tags_page *page);

/* Set the n tags (tags borrowed, already checked) on arn in one
 * transaction: a key already there gets the new value. DD_ERR_LIMIT (eb
 * says why, nothing written) when arn would then carry more than max tags;
 * DD_ERR_BUSY, DD_ERR_STORE. */
int store_tags_set(struct store *s, const char *arn, const struct tags_pair *tags, size_t n,
                   size_t max, struct dd_errbuf *eb);

/* Remove the n keys from arn in one transaction; a key that is not there
 * is fine. DD_ERR_BUSY, DD_ERR_STORE. */
int store_tags_remove(struct store *s, const char *arn, const char *const *keys, size_t n);

/* Into out (cleared first): at most limit of arn's tags whose key sorts
 * after after (NULL: from the first), by key. The caller frees out with
 * store_tags_page_cleanup(). DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE (out
 * stays cleared). */
int store_tags_list(struct store *s, const char *arn, const char *after, size_t limit,
                    struct store_tags_page *out);

/* Whether every one of the n tags is on arn with the same value (a value
 * NULL means ""), into *out. DD_ERR_BUSY, DD_ERR_STORE (*out false). */
int store_tags_contains(struct store *s, const char *arn, const struct tags_pair *tags, size_t n,
                        bool *out);

/* Delete every tag of arn. DD_ERR_BUSY, DD_ERR_STORE. */
int store_tags_drop(struct store *s, const char *arn);

/* Whether IoT resources of kind take tags (a row of the table in
 * store_tags.c). Cannot fail. */
bool store_tags_taggable(enum names_arn_type kind);

/* Whether the IoT resource of kind named name exists, into *out. kind must
 * be taggable (store_tags_taggable()). DD_ERR_BUSY, DD_ERR_STORE (*out
 * false). */
int store_tags_resource_exists(struct store *s, enum names_arn_type kind, const char *name,
                               bool *out);

#endif
