/* SPDX-License-Identifier: MIT */
/* watchset.c: the datapoint budget on the engine thread (see watchset.h).
 *
 * The set of kept things is rebuilt at every window close of a bounded
 * fleet from the datapoint_watch table, which holds only the things
 * someone watched or read: a few rows, so the rebuild costs nothing next
 * to the window. A fleet under budget reads nothing. */
#include "plugin/watchset.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/keep.h"
#include "plugin/strmap.h"
#include "store/defender/store_watch.h"

struct watchset {
    size_t budget;
    bool bounded;          /* the last window was over budget */
    struct strmap *things; /* owned: thing -> &kept_mark; NULL while not bounded */
    uint64_t skipped;
};

/* Every entry of things points here: the map needs a non-NULL value. */
static char kept_mark;

struct watchset *watchset_new(size_t budget)
{
    struct watchset *ws = calloc(1, sizeof(*ws));

    if (ws)
        ws->budget = budget;
    return ws;
}

void watchset_free(struct watchset *ws)
{
    if (!ws)
        return;
    strmap_free(ws->things, NULL);
    free(ws);
}

static int add_thing(void *ctx, const char *thing)
{
    return strmap_put(ctx, thing, strlen(thing), &kept_mark, NULL) ? DD_ERR_NOMEM : DD_OK;
}

int watchset_load(struct watchset *ws, struct store *s, size_t n_things, int64_t now_ms)
{
    struct strmap *things;
    int rc;

    strmap_free(ws->things, NULL);
    ws->things = NULL;
    ws->bounded = false;
    if (!keep_bounded(n_things, ws->budget))
        return DD_OK;
    things = strmap_new();
    if (!things)
        return DD_ERR_NOMEM;
    rc = store_watch_each_kept(s, now_ms, add_thing, things);
    if (rc) {
        strmap_free(things, NULL);
        return rc;
    }
    ws->things = things;
    ws->bounded = true;
    return DD_OK;
}

bool watchset_keeps(const struct watchset *ws, const char *thing, const struct evaluate_state *prev,
                    const struct judge_result *res)
{
    bool kept = ws->bounded && strmap_get(ws->things, thing, strlen(thing)) != NULL;

    return keep_datapoint(ws->bounded, kept, prev, res);
}

uint64_t watchset_skipped(const struct watchset *ws)
{
    return ws->skipped;
}

void watchset_skip(struct watchset *ws)
{
    ws->skipped++;
}
