/* SPDX-License-Identifier: MIT */
/* store_connhist.h: the broker's connection history, what Audit's
 * CONFLICTING_CLIENT_IDS_CHECK and DEVICE_CERTIFICATE_SHARED_CHECK read.
 * The plugin's engine thread writes it (never the broker thread); the
 * audit run reads it. Bounded: rows that ended before the look-back window
 * (STORE_CONNHIST_WINDOW_MS) and rows past STORE_CONNHIST_MAX_ROWS are
 * pruned on each insert. */
#ifndef DD_STORE_CONNHIST_H
#define DD_STORE_CONNHIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/audit.h"

struct store;

/* How far back the checks look (reference/audit.md 5.4: 31 days). */
#define STORE_CONNHIST_WINDOW_MS (31LL * 24 * 3600 * 1000)

/* At most this many rows are kept; the oldest go first. */
#define STORE_CONNHIST_MAX_ROWS 100000

/* Record that client_id (borrowed) connected at now_ms, with the TLS
 * client's certificate id cert_id (borrowed, NULL when none). When
 * taken_over, the client id's open connection is closed at now_ms and
 * marked as knocked off by this one. Prunes old rows. One transaction.
 * DD_ERR_STORE, DD_ERR_BUSY. */
int store_connhist_connected(struct store *s, const char *client_id, const char *cert_id,
                             bool taken_over, int64_t now_ms);

/* Record that the open connection of client_id ended at now_ms. Nothing
 * when it has none. DD_ERR_STORE, DD_ERR_BUSY. */
int store_connhist_disconnected(struct store *s, const char *client_id, int64_t now_ms);

/* Close every open connection at now_ms: none of an earlier broker run is
 * still open. DD_ERR_STORE, DD_ERR_BUSY. */
int store_connhist_reset(struct store *s, int64_t now_ms);

/* Called with the connections of one client id (by_cert false) or of one
 * certificate (by_cert true), key being it; conns and key are borrowed for
 * the call. A non-zero return stops the walk and is returned. */
typedef int (*store_connhist_group_fn)(void *ctx, const char *key,
                                       const struct audit_connection *conns, size_t n);

/* Walk the connections that were open at or after from_ms, grouped by
 * client id or by certificate (connections without one are skipped),
 * each group in order of connection. Inside the caller's transaction or
 * not. DD_ERR_NOMEM, DD_ERR_STORE, or what fn returned. */
int store_connhist_each_group(struct store *s, int64_t from_ms, bool by_cert,
                              store_connhist_group_fn fn, void *ctx);

#endif
