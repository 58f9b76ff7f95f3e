/* SPDX-License-Identifier: MIT */
/* store_audit.h: Device Defender Audit's account configuration, tasks and
 * findings (tables of schema/025_audit.sql).
 *
 * The server checks shapes and names (core/audit.h); these functions keep
 * the rules that need the stored state: the first configuration must enable
 * a check, a check a scheduled audit runs cannot be disabled, a task runs
 * only enabled checks. Each write is one transaction on the caller's
 * connection. */
#ifndef DD_STORE_AUDIT_H
#define DD_STORE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"
#include "store/store.h"

/* One check of an update: enabled, and its configuration (a JSON object's
 * text, NULL: none). Strings borrowed. */
struct store_audit_check_set {
    const char *name;
    bool enabled;
    const char *configuration;
};

/* What UpdateAccountAuditConfiguration changes; NULL or false members stay
 * as they are. Strings borrowed. */
struct store_audit_config_update {
    const char *role_arn;
    bool set_target; /* the SNS target below replaces the stored one */
    const char *target_arn;
    const char *target_role_arn;
    bool target_enabled;
    const struct store_audit_check_set *checks;
    size_t n_checks;
};

/* One check as stored. */
struct store_audit_check_row {
    char name[AUDIT_CHECK_NAME_SIZE];
    bool enabled;
    char *configuration; /* owned, NULL when none */
};

/* The account's configuration. */
struct store_audit_config {
    bool configured;
    char *role_arn;        /* owned, NULL when none */
    char *target_arn;      /* owned, NULL when no SNS target */
    char *target_role_arn; /* owned */
    bool target_enabled;
    struct store_audit_check_row *checks; /* owned: the checks with a row */
    size_t n_checks;
};

/* Free what cfg owns and zero it; NULL allowed, cannot fail. */
void store_audit_config_cleanup(struct store_audit_config *cfg);

/* Apply u (borrowed). The first call must enable at least one check and
 * give a role; disabling a check a scheduled audit names is refused.
 * DD_ERR_INVALID (eb: why), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_config_update(struct store *s, const struct store_audit_config_update *u,
                              struct dd_errbuf *eb);

/* Read the configuration into *out (cleared first; clean up with
 * store_audit_config_cleanup(), also on error). DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_audit_config_get(struct store *s, struct store_audit_config *out);

/* DeleteAccountAuditConfiguration: forget the role, the target and every
 * check, and the scheduled audits when delete_scheduled. DD_ERR_NOT_FOUND
 * when nothing is configured, DD_ERR_INVALID when scheduled audits exist
 * and delete_scheduled is false (eb: why), DD_ERR_BUSY, DD_ERR_STORE. */
int store_audit_config_delete(struct store *s, bool delete_scheduled, struct dd_errbuf *eb);

#endif
