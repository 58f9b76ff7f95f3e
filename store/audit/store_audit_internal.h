/* SPDX-License-Identifier: MIT */
/* store_audit_internal.h: what the store_audit*.c files share. Never
 * included outside store/audit/. */
#ifndef DD_STORE_AUDIT_INTERNAL_H
#define DD_STORE_AUDIT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct store;

/* store_audit_task_start() inside the caller's write transaction. */
int store_audit__task_insert(struct store *s, const char *task_id, const char *type,
                             const char *scheduled_name, const char *const *names, size_t n,
                             int64_t now_ms, struct dd_errbuf *eb);

/* DD_OK when each of the n checks names is enabled, else DD_ERR_INVALID
 * (eb names the first that is not). Inside the caller's transaction. */
int store_audit__require_enabled(struct store *s, const char *const *names, size_t n,
                                 struct dd_errbuf *eb);

#endif
