/* SPDX-License-Identifier: MIT */
/* store_role_aliases.h: AWS IoT role aliases (CreateRoleAlias and its
 * family), the role_aliases table of schema/025_logging_role_aliases.sql.
 *
 * A role alias names an IAM role ARN that devices exchange their
 * certificate for through the credentials provider; ddlocal keeps the
 * alias (it issues no credentials) so the API answers as AWS and the Audit
 * role-alias checks can walk them with store_role_alias_each(). Names and
 * values are checked by the caller (core/names); the store trusts them.
 * Tags live in the tags table (store/iot/store_tags), dropped with the
 * alias by a trigger. Each write is one statement, on the caller's
 * connection and thread. */
#ifndef DD_STORE_ROLE_ALIASES_H
#define DD_STORE_ROLE_ALIASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/iot/store_policies.h"
#include "store/store.h"

/* One role alias. */
struct store_role_alias {
    char name[129];     /* 1-128 [\w=,@-]+ */
    char *role_arn;     /* owned */
    int64_t duration_s; /* credentialDurationSeconds, 900-43200 */
    int64_t created_ms;
    int64_t modified_ms;
};

/* Free what a owns and zero it. NULL allowed; cannot fail. */
void store_role_alias_cleanup(struct store_role_alias *a);

/* CreateRoleAlias (strings borrowed). DD_ERR_EXISTS with AWS's message in
 * eb when the name is taken; DD_ERR_BUSY, DD_ERR_STORE. */
int store_role_alias_create(struct store *s, const char *name, const char *role_arn,
                            int64_t duration_s, int64_t now_ms, struct dd_errbuf *eb);

/* Read alias name into *out (cleared first; clean up with
 * store_role_alias_cleanup(), also on error). DD_ERR_NOT_FOUND with AWS's
 * message, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_role_alias_get(struct store *s, const char *name, struct store_role_alias *out,
                         struct dd_errbuf *eb);

/* UpdateRoleAlias: set role_arn (borrowed; NULL keeps it) and duration_s
 * (< 0 keeps it). DD_ERR_NOT_FOUND, DD_ERR_BUSY, DD_ERR_STORE. */
int store_role_alias_update(struct store *s, const char *name, const char *role_arn,
                            int64_t duration_s, int64_t now_ms, struct dd_errbuf *eb);

/* DeleteRoleAlias, with its tags. DD_ERR_NOT_FOUND, DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_role_alias_delete(struct store *s, const char *name, struct dd_errbuf *eb);

/* ListRoleAliases: one page of names in name order (ascending or
 * descending) after after (NULL or "": from the start), at most limit
 * (>= 1). out is cleared first; clean up with store_name_page_cleanup().
 * DD_ERR_STORE, DD_ERR_NOMEM. */
int store_role_alias_list(struct store *s, bool ascending, const char *after, size_t limit,
                          struct store_name_page *out);

/* Called for each alias by store_role_alias_each(); a borrows for the call.
 * A non-zero return stops the walk and is returned. */
typedef int (*store_role_alias_fn)(void *ctx, const struct store_role_alias *a);

/* Every role alias in name order, each handed to fn with ctx (for the
 * Audit role-alias checks). fn's non-zero return, DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_role_alias_each(struct store *s, store_role_alias_fn fn, void *ctx);

#endif
