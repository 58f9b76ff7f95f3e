/* SPDX-License-Identifier: MIT */
/* api_watch.c: the emulator's watch list for the datapoint budget
 * (docs/performance.md, "A million things"; store_watch.h):
 *
 *   PUT    /_ddlocal/watch/{thingName}   keep every datapoint of the thing
 *   DELETE /_ddlocal/watch/{thingName}   stop (404 when it is not watched)
 *   GET    /_ddlocal/watch               the watched things
 *
 * and the "inspected" mark the per-thing reads leave (api_watch_inspected).
 * A thing need not be registered: Detect judges client ids that are not
 * things of the registry too. */
#include <stddef.h>

#include <cjson/cJSON.h>

#include "core/names.h"
#include "server/api.h"
#include "server/handler.h"
#include "server/router.h"
#include "store/defender/store_watch.h"

struct op {
    const char *thing; /* borrowed from the request */
};

static void cleanup(struct handler *h)
{
    (void)h;
}

static int check_thing(struct handler *h)
{
    return handler_param_name(h->req, NAMES_DD_THING_NAME, "thingName",
                              &((struct op *)h->op)->thing);
}

static int watch_call(struct handler *h)
{
    return store_watch_add(h->s, ((struct op *)h->op)->thing, request_now_ms(h->req));
}

static int unwatch_call(struct handler *h)
{
    return store_watch_remove(h->s, ((struct op *)h->op)->thing, &h->req->eb);
}

static int render_watched(struct handler *h, cJSON *o)
{
    const struct op *op = h->op;

    if (!cJSON_AddStringToObject(o, "thingName", op->thing) ||
        !cJSON_AddBoolToObject(o, "watched", true))
        return DD_ERR_NOMEM;
    return DD_OK;
}

static int watched_row(void *ctx, const char *thing, int64_t watched_ms)
{
    cJSON *o = handler_add_object(ctx);

    if (!o || !cJSON_AddStringToObject(o, "thingName", thing))
        return DD_ERR_NOMEM;
    return handler_add_seconds(o, "watchedSince", watched_ms);
}

static int render_list(struct handler *h, cJSON *o)
{
    cJSON *items = cJSON_AddArrayToObject(o, "things");

    return items ? store_watch_each(h->s, watched_row, items) : DD_ERR_NOMEM;
}

void api_watch_inspected(struct request *req, struct store *s, const char *thing)
{
    /* A failed mark costs the thing some datapoints, never the read. */
    (void)store_watch_inspected(s, thing, request_now_ms(req));
}

static const struct handler_ops put_watch =
    HANDLER_OPERATION(check_thing, watch_call, render_watched, NULL);
static const struct handler_ops delete_watch =
    HANDLER_OPERATION(check_thing, unwatch_call, NULL, NULL);
static const struct handler_ops get_watch = HANDLER_OPERATION(NULL, NULL, render_list, NULL);

const struct route api_watch_routes[] = {
    { "GET", "/_ddlocal/watch", NULL, &get_watch },
    { "PUT", "/_ddlocal/watch/{thingName}", NULL, &put_watch },
    { "DELETE", "/_ddlocal/watch/{thingName}", NULL, &delete_watch },
    { NULL, NULL, NULL, NULL },
};
