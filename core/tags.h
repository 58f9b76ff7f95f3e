/* SPDX-License-Identifier: MIT */
/* tags.h: AWS's rules for resource tags, shared by IoT's TagResource (and
 * the create calls that take tags) and SNS's TagResource: key and value
 * shapes, the reserved "aws:" prefix, no key twice in one request, and the
 * quota of tags per resource (aws-fidelity.md 3.3, sns-more.md 6.4).
 *
 * The checks only judge: each answers which rule a request broke (a
 * tags_fault) and at which position, with a message in AWS's validation
 * wording in eb, so each protocol can answer in its own error form. The
 * count after merging with what a resource already has is the store's to
 * take (inside its write transaction); TAGS_MAX_PER_RESOURCE is the limit it
 * is held to. Pure: no I/O, no allocation; any thread. */
#ifndef DD_CORE_TAGS_H
#define DD_CORE_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

/* Tags a resource may carry (system "aws:" tags would not count, and users
 * cannot set those). */
#define TAGS_MAX_PER_RESOURCE 50

/* One tag of a request. Both strings borrowed; value NULL means "". */
struct tags_pair {
    const char *key;
    const char *value;
};

/* Which rule a request broke. */
enum tags_fault {
    TAGS_FAULT_NONE,
    TAGS_FAULT_KEY,       /* a key outside 1-128 or TagKey's pattern */
    TAGS_FAULT_VALUE,     /* a value over 256 characters */
    TAGS_FAULT_RESERVED,  /* a key that begins with "aws:" (any case) */
    TAGS_FAULT_DUPLICATE, /* the same key twice in one request */
    TAGS_FAULT_TOO_MANY,  /* more than TAGS_MAX_PER_RESOURCE in one request */
};

/* Whether key begins with the reserved prefix "aws:", in any case. key
 * must not be NULL. Cannot fail. */
bool tags_reserved(const char *key);

/* Check the n tags of one request (tags may be NULL when n is 0), in AWS's
 * order: every key's and value's shape, then the reserved prefix, then
 * duplicates, then the count. key_field and value_field name the members
 * in messages ("tags.member.Key"). *fault and *at (the 0-based position of
 * the offending tag; 0 for TAGS_FAULT_TOO_MANY) are set on every return
 * (TAGS_FAULT_NONE and 0 on DD_OK). Returns DD_OK; DD_ERR_INVALID for a
 * shape, a reserved key or a duplicate; DD_ERR_LIMIT for too many; eb
 * says why. Tested by tests/unit/test_tags.c. */
int tags_check(const struct tags_pair *tags, size_t n, const char *key_field,
               const char *value_field, enum tags_fault *fault, size_t *at, struct dd_errbuf *eb);

/* Check the n keys an UntagResource names: each key's shape, then the
 * reserved prefix (system tags cannot be removed). *fault and *at as for
 * tags_check(). DD_OK or DD_ERR_INVALID (eb says why). */
int tags_check_keys(const char *const *keys, size_t n, const char *field, enum tags_fault *fault,
                    size_t *at, struct dd_errbuf *eb);

/* The message of a resource that would carry more than
 * TAGS_MAX_PER_RESOURCE tags: DD_ERR_LIMIT with eb saying so. Cannot fail
 * otherwise. */
int tags_fail_limit(struct dd_errbuf *eb);

#endif
