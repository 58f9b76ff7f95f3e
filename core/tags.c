/* SPDX-License-Identifier: MIT */
/* tags.c: the tag rules (see tags.h). Shapes are names_check()'s, so the
 * length and pattern messages are the ones AWS's validation layer sends;
 * the reserved prefix, duplicates and the count are the service's own
 * rules, checked after the shapes as AWS does. */
#include "core/tags.h"

#include <string.h>
#include <strings.h>

#include "core/names.h"

bool tags_reserved(const char *key)
{
    return strncasecmp(key, "aws:", 4) == 0;
}

static int set_fault(enum tags_fault *fault, size_t *at, enum tags_fault f, size_t i, int rc)
{
    *fault = f;
    *at = i;
    return rc;
}

/* The reserved-prefix refusal of key at i. */
static int fail_reserved(enum tags_fault *fault, size_t *at, size_t i, const char *key,
                         struct dd_errbuf *eb)
{
    dd_fail(eb, DD_ERR_INVALID,
            "Tag keys beginning with 'aws:' are reserved for system use: %.128s", key);
    return set_fault(fault, at, TAGS_FAULT_RESERVED, i, DD_ERR_INVALID);
}

int tags_fail_limit(struct dd_errbuf *eb)
{
    return dd_fail(eb, DD_ERR_LIMIT, "A resource can have at most %d tags.", TAGS_MAX_PER_RESOURCE);
}

int tags_check(const struct tags_pair *tags, size_t n, const char *key_field,
               const char *value_field, enum tags_fault *fault, size_t *at, struct dd_errbuf *eb)
{
    size_t i, j;

    set_fault(fault, at, TAGS_FAULT_NONE, 0, DD_OK);
    for (i = 0; i < n; i++) {
        if (names_check(NAMES_TAG_KEY, key_field, tags[i].key, eb))
            return set_fault(fault, at, TAGS_FAULT_KEY, i, DD_ERR_INVALID);
        if (tags[i].value && names_check(NAMES_TAG_VALUE, value_field, tags[i].value, eb))
            return set_fault(fault, at, TAGS_FAULT_VALUE, i, DD_ERR_INVALID);
    }
    for (i = 0; i < n; i++)
        if (tags_reserved(tags[i].key))
            return fail_reserved(fault, at, i, tags[i].key, eb);
    for (i = 1; i < n; i++)
        for (j = 0; j < i; j++)
            if (strcmp(tags[i].key, tags[j].key) == 0) {
                dd_fail(eb, DD_ERR_INVALID, "Duplicated keys are not allowed: %.128s", tags[i].key);
                return set_fault(fault, at, TAGS_FAULT_DUPLICATE, i, DD_ERR_INVALID);
            }
    if (n > TAGS_MAX_PER_RESOURCE)
        return set_fault(fault, at, TAGS_FAULT_TOO_MANY, 0, tags_fail_limit(eb));
    return DD_OK;
}

int tags_check_keys(const char *const *keys, size_t n, const char *field, enum tags_fault *fault,
                    size_t *at, struct dd_errbuf *eb)
{
    size_t i;

    set_fault(fault, at, TAGS_FAULT_NONE, 0, DD_OK);
    for (i = 0; i < n; i++)
        if (names_check(NAMES_TAG_KEY, field, keys[i], eb))
            return set_fault(fault, at, TAGS_FAULT_KEY, i, DD_ERR_INVALID);
    for (i = 0; i < n; i++)
        if (tags_reserved(keys[i]))
            return fail_reserved(fault, at, i, keys[i], eb);
    return DD_OK;
}
