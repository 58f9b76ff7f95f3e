/* SPDX-License-Identifier: MIT */
/* store_tags.c: the tags table (see store_tags.h), and the table of the
 * IoT resource kinds that take tags. */
#include "store/iot/store_tags.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_internal.h"

/* The IoT kinds AWS lets users tag that ddlocal has, each with the query
 * that finds one by name (?1). Things and certificates are not here: AWS
 * tags neither. A new taggable kind (thing types, billing groups) is one
 * row here and one trigger in its migration (schema/014_tags.sql). */
static const struct taggable {
    enum names_arn_type kind;
    const char *exists_sql;
} taggables[] = {
    { NAMES_ARN_THING_GROUP, "SELECT 1 FROM thing_groups WHERE name = ?1" },
    { NAMES_ARN_POLICY, "SELECT 1 FROM policies WHERE name = ?1" },
    { NAMES_ARN_SECURITY_PROFILE, "SELECT 1 FROM security_profiles WHERE name = ?1" },
    { NAMES_ARN_MITIGATION_ACTION, "SELECT 1 FROM mitigation_actions WHERE name = ?1" },
    { NAMES_ARN_DIMENSION, "SELECT 1 FROM dimensions WHERE name = ?1" },
    { NAMES_ARN_CUSTOM_METRIC, "SELECT 1 FROM custom_metrics WHERE name = ?1" },
    { NAMES_ARN_THING_TYPE, "SELECT 1 FROM thing_types WHERE name = ?1" },
    { NAMES_ARN_BILLING_GROUP, "SELECT 1 FROM billing_groups WHERE name = ?1" },
    { NAMES_ARN_ROLE_ALIAS, "SELECT 1 FROM role_aliases WHERE name = ?1" },
    { NAMES_ARN_CACERT, "SELECT 1 FROM ca_certificates WHERE cert_id = ?1" },
};

static const struct taggable *find_taggable(enum names_arn_type kind)
{
    size_t i;

    for (i = 0; i < sizeof(taggables) / sizeof(taggables[0]); i++)
        if (taggables[i].kind == kind)
            return &taggables[i];
    return NULL;
}

bool store_tags_taggable(enum names_arn_type kind)
{
    return find_taggable(kind) != NULL;
}

int store_tags_resource_exists(struct store *s, enum names_arn_type kind, const char *name,
                               bool *out)
{
    const struct taggable *t = find_taggable(kind);

    assert(t); /* the caller asked store_tags_taggable() first */
    return store__found(store__exists(s, t->exists_sql, "find tagged resource", "t", name), out);
}

static void tag_cleanup(void *item)
{
    struct store_tag *t = item;

    store__free_fields(t, sizeof(*t), 2, t->key, t->value);
}

void store_tags_page_cleanup(struct store_tags_page *page)
{
    if (page)
        store__clear_page(page, sizeof(*page), page->v, page->n, sizeof(*page->v), tag_cleanup);
}

int store_tags_set(struct store *s, const char *arn, const struct tags_pair *tags, size_t n,
                   size_t max, struct dd_errbuf *eb)
{
    static const char set_sql[] = "INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value";
    static const char count_sql[] = "SELECT count(*) FROM tags WHERE arn = ?1";
    int64_t count = 0;
    size_t i;
    int rc;

    rc = store__begin(s, eb);
    if (rc)
        return rc;
    for (i = 0; !rc && i < n; i++)
        rc = store__run(s, set_sql, "set tag", "tts", arn, tags[i].key,
                        tags[i].value ? tags[i].value : "");
    if (!rc)
        rc = store__int64(s, count_sql, "count tags", &count, "t", arn);
    if (!rc && (size_t)count > max)
        rc = tags_fail_limit(eb);
    return store__finish(s, rc);
}

int store_tags_remove(struct store *s, const char *arn, const char *const *keys, size_t n)
{
    static const char sql[] = "DELETE FROM tags WHERE arn = ?1 AND key = ?2";
    size_t i;
    int rc = store_begin(s);

    if (rc)
        return rc;
    for (i = 0; !rc && i < n; i++)
        rc = store__run(s, sql, "remove tag", "tt", arn, keys[i]);
    return store__finish(s, rc);
}

static int read_tag(sqlite3_stmt *st, void *item)
{
    struct store_tag *t = item;

    return store__columns(st, "SS", &t->key, &t->value);
}

int store_tags_list(struct store *s, const char *arn, const char *after, size_t limit,
                    struct store_tags_page *out)
{
    static const char sql[] = "SELECT key, value FROM tags WHERE arn = ?1 "
                              "AND (?2 IS NULL OR key > ?2) ORDER BY key LIMIT ?3";
    sqlite3_stmt *st;
    void *items;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = store__stmt(s, sql, &st, "ttI", arn, after, (int64_t)limit + 1);
    if (rc)
        return rc;
    rc = store__collect(s, st, limit, sizeof(*out->v), read_tag, tag_cleanup, &items, &out->n,
                        &out->more, "list tags");
    out->v = items;
    return rc;
}

int store_tags_contains(struct store *s, const char *arn, const struct tags_pair *tags, size_t n,
                        bool *out)
{
    static const char sql[] = "SELECT 1 FROM tags WHERE arn = ?1 AND key = ?2 AND value = ?3";
    size_t i;
    int rc = DD_OK;

    *out = true;
    for (i = 0; !rc && *out && i < n; i++)
        rc = store__found(store__exists(s, sql, "find tag", "tts", arn, tags[i].key,
                                        tags[i].value ? tags[i].value : ""),
                          out);
    if (rc)
        *out = false;
    return rc;
}

int store_tags_drop(struct store *s, const char *arn)
{
    return store__run(s, "DELETE FROM tags WHERE arn = ?1", "drop tags", "t", arn);
}
