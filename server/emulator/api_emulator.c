/* SPDX-License-Identifier: MIT */
/* api_emulator.c: the emulator's own API under /_ddlocal/: health, the
 * clock and its barrier, and reset.
 *
 * POST /_ddlocal/clock is the barrier that makes tests deterministic: it
 * moves the manual clock in one committed row, then waits until the plugin's
 * heartbeat says everything up to the new time has been evaluated. The
 * plugin notices the row through PRAGMA data_version at its next poll, or
 * at once when woken: the wait sends SIGURG to the broker's pid from the
 * heartbeat (plugin/wake.h), and again every BARRIER_WAKE_MS in case the
 * signal came just before the broker's loop went to sleep. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "server/api.h"
#include "server/aws_error.h"
#include "server/partitions.h"
#include "server/server.h"
#include "store/emulator/store_emulator.h"
#include "store/store.h"

#define HEARTBEAT_FRESH_MS 5000
#define BARRIER_POLL_MS    1
#define BARRIER_WAKE_MS    8

/* Build the clock document: now, mode, timeScale, evaluatedUntil. */
static int clock_json(struct store *s, struct request *req, cJSON **out)
{
    struct store_heartbeat hb;
    struct dd_clock c;
    cJSON *o;
    int rc;

    *out = NULL;
    rc = store_clock_get(s, &c);
    if (rc == DD_ERR_NOT_FOUND)
        return dd_fail(&req->eb, DD_ERR_BUSY, "the broker has not started the clock yet");
    if (rc)
        return rc;
    rc = store_heartbeat_get(s, &hb);
    if (rc && rc != DD_ERR_NOT_FOUND)
        return rc;
    o = cJSON_CreateObject();
    if (!o ||
        !cJSON_AddNumberToObject(o, "now", (double)clock_now(&c, server_real_ms()) / 1000.0) ||
        !cJSON_AddStringToObject(o, "mode", clock_mode_name(c.mode)) ||
        !cJSON_AddNumberToObject(o, "timeScale", c.scale) ||
        !(rc ? cJSON_AddNullToObject(o, "evaluatedUntil")
             : cJSON_AddNumberToObject(o, "evaluatedUntil",
                                       (double)hb.evaluated_until_ms / 1000.0))) {
        cJSON_Delete(o);
        return DD_ERR_NOMEM;
    }
    *out = o;
    return DD_OK;
}

static int respond_clock(struct request *req, struct response *res, struct store *s)
{
    cJSON *o;
    int rc = clock_json(s, req, &o);

    if (rc)
        return rc;
    rc = response_json(res, o);
    cJSON_Delete(o);
    return rc;
}

/* Add the evaluation's lag to a health document: how many emulated seconds
 * the heartbeat's evaluatedUntil trails the clock now, and whether that is
 * more than the fleet can catch up with (clock_lagging, the test the
 * plugin's log warning uses). */
static bool add_lag(cJSON *o, const struct dd_clock *c, const struct store_heartbeat *hb)
{
    int64_t lag = clock_lag_ms(c, server_real_ms(), hb->evaluated_until_ms);

    return cJSON_AddNumberToObject(o, "lagSeconds", (double)(lag / 100) / 10.0) &&
           cJSON_AddBoolToObject(o, "lagging", clock_lagging(c, lag));
}

static int get_health(struct request *req, struct response *res)
{
    struct store_heartbeat hb;
    struct dd_clock c;
    const char *reason = NULL;
    long long age = -1;
    bool have_clock = false;
    struct store *s;
    cJSON *o;
    int rc;

    if (request_store(req, &s)) {
        reason = req->eb.msg;
    } else if ((rc = store_heartbeat_get(s, &hb)) == DD_ERR_NOT_FOUND) {
        reason = "the broker plugin has not written a heartbeat yet";
    } else if (rc) {
        reason = "cannot read the plugin's heartbeat";
    } else {
        age = server_real_ms() - hb.written_real_ms;
        if (age > HEARTBEAT_FRESH_MS)
            reason = "the broker plugin's heartbeat is stale (is mosquitto running?)";
        else
            have_clock = store_clock_get(s, &c) == DD_OK;
    }
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "status", reason ? "unavailable" : "ok") ||
        (reason && !cJSON_AddStringToObject(o, "reason", reason)) ||
        !cJSON_AddNumberToObject(o, "schemaVersion", store_schema_version()) ||
        !cJSON_AddStringToObject(o, "region", req->srv->region) ||
        !cJSON_AddStringToObject(o, "account", req->srv->account) ||
        (age >= 0 && !reason && !cJSON_AddNumberToObject(o, "heartbeatAgeMs", (double)age)) ||
        (have_clock && !add_lag(o, &c, &hb))) {
        cJSON_Delete(o);
        return DD_ERR_NOMEM;
    }
    rc = response_json(res, o);
    cJSON_Delete(o);
    if (!rc && reason)
        res->status = 503;
    return rc;
}

static int get_clock(struct request *req, struct response *res)
{
    struct store *s;
    int rc = request_store(req, &s);

    return rc ? rc : respond_clock(req, res, s);
}

/* Parse {"advanceSeconds": N}: a finite number >= 0. */
static int parse_advance(struct request *req, int64_t *ms)
{
    cJSON *doc = cJSON_ParseWithLength(req->body, req->body_len);
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(doc, "advanceSeconds");
    int rc = DD_OK;

    *ms = 0;
    if (!doc || !cJSON_IsObject(doc))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "the body must be a JSON object");
    else if (!cJSON_IsNumber(n) || !isfinite(n->valuedouble))
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "advanceSeconds must be a number");
    else if (n->valuedouble < 0)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "advanceSeconds must not be negative");
    else if (n->valuedouble > 10.0 * 366 * 24 * 3600)
        rc = dd_fail(&req->eb, DD_ERR_INVALID, "advanceSeconds must be at most 10 years");
    else
        *ms = (int64_t)llround(n->valuedouble * 1000.0);
    cJSON_Delete(doc);
    return rc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* Wait until the broker has evaluated up to emulated time target (when
 * target >= 0) and runs with every commit made before sync generation gen.
 * DD_ERR_TIMEOUT after the configured wait. */
static int wait_for_broker(struct request *req, struct store *s, int64_t target, int64_t gen)
{
    long long now = server_real_ms(), deadline = now + req->srv->advance_timeout_ms;
    long long woken = now - BARRIER_WAKE_MS;
    struct store_heartbeat hb;
    int rc;

    for (;;) {
        rc = store_heartbeat_get(s, &hb);
        if (!rc && hb.evaluated_until_ms >= target && hb.synced_generation >= gen)
            return DD_OK;
        if (rc && rc != DD_ERR_NOT_FOUND && rc != DD_ERR_BUSY)
            return rc;
        now = server_real_ms();
        /* A live broker's pid only: SIGURG is ignored by default anyway. */
        if (!rc && hb.pid > 0 && now - hb.written_real_ms <= HEARTBEAT_FRESH_MS &&
            now - woken >= BARRIER_WAKE_MS) {
            kill((pid_t)hb.pid, SIGURG);
            woken = now;
        }
        if (now >= deadline)
            return dd_fail(&req->eb, DD_ERR_TIMEOUT, "the broker did not catch up within %u ms",
                           req->srv->advance_timeout_ms);
        sleep_ms(BARRIER_POLL_MS);
    }
}

static int post_clock(struct request *req, struct response *res)
{
    struct store *s;
    int64_t advance, target, gen;
    int rc;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = parse_advance(req, &advance);
    if (rc)
        return rc;
    rc = store_clock_advance(s, advance, &target, &gen, &req->eb);
    if (!rc)
        request_wake(req, NULL); /* long polls whose wait the advance ended */
    if (!rc)
        rc = wait_for_broker(req, s, target, gen);
    return rc ? rc : respond_clock(req, res, s);
}

/* A barrier for any clock mode: answers once the broker runs with every
 * change committed before the request (profiles, groups, policies, ...). */
static int post_sync(struct request *req, struct response *res)
{
    struct store *s;
    int64_t gen;
    int rc;

    rc = request_store(req, &s);
    if (rc)
        return rc;
    rc = store_sync_bump(s, &gen);
    if (!rc)
        rc = wait_for_broker(req, s, -1, gen);
    return rc ? rc : respond_clock(req, res, s);
}

static int post_reset(struct request *req, struct response *res)
{
    int rc;

    (void)res;
    rc = partitions_reset(req->srv, &req->eb);
    request_wake(req, NULL); /* long polls on queues that are gone */
    return rc;
}

const struct route api_emulator_routes[] = {
    { "GET", "/_ddlocal/health", get_health, NULL }, { "GET", "/_ddlocal/clock", get_clock, NULL },
    { "POST", "/_ddlocal/clock", post_clock, NULL }, { "POST", "/_ddlocal/sync", post_sync, NULL },
    { "POST", "/_ddlocal/reset", post_reset, NULL }, { NULL, NULL, NULL, NULL },
};
