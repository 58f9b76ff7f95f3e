/* SPDX-License-Identifier: MIT */
/* store_logging.h: AWS IoT logging options, v1 (SetLoggingOptions) and v2
 * (SetV2LoggingOptions, SetV2LoggingLevel), in the tables of
 * schema/025_logging_role_aliases.sql.
 *
 * ddlocal writes no CloudWatch logs: the options are kept so the Get and
 * List calls answer what was set, and so the Audit check
 * LOGGING_DISABLED_CHECK can read store_logging_enabled(). Values are
 * checked by the caller (core/names); the store trusts them. Each write is
 * one statement, on the caller's connection and thread. */
#ifndef DD_STORE_LOGGING_H
#define DD_STORE_LOGGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define STORE_LOG_LEVEL_SIZE 16 /* "DISABLED" and the NUL, with room */

/* The options of one logging API version as they were last set. */
struct store_logging_options {
    char *role_arn;                       /* owned, NULL when not given */
    char log_level[STORE_LOG_LEVEL_SIZE]; /* v1 logLevel, v2 defaultLogLevel; "" when not given */
    bool disable_all_logs;                /* v2 only */
    int64_t modified_ms;
};

/* One SetV2LoggingLevel target and its level. */
struct store_logging_level {
    char target_type[16]; /* DEFAULT, THING_GROUP, CLIENT_ID, SOURCE_IP, PRINCIPAL_ID */
    char *target_name;    /* owned; "" for DEFAULT */
    char log_level[STORE_LOG_LEVEL_SIZE];
};

/* A page of levels in (target_type, target_name) order. */
struct store_logging_level_page {
    struct store_logging_level *v; /* owned array of n */
    size_t n;
    bool more; /* rows remain after v[n-1] */
};

/* Free what the structs own and zero them. NULL allowed; cannot fail. */
void store_logging_options_cleanup(struct store_logging_options *o);
void store_logging_level_page_cleanup(struct store_logging_level_page *p);

/* SetLoggingOptions (version 1) or SetV2LoggingOptions (version 2):
 * replace that version's options. role_arn and log_level (borrowed) may be
 * NULL; disable_all_logs is only kept for version 2. DD_ERR_BUSY,
 * DD_ERR_STORE. */
int store_logging_set(struct store *s, int version, const char *role_arn, const char *log_level,
                      bool disable_all_logs, int64_t now_ms);

/* Read version's options into *out (cleared first; clean up with
 * store_logging_options_cleanup(), also on error). DD_ERR_NOT_FOUND when
 * that version was never set, DD_ERR_STORE, DD_ERR_NOMEM. */
int store_logging_get(struct store *s, int version, struct store_logging_options *out);

/* SetV2LoggingLevel: set (or replace) the level of one target (strings
 * borrowed; target_name "" for DEFAULT). DD_ERR_BUSY, DD_ERR_STORE. */
int store_logging_level_set(struct store *s, const char *target_type, const char *target_name,
                            const char *log_level);

/* DeleteV2LoggingLevel: remove a target's level; a missing one is not an
 * error. DD_ERR_BUSY, DD_ERR_STORE. */
int store_logging_level_delete(struct store *s, const char *target_type, const char *target_name);

/* ListV2LoggingLevels: one page of levels, only of target_type when it is
 * not NULL, after the row whose key (store_logging_level_key()) is after
 * ("" or NULL: from the start), at most limit (>= 1). out is cleared
 * first; clean up with store_logging_level_page_cleanup(). DD_ERR_STORE,
 * DD_ERR_NOMEM. */
int store_logging_level_list(struct store *s, const char *target_type, const char *after,
                             size_t limit, struct store_logging_level_page *out);

/* The paging key of a level, "TYPE/name", into buf (size bytes, truncated).
 * Cannot fail. */
void store_logging_level_key(const struct store_logging_level *l, char *buf, size_t size);

/* Whether AWS IoT logging is on, as LOGGING_DISABLED_CHECK reads it
 * (audit.md 5.6): *enabled is true when v2 options are set with
 * disableAllLogs false and a defaultLogLevel other than DISABLED, or when
 * v1 options are set with a logLevel other than DISABLED (an absent level
 * counts as on); false otherwise, and false on error. DD_ERR_STORE. */
int store_logging_enabled(struct store *s, bool *enabled);

#endif
