/* SPDX-License-Identifier: MIT */
/* config.c: building the broker thread's snapshot (see config.h). */
#include "plugin/config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/store_detect.h"

struct load {
    struct broker_config *c;
    size_t skipped;
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

int config_load(struct store *s, struct broker_config **out, struct dd_errbuf *eb)
{
    struct load l = { calloc(1, sizeof(struct broker_config)), 0 };
    int rc;

    *out = NULL;
    dd_errbuf_clear(eb);
    if (!l.c)
        return DD_ERR_NOMEM;
    rc = store_detect_each_dimension(s, add_dimension, &l);
    if (rc) {
        config_free(l.c);
        return rc;
    }
    if (l.skipped)
        dd_fail(eb, DD_OK, "only the first %d dimensions (by name) are counted; %zu ignored",
                CLIENTS_MAX_DIMS, l.skipped);
    *out = l.c;
    return DD_OK;
}

void config_free(struct broker_config *c)
{
    size_t i, j;

    if (!c)
        return;
    for (i = 0; i < c->n_dims; i++) {
        for (j = 0; j < c->dims[i].n_filters; j++)
            free(c->dims[i].filters[j]);
        free(c->dims[i].filters);
        free(c->dims[i].name);
    }
    free(c);
}
