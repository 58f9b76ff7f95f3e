/* SPDX-License-Identifier: MIT */
/* store_audit.c: the account's audit configuration (see store_audit.h). */
#include "store/audit/store_audit.h"

#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

void store_audit_config_cleanup(struct store_audit_config *cfg)
{
    size_t i;

    if (!cfg)
        return;
    for (i = 0; i < cfg->n_checks; i++)
        free(cfg->checks[i].configuration);
    free(cfg->checks);
    free(cfg->role_arn);
    free(cfg->target_arn);
    free(cfg->target_role_arn);
    memset(cfg, 0, sizeof(*cfg));
}

/* The first configuration: a role and an enabled check. */
static int check_first(const struct store_audit_config_update *u, struct dd_errbuf *eb)
{
    size_t i;

    if (!u->role_arn)
        return dd_fail(eb, DD_ERR_INVALID,
                       "roleArn is required when the audit configuration is first set");
    for (i = 0; i < u->n_checks; i++)
        if (u->checks[i].enabled)
            return DD_OK;
    return dd_fail(eb, DD_ERR_INVALID,
                   "At least one audit check must be enabled when the audit configuration is "
                   "first set");
}

static int update_in(struct store *s, const struct store_audit_config_update *u,
                     struct dd_errbuf *eb)
{
    bool configured;
    size_t i;
    int rc;

    rc = store__found(store__exists(s, "SELECT 1 FROM audit_config", "audit config", ""),
                      &configured);
    if (!rc && !configured)
        rc = check_first(u, eb);
    if (!rc && !configured)
        rc = store__run(s, "INSERT INTO audit_config (id) VALUES (1)", "audit config", "");
    if (!rc && u->role_arn)
        rc = store__run(s, "UPDATE audit_config SET role_arn = ?1", "audit config", "s",
                        u->role_arn);
    if (!rc && u->set_target)
        rc =
            store__run(s,
                       "UPDATE audit_config SET sns_target_arn = ?1, sns_role_arn = ?2, "
                       "sns_enabled = ?3",
                       "audit config", "ssi", u->target_arn, u->target_role_arn, u->target_enabled);
    for (i = 0; !rc && i < u->n_checks; i++) {
        const struct store_audit_check_set *c = &u->checks[i];

        if (!c->enabled &&
            store__exists(s,
                          "SELECT 1 FROM audit_scheduled, json_each(audit_scheduled.checks) "
                          "WHERE json_each.value = ?1",
                          "audit check", "s", c->name) == DD_OK)
            return dd_fail(eb, DD_ERR_INVALID,
                           "%s is used by a scheduled audit and cannot be disabled", c->name);
        rc = store__run(s,
                        "INSERT INTO audit_checks (check_name, enabled, configuration) "
                        "VALUES (?1, ?2, ?3) ON CONFLICT (check_name) DO UPDATE SET "
                        "enabled = excluded.enabled, configuration = "
                        "coalesce(excluded.configuration, audit_checks.configuration)",
                        "audit check", "sis", c->name, c->enabled, c->configuration);
    }
    return rc;
}

int store_audit_config_update(struct store *s, const struct store_audit_config_update *u,
                              struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    return store__finish(s, update_in(s, u, eb));
}

static int read_check(sqlite3_stmt *st, void *item)
{
    struct store_audit_check_row *c = item;

    return store__columns(st, "sbS", c->name, sizeof(c->name), &c->enabled, &c->configuration);
}

static void cleanup_check(void *item)
{
    struct store_audit_check_row *c = item;

    free(c->configuration);
    c->configuration = NULL;
}

int store_audit_config_get(struct store *s, struct store_audit_config *out)
{
    sqlite3_stmt *st;
    void *items = NULL;
    bool more;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__row(s,
                    "SELECT role_arn, sns_target_arn, sns_role_arn, sns_enabled FROM audit_config",
                    "audit config", "SSSb", &out->role_arn, &out->target_arn, &out->target_role_arn,
                    &out->target_enabled);
    out->configured = rc == DD_OK;
    if (rc == DD_ERR_NOT_FOUND)
        rc = DD_OK;
    if (!rc)
        rc = store__stmt(s,
                         "SELECT check_name, enabled, configuration FROM audit_checks "
                         "ORDER BY check_name",
                         &st, "");
    if (!rc)
        rc = store__collect(s, st, 64, sizeof(struct store_audit_check_row), read_check,
                            cleanup_check, &items, &out->n_checks, &more, "audit checks");
    out->checks = items;
    if (rc)
        store_audit_config_cleanup(out);
    return rc;
}

static int delete_in(struct store *s, bool delete_scheduled, struct dd_errbuf *eb)
{
    int rc = store__exists(s, "SELECT 1 FROM audit_config", "audit config", "");

    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(eb, DD_ERR_NOT_FOUND, "The audit configuration does not exist");
    if (!rc && !delete_scheduled &&
        store__exists(s, "SELECT 1 FROM audit_scheduled", "scheduled audit", "") == DD_OK)
        return dd_fail(eb, DD_ERR_INVALID,
                       "Scheduled audits exist: delete them first or set "
                       "deleteScheduledAudits");
    if (!rc && delete_scheduled)
        rc = store__run(s, "DELETE FROM audit_scheduled", "scheduled audits", "");
    if (!rc)
        rc = store__run(s, "DELETE FROM audit_checks", "audit checks", "");
    if (!rc)
        rc = store__run(s, "DELETE FROM audit_config", "audit config", "");
    return rc;
}

int store_audit_config_delete(struct store *s, bool delete_scheduled, struct dd_errbuf *eb)
{
    int rc = store__begin(s, eb);

    if (rc)
        return rc;
    return store__finish(s, delete_in(s, delete_scheduled, eb));
}
