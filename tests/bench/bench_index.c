/* SPDX-License-Identifier: MIT */
/* bench_index.c: bench-index, the benchmark of SearchIndex over a large
 * fleet: what the server does for one page (parse the query, walk the
 * things with store_index_each_thing(), build the document of each of at
 * most 100 matches), on a temporary database of N things (100,000 by
 * default) with three attributes and a classic shadow each, written through
 * store/ as CreateThing and UpdateThingShadow write them.
 *
 * Four queries: an exact term, a prefix wildcard, a numeric range and a
 * boolean combination of three terms; and a fifth that matches nothing, so
 * every thing is read (the worst case). Each runs R times (40 by default);
 * the median and the slowest but one of the R (p99 of so few runs is the
 * maximum, which a shared machine's hiccup decides) are reported, with the
 * number of things on the page. The target is a p99 under 50 ms.
 *
 * Test code, built and run by tests/bench/run.sh (make bench). Prints a
 * human-readable report and one JSON line (prefix "json: "); exits 1 on a
 * usage error, 2 when any step fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/fleetquery.h"
#include "core/shadow.h"
#include "store/index/store_index.h"
#include "store/iot/store_registry.h"
#include "store/iot_data/store_shadow.h"
#include "store/store.h"
#include "tests/bench/bench_util.h"

#define PAGE 100

static const struct {
    const char *label, *query;
} queries[] = {
    { "exact term", "thingName:thing-054321" },
    { "prefix wildcard", "thingName:thing-05*" },
    { "numeric range", "attributes.temp:[20 TO 30]" },
    { "three terms", "attributes.site:north AND shadow.reported.battery<50 AND NOT "
                     "attributes.model:legacy" },
    { "no match", "attributes.model:none" }, /* the worst case: every thing is read */
};

#define N_QUERIES (sizeof(queries) / sizeof(queries[0]))

static void fail(const char *what, int rc)
{
    fprintf(stderr, "bench-index: %s: %s\n", what, dd_strerror(rc));
    exit(2);
}

/* The fleet: thing-NNNNNN with temp 0-99, site north/south/east, model
 * legacy for one in ten, and a reported battery 0-99. */
static void make_fleet(struct store *s, long n)
{
    struct shadow_limits lim;
    long i;

    shadow_limits_default(&lim);
    for (i = 0; i < n; i++) {
        static const char *const sites[] = { "north", "south", "east" };
        char name[32], id[64], attrs[128], doc[96];
        struct store_thing_spec spec;
        struct shadow_update_result r;
        struct shadow_error err;
        struct store_thing t;
        struct dd_errbuf eb;
        int rc;

        snprintf(name, sizeof(name), "thing-%06ld", i);
        snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012ld", i);
        snprintf(attrs, sizeof(attrs), "{\"temp\":\"%ld\",\"site\":\"%s\",\"model\":\"%s\"}",
                 (i * 7919) % 100, sites[i % 3], i % 10 ? "v2" : "legacy");
        memset(&spec, 0, sizeof(spec));
        spec.name = name;
        spec.thing_id = id;
        spec.attributes = attrs;
        spec.now_ms = 1700000000000;
        rc = store_thing_create(s, &spec, &t, &eb);
        if (rc)
            fail("create a thing", rc);
        store_thing_cleanup(&t);
        snprintf(doc, sizeof(doc), "{\"state\":{\"reported\":{\"battery\":%ld}}}", (i * 31) % 100);
        rc = store_shadow_update(s, name, "", doc, strlen(doc), 1700000000, &lim, false, &r, &err);
        if (rc)
            fail("update a shadow", rc);
        shadow_update_result_cleanup(&r);
    }
}

struct page {
    size_t n;
};

/* As SearchIndex: the document of each of the first PAGE matches, and one
 * more match to know that another page follows. */
static int take(void *ctx, const char *name, struct store_index_thing *thing)
{
    struct page *p = ctx;
    cJSON *doc = NULL;
    int rc;

    (void)name;
    if (p->n == PAGE)
        return DD_OK;
    rc = store_index_thing_document(thing, &doc);
    cJSON_Delete(doc);
    p->n++;
    return rc;
}

static double one_search(struct store *s, const char *text, size_t *n)
{
    struct fleetquery *q = NULL;
    struct page p = { 0 };
    struct dd_errbuf eb;
    double t0 = bench_now_ms();
    int rc = fleetquery_parse(text, strlen(text), FLEETQUERY_THINGS, &q, &eb);

    if (!rc)
        rc = store_index_each_thing(s, q, NULL, PAGE + 1, take, &p, &eb);
    fleetquery_free(q);
    if (rc)
        fail(text, rc);
    *n = p.n;
    return bench_now_ms() - t0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? atoi(argv[2]) : 40, r;
    char dir[64], path[96];
    struct store_index_config cfg;
    struct dd_errbuf eb;
    struct store *s = NULL;
    double t0, ms[1000], med[N_QUERIES], p99[N_QUERIES];
    size_t i, hits[N_QUERIES];
    int rc;

    if (n < 1 || runs < 2 || runs > 1000) {
        fprintf(stderr, "usage: bench-index [THINGS [RUNS (2-1000)]]\n");
        return 1;
    }
    snprintf(dir, sizeof(dir), "%s/bench-index-XXXXXX", P_tmpdir);
    if (!mkdtemp(dir)) {
        perror("bench-index: mkdtemp");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/ddlocal.db", dir);
    rc = store_open(path, &s, &eb);
    if (rc)
        fail(eb.msg, rc);
    t0 = bench_now_ms();
    make_fleet(s, n);
    printf("fleet index: %ld things with attributes and a shadow, written in %.1f s\n", n,
           (bench_now_ms() - t0) / 1e3);
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.thing_mode, "REGISTRY_AND_SHADOW");
    strcpy(cfg.connectivity_mode, "OFF");
    strcpy(cfg.defender_mode, "OFF");
    strcpy(cfg.named_shadow_mode, "OFF");
    strcpy(cfg.group_mode, "OFF");
    rc = store_index_config_put(s, &cfg, 1700000000000);
    if (rc)
        fail("configure", rc);
    for (i = 0; i < N_QUERIES; i++) {
        for (r = 0; r < runs; r++)
            ms[r] = one_search(s, queries[i].query, &hits[i]);
        qsort(ms, (size_t)runs, sizeof(ms[0]), bench_cmp_ms);
        med[i] = ms[runs / 2];
        p99[i] = ms[runs - 2];
        printf("  %-16s %-72s %3zu things  median %7.2f ms  p99 %7.2f ms\n", queries[i].label,
               queries[i].query, hits[i], med[i], p99[i]);
    }
    printf("json: {\"things\":%ld,\"runs\":%d", n, runs);
    for (i = 0; i < N_QUERIES; i++)
        printf(",\"q%zu\":{\"hits\":%zu,\"median_ms\":%.2f,\"p99_ms\":%.2f}", i, hits[i], med[i],
               p99[i]);
    printf("}\n");
    store_close(s);
    bench_remove_db(dir, "ddlocal.db");
    return 0;
}
