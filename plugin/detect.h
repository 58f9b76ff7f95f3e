/* SPDX-License-Identifier: MIT */
/* detect.h: Device Defender Detect on the engine thread: the snapshot of
 * security profiles and their targets, the evaluation of every datapoint,
 * and the violations, events, datapoints and alerts it records.
 *
 * Engine thread only. Every function that writes expects the caller to hold
 * a transaction (store_begin ... store_commit), so one window close is one
 * transaction and a crash loses at most the window that was still open. */
#ifndef DD_PLUGIN_DETECT_H
#define DD_PLUGIN_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/report.h"
#include "plugin/clients.h"
#include "store/store.h"

/* Page cache (MiB) for the engine's connection: a window close of a large
 * fleet is one big transaction, and the datapoint index must fit. */
#define DETECT_CACHE_MB 64

struct detect;

/* Receives Detect's warnings, one line of text borrowed for the call. Called
 * on the engine thread. */
typedef void (*detect_log_fn)(void *ctx, const char *msg);

/* A new, empty detector for the given region and account (copied); NULL when
 * out of memory. retention_ms: datapoints older than this are pruned. ml:
 * the ML model lifecycle's settings (copied; NULL = AWS's numbers). Free
 * with detect_free(). */
struct mlmodel_params;
struct detect *detect_new(const char *region, const char *account, int64_t retention_ms,
                          const struct mlmodel_params *ml);
void detect_free(struct detect *d);

/* Bytes d holds for its per-thing state: the things' records (evaluation
 * states, bucket rings, open violation ids), the ML histories and models
 * and the profile masks, keys and values (for the benchmark's memory
 * figure). Walks every record. */
size_t detect_bytes(const struct detect *d);

/* Write judged datapoints in full only while a window has at most budget
 * things (SIZE_MAX, the default: always); beyond it, only those of
 * watched or inspected things and those that matter to a violation
 * (core/keep.h, plugin/watchset.h). DD_ERR_NOMEM leaves d as it was.
 * Engine thread. */
int detect_set_datapoint_budget(struct detect *d, size_t budget);

/* How many judged datapoints d left unwritten for the budget so far. */
uint64_t detect_datapoints_skipped(const struct detect *d);

/* Send d's warnings to fn(ctx, msg) from now on (fn NULL: drop them, the
 * default). ctx is borrowed and must outlive d. Cannot fail. */
void detect_set_log(struct detect *d, detect_log_fn fn, void *ctx);

/* Rebuild the snapshot from the profiles, targets and registry rows (reads
 * only). Profiles whose stored behaviors no longer parse are skipped; eb
 * names the last one (the call still succeeds). */
int detect_load(struct detect *d, struct store *s, struct dd_errbuf *eb);

/* Give the things inserted after rowid (store_snapshot_things_after) the
 * profiles detect_load() would: those of a thing in no thing group, which
 * they are when the commits that inserted them changed nothing else; only
 * then, and with no profile changed since detect_load(). Reads only. A
 * thing that alarmed before it was registered may now be judged by other
 * profiles: detect_reconcile() follows then (store_detect_any_alarm_after). */
int detect_add_things(struct detect *d, struct store *s, int64_t after_rowid);

/* Invalidate the open violations the snapshot no longer monitors (profile
 * deleted or detached, behavior removed or changed, thing no longer
 * targeted). Writes: inside a write transaction. */
int detect_reconcile(struct detect *d, struct store *s, int64_t now_ms);

/* detect_load(), then detect_reconcile(), in the caller's write
 * transaction. */
int detect_reload(struct detect *d, struct store *s, int64_t now_ms, struct dd_errbuf *eb);

/* Evaluate the cloud-side metrics of a closed window (and of the idle
 * buckets after it), then prune old datapoints. */
int detect_window(struct detect *d, struct store *s, const struct client_window *w);

/* Evaluate the device-side and custom metrics of one accepted report from
 * thing, received at emulated time now_ms. */
int detect_report(struct detect *d, struct store *s, const char *thing, const struct report *r,
                  int64_t now_ms);

/* Receives one metrics export document for topic: payload (len bytes) is
 * borrowed for the call. Return DD_OK, or an error to report. */
typedef int (*detect_publish_fn)(void *ctx, const char *topic, const char *payload, size_t len);

/* Hand every metrics export document the last committed window or report
 * produced to fn(ctx, ...), in order, then forget them. Call after the
 * commit of detect_window or detect_report; a rollback
 * (detect_discard_cache) drops them instead. Returns DD_OK or the first
 * error fn returned (every document is offered either way). */
int detect_exports_take(struct detect *d, detect_publish_fn fn, void *ctx);

/* Drop the cached evaluation states after the caller rolled back a
 * transaction, so the next reads come from the database again. */
int detect_discard_cache(struct detect *d);

/* Invalidate violations that saw no datapoint for two emulated days. */
int detect_expire(struct detect *d, struct store *s, int64_t now_ms);

#endif
