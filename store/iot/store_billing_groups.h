/* SPDX-License-Identifier: MIT */
/* store_billing_groups.h: IoT billing groups (schema/012_billing_groups.sql)
 * and which things are in them.
 *
 * A thing is in at most one billing group, so membership is the thing
 * row's billing_group column: adding a thing that is in another billing
 * group moves it (aws-fidelity.md 5 leaves AWS's answer open; moving is
 * what a caller who asked for the new group wants). Deleting a thing takes
 * it out with its row; deleting a group takes its things out (a trigger of
 * the migration). Each write is one transaction, so a refused request
 * leaves every row as it was. Names are checked by the caller
 * (core/names); the store trusts them. */
#ifndef DD_STORE_BILLING_GROUPS_H
#define DD_STORE_BILLING_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "store/iot/store_policies.h"
#include "store/iot/store_registry.h"
#include "store/store.h"

struct store_billing_group {
    char name[STORE_NAME_SIZE];
    char group_id[STORE_ID_SIZE];
    char *description; /* owned; NULL = none */
    int64_t version;
    int64_t created_ms;
};

/* What CreateBillingGroup asks for. Strings are borrowed. */
struct store_billing_group_new {
    const char *name;
    const char *group_id;    /* the id a new group gets */
    const char *description; /* NULL = none */
    int64_t now_ms;
};

/* Free what g owns and clear it. NULL and cleared structs are fine. */
void store_billing_group_cleanup(struct store_billing_group *g);

/* CreateBillingGroup in one transaction, version 1, read back into *out
 * (cleared first; clean up with store_billing_group_cleanup()). A name that
 * exists is DD_ERR_EXISTS with the existing group in *out (for resourceId
 * and resourceArn) and nothing written; on other errors *out stays cleared.
 * Errors: DD_ERR_EXISTS, DD_ERR_NOMEM, DD_ERR_BUSY, DD_ERR_STORE; eb says
 * why. */
int store_billing_group_create(struct store *s, const struct store_billing_group_new *g,
                               struct store_billing_group *out, struct dd_errbuf *eb);

/* Read billing group name into *out (cleared first; clean up with
 * store_billing_group_cleanup()). DD_ERR_NOT_FOUND ("BillingGroup X cannot
 * be found."), DD_ERR_NOMEM, DD_ERR_STORE. */
int store_billing_group_get(struct store *s, const char *name, struct store_billing_group *out,
                            struct dd_errbuf *eb);

/* DD_OK when billing group name exists, else DD_ERR_NOT_FOUND with the
 * message of store_billing_group_get(). For CreateThing's billingGroupName,
 * inside the caller's transaction. DD_ERR_STORE. */
int store_billing_group_check(struct store *s, const char *name, struct dd_errbuf *eb);

/* UpdateBillingGroup in one transaction: description NULL keeps the stored
 * one, "" removes it, anything else replaces it; the version goes up by one
 * and lands in *new_version (0 on error). expected_version < 0 skips the
 * check. Errors: DD_ERR_NOT_FOUND, DD_ERR_VERSION_CONFLICT, DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_billing_group_update(struct store *s, const char *name, const char *description,
                               int64_t expected_version, int64_t *new_version,
                               struct dd_errbuf *eb);

/* DeleteBillingGroup in one transaction; its things leave it. A missing
 * group is DD_OK (the model has no ResourceNotFound for it, as for
 * DeleteThingGroup). expected_version < 0 skips the check; otherwise a
 * mismatch is DD_ERR_VERSION_CONFLICT. DD_ERR_BUSY, DD_ERR_STORE. */
int store_billing_group_delete(struct store *s, const char *name, int64_t expected_version,
                               struct dd_errbuf *eb);

/* A page of billing group names starting with prefix (NULL = all), sorted,
 * after the name after (NULL = from the start), at most limit (>= 1). out
 * is cleared first; clean up with store_name_page_cleanup(). DD_ERR_NOMEM,
 * DD_ERR_STORE. */
int store_billing_group_list(struct store *s, const char *prefix, const char *after, size_t limit,
                             struct store_name_page *out);

/* Put thing in billing group group, in one transaction, taking it out of
 * the one it was in. Already there is DD_OK. DD_ERR_NOT_FOUND for a missing
 * thing or group (eb says which), DD_ERR_BUSY, DD_ERR_STORE. */
int store_billing_group_add_thing(struct store *s, const char *group, const char *thing,
                                  struct dd_errbuf *eb);

/* Take thing out of billing group group, in one transaction. A thing that
 * is not in it (in none, or in another) is left alone: DD_OK.
 * DD_ERR_NOT_FOUND for a missing thing or group, DD_ERR_BUSY, DD_ERR_STORE. */
int store_billing_group_remove_thing(struct store *s, const char *group, const char *thing,
                                     struct dd_errbuf *eb);

/* A page of the names of the things in billing group group, sorted, after
 * the name after (NULL = from the start), at most limit (>= 1). out is
 * cleared first; clean up with store_name_page_cleanup(). DD_ERR_NOT_FOUND
 * when the group does not exist, DD_ERR_NOMEM, DD_ERR_STORE. */
int store_billing_group_things(struct store *s, const char *group, const char *after, size_t limit,
                               struct store_name_page *out, struct dd_errbuf *eb);

#endif
