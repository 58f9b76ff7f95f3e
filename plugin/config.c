/* SPDX-License-Identifier: MIT */
/* config.c: building the broker thread's snapshot (see config.h). */
#include "plugin/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "plugin/strlist.h"
#include "store/defender/store_detect.h"
#include "store/iot/store_certs.h"
#include "store/iot/store_policies.h"
#include "store/iot/store_registry.h"

struct load {
    struct broker_config *c;
    size_t skipped;
    struct strlist things;      /* registered thing names, collected before the per-thing reads */
    struct strmap *by_policies; /* "name\0name\0..." -> compiled set, shared */
};

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
    d->name = strdup(name);
    d->filters = calloc((size_t)cJSON_GetArraySize(values) + 1, sizeof(*d->filters));
    if (!d->name || !d->filters)
        goto nomem;
    cJSON_ArrayForEach(v, values)
    {
        if (!cJSON_IsString(v))
            continue;
        d->filters[i] = strdup(v->valuestring);
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

static int collect_thing(void *ctx, const char *name)
{
    struct load *l = ctx;

    return strlist_add(&l->things, name, NULL);
}

/* The compiled set for a thing's effective policies, shared between things
 * with the same policies. *set is NULL when it has none. */
static int policies_for(struct load *l, const struct store_policy_docs *docs,
                        const struct policy_set **set, struct dd_errbuf *eb)
{
    struct policy_source src[64];
    struct policy_set *compiled, **sets;
    char key[64 * 130];
    size_t i, len = 0, n = docs->n < 64 ? docs->n : 64;
    int rc;

    *set = NULL;
    if (!n)
        return DD_OK;
    for (i = 0; i < n; i++) {
        size_t k = strlen(docs->v[i].name) + 1;

        if (len + k > sizeof(key))
            break;
        memcpy(key + len, docs->v[i].name, k);
        len += k;
        src[i].name = docs->v[i].name;
        src[i].document = docs->v[i].document;
        src[i].document_len = strlen(docs->v[i].document);
    }
    *set = strmap_get(l->by_policies, key, len);
    if (*set)
        return DD_OK;
    rc = policy_set_new(src, n, &compiled, eb);
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

static void thing_free(void *v)
{
    struct config_thing *t = v;
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n_attributes; i++) {
        free((void *)(uintptr_t)t->attributes[i].name);
        free((void *)(uintptr_t)t->attributes[i].value);
    }
    free(t->attributes);
    free(t->type_name);
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
    t->attributes = calloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*t->attributes));
    if (!t->attributes) {
        cJSON_Delete(o);
        return DD_ERR_NOMEM;
    }
    cJSON_ArrayForEach(a, o)
    {
        if (!cJSON_IsString(a))
            continue;
        t->attributes[n].name = strdup(a->string);
        t->attributes[n].value = strdup(a->valuestring);
        t->n_attributes = ++n;
        if (!t->attributes[n - 1].name || !t->attributes[n - 1].value) {
            cJSON_Delete(o);
            return DD_ERR_NOMEM;
        }
    }
    cJSON_Delete(o);
    return DD_OK;
}

static int load_thing(struct store *s, struct load *l, const char *name, struct dd_errbuf *eb)
{
    struct store_policy_docs docs = { 0 };
    struct store_thing thing = { 0 };
    struct config_thing *t = calloc(1, sizeof(*t));
    int rc;

    if (!t)
        return DD_ERR_NOMEM;
    rc = store_thing_get(s, name, &thing, NULL);
    if (rc == DD_ERR_NOT_FOUND) {
        free(t);
        return DD_OK; /* deleted since it was listed */
    }
    if (!rc && thing.type_name[0] && !(t->type_name = strdup(thing.type_name)))
        rc = DD_ERR_NOMEM;
    if (!rc)
        rc = copy_attributes(t, thing.attributes);
    if (!rc)
        rc = store_policy_effective(s, name, STORE_TARGET_CERT, NULL, &docs, NULL);
    if (rc == DD_ERR_NOT_FOUND)
        rc = DD_OK;
    if (!rc)
        rc = policies_for(l, &docs, &t->policies, eb);
    if (!rc && strmap_put(l->c->things, name, strlen(name), t, NULL))
        rc = DD_ERR_NOMEM;
    store_policy_docs_cleanup(&docs);
    store_thing_cleanup(&thing);
    if (rc)
        thing_free(t);
    return rc;
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
 * it alone and for each thing it is attached to. */
static int load_cert(struct store *s, struct load *l, const struct store_cert_state *st,
                     struct dd_errbuf *eb)
{
    struct store_policy_docs docs = { 0 };
    struct store_names things = { 0 };
    struct config_cert *c = calloc(1, sizeof(*c));
    size_t i;
    int rc;

    if (!c || !(c->things = strmap_new())) {
        cert_free(c);
        return DD_ERR_NOMEM;
    }
    c->active = st->status == STORE_CERT_ACTIVE;
    rc = c->active ? store_policy_docs_for_cert(s, st->cert_id, &docs) : DD_OK;
    if (!rc && c->active)
        rc = policies_for(l, &docs, &c->alone, eb);
    store_policy_docs_cleanup(&docs);
    if (!rc && c->active)
        rc = store_cert_things(s, st->cert_id, &things);
    for (i = 0; !rc && i < things.n; i++) {
        struct config_cert_thing *t = calloc(1, sizeof(*t));

        rc = t ? store_policy_effective(s, things.names[i], STORE_TARGET_CERT, st->cert_id, &docs,
                                        NULL)
               : DD_ERR_NOMEM;
        if (!rc)
            rc = policies_for(l, &docs, &t->policies, eb);
        store_policy_docs_cleanup(&docs);
        if (!rc && strmap_put(c->things, things.names[i], strlen(things.names[i]), t, NULL))
            rc = DD_ERR_NOMEM;
        if (rc)
            free(t);
    }
    store_names_cleanup(&things);
    if (!rc && strmap_put(l->c->certs, st->cert_id, strlen(st->cert_id), c, NULL))
        rc = DD_ERR_NOMEM;
    if (rc)
        cert_free(c);
    return rc;
}

static int load_certs(struct store *s, struct load *l, struct dd_errbuf *eb)
{
    struct store_cert_states states = { 0 };
    struct dd_errbuf policy_eb;
    size_t i;
    int rc = store_cert_states(s, &states);

    for (i = 0; i < states.n && !rc; i++) {
        rc = load_cert(s, l, &states.v[i], &policy_eb);
        if (rc == DD_ERR_MALFORMED_POLICY) {
            dd_fail(eb, DD_OK, "policies of certificate %s not enforced: %s", states.v[i].cert_id,
                    policy_eb.msg);
            rc = DD_OK;
        }
    }
    store_cert_states_cleanup(&states);
    return rc;
}

int config_load(struct store *s, struct broker_config **out, struct dd_errbuf *eb)
{
    struct load l = { calloc(1, sizeof(struct broker_config)), 0, { 0 }, strmap_new() };
    struct dd_errbuf policy_eb;
    size_t i;
    int rc = DD_ERR_NOMEM;

    *out = NULL;
    dd_errbuf_clear(eb);
    if (!l.c || !l.by_policies || !(l.c->things = strmap_new()) || !(l.c->certs = strmap_new()))
        goto out;
    rc = store_detect_each_dimension(s, add_dimension, &l);
    if (!rc)
        rc = store_detect_each_thing(s, collect_thing, &l);
    for (i = 0; i < l.things.n && !rc; i++) {
        rc = load_thing(s, &l, l.things.v[i], &policy_eb);
        if (rc == DD_ERR_MALFORMED_POLICY) {
            /* Stored documents were validated; one that no longer compiles
             * is left out rather than taking the broker's policies down. */
            dd_fail(eb, DD_OK, "policies of %s not enforced: %s", l.things.v[i], policy_eb.msg);
            rc = DD_OK;
        }
    }
    if (!rc)
        rc = load_certs(s, &l, eb);
out:
    strlist_cleanup(&l.things);
    strmap_free(l.by_policies, NULL);
    if (rc) {
        config_free(l.c);
        return rc;
    }
    if (l.skipped && !eb->msg[0])
        dd_fail(eb, DD_OK, "only the first %d dimensions (by name) are counted; %zu ignored",
                CLIENTS_MAX_DIMS, l.skipped);
    *out = l.c;
    return DD_OK;
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
    return c && name ? strmap_get(c->things, name, strlen(name)) : NULL;
}

void config_free(struct broker_config *c)
{
    size_t i, j;

    if (!c)
        return;
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
