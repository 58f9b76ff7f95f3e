/* SPDX-License-Identifier: MIT */
/* config.c: building the broker thread's snapshot (see config.h). */
#include "plugin/config.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/mem.h"
#include "store/defender/store_detect.h"
#include "store/iot/store_certs.h"
#include "store/iot/store_snapshot.h"

/* A thing registered after its build's config_load(), with its name. */
struct added_thing {
    struct config_thing thing; /* no policies: in no group */
    char name[];
};

/* What the snapshots of one config_load() share: the maps, sets and
 * dimensions every copy of struct broker_config points to, and the things
 * added since (config_extend), in a table the broker thread reads while
 * the engine thread adds to it. The table is open addressing with linear
 * probing over a fixed number of slots, allocated at the first extension;
 * a slot goes from NULL to its thing once, published with a release
 * store, and nothing is ever removed or moved, so a reader that meets a
 * NULL slot has seen every thing added before that probe. It never grows:
 * when full, the engine calls config_load() and starts a new build. */
struct config_build {
    atomic_size_t refs; /* the snapshots holding it */
    size_t room;        /* things the table takes, at most half its slots */
    size_t n_added;     /* engine thread only */
    size_t mask;        /* slots - 1, a power of two less one */
    _Atomic(struct added_thing *) *_Atomic slots; /* NULL until the first thing */
};

/* Things a build takes before the next config_load(): half as many as it
 * was built with, at least MIN_ROOM, so the rebuilds of a fleet that keeps
 * growing cost each thing a constant share of one. */
#define MIN_ROOM 1024

/* A grant: holder (a thing or a certificate id) gets policy. A list of
 * grants is sorted by holder, then policy name, as the store walks them. */
struct grant {
    char *holder;                       /* owned */
    const struct policy_source *policy; /* borrowed from the load's policies */
};

struct grants {
    struct grant *v; /* owned array of n */
    size_t n, cap;
};

struct load {
    struct broker_config *c;
    size_t skipped;
    struct strmap *policies;    /* name -> struct policy_source (owned, with its strings) */
    struct strmap *by_policies; /* "name\0name\0..." -> compiled set, shared */
    struct grants thing_grants; /* from thing groups and their ancestors */
    struct grants cert_grants;  /* attached to certificates */
    struct dd_errbuf *eb;       /* notes of what was left out */
};

/* Policies a snapshot set is compiled from, at most, as policy_set_new
 * and the set's key allow (a name is at most 128 characters). */
#define MAX_SET_POLICIES 64

static int add_dimension(void *ctx, const char *name, const char *values_json)
{
    struct load *l = ctx;
    struct config_dim *d;
    cJSON *values, *v;
    size_t i = 0;

    if (l->c->n_dims == CLIENTS_MAX_DIMS) {
        l->skipped++;
        return DD_OK;
    }
    values = cJSON_Parse(values_json);
    if (!values)
        return DD_ERR_NOMEM;
    d = &l->c->dims[l->c->n_dims];
    d->name = dd_strdup(name);
    d->filters = calloc((size_t)cJSON_GetArraySize(values) + 1, sizeof(*d->filters));
    if (!d->name || !d->filters)
        goto nomem;
    cJSON_ArrayForEach(v, values)
    {
        if (!cJSON_IsString(v))
            continue;
        d->filters[i] = dd_strdup(v->valuestring);
        if (!d->filters[i])
            goto nomem;
        d->n_filters = ++i;
    }
    cJSON_Delete(values);
    l->c->dim_names[l->c->n_dims] = d->name;
    l->c->n_dims++;
    return DD_OK;
nomem:
    cJSON_Delete(values);
    for (i = 0; d->filters && i < d->n_filters; i++)
        free(d->filters[i]);
    free(d->filters);
    free(d->name);
    memset(d, 0, sizeof(*d));
    return DD_ERR_NOMEM;
}

/* One policy and its default document, in one block the map owns. */
static int add_policy(void *ctx, const char *name, const char *document, const char *unused)
{
    struct load *l = ctx;
    size_t name_len = strlen(name), doc_len = strlen(document);
    struct policy_source *p = malloc(sizeof(*p) + name_len + doc_len + 2);
    char *name_copy, *doc_copy;

    (void)unused;
    if (!p)
        return DD_ERR_NOMEM;
    name_copy = (char *)(p + 1);
    doc_copy = name_copy + name_len + 1;
    memcpy(name_copy, name, name_len + 1);
    memcpy(doc_copy, document, doc_len + 1);
    p->name = name_copy;
    p->document = doc_copy;
    p->document_len = doc_len;
    if (strmap_put(l->policies, name, name_len, p, NULL)) {
        free(p);
        return DD_ERR_NOMEM;
    }
    return DD_OK;
}

static int grants_add(struct grants *g, const char *holder, const struct policy_source *policy)
{
    char *copy;

    if (g->n == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 64;
        struct grant *v = realloc(g->v, cap * sizeof(*v));

        if (!v)
            return DD_ERR_NOMEM;
        g->v = v;
        g->cap = cap;
    }
    if (!(copy = dd_strdup(holder)))
        return DD_ERR_NOMEM;
    g->v[g->n].holder = copy;
    g->v[g->n].policy = policy;
    g->n++;
    return DD_OK;
}

static void grants_cleanup(struct grants *g)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        free(g->v[i].holder);
    free(g->v);
    memset(g, 0, sizeof(*g));
}

/* The grants of holder: *first is where they begin, the return how many. */
static size_t grants_of(const struct grants *g, const char *holder, size_t *first)
{
    size_t lo = 0, hi = g->n, end;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(g->v[mid].holder, holder) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (end = lo; end < g->n && strcmp(g->v[end].holder, holder) == 0; end++)
        ;
    *first = lo;
    return end - lo;
}

static int add_policy_grant(struct grants *g, const struct load *l, const char *holder,
                            const char *policy)
{
    const struct policy_source *p = strmap_get(l->policies, policy, strlen(policy));

    return p ? grants_add(g, holder, p) : DD_OK; /* no default document: nothing to enforce */
}

static int add_thing_grant(void *ctx, const char *thing, const char *policy, const char *unused)
{
    struct load *l = ctx;

    (void)unused;
    return add_policy_grant(&l->thing_grants, l, thing, policy);
}

static int add_cert_grant(void *ctx, const char *cert_id, const char *policy, const char *unused)
{
    struct load *l = ctx;

    (void)unused;
    return add_policy_grant(&l->cert_grants, l, cert_id, policy);
}

/* The policies of a and b's grants for their holders (b may be NULL),
 * merged by name with each once, as a thing's effective policies are:
 * into src, which holds MAX_SET_POLICIES. Returns how many. */
static size_t merge_grants(const struct grants *a, const char *a_holder, const struct grants *b,
                           const char *b_holder, struct policy_source *src)
{
    size_t ai, bi = 0, an = grants_of(a, a_holder, &ai), bn = 0, n = 0;
    size_t a_end = ai + an, b_end;

    if (b)
        bn = grants_of(b, b_holder, &bi);
    b_end = bi + bn;
    while ((ai < a_end || bi < b_end) && n < MAX_SET_POLICIES) {
        const struct policy_source *pa = ai < a_end ? a->v[ai].policy : NULL;
        const struct policy_source *pb = bi < b_end ? b->v[bi].policy : NULL;
        int order = !pa ? 1 : !pb ? -1 : strcmp(pa->name, pb->name);

        src[n++] = *(order <= 0 ? pa : pb);
        if (order <= 0)
            ai++;
        if (order >= 0)
            bi++;
    }
    return n;
}

/* The compiled set for the n policies of src (sorted by name), shared
 * between holders with the same policies. *set is NULL when there are
 * none. Stored documents were validated, so a set that no longer compiles
 * means a stricter compiler: DD_ERR_MALFORMED_POLICY, with a note in the
 * load's eb naming whom (kind, "" or "certificate ", then name), and the
 * caller leaves whom out of the snapshot rather than taking the broker's
 * policies down. */
static int policies_for(struct load *l, const struct policy_source *src, size_t n, const char *kind,
                        const char *whom, const struct policy_set **set)
{
    char key[MAX_SET_POLICIES * 130];
    struct policy_set *compiled, **sets;
    struct dd_errbuf policy_eb;
    size_t i, len = 0;
    int rc;

    *set = NULL;
    if (!n)
        return DD_OK;
    for (i = 0; i < n; i++) {
        size_t k = strlen(src[i].name) + 1;

        assert(len + k <= sizeof(key));
        memcpy(key + len, src[i].name, k);
        len += k;
    }
    *set = strmap_get(l->by_policies, key, len);
    if (*set)
        return DD_OK;
    rc = policy_set_new(src, n, &compiled, &policy_eb);
    if (rc == DD_ERR_MALFORMED_POLICY)
        dd_fail(l->eb, DD_OK, "policies of %s%s not enforced: %s", kind, whom, policy_eb.msg);
    if (rc)
        return rc;
    sets = realloc(l->c->sets, (l->c->n_sets + 1) * sizeof(*sets));
    if (!sets || strmap_put(l->by_policies, key, len, compiled, NULL)) {
        if (sets)
            l->c->sets = sets;
        policy_set_free(compiled);
        return DD_ERR_NOMEM;
    }
    l->c->sets = sets;
    sets[l->c->n_sets++] = compiled;
    *set = compiled;
    return DD_OK;
}

/* The record of every thing with no type, no attributes and no group
 * policies: most things of a large fleet, which then cost the snapshot no
 * allocation of their own. Never freed. */
static const struct config_thing plain_thing;

/* Free what t holds, not t. */
static void thing_cleanup(struct config_thing *t)
{
    size_t i;

    for (i = 0; i < t->n_attributes; i++) {
        free((void *)(uintptr_t)t->attributes[i].name);
        free((void *)(uintptr_t)t->attributes[i].value);
    }
    free(t->attributes);
    free(t->type_name);
}

static void thing_free(void *v)
{
    struct config_thing *t = v;

    if (!t || t == &plain_thing)
        return;
    thing_cleanup(t);
    free(t);
}

/* Copy a thing's attributes (a JSON object of strings) for policy
 * variables. */
static int copy_attributes(struct config_thing *t, const char *json)
{
    cJSON *o = json ? cJSON_Parse(json) : NULL, *a;
    size_t n = 0;

    if (!o)
        return json ? DD_ERR_NOMEM : DD_OK;
    if (!o->child) { /* no attributes: nothing to hold */
        cJSON_Delete(o);
        return DD_OK;
    }
    t->attributes = calloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*t->attributes));
    if (!t->attributes) {
        cJSON_Delete(o);
        return DD_ERR_NOMEM;
    }
    cJSON_ArrayForEach(a, o)
    {
        if (!cJSON_IsString(a))
            continue;
        t->attributes[n].name = dd_strdup(a->string);
        t->attributes[n].value = dd_strdup(a->valuestring);
        t->n_attributes = ++n;
        if (!t->attributes[n - 1].name || !t->attributes[n - 1].value) {
            cJSON_Delete(o);
            return DD_ERR_NOMEM;
        }
    }
    cJSON_Delete(o);
    return DD_OK;
}

/* A thing's type and attributes into t (cleared); on failure t holds what
 * thing_cleanup() frees. */
static int copy_thing(struct config_thing *t, const char *type_name, const char *attributes)
{
    memset(t, 0, sizeof(*t));
    if (type_name && type_name[0] && !(t->type_name = dd_strdup(type_name)))
        return DD_ERR_NOMEM;
    return copy_attributes(t, attributes);
}

/* One registered thing: its type, attributes and the policies of its
 * groups. */
static int add_thing(void *ctx, const char *name, const char *type_name, const char *attributes)
{
    struct policy_source src[MAX_SET_POLICIES];
    struct load *l = ctx;
    struct config_thing tmp, *t = NULL;
    int rc = copy_thing(&tmp, type_name, attributes);

    if (!rc)
        rc = policies_for(l, src, merge_grants(&l->thing_grants, name, NULL, NULL, src), "", name,
                          &tmp.policies);
    if (!rc && !tmp.type_name && !tmp.n_attributes && !tmp.policies)
        t = (struct config_thing *)(uintptr_t)&plain_thing;
    else if (!rc && (t = malloc(sizeof(*t))))
        *t = tmp;
    else if (!rc)
        rc = DD_ERR_NOMEM;
    if (!rc && strmap_put(l->c->things, name, strlen(name), t, NULL))
        rc = DD_ERR_NOMEM;
    if (rc && t)
        thing_free(t);
    else if (rc)
        thing_cleanup(&tmp);
    return rc == DD_ERR_MALFORMED_POLICY ? DD_OK : rc; /* left out, noted */
}

static void cert_free(void *v)
{
    struct config_cert *c = v;

    if (!c)
        return;
    strmap_free(c->things, free);
    free(c);
}

/* One certificate: its status and, when active, the compiled policies for
 * it alone. Its things come with add_cert_thing(). */
static int add_cert(struct load *l, const struct store_cert_state *st)
{
    struct policy_source src[MAX_SET_POLICIES];
    struct config_cert *c = calloc(1, sizeof(*c));
    int rc = DD_OK;

    if (!c)
        return DD_ERR_NOMEM;
    c->active = st->status == STORE_CERT_ACTIVE;
    if (c->active)
        rc = policies_for(l, src, merge_grants(&l->cert_grants, st->cert_id, NULL, NULL, src),
                          "certificate ", st->cert_id, &c->alone);
    if (!rc && strmap_put(l->c->certs, st->cert_id, strlen(st->cert_id), c, NULL))
        rc = DD_ERR_NOMEM;
    if (rc)
        cert_free(c);
    return rc == DD_ERR_MALFORMED_POLICY ? DD_OK : rc; /* left out (unknown at CONNECT), noted */
}

/* A thing an active certificate is attached to: the policies of the
 * thing's groups and the certificate's own. When they no longer compile,
 * the whole certificate is left out, as add_cert() does. */
static int add_cert_thing(void *ctx, const char *cert_id, const char *thing, const char *unused)
{
    struct policy_source src[MAX_SET_POLICIES];
    struct load *l = ctx;
    struct config_cert *c = strmap_get(l->c->certs, cert_id, strlen(cert_id));
    struct config_cert_thing *t;
    int rc;

    (void)unused;
    if (!c || !c->active)
        return DD_OK;
    /* Most certificates have no thing: their map is made for the first. */
    if (!c->things && !(c->things = strmap_new()))
        return DD_ERR_NOMEM;
    if (!(t = calloc(1, sizeof(*t))))
        return DD_ERR_NOMEM;
    rc = policies_for(l, src, merge_grants(&l->thing_grants, thing, &l->cert_grants, cert_id, src),
                      "certificate ", cert_id, &t->policies);
    if (!rc && strmap_put(c->things, thing, strlen(thing), t, NULL))
        rc = DD_ERR_NOMEM;
    if (rc)
        free(t);
    if (rc == DD_ERR_MALFORMED_POLICY) {
        cert_free(strmap_take(l->c->certs, cert_id, strlen(cert_id)));
        rc = DD_OK;
    }
    return rc;
}

int config_load(struct store *s, struct broker_config **out, struct dd_errbuf *eb)
{
    struct load l = { .c = calloc(1, sizeof(struct broker_config)),
                      .policies = strmap_new(),
                      .by_policies = strmap_new(),
                      .eb = eb };
    struct store_cert_states certs = { 0 };
    size_t i;
    int rc = DD_ERR_NOMEM;

    *out = NULL;
    dd_errbuf_clear(eb);
    if (!l.c || !(l.c->build = calloc(1, sizeof(*l.c->build))))
        goto out;
    atomic_init(&l.c->build->refs, 1);
    if (!l.policies || !l.by_policies || !(l.c->things = strmap_new()) ||
        !(l.c->certs = strmap_new()))
        goto out;
    /* The grants refer to the policies, so those come first. */
    rc = store_detect_each_dimension(s, add_dimension, &l);
    if (!rc)
        rc = store_snapshot_policies(s, add_policy, &l);
    if (!rc)
        rc = store_snapshot_thing_grants(s, add_thing_grant, &l);
    if (!rc)
        rc = store_snapshot_cert_grants(s, add_cert_grant, &l);
    if (!rc)
        rc = store_snapshot_things(s, add_thing, &l);
    if (!rc)
        rc = store_cert_states(s, &certs);
    for (i = 0; !rc && i < certs.n; i++)
        rc = add_cert(&l, &certs.v[i]);
    if (!rc)
        rc = store_snapshot_cert_things(s, add_cert_thing, &l);
out:
    store_cert_states_cleanup(&certs);
    grants_cleanup(&l.cert_grants);
    grants_cleanup(&l.thing_grants);
    strmap_free(l.by_policies, NULL);
    strmap_free(l.policies, free);
    if (rc) {
        config_free(l.c);
        return rc;
    }
    l.c->build->room = strmap_count(l.c->things) / 2;
    if (l.c->build->room < MIN_ROOM)
        l.c->build->room = MIN_ROOM;
    if (l.skipped && !eb->msg[0])
        dd_fail(eb, DD_OK, "only the first %d dimensions (by name) are counted; %zu ignored",
                CLIENTS_MAX_DIMS, l.skipped);
    *out = l.c;
    return DD_OK;
}

/* Where name is, or would go, in slots. */
static size_t added_slot(_Atomic(struct added_thing *) *slots, size_t mask, const char *name,
                         size_t len, struct added_thing **found)
{
    size_t i = strmap_hash(name, len) & mask;

    for (;; i = (i + 1) & mask) {
        struct added_thing *t = atomic_load_explicit(&slots[i], memory_order_acquire);

        if (!t || (strncmp(t->name, name, len) == 0 && !t->name[len])) {
            *found = t;
            return i;
        }
    }
}

struct extension {
    const struct broker_config *c;
    struct config_build *b;
    _Atomic(struct added_thing *) *slots;
    size_t walked;
};

static int add_new_thing(void *ctx, const char *name, const char *type_name, const char *attributes)
{
    struct extension *x = ctx;
    size_t len = strlen(name), i;
    struct added_thing *t, *old;
    int rc;

    x->walked++;
    /* Known already when a rebuild read it after its mark was taken. */
    if (strmap_get(x->c->things, name, len))
        return DD_OK;
    i = added_slot(x->slots, x->b->mask, name, len, &old);
    if (old)
        return DD_OK;
    if (x->b->n_added == x->b->room)
        return DD_ERR_LIMIT;
    /* At most half the slots taken: every probe ends at a NULL slot. */
    assert(2 * x->b->n_added < x->b->mask + 1);
    if (!(t = malloc(sizeof(*t) + len + 1)))
        return DD_ERR_NOMEM;
    memcpy(t->name, name, len + 1);
    rc = copy_thing(&t->thing, type_name, attributes);
    if (rc) {
        thing_cleanup(&t->thing);
        free(t);
        return rc;
    }
    atomic_store_explicit(&x->slots[i], t, memory_order_release);
    x->b->n_added++;
    return DD_OK;
}

int config_extend(const struct broker_config *c, struct store *s, int64_t after_rowid,
                  size_t expected, struct broker_config **out, size_t *added)
{
    struct extension x = { c, c->build, atomic_load(&c->build->slots), 0 };
    struct broker_config *n;
    int rc;

    *out = NULL;
    *added = 0;
    if (expected > x.b->room - x.b->n_added)
        return DD_ERR_LIMIT;
    if (!x.slots) {
        size_t slots = 1;

        while (slots < 2 * x.b->room)
            slots <<= 1;
        if (!(x.slots = calloc(slots, sizeof(*x.slots))))
            return DD_ERR_NOMEM;
        x.b->mask = slots - 1;
        atomic_store_explicit(&x.b->slots, x.slots, memory_order_release);
    }
    if (!(n = config_share(c)))
        return DD_ERR_NOMEM;
    rc = store_snapshot_things_after(s, after_rowid, add_new_thing, &x);
    *added = x.walked;
    if (rc) {
        config_free(n);
        return rc;
    }
    *out = n;
    return DD_OK;
}

struct broker_config *config_share(const struct broker_config *c)
{
    struct broker_config *n = malloc(sizeof(*n));

    if (!n)
        return NULL;
    *n = *c;
    n->retired_next = NULL;
    atomic_fetch_add(&n->build->refs, 1);
    return n;
}

bool config_same_dims(const struct broker_config *a, const struct broker_config *b)
{
    size_t na = a ? a->n_dims : 0, nb = b ? b->n_dims : 0, i, j;

    if (na != nb)
        return false;
    for (i = 0; i < na; i++) {
        const struct config_dim *x = &a->dims[i], *y = &b->dims[i];

        if (strcmp(x->name, y->name) != 0 || x->n_filters != y->n_filters)
            return false;
        for (j = 0; j < x->n_filters; j++)
            if (strcmp(x->filters[j], y->filters[j]) != 0)
                return false;
    }
    return true;
}

const struct config_cert *config_cert(const struct broker_config *c, const char *cert_id)
{
    return c && cert_id ? strmap_get(c->certs, cert_id, strlen(cert_id)) : NULL;
}

const struct config_thing *config_thing(const struct broker_config *c, const char *name)
{
    _Atomic(struct added_thing *) *slots;
    const struct config_thing *t;
    struct added_thing *added;
    size_t len;

    if (!c || !name)
        return NULL;
    len = strlen(name);
    if ((t = strmap_get(c->things, name, len)))
        return t;
    slots = atomic_load_explicit(&c->build->slots, memory_order_acquire);
    if (!slots)
        return NULL;
    added_slot(slots, c->build->mask, name, len, &added);
    return added ? &added->thing : NULL;
}

/* Free a build's table of things added. */
static void free_added(struct config_build *b)
{
    _Atomic(struct added_thing *) *slots = atomic_load(&b->slots);
    size_t i;

    for (i = 0; slots && i <= b->mask; i++) {
        struct added_thing *t = atomic_load(&slots[i]);

        if (t) {
            thing_cleanup(&t->thing);
            free(t);
        }
    }
    free(slots);
    free(b);
}

void config_free(struct broker_config *c)
{
    size_t i, j;

    if (!c)
        return;
    if (c->build && atomic_fetch_sub(&c->build->refs, 1) > 1) {
        free(c); /* its build lives on in another snapshot */
        return;
    }
    if (c->build)
        free_added(c->build);
    strmap_free(c->things, thing_free);
    strmap_free(c->certs, cert_free);
    for (i = 0; i < c->n_sets; i++)
        policy_set_free(c->sets[i]);
    free(c->sets);
    for (i = 0; i < c->n_dims; i++) {
        for (j = 0; j < c->dims[i].n_filters; j++)
            free(c->dims[i].filters[j]);
        free(c->dims[i].filters);
        free(c->dims[i].name);
    }
    free(c);
}
