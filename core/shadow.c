/* SPDX-License-Identifier: MIT */
/* shadow.c: the Device Shadow document model (see shadow.h for the API).
 *
 * A shadow is held as two parallel cJSON trees: the state S =
 * {"desired"?,"reported"?} and the metadata M, which mirrors S node for node
 * (objects map to objects, arrays to arrays of per-element metadata, every
 * other leaf to {"timestamp":T}). load_stored() rebuilds M from S on every
 * load, so the rest of the file can rely on that invariant even if the
 * stored text was damaged; merge_members() keeps it while applying a request.
 *
 * Input is checked by a small allocation-free JSON scanner before cJSON
 * parses it. That gives "Invalid JSON" exactly for bad text and lets a NULL
 * from cJSON mean only "out of memory", which the allocation-failure tests
 * rely on. The scanner is stricter than cJSON (no trailing bytes, no raw
 * control characters, nesting and number length kept under cJSON's own
 * limits), so anything it accepts cJSON parses too.
 *
 * Choices where the reference leaves AWS behaviour open: a nested object
 * emptied by null-removal stays as {} (only desired/reported disappear when
 * empty); an object of nulls sent for a key holding a scalar leaves the
 * scalar alone; a null anywhere below an array is "Invalid JSON"; a version
 * must be a non-negative integer; the version check on a missing shadow
 * compares with the tombstone version (0 when never created). */
#include "shadow.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "error.h"
#include "jsonprint.h"
#include "jsonscan.h"
#include "utf8.h"

#define MSG_ENCODING      "Unsupported documented encoding; supported encoding is UTF-8"
#define MSG_INVALID_JSON  "Invalid JSON"
#define MSG_MISSING_STATE "Missing required node: state"
#define MSG_STATE_OBJECT  "State node must be an object"
#define MSG_DESIRED       "Desired node must be an object"
#define MSG_REPORTED      "Reported node must be an object"
#define MSG_INVALID_NODE  "State contains an invalid node"
#define MSG_TOKEN         "Invalid clientToken"
#define MSG_VERSION       "Invalid version"
#define MSG_NESTING       "JSON contains too many levels of nesting; maximum is %d"
#define MSG_CONFLICT      "Version conflict"
#define MSG_TOO_LARGE     "The payload exceeds the maximum size allowed"
#define MSG_INTERNAL      "Internal service failure"

/* Nesting cap of the syntax check, well under cJSON's CJSON_NESTING_LIMIT (1000). */
#define SHADOW_JSON_MAX_NESTING 256
/* Largest version accepted in a request: beyond 2^53 a double is not exact. */
#define SHADOW_VERSION_MAX 9007199254740992.0

static const char *const shadow_sections[] = { "desired", "reported" };

void shadow_limits_default(struct shadow_limits *l)
{
    l->max_state_bytes = SHADOW_DEFAULT_MAX_STATE_BYTES;
    l->max_depth = SHADOW_DEFAULT_MAX_DEPTH;
}

void shadow_update_result_cleanup(struct shadow_update_result *r)
{
    if (!r)
        return;
    free(r->stored);
    free(r->accepted);
    free(r->delta);
    free(r->documents);
    memset(r, 0, sizeof(*r));
}

/* Set code and message, keeping the clientToken already recorded. Returns rc. */
static int shadow_fail(struct shadow_error *err, int rc, int code, const char *msg)
{
    err->code = code;
    snprintf(err->message, sizeof(err->message), "%s", msg);
    return rc;
}

/* A number literal too large for a double (1e999) parses as infinity, which
 * cJSON would print as null. */
static int has_nonfinite(const cJSON *item)
{
    const cJSON *c;

    if (cJSON_IsNumber(item))
        return !isfinite(item->valuedouble);
    for (c = item->child; c; c = c->next) {
        if (has_nonfinite(c))
            return 1;
    }
    return 0;
}

/* Parse text[0..n). DD_ERR_INVALID when it is not JSON (or holds a number
 * out of range), DD_ERR_NOMEM when cJSON ran out of memory. On DD_OK *root
 * is the tree, for cJSON_Delete(). */
static int parse_json(const char *text, size_t n, cJSON **root)
{
    *root = NULL;
    if (!jsonscan_check(text, n, SHADOW_JSON_MAX_NESTING, NULL, NULL))
        return DD_ERR_INVALID;
    *root = cJSON_ParseWithLength(text, n);
    if (!*root)
        return DD_ERR_NOMEM;
    if (has_nonfinite(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return DD_ERR_INVALID;
    }
    return DD_OK;
}

static cJSON *meta_leaf(double ts)
{
    cJSON *leaf = cJSON_CreateObject();

    if (!leaf || !cJSON_AddNumberToObject(leaf, "timestamp", ts)) {
        cJSON_Delete(leaf);
        return NULL;
    }
    return leaf;
}

/* The metadata tree of value s. Each leaf keeps the timestamp found at the
 * same place in old (a previous metadata tree, may be NULL) and gets ts where
 * old has none. Returns a new tree, NULL only when out of memory. */
static cJSON *meta_build(const cJSON *s, const cJSON *old, double ts)
{
    const cJSON *c, *oc, *t;
    cJSON *out, *sub;
    int is_obj = cJSON_IsObject(s);

    if (!is_obj && !cJSON_IsArray(s)) {
        t = cJSON_IsObject(old) ? cJSON_GetObjectItemCaseSensitive(old, "timestamp") : NULL;
        if (cJSON_IsNumber(t))
            ts = t->valuedouble;
        return meta_leaf(ts);
    }
    out = is_obj ? cJSON_CreateObject() : cJSON_CreateArray();
    if (!out)
        return NULL;
    oc = cJSON_IsArray(old) ? old->child : NULL;
    for (c = s->child; c; c = c->next) {
        const cJSON *o = oc;

        if (is_obj)
            o = cJSON_IsObject(old) ? cJSON_GetObjectItemCaseSensitive(old, c->string) : NULL;
        sub = meta_build(c, o, ts);
        if (!sub || !(is_obj ? cJSON_AddItemToObject(out, c->string, sub)
                             : cJSON_AddItemToArray(out, sub))) {
            cJSON_Delete(sub);
            cJSON_Delete(out);
            return NULL;
        }
        if (oc)
            oc = oc->next;
    }
    return out;
}

/* Put item (taken, even on failure; NULL means an allocation already failed)
 * under key in obj, replacing the first member of that name in place so the
 * key order stays stable. */
static int set_member(cJSON *obj, const char *key, cJSON *item)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!item)
        return DD_ERR_NOMEM;
    if (!old) {
        if (!cJSON_AddItemToObject(obj, key, item)) {
            cJSON_Delete(item);
            return DD_ERR_NOMEM;
        }
        return DD_OK;
    }
    /* Hand the old member's key to the new one: replacing never allocates. */
    if (item->string && !(item->type & cJSON_StringIsConst))
        cJSON_free(item->string);
    item->string = old->string;
    item->type = (item->type & ~cJSON_StringIsConst) | (old->type & cJSON_StringIsConst);
    old->string = NULL;
    cJSON_ReplaceItemViaPointer(obj, old, item);
    return DD_OK;
}

/* Merge the members of request object r into state object s and its
 * metadata m (the rules of the reference's merge table):
 *   k: null       removes k;
 *   k: object     merges recursively into an object k, otherwise replaces k
 *                 with the object minus its nulls; an object that held only
 *                 nulls (recursively) creates or replaces nothing; {} is kept;
 *   k: otherwise  replaces k whole (arrays included).
 * Every leaf written gets timestamp ts. */
static int merge_members(cJSON *s, cJSON *m, const cJSON *r, double ts)
{
    const cJSON *rv;
    int rc;

    for (rv = r->child; rv; rv = rv->next) {
        const char *key = rv->string;
        cJSON *sv = cJSON_GetObjectItemCaseSensitive(s, key);
        cJSON *ns, *nm;

        if (cJSON_IsNull(rv)) {
            cJSON_DeleteItemFromObjectCaseSensitive(s, key);
            cJSON_DeleteItemFromObjectCaseSensitive(m, key);
            continue;
        }
        if (cJSON_IsObject(rv) && cJSON_IsObject(sv)) {
            cJSON *mv = cJSON_GetObjectItemCaseSensitive(m, key);

            assert(cJSON_IsObject(mv));
            rc = merge_members(sv, mv, rv, ts);
            if (rc)
                return rc;
            continue;
        }
        if (cJSON_IsObject(rv)) {
            ns = cJSON_CreateObject();
            nm = cJSON_CreateObject();
            rc = ns && nm ? merge_members(ns, nm, rv, ts) : DD_ERR_NOMEM;
            if (rc || (rv->child && !ns->child)) {
                cJSON_Delete(ns);
                cJSON_Delete(nm);
                if (rc)
                    return rc;
                continue;
            }
        } else {
            ns = cJSON_Duplicate(rv, 1);
            nm = meta_build(rv, NULL, ts);
            if (!ns || !nm) {
                cJSON_Delete(ns);
                cJSON_Delete(nm);
                return DD_ERR_NOMEM;
            }
        }
        rc = set_member(s, key, ns);
        if (rc) {
            cJSON_Delete(nm);
            return rc;
        }
        rc = set_member(m, key, nm);
        if (rc)
            return rc;
    }
    return DD_OK;
}

/* Parse a stored text into a fresh state s and metadata m (both objects,
 * sections in the order desired, reported; empty or non-object sections are
 * dropped; m is rebuilt from s, with ts for any leaf lacking a timestamp).
 * stored NULL gives two empty objects. DD_ERR_INTERNAL when stored is not a
 * JSON object, DD_ERR_NOMEM. On error *s_out and *m_out are NULL. */
static int load_stored(const char *stored, double ts, cJSON **s_out, cJSON **m_out)
{
    cJSON *root = NULL, *s, *m, *st, *md;
    size_t i;
    int rc = DD_OK;

    *s_out = NULL;
    *m_out = NULL;
    s = cJSON_CreateObject();
    m = cJSON_CreateObject();
    if (!s || !m) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    if (!stored)
        goto out;
    rc = parse_json(stored, strlen(stored), &root);
    if (rc == DD_ERR_INVALID || (!rc && !cJSON_IsObject(root)))
        rc = DD_ERR_INTERNAL;
    if (rc)
        goto out;
    st = cJSON_GetObjectItemCaseSensitive(root, "state");
    md = cJSON_GetObjectItemCaseSensitive(root, "metadata");
    for (i = 0; i < 2; i++) {
        const char *name = shadow_sections[i];
        cJSON *sec = cJSON_IsObject(st) ? cJSON_GetObjectItemCaseSensitive(st, name) : NULL;
        cJSON *msec;

        if (!cJSON_IsObject(sec) || !sec->child)
            continue;
        msec = meta_build(
            sec, cJSON_IsObject(md) ? cJSON_GetObjectItemCaseSensitive(md, name) : NULL, ts);
        rc = set_member(m, name, msec);
        if (rc)
            goto out;
        rc = set_member(s, name, cJSON_DetachItemViaPointer(st, sec));
        if (rc)
            goto out;
    }
out:
    cJSON_Delete(root);
    if (rc) {
        cJSON_Delete(s);
        cJSON_Delete(m);
        return rc;
    }
    *s_out = s;
    *m_out = m;
    return DD_OK;
}

/* Add to out/outm every member of desired d (metadata dm) that differs from
 * reported r (NULL = absent): a key missing from r or holding a different
 * value goes in whole with its desired metadata; two objects recurse and only
 * a non-empty difference is kept. */
static int delta_members(const cJSON *d, const cJSON *dm, const cJSON *r, cJSON *out, cJSON *outm)
{
    const cJSON *dv;

    for (dv = d->child; dv; dv = dv->next) {
        const cJSON *rv = cJSON_GetObjectItemCaseSensitive(r, dv->string);
        const cJSON *mv = cJSON_GetObjectItemCaseSensitive(dm, dv->string);
        cJSON *sub, *subm;
        int rc;

        assert(mv);
        if (cJSON_IsObject(dv) && cJSON_IsObject(rv)) {
            sub = cJSON_CreateObject();
            subm = cJSON_CreateObject();
            rc = sub && subm ? delta_members(dv, mv, rv, sub, subm) : DD_ERR_NOMEM;
            if (rc || !sub->child) {
                cJSON_Delete(sub);
                cJSON_Delete(subm);
                if (rc)
                    return rc;
                continue;
            }
        } else if (rv && cJSON_Compare(dv, rv, 1)) {
            continue;
        } else {
            sub = cJSON_Duplicate(dv, 1);
            subm = cJSON_Duplicate(mv, 1);
        }
        rc = set_member(out, dv->string, sub);
        if (rc) {
            cJSON_Delete(subm);
            return rc;
        }
        rc = set_member(outm, dv->string, subm);
        if (rc)
            return rc;
    }
    return DD_OK;
}

/* The delta of state s (metadata m): *delta and *delta_meta are new trees,
 * or both NULL when the delta is empty. DD_ERR_NOMEM. */
static int compute_delta(const cJSON *s, const cJSON *m, cJSON **delta, cJSON **delta_meta)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(s, "desired");
    cJSON *o, *om;
    int rc;

    *delta = NULL;
    *delta_meta = NULL;
    if (!d)
        return DD_OK;
    o = cJSON_CreateObject();
    om = cJSON_CreateObject();
    rc = o && om ? delta_members(d, cJSON_GetObjectItemCaseSensitive(m, "desired"),
                                 cJSON_GetObjectItemCaseSensitive(s, "reported"), o, om)
                 : DD_ERR_NOMEM;
    if (rc || !o->child) {
        cJSON_Delete(o);
        cJSON_Delete(om);
        return rc;
    }
    *delta = o;
    *delta_meta = om;
    return DD_OK;
}

/* Depth rule of AWS's Greengrass shadow manager: desired/reported is level 1,
 * each non-empty object or array below adds a level, scalars and empty
 * containers add none. 1 when a container below c (at level) passes max. */
static int too_deep(const cJSON *c, int level, int max)
{
    const cJSON *k;

    for (k = c->child; k; k = k->next) {
        if ((cJSON_IsObject(k) || cJSON_IsArray(k)) && k->child &&
            (level + 1 > max || too_deep(k, level + 1, max)))
            return 1;
    }
    return 0;
}

/* 1 when a null sits anywhere below an array inside c. */
static int null_in_array(const cJSON *c, int in_array)
{
    const cJSON *k;

    in_array = in_array || cJSON_IsArray(c);
    for (k = c->child; k; k = k->next) {
        if (in_array && cJSON_IsNull(k))
            return 1;
        if (null_in_array(k, in_array))
            return 1;
    }
    return 0;
}

static int version_valid(const cJSON *v)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= SHADOW_VERSION_MAX &&
           floor(v->valuedouble) == v->valuedouble;
}

/* Record the request's clientToken in err when it is a string that fits. */
static void take_token(const cJSON *root, struct shadow_error *err)
{
    const cJSON *tok =
        cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "clientToken") : NULL;
    size_t len;

    if (!cJSON_IsString(tok))
        return;
    len = strlen(tok->valuestring);
    if (len > SHADOW_CLIENT_TOKEN_MAX)
        return;
    memcpy(err->client_token, tok->valuestring, len + 1);
    err->has_client_token = 1;
}

/* The checks of the reference's validation table, in its order, up to and
 * including the version check. Drops state.delta. On DD_OK *state is the
 * request's "state" (object or null, still inside root). */
static int check_request(cJSON *root, const struct shadow_limits *lim, int64_t cur_version,
                         struct shadow_error *err, cJSON **state)
{
    cJSON *st, *c, *ver, *tok;
    char msg[sizeof(err->message)];
    size_t i;

    *state = NULL;
    st = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "state") : NULL;
    if (!st)
        return shadow_fail(err, DD_ERR_INVALID, 400, MSG_MISSING_STATE);
    if (!cJSON_IsObject(st) && !cJSON_IsNull(st))
        return shadow_fail(err, DD_ERR_INVALID, 400, MSG_STATE_OBJECT);
    if (cJSON_IsObject(st)) {
        /* Dropped so that a GET document can be sent back as an update. */
        while ((c = cJSON_GetObjectItemCaseSensitive(st, "delta")) != NULL)
            cJSON_Delete(cJSON_DetachItemViaPointer(st, c));
        for (i = 0; i < 2; i++) {
            for (c = st->child; c; c = c->next) {
                if (strcmp(c->string, shadow_sections[i]) == 0 && !cJSON_IsObject(c) &&
                    !cJSON_IsNull(c))
                    return shadow_fail(err, DD_ERR_INVALID, 400,
                                       i == 0 ? MSG_DESIRED : MSG_REPORTED);
            }
        }
        for (c = st->child; c; c = c->next) {
            if (strcmp(c->string, "desired") != 0 && strcmp(c->string, "reported") != 0)
                return shadow_fail(err, DD_ERR_INVALID, 400, MSG_INVALID_NODE);
        }
    }
    tok = cJSON_GetObjectItemCaseSensitive(root, "clientToken");
    if (tok && !err->has_client_token)
        return shadow_fail(err, DD_ERR_INVALID, 400, MSG_TOKEN);
    ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (ver && !version_valid(ver))
        return shadow_fail(err, DD_ERR_INVALID, 400, MSG_VERSION);
    for (c = cJSON_IsObject(st) ? st->child : NULL; c; c = c->next) {
        if (too_deep(c, 1, lim->max_depth)) {
            snprintf(msg, sizeof(msg), MSG_NESTING, lim->max_depth);
            return shadow_fail(err, DD_ERR_INVALID, 400, msg);
        }
    }
    if (null_in_array(st, 0))
        return shadow_fail(err, DD_ERR_INVALID, 400, MSG_INVALID_JSON);
    if (ver && (int64_t)ver->valuedouble != cur_version)
        return shadow_fail(err, DD_ERR_VERSION_CONFLICT, 409, MSG_CONFLICT);
    *state = st;
    return DD_OK;
}

/* Add item (taken, even on failure; NULL = an allocation already failed). */
static int add_item(cJSON *obj, const char *key, cJSON *item)
{
    if (!item)
        return DD_ERR_NOMEM;
    if (!cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

/* Add a view of object x that does not own x's members. */
static int add_view(cJSON *obj, const char *key, const cJSON *x)
{
    return add_item(obj, key, cJSON_CreateObjectReference(x->child));
}

static int add_number(cJSON *obj, const char *key, double v)
{
    return cJSON_AddNumberToObject(obj, key, v) ? DD_OK : DD_ERR_NOMEM;
}

/* The closing members of most payloads: "timestamp" and, when token is not
 * NULL, "clientToken". */
static int add_stamp(cJSON *obj, double ts, const char *token)
{
    if (add_number(obj, "timestamp", ts))
        return DD_ERR_NOMEM;
    if (token && !cJSON_AddStringToObject(obj, "clientToken", token))
        return DD_ERR_NOMEM;
    return DD_OK;
}

/* Print obj compactly into *out (for free()) and delete obj. */
static int print_delete(cJSON *obj, char **out)
{
    *out = obj ? jsonprint(obj) : NULL;
    cJSON_Delete(obj);
    return *out ? DD_OK : DD_ERR_NOMEM;
}

/* Print {"state":state,"metadata":meta,"version":N,"timestamp":T[,
 * "clientToken":token]} into *out (for free()): the accepted and delta
 * messages of an update, and the reply to a GET. state and meta are taken,
 * even on failure; NULL for either means its allocation failed. */
static int print_state_doc(cJSON *state, cJSON *meta, int64_t version, double ts, const char *token,
                           char **out)
{
    cJSON *o = cJSON_CreateObject();
    int rc;

    rc = o ? add_item(o, "state", state) : DD_ERR_NOMEM;
    if (!o)
        cJSON_Delete(state);
    if (!rc)
        rc = add_item(o, "metadata", meta);
    else
        cJSON_Delete(meta);
    if (!rc)
        rc = add_number(o, "version", (double)version);
    if (!rc)
        rc = add_stamp(o, ts, token);
    if (rc) {
        cJSON_Delete(o);
        *out = NULL;
        return rc;
    }
    return print_delete(o, out);
}

/* {"state":S,"metadata":M[,"version":N]} as views of s and m (or copies when
 * copy is set); NULL when out of memory. version < 0 leaves it out. */
static cJSON *doc_new(const cJSON *s, const cJSON *m, int64_t version, int copy)
{
    cJSON *doc = cJSON_CreateObject();
    int rc;

    if (!doc)
        return NULL;
    if (copy)
        rc = add_item(doc, "state", cJSON_Duplicate(s, 1)) ||
             add_item(doc, "metadata", cJSON_Duplicate(m, 1));
    else
        rc = add_view(doc, "state", s) || add_view(doc, "metadata", m);
    if (!rc && version >= 0)
        rc = add_number(doc, "version", (double)version);
    if (rc) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* Sections in the order of AWS's examples: desired, then reported. Never
 * allocates: moving a member keeps its key. */
static void order_sections(cJSON *obj)
{
    cJSON *rep = cJSON_GetObjectItemCaseSensitive(obj, "reported");

    if (rep && rep->next)
        cJSON_AddItemToArray(obj, cJSON_DetachItemViaPointer(obj, rep));
}

/* Apply request state st (object or null) to s/m; drop emptied sections. */
static int apply_state(cJSON *s, cJSON *m, const cJSON *st, double ts)
{
    size_t i;
    int rc;

    if (cJSON_IsNull(st)) {
        while (s->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(s, s->child));
        while (m->child)
            cJSON_Delete(cJSON_DetachItemViaPointer(m, m->child));
        return DD_OK;
    }
    rc = merge_members(s, m, st, ts);
    if (rc)
        return rc;
    for (i = 0; i < 2; i++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(s, shadow_sections[i]);

        if (sec && !sec->child) {
            cJSON_DeleteItemFromObjectCaseSensitive(s, shadow_sections[i]);
            cJSON_DeleteItemFromObjectCaseSensitive(m, shadow_sections[i]);
        }
    }
    order_sections(s);
    order_sections(m);
    return DD_OK;
}

/* Build the four texts of an accepted update into out. root is the request;
 * its state st moves into the accepted payload. s/m are the new state, prev
 * the previous document (taken; NULL when the update created the shadow). */
static int build_results(cJSON *root, cJSON *st, const cJSON *s, const cJSON *m, cJSON *prev,
                         int64_t version, double ts, const char *token,
                         struct shadow_update_result *out)
{
    cJSON *o, *meta, *delta = NULL, *delta_meta = NULL;
    int rc;

    rc = print_delete(doc_new(s, m, -1, 0), &out->stored);
    if (rc)
        goto out;

    meta = meta_build(st, NULL, ts); /* before st leaves root: root keeps it on failure */
    rc = print_state_doc(meta ? cJSON_DetachItemViaPointer(root, st) : NULL, meta, version, ts,
                         token, &out->accepted);
    if (rc)
        goto out;

    rc = compute_delta(s, m, &delta, &delta_meta);
    if (rc)
        goto out;
    if (delta) {
        rc = print_state_doc(delta, delta_meta, version, ts, token, &out->delta);
        delta = NULL;
        delta_meta = NULL;
        if (rc)
            goto out;
    }

    o = cJSON_CreateObject();
    rc = o ? add_item(o, "previous", prev ? prev : cJSON_CreateNull()) : DD_ERR_NOMEM;
    if (o)
        prev = NULL;
    if (!rc)
        rc = add_item(o, "current", doc_new(s, m, version, 0));
    if (!rc)
        rc = add_stamp(o, ts, token);
    if (rc) {
        cJSON_Delete(o);
        goto out;
    }
    rc = print_delete(o, &out->documents);
out:
    cJSON_Delete(delta_meta);
    cJSON_Delete(delta);
    cJSON_Delete(prev);
    return rc;
}

int shadow_update(const char *stored, int64_t cur_version, const char *req, size_t req_len,
                  int64_t now_s, const struct shadow_limits *lim, struct shadow_update_result *out,
                  struct shadow_error *err)
{
    struct shadow_error local;
    struct shadow_limits defaults;
    cJSON *root = NULL, *st, *s = NULL, *m = NULL, *prev = NULL;
    double ts = (double)now_s;
    char *text = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!err)
        err = &local;
    memset(err, 0, sizeof(*err));
    if (!lim) {
        shadow_limits_default(&defaults);
        lim = &defaults;
    }
    if (!utf8_valid(req, req_len)) {
        rc = shadow_fail(err, DD_ERR_ENCODING, 415, MSG_ENCODING);
        goto out;
    }
    rc = parse_json(req, req_len, &root);
    if (rc == DD_ERR_INVALID)
        shadow_fail(err, rc, 400, MSG_INVALID_JSON);
    if (rc)
        goto out;
    take_token(root, err);
    rc = check_request(root, lim, cur_version, err, &st);
    if (rc)
        goto out;
    rc = load_stored(stored, ts, &s, &m);
    if (rc)
        goto out;
    if (stored) {
        prev = doc_new(s, m, cur_version, 1);
        if (!prev) {
            rc = DD_ERR_NOMEM;
            goto out;
        }
    }
    rc = apply_state(s, m, st, ts);
    if (rc)
        goto out;
    /* The limit is on the merged state, so a small update can still fail. */
    text = jsonprint(s);
    if (!text) {
        rc = DD_ERR_NOMEM;
        goto out;
    }
    if (strlen(text) > lim->max_state_bytes) {
        rc = shadow_fail(err, DD_ERR_TOO_LARGE, 413, MSG_TOO_LARGE);
        goto out;
    }
    out->version = cur_version + 1;
    rc = build_results(root, st, s, m, prev, out->version, ts,
                       err->has_client_token ? err->client_token : NULL, out);
    prev = NULL; /* taken by build_results() */
out:
    if (rc) {
        shadow_update_result_cleanup(out);
        if (rc == DD_ERR_NOMEM || rc == DD_ERR_INTERNAL)
            shadow_fail(err, rc, 500, MSG_INTERNAL);
    }
    cJSON_free(text);
    cJSON_Delete(prev);
    cJSON_Delete(m);
    cJSON_Delete(s);
    cJSON_Delete(root);
    return rc;
}

int shadow_get(const char *stored, int64_t version, int64_t now_s, const char *client_token,
               char **out)
{
    cJSON *s = NULL, *m = NULL, *delta = NULL, *delta_meta = NULL;
    double ts = (double)now_s;
    int rc;

    *out = NULL;
    if (!stored)
        return DD_ERR_NOT_FOUND;
    rc = load_stored(stored, ts, &s, &m);
    if (rc)
        return rc;
    rc = compute_delta(s, m, &delta, &delta_meta);
    cJSON_Delete(delta_meta); /* GET leaves out metadata.delta (reference section 7.2) */
    if (!rc && delta) {
        rc = add_item(s, "delta", delta);
        delta = NULL;
    }
    if (!rc) {
        rc = print_state_doc(s, m, version, ts, client_token, out);
        s = NULL;
        m = NULL;
    }
    cJSON_Delete(delta);
    cJSON_Delete(m);
    cJSON_Delete(s);
    return rc;
}

int shadow_delete_accepted(int64_t version, int64_t now_s, const char *client_token, char **out)
{
    cJSON *o = cJSON_CreateObject();

    *out = NULL;
    if (!o)
        return DD_ERR_NOMEM;
    if (add_number(o, "version", (double)version) || add_stamp(o, (double)now_s, client_token)) {
        cJSON_Delete(o);
        return DD_ERR_NOMEM;
    }
    return print_delete(o, out);
}

int shadow_parse_request_token(const char *payload, size_t len, struct shadow_error *err)
{
    cJSON *root = NULL;
    int rc;

    memset(err, 0, sizeof(*err));
    if (len == 0)
        return DD_OK;
    if (!utf8_valid(payload, len))
        return shadow_fail(err, DD_ERR_ENCODING, 415, MSG_ENCODING);
    rc = parse_json(payload, len, &root);
    if (rc == DD_ERR_INVALID)
        return shadow_fail(err, rc, 400, MSG_INVALID_JSON);
    if (rc)
        return shadow_fail(err, rc, 500, MSG_INTERNAL);
    take_token(root, err);
    if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "clientToken") &&
        !err->has_client_token)
        rc = shadow_fail(err, DD_ERR_INVALID, 400, MSG_TOKEN);
    cJSON_Delete(root);
    return rc;
}

void shadow_not_found(struct shadow_error *err, const char *thing, const char *shadow_name)
{
    err->code = 404;
    if (shadow_name && *shadow_name)
        snprintf(err->message, sizeof(err->message), "No shadow exists with name: '%s~%s'", thing,
                 shadow_name);
    else
        snprintf(err->message, sizeof(err->message), "No shadow exists with name: '%s'", thing);
}

int shadow_error_json(const struct shadow_error *err, int64_t now_s, char **out)
{
    cJSON *o = cJSON_CreateObject();
    int rc;

    *out = NULL;
    if (!o)
        return DD_ERR_NOMEM;
    rc = add_number(o, "code", err->code);
    if (!rc && !cJSON_AddStringToObject(o, "message", err->message))
        rc = DD_ERR_NOMEM;
    /* Real 404 and 409 documents carry no timestamp (reference section 8). */
    if (!rc && err->code != 404 && err->code != 409)
        rc = add_number(o, "timestamp", (double)now_s);
    if (!rc && err->has_client_token &&
        !cJSON_AddStringToObject(o, "clientToken", err->client_token))
        rc = DD_ERR_NOMEM;
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    return print_delete(o, out);
}

/* 1 when p[0..n) is 1..max characters of [a-zA-Z0-9:_-]. */
static int name_span_ok(const char *p, size_t n, size_t max)
{
    size_t i;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++) {
        char c = p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ':' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int shadow_names_check(const char *thing, const char *shadow_name)
{
    if (!thing || !name_span_ok(thing, strlen(thing), SHADOW_THING_NAME_MAX))
        return DD_ERR_INVALID;
    if (shadow_name && !name_span_ok(shadow_name, strlen(shadow_name), SHADOW_NAME_MAX))
        return DD_ERR_INVALID;
    return DD_OK;
}

int shadow_topic_parse(const char *topic, struct shadow_topic *out)
{
    static const char prefix[] = "$aws/things/";
    static const char *const ops[] = { "get", "update", "delete" };
    const char *thing, *name = NULL, *op, *slash;
    size_t thing_len, name_len = 0, i;

    memset(out, 0, sizeof(*out));
    if (strncmp(topic, prefix, sizeof(prefix) - 1) != 0)
        return DD_ERR_NOT_FOUND;
    thing = topic + sizeof(prefix) - 1;
    slash = strchr(thing, '/');
    if (!slash || strncmp(slash, "/shadow/", 8) != 0)
        return DD_ERR_NOT_FOUND;
    thing_len = (size_t)(slash - thing);
    op = slash + 8;
    if (strncmp(op, "name/", 5) == 0) {
        name = op + 5;
        slash = strchr(name, '/');
        if (!slash)
            return DD_ERR_NOT_FOUND;
        name_len = (size_t)(slash - name);
        op = slash + 1;
    }
    for (i = 0; i < 3; i++) {
        if (strcmp(op, ops[i]) == 0)
            break;
    }
    if (i == 3)
        return DD_ERR_NOT_FOUND;
    if (!name_span_ok(thing, thing_len, SHADOW_THING_NAME_MAX) ||
        (name && !name_span_ok(name, name_len, SHADOW_NAME_MAX)))
        return DD_ERR_INVALID;
    memcpy(out->thing, thing, thing_len);
    if (name)
        memcpy(out->name, name, name_len);
    out->op = (enum shadow_op)i;
    return DD_OK;
}

int shadow_topic_build(char *buf, size_t size, const char *thing, const char *name,
                       const char *suffix)
{
    int n;

    if (name && *name)
        n = snprintf(buf, size, "$aws/things/%s/shadow/name/%s/%s", thing, name, suffix);
    else
        n = snprintf(buf, size, "$aws/things/%s/shadow/%s", thing, suffix);
    if (n < 0 || (size_t)n >= size) {
        if (size)
            buf[0] = '\0';
        return DD_ERR_TOO_LARGE;
    }
    return DD_OK;
}
