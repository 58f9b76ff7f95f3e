/* SPDX-License-Identifier: MIT */
/* test_store_sns.c: the SNS tables on real SQLite (a temp file, so the test
 * can add alerts rows the way the engine does): topics, subscriptions and
 * the confirmation handshake, publish fan-out, the per-subscription head of
 * the delivery queue and the retry outcomes, alert fan-out with webhooks and
 * its cursor, the alerts view, signing key, Lambda mappings and the sink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/sns/store_sns.h"
#include "store/sns/store_sns_local.h"
#include "store/sqs/store_sqs.h"
#include "store/store.h"
#include "tests/unit/alloc_fail.h"
#include "tests/unit/store_fixture.h"

#define T1  "arn:aws:sns:us-east-1:123456789012:T1"
#define T2  "arn:aws:sns:us-east-1:123456789012:T2"
#define S1  T1 ":11111111-1111-4111-8111-111111111111"
#define S2  T1 ":22222222-2222-4222-8222-222222222222"
#define FN  "arn:aws:lambda:us-east-1:123456789012:function:f"
#define NOW 1700000000000LL

struct fx {
    struct store_fixture_dir d;
    struct store *s;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct dd_errbuf eb;

    assert_non_null(f);
    store_fixture_dir_make(&f->d, "sns", "db");
    assert_int_equal(store_open(f->d.path, &f->s, &eb), DD_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    store_close(f->s);
    store_fixture_dir_remove(&f->d);
    free(f);
    return 0;
}

/* Add an alerts row as the engine would (a second connection). */
static void add_alert(struct fx *f, const char *topic, const char *message)
{
    sqlite3 *db;
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_open(f->d.path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO alerts (created_ms, profile_name, topic_arn, "
                                        "message) VALUES (?, 'P', ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, NOW);
    if (topic)
        sqlite3_bind_text(st, 2, topic, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, message, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- collectors ---- */

struct names {
    int n;
    char v[8][400];
};

static int collect_topic(void *ctx, const char *arn)
{
    struct names *n = ctx;

    snprintf(n->v[n->n++], sizeof(n->v[0]), "%s", arn);
    return DD_OK;
}

static int collect_sub(void *ctx, const struct store_sns_subscription *sub)
{
    struct names *n = ctx;

    snprintf(n->v[n->n++], sizeof(n->v[0]), "%s %s %s %d", sub->arn, sub->protocol, sub->endpoint,
             sub->confirmed);
    return DD_OK;
}

struct dues {
    int n;
    int64_t id[8];
    char line[8][600];
};

static int collect_due(void *ctx, const struct store_sns_due *d)
{
    struct dues *x = ctx;

    x->id[x->n] = d->id;
    snprintf(x->line[x->n++], sizeof(x->line[0]), "%s %s %s %s %s %d",
             d->subscription_arn + strlen(T1) + 1, d->type, d->message,
             d->lambda_url ? d->lambda_url : "-", d->signature_version ? d->signature_version : "-",
             d->attempts);
    return DD_OK;
}

static struct dues due(struct fx *f, int64_t now)
{
    struct dues x = { 0 };

    assert_int_equal(store_sns_due_list(f->s, now, now, 8, collect_due, &x), DD_OK);
    return x;
}

/* The id of the one delivery due at now, after checking its line. */
static int64_t due_one(struct fx *f, int64_t now, const char *line)
{
    struct dues x = due(f, now);

    assert_int_equal(x.n, 1);
    assert_string_equal(x.line[0], line);
    return x.id[0];
}

static void subscribe(struct fx *f, const char *arn, const char *protocol, const char *endpoint,
                      const char *token, int confirmed)
{
    struct store_sns_subscribe n = {
        arn,
        T1,
        protocol,
        endpoint,
        token,
        confirmed,
        "c0ffee00-0000-4000-8000-000000000000",
        "please confirm",
        NOW,
        NOW,
        NULL,
    };
    char id[40];

    snprintf(id, sizeof(id), "c0ffee00-0000-4000-8000-%012d", (int)strlen(endpoint) + confirmed);
    n.confirm_message_id = id;
    assert_int_equal(store_sns_subscribe(f->s, &n, NULL, NULL), DD_OK);
}

static void publish(struct fx *f, const char *id, const char *message, int expect)
{
    struct store_sns_publish p = { id, T1, NULL, message, NOW, NULL, NULL, NULL };
    int n;

    assert_int_equal(store_sns_publish(f->s, &p, NOW, &n), DD_OK);
    assert_int_equal(n, expect);
}

/* ---- topics ---- */

static void test_topics(void **state)
{
    struct fx *f = *state;
    struct names n = { 0 };
    int64_t c = 7, p = 7;
    char *attrs = (char *)"x";
    int more;

    assert_int_equal(store_sns_topic_get(f->s, T1, &attrs, &c, &p), DD_ERR_NOT_FOUND);
    assert_null(attrs);
    assert_int_equal(c + p, 0);
    assert_int_equal(store_sns_topic_create(f->s, T2, "T2", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", "{\"DisplayName\":\"d\"}", NOW), DD_OK);
    /* Idempotent: a second create keeps the first attributes. */
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_topic_set_attribute(f->s, T1, "SignatureVersion", "2"), DD_OK);
    assert_int_equal(store_sns_topic_set_attribute(f->s, T1 "x", "SignatureVersion", "2"),
                     DD_ERR_NOT_FOUND);
    assert_int_equal(store_sns_topic_get(f->s, T1, &attrs, &c, &p), DD_OK);
    assert_string_equal(attrs, "{\"DisplayName\":\"d\",\"SignatureVersion\":\"2\"}");
    free(attrs);
    assert_int_equal(store_sns_topic_list(f->s, NULL, 1, collect_topic, &n, &more), DD_OK);
    assert_int_equal(n.n, 1);
    assert_int_equal(more, 1);
    assert_string_equal(n.v[0], T1);
    assert_int_equal(store_sns_topic_list(f->s, T1, 1, collect_topic, &n, &more), DD_OK);
    assert_int_equal(n.n, 2);
    assert_int_equal(more, 0);
    assert_string_equal(n.v[1], T2);
    assert_int_equal(store_sns_topic_delete(f->s, T2), DD_OK);
    assert_int_equal(store_sns_topic_delete(f->s, T2), DD_OK);
}

/* ---- subscriptions and the handshake ---- */

static void test_subscribe_confirm_unsubscribe(void **state)
{
    struct fx *f = *state;
    struct store_sns_subscribe bad = { S1,  T2,  "http", "http://x/", "tok", 0,
                                       "m", "t", NOW,    NOW,         NULL };
    struct names n = { 0 };
    int64_t c, p;
    char *attrs;
    int more;

    assert_int_equal(store_sns_subscribe(f->s, &bad, collect_sub, &n), DD_ERR_NOT_FOUND);
    assert_int_equal(n.n, 0);
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    subscribe(f, S1, "http", "http://a/", "tok1", 0);
    /* The same endpoint again gives the existing subscription, no new row. */
    bad.topic_arn = T1;
    bad.arn = S2;
    bad.endpoint = "http://a/";
    assert_int_equal(store_sns_subscribe(f->s, &bad, collect_sub, &n), DD_OK);
    assert_string_equal(n.v[0], S1 " http http://a/ 0");
    /* The confirmation is queued and due at once; it is the only delivery. */
    due_one(f, NOW,
            "11111111-1111-4111-8111-111111111111 "
            "SubscriptionConfirmation please confirm - - 0");
    assert_int_equal(store_sns_topic_get(f->s, T1, &attrs, &c, &p), DD_OK);
    free(attrs);
    assert_int_equal(c * 10 + p, 1);
    assert_int_equal(store_sns_confirm(f->s, T1, "nope", NULL, NULL), DD_ERR_NOT_FOUND);
    assert_int_equal(store_sns_confirm(f->s, T2, "tok1", NULL, NULL), DD_ERR_NOT_FOUND);
    assert_int_equal(store_sns_confirm(f->s, T1, "tok1", collect_sub, &n), DD_OK);
    assert_string_equal(n.v[1], S1 " http http://a/ 1");
    assert_int_equal(store_sns_subscription_list(f->s, T1, NULL, 10, collect_sub, &n, &more),
                     DD_OK);
    assert_int_equal(n.n, 3);
    /* Unsubscribing cancels what was still pending for it. */
    assert_int_equal(store_sns_unsubscribe(f->s, S1), DD_OK);
    assert_int_equal(store_sns_unsubscribe(f->s, S1), DD_ERR_NOT_FOUND);
    assert_int_equal(store_sns_subscription_get(f->s, S1, NULL, NULL), DD_ERR_NOT_FOUND);
    assert_int_equal(due(f, NOW).n, 0);
}

static int keep_attrs(void *ctx, const struct store_sns_subscription *sub)
{
    snprintf(ctx, 200, "%s", sub->attributes);
    return DD_OK;
}

static void test_subscription_attributes(void **state)
{
    struct fx *f = *state;
    struct store_sns_subscribe n = {
        S1,  T1,  "sqs", "arn:aws:sqs:us-east-1:123456789012:q", "t1", 1, "m",
        "t", NOW, NOW,   "{\"RawMessageDelivery\":\"true\"}"
    };
    char attrs[200] = "";

    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_subscribe(f->s, &n, keep_attrs, attrs), DD_OK);
    assert_string_equal(attrs, "{\"RawMessageDelivery\":\"true\"}");
    /* Confirmed at once: no confirmation message is queued. */
    assert_int_equal(due(f, NOW).n, 0);
    assert_int_equal(store_sns_subscription_set_attribute(f->s, S1, "FilterPolicy", "{}"), DD_OK);
    assert_int_equal(store_sns_subscription_set_attribute(f->s, S1, "RawMessageDelivery", NULL),
                     DD_OK);
    assert_int_equal(store_sns_subscription_set_attribute(f->s, S2, "FilterPolicy", "{}"),
                     DD_ERR_NOT_FOUND);
    assert_int_equal(store_sns_subscription_get(f->s, S1, keep_attrs, attrs), DD_OK);
    assert_string_equal(attrs, "{\"FilterPolicy\":\"{}\"}");
}

struct due_sqs {
    int64_t id;
    char line[300];
};

static int keep_due_sqs(void *ctx, const struct store_sns_due *d)
{
    struct due_sqs *x = ctx;

    x->id = d->id;
    snprintf(x->line, sizeof(x->line), "%s %d %s %s", d->protocol, d->raw,
             d->filter_policy ? d->filter_policy : "-", d->filter_scope ? d->filter_scope : "-");
    return DD_OK;
}

/* What queue name of database s holds: its messages' bodies, in order,
 * joined by '|'. */
static void queue_bodies_in(struct store *s, const char *name, char *out, size_t size)
{
    struct store_sqs_receive r = { 10, 1000, 3600000, 0, 0, NULL, false };
    struct store_sqs_message *msgs = NULL;
    struct store_sqs_queue q;
    size_t n = 0, i, used = 0;

    out[0] = '\0';
    assert_int_equal(store_sqs_queue_get(s, name, &q), DD_OK);
    assert_int_equal(store_sqs_receive(s, q.id, NOW + 60000, &r, &msgs, &n), DD_OK);
    for (i = 0; i < n; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", i ? "|" : "", msgs[i].body);
    store_sqs_messages_free(msgs, n);
    store_sqs_queue_cleanup(&q);
}

static void queue_bodies(struct fx *f, const char *name, char *out, size_t size)
{
    queue_bodies_in(f->s, name, out, size);
}

/* Settles each due delivery as the delivery thread does. */
struct settled {
    struct fx *f;
    const struct store_sns_local *l;
    int rc; /* the last one's */
    struct dd_errbuf eb;
};

static int settle_local(void *ctx, const struct store_sns_due *d)
{
    struct settled *st = ctx;

    st->eb.msg[0] = '\0';
    st->rc = store_sns_local_deliver(st->f->s, st->l, d, NOW, NOW, &st->eb);
    return DD_OK;
}

static void publish_local(struct fx *f, const struct store_sns_local *l, const char *id,
                          const char *message, const char *attrs)
{
    struct store_sns_publish p = { id, T1, NULL, message, NOW, NULL, attrs, l };
    int n;

    assert_int_equal(store_sns_publish(f->s, &p, NOW, &n), DD_OK);
}

/* @unittest for store_sns_local.c: deliveries to the queues of the same
 * database are settled in Publish's transaction, filter policy and raw
 * flag applied; a missing queue or another partition's stays pending for
 * the delivery thread, which settles it with store_sns_local_deliver(). */
static void test_local_queue_deliveries(void **state)
{
    struct fx *f = *state;
    struct store_sns_subscribe raw = { S1,
                                       T1,
                                       "sqs",
                                       "arn:aws:sqs:us-east-1:123456789012:q",
                                       "t1",
                                       1,
                                       "m",
                                       "t",
                                       NOW,
                                       NOW,
                                       "{\"RawMessageDelivery\":\"true\","
                                       "\"FilterPolicy\":\"{\\\"k\\\":[\\\"yes\\\"]}\","
                                       "\"FilterPolicyScope\":\"MessageBody\"}" };
    struct store_sns_subscribe wrapped = raw, away = raw;
    struct store_sns_local l;
    struct dd_errbuf eb = { { 0 } };
    struct settled st = { f, &l, -1, { { 0 } } };
    struct store_sqs_queue q;
    struct due_sqs x = { 0 };
    int64_t visible, in_flight, delayed, next;
    char bodies[8192];

    assert_int_equal(
        store_sns_local_init(f->s, "123456789012", "us-east-1", "http://h:1/", &l, &eb), DD_OK);
    assert_string_equal(l.public_url, "http://h:1");
    assert_non_null(strstr(l.cert_url, "http://h:1/_ddlocal/sns/SimpleNotificationService-"));
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_subscribe(f->s, &raw, NULL, NULL), DD_OK);
    /* No queue yet: the delivery stays pending. */
    publish_local(f, &l, "a0000000-0000-4000-8000-000000000001", "{\"k\":\"yes\",\"n\":1}", NULL);
    assert_int_equal(store_sns_due_list(f->s, NOW, NOW, 8, keep_due_sqs, &x), DD_OK);
    assert_string_equal(x.line, "sqs 1 {\"k\":[\"yes\"]} MessageBody");
    /* The delivery thread's retry; the queue's DelaySeconds delays it. */
    assert_int_equal(store_sqs_queue_create(f->s, "q", "{\"DelaySeconds\":\"5\"}", NOW), DD_OK);
    assert_int_equal(store_sns_next_due(f->s, &next), DD_OK);
    assert_int_equal(store_sns_due_list(f->s, NOW, NOW, 8, settle_local, &st), DD_OK);
    assert_int_equal(st.rc, DD_OK);
    assert_int_equal(store_sns_next_due(f->s, &next), DD_ERR_NOT_FOUND);
    assert_int_equal(store_sqs_queue_get(f->s, "q", &q), DD_OK);
    assert_int_equal(store_sqs_counts(f->s, q.id, NOW, &visible, &in_flight, &delayed), DD_OK);
    assert_int_equal(visible * 100 + in_flight * 10 + delayed, 1);
    store_sqs_queue_cleanup(&q);
    /* Filtered out, then written at once, both in Publish's transaction. */
    publish_local(f, &l, "a0000000-0000-4000-8000-000000000002", "{\"k\":\"no\"}", NULL);
    publish_local(f, &l, "a0000000-0000-4000-8000-000000000003", "{\"k\":\"yes\",\"n\":3}",
                  "{\"a\":{\"Type\":\"String\",\"Value\":\"v\"}}");
    assert_int_equal(store_sns_next_due(f->s, &next), DD_ERR_NOT_FOUND);
    queue_bodies(f, "q", bodies, sizeof(bodies));
    assert_string_equal(bodies, "{\"k\":\"yes\",\"n\":1}|{\"k\":\"yes\",\"n\":3}");
    /* Wrapped: the signed notification; another partition's queue waits. */
    wrapped.arn = S2;
    wrapped.endpoint = "arn:aws:sqs:us-east-1:123456789012:w";
    wrapped.attributes = NULL;
    wrapped.token = "t2";
    assert_int_equal(store_sns_subscribe(f->s, &wrapped, NULL, NULL), DD_OK);
    away.arn = T1 ":33333333-3333-4333-8333-333333333333";
    away.endpoint = "arn:aws:sqs:eu-west-1:123456789012:w";
    away.attributes = NULL;
    away.token = "t3";
    assert_int_equal(store_sns_subscribe(f->s, &away, NULL, NULL), DD_OK);
    assert_int_equal(store_sqs_queue_create(f->s, "w", "{}", NOW), DD_OK);
    publish_local(f, &l, "a0000000-0000-4000-8000-000000000004", "hi", NULL);
    queue_bodies(f, "w", bodies, sizeof(bodies));
    assert_non_null(strstr(bodies, "\"Type\" : \"Notification\""));
    assert_non_null(strstr(bodies, "\"Message\" : \"hi\""));
    assert_non_null(strstr(bodies, "\"Signature\" : \""));
    assert_non_null(strstr(bodies, "\"UnsubscribeURL\" : \"http://h:1/?Action=Unsubscribe"));
    assert_int_equal(store_sns_due_list(f->s, NOW + 2000, NOW, 8, settle_local, &st), DD_OK);
    assert_int_equal(st.rc, DD_ERR_NOT_FOUND);
    assert_non_null(strstr(st.eb.msg, "not in this partition"));
    store_sns_local_cleanup(&l);
    store_sns_local_cleanup(&l); /* idempotent */
}

/* store_sns_local_open_fn: the database ctx for eu-west-1, none else. */
static int open_eu(void *ctx, const char *account, const char *region, struct store **out,
                   struct dd_errbuf *eb)
{
    *out = NULL;
    if (strcmp(account, "123456789012") != 0 || strcmp(region, "eu-west-1") != 0)
        return dd_fail(eb, DD_ERR_NOT_FOUND, "no partition");
    *out = ctx;
    return DD_OK;
}

/* Settles each due delivery to database ctx as the delivery thread does. */
struct settled_away {
    struct fx *f;
    const struct store_sns_local *l;
    struct store *qs;
    int rc; /* the last one's */
};

static int settle_away(void *ctx, const struct store_sns_due *d)
{
    struct settled_away *st = ctx;
    struct dd_errbuf eb = { { 0 } };
    struct store *qs = NULL;

    if (strstr(d->endpoint, ":eu-west-1:"))
        qs = st->qs;
    st->rc =
        qs ? store_sns_local_deliver_away(st->f->s, st->l, d, qs, NOW, NOW, &eb) : DD_ERR_NOT_FOUND;
    return DD_OK;
}

/* @unittest for store_sns_local.c: deliveries to queues of another
 * partition's database are written there after Publish's transaction
 * (store_sns_local_message_away()) and recorded delivered here; filtered
 * ones are recorded filtered; a missing queue or partition stays pending
 * until the delivery thread's store_sns_local_deliver_away() settles it. */
static void test_away_queue_deliveries(void **state)
{
    struct fx *f = *state;
    struct store_sns_subscribe w = { S1,   T1,  "sqs", "arn:aws:sqs:eu-west-1:123456789012:w",
                                     "t1", 1,   "m",   "t",
                                     NOW,  NOW, NULL };
    struct store_sns_subscribe filtered = w, later = w, nowhere = w;
    struct store *qs = store_fixture_open();
    struct store_sns_local l;
    struct dd_errbuf eb = { { 0 } };
    struct settled_away st = { f, &l, qs, -1 };
    int64_t next;
    char bodies[8192];

    assert_int_equal(
        store_sns_local_init(f->s, "123456789012", "us-east-1", "http://h:1/", &l, &eb), DD_OK);
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_subscribe(f->s, &w, NULL, NULL), DD_OK);
    filtered.arn = S2;
    filtered.endpoint = "arn:aws:sqs:eu-west-1:123456789012:f";
    filtered.token = "t2";
    filtered.attributes = "{\"FilterPolicy\":\"{\\\"k\\\":[\\\"x\\\"]}\","
                          "\"FilterPolicyScope\":\"MessageBody\"}";
    assert_int_equal(store_sns_subscribe(f->s, &filtered, NULL, NULL), DD_OK);
    later.arn = T1 ":33333333-3333-4333-8333-333333333333";
    later.endpoint = "arn:aws:sqs:eu-west-1:123456789012:later";
    later.token = "t3";
    assert_int_equal(store_sns_subscribe(f->s, &later, NULL, NULL), DD_OK);
    nowhere.arn = T1 ":44444444-4444-4444-8444-444444444444";
    nowhere.endpoint = "arn:aws:sqs:ap-south-1:123456789012:w";
    nowhere.token = "t4";
    assert_int_equal(store_sns_subscribe(f->s, &nowhere, NULL, NULL), DD_OK);
    assert_int_equal(store_sqs_queue_create(qs, "w", "{}", NOW), DD_OK);
    assert_int_equal(store_sqs_queue_create(qs, "f", "{}", NOW), DD_OK);
    publish_local(f, &l, "a0000000-0000-4000-8000-000000000005", "{\"k\":\"y\"}", NULL);
    /* Publish's transaction filters out one and leaves the rest pending,
     * due to the delivery thread only 2 s later (the publisher's turn)... */
    assert_int_equal(store_fixture_int(f->s, "SELECT count(*) FROM sns_deliveries "
                                             "WHERE status = 'pending'"),
                     3);
    assert_int_equal(store_fixture_int(f->s, "SELECT count(*) FROM sns_deliveries WHERE "
                                             "status = 'pending' AND next_attempt_real_ms = "
                                             "1700000000000 + 2000"),
                     3);
    /* ...then each is written where it can be. */
    assert_int_equal(store_sns_local_message_away(f->s, &l, "a0000000-0000-4000-8000-000000000005",
                                                  open_eu, qs, NOW, NOW),
                     DD_OK);
    queue_bodies_in(qs, "w", bodies, sizeof(bodies));
    assert_non_null(strstr(bodies, "\"Message\" : \"{\\\"k\\\":\\\"y\\\"}\""));
    assert_non_null(strstr(bodies, "\"Signature\" : \""));
    queue_bodies_in(qs, "f", bodies, sizeof(bodies));
    assert_string_equal(bodies, "");
    assert_int_equal(store_fixture_int(f->s, "SELECT count(*) FROM sns_deliveries "
                                             "WHERE status = 'pending'"),
                     2);
    /* An unknown message has nothing to walk. */
    assert_int_equal(store_sns_local_message_away(f->s, &l, "nope", open_eu, qs, NOW, NOW), DD_OK);
    /* The delivery thread: the missing queue is retried until it exists; the
     * partition with no database stays pending. */
    assert_int_equal(store_sns_due_list(f->s, NOW + 2000, NOW, 8, settle_away, &st), DD_OK);
    assert_int_equal(st.rc, DD_ERR_NOT_FOUND);
    assert_int_equal(store_sqs_queue_create(qs, "later", "{}", NOW), DD_OK);
    assert_int_equal(store_sns_due_list(f->s, NOW + 2000, NOW, 8, settle_away, &st), DD_OK);
    queue_bodies_in(qs, "later", bodies, sizeof(bodies));
    assert_non_null(strstr(bodies, "\"Type\" : \"Notification\""));
    assert_int_equal(store_fixture_int(f->s,
                                       "SELECT count(*) FROM sns_deliveries "
                                       "WHERE status = 'pending' AND endpoint LIKE '%ap-south%'"),
                     1);
    assert_int_equal(store_fixture_int(f->s, "SELECT count(*) FROM sns_deliveries "
                                             "WHERE status = 'pending'"),
                     1);
    assert_int_equal(store_sns_next_due(f->s, &next), DD_OK);
    store_sns_local_cleanup(&l);
    store_close(qs);
}

/* A retry a delivery policy schedules waits for the emulated clock; a
 * delivery that failed for good goes to its dead-letter queue. */
static void test_retry_at_and_dead_letter(void **state)
{
    struct fx *f = *state;
    struct store_sns_subscribe n = { S1,
                                     T1,
                                     "http",
                                     "http://h/",
                                     "t1",
                                     1,
                                     "m",
                                     "t",
                                     NOW,
                                     NOW,
                                     "{\"RawMessageDelivery\":\"true\",\"RedrivePolicy\":"
                                     "\"{\\\"deadLetterTargetArn\\\":\\\"arn:aws:sqs:us-east-1:"
                                     "123456789012:dlq\\\"}\"}" };
    struct store_sns_local l;
    struct dd_errbuf eb = { { 0 } };
    struct dues d;
    char bodies[1024];
    int64_t id;

    assert_int_equal(store_sns_local_init(f->s, "123456789012", "us-east-1", "http://h:1", &l, &eb),
                     DD_OK);
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_subscribe(f->s, &n, NULL, NULL), DD_OK);
    publish(f, "a0000000-0000-4000-8000-000000000001", "lost", 1);
    id = due(f, NOW).id[0];
    assert_int_equal(store_sns_retry_at(f->s, id, NOW, NOW + 5000, 500, "HTTP 500"), DD_OK);
    assert_int_equal(due(f, NOW).n, 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(store_sns_due_list(f->s, NOW, NOW + 4999, 8, collect_due, &d), DD_OK);
    assert_int_equal(d.n, 0); /* emulated time not there yet */
    d = due(f, NOW + 5000);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.line[0], "11111111-1111-4111-8111-111111111111 Notification lost - - 1");
    /* No dead-letter queue yet: nothing changes. */
    assert_int_equal(store_sns_local_dead_letter(f->s, &l, id, NOW, NOW, 500, "HTTP 500", &eb),
                     DD_ERR_NOT_FOUND);
    assert_int_equal(due(f, NOW + 5000).n, 1);
    assert_int_equal(store_sqs_queue_create(f->s, "dlq", "{}", NOW), DD_OK);
    assert_int_equal(store_sns_local_dead_letter(f->s, &l, id, NOW, NOW, 500, "HTTP 500", &eb),
                     DD_OK);
    assert_int_equal(due(f, NOW + 5000).n, 0);
    queue_bodies(f, "dlq", bodies, sizeof(bodies));
    assert_string_equal(bodies, "lost"); /* raw, as the subscriber would have had it */
    /* with AWS's three attributes saying why */
    assert_int_equal(store_fixture_int(f->s, "SELECT count(*) FROM sqs_messages WHERE "
                                             "json_extract(attributes, '$.ErrorCode.StringValue')"
                                             " = '500' AND json_extract(attributes, "
                                             "'$.ErrorMessage.StringValue') = 'HTTP 500' AND "
                                             "length(json_extract(attributes, "
                                             "'$.RequestID.StringValue')) = 36"),
                     1);
    /* Done: a second time finds nothing pending. */
    assert_int_equal(store_sns_local_dead_letter(f->s, &l, id, NOW, NOW, 500, "HTTP 500", &eb),
                     DD_ERR_NOT_FOUND);
    store_sns_local_cleanup(&l);
}

/* ---- publish, order and outcomes ---- */

static void test_publish_order_and_retries(void **state)
{
    struct fx *f = *state;
    struct store_sns_publish missing = { "m", T2, NULL, "x", NOW, NULL, NULL, NULL };
    struct dues d;
    int64_t next, id;
    int n = 9;

    assert_int_equal(store_sns_publish(f->s, &missing, NOW, &n), DD_ERR_NOT_FOUND);
    assert_int_equal(n, 0);
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", "{\"SignatureVersion\":\"2\"}", NOW),
                     DD_OK);
    subscribe(f, S1, "lambda", FN, "tok1", 1);
    subscribe(f, S2, "http", "http://b/", "tok2", 0); /* pending: gets no notifications */
    assert_int_equal(store_sns_lambda_put(f->s, FN, "http://runner/"), DD_OK);
    publish(f, "a0000000-0000-4000-8000-000000000001", "one", 1);
    publish(f, "a0000000-0000-4000-8000-000000000002", "two", 1);
    assert_int_equal(store_sns_next_due(f->s, &next), DD_OK);
    assert_int_equal(next, NOW);
    /* One head per subscription: S2's confirmation and S1's first message. */
    d = due(f, NOW);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.line[1],
                        "11111111-1111-4111-8111-111111111111 Notification one http://runner/ 2 0");
    /* A retry holds the second message back until it is due again. */
    assert_int_equal(store_sns_attempt(f->s, d.id[1], STORE_SNS_RETRY, NOW, NOW + 100, 503, "HTTP"),
                     DD_OK);
    assert_int_equal(store_sns_attempt(f->s, d.id[0], STORE_SNS_FAILED, NOW, 0, 404, "HTTP 404"),
                     DD_OK);
    assert_int_equal(due(f, NOW + 99).n, 0);
    id = due_one(f, NOW + 100,
                 "11111111-1111-4111-8111-111111111111 Notification one http://runner/ 2 1");
    assert_int_equal(store_sns_attempt(f->s, id, STORE_SNS_DELIVERED, NOW, 0, 200, NULL), DD_OK);
    /* A finished row is not touched again. */
    assert_int_equal(store_sns_attempt(f->s, id, STORE_SNS_FAILED, NOW, 0, 500, NULL), DD_OK);
    id = due_one(f, NOW + 100,
                 "11111111-1111-4111-8111-111111111111 Notification two http://runner/ 2 0");
    assert_int_equal(store_sns_attempt(f->s, id, STORE_SNS_DELIVERED, NOW, 0, 200, NULL), DD_OK);
    assert_int_equal(store_sns_next_due(f->s, &next), DD_ERR_NOT_FOUND);
    assert_int_equal(next, 0);
}

/* MessageStructure json: each delivery carries its protocol's entry when
 * that is a string, else "default"; a plain message is carried whole. */
static void test_publish_structure(void **state)
{
    struct fx *f = *state;
    static const char text[] = "{\"default\":\"d\",\"lambda\":\"for lambda\",\"http\":7}";
    struct store_sns_publish p = {
        "a0000000-0000-4000-8000-000000000009",          T1,  NULL, text, NOW, "json",
        "{\"k\":{\"Type\":\"String\",\"Value\":\"v\"}}", NULL
    };
    struct dues d;
    int n;

    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    subscribe(f, S1, "lambda", FN, "tok1", 1);
    subscribe(f, S2, "http", "http://b/", "tok2", 1);
    assert_int_equal(store_sns_publish(f->s, &p, NOW, &n), DD_OK);
    assert_int_equal(n, 2);
    p.message_id = "a0000000-0000-4000-8000-00000000000a";
    p.structure = NULL;
    p.attributes_json = "not json";
    assert_int_equal(store_sns_publish(f->s, &p, NOW, &n), DD_ERR_STORE);
    d = due(f, NOW);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.line[0], "11111111-1111-4111-8111-111111111111 Notification for lambda - "
                                   "- 0");
    assert_string_equal(d.line[1], "22222222-2222-4222-8222-222222222222 Notification d - - 0");
}

/* A FIFO topic: a duplicate within the window answers the first message
 * and records nothing; sequence numbers count up per topic. */
static void test_publish_fifo(void **state)
{
    struct fx *f = *state;
    struct store_sns_publish p = {
        "a0000000-0000-4000-8000-000000000001", T1, NULL, "one", NOW, NULL, NULL, NULL
    };
    struct store_sns_fifo fifo = { "g", "d1", 300000 };
    char id[STORE_SNS_MESSAGE_ID_SIZE];
    int64_t seq = 9;
    int n = 9;

    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_ERR_NOT_FOUND);
    assert_int_equal(seq + n, 0);
    assert_string_equal(id, "");
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    subscribe(f, S1, "lambda", FN, "tok1", 1);
    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_OK);
    assert_string_equal(id, "a0000000-0000-4000-8000-000000000001");
    assert_int_equal(seq, 1);
    assert_int_equal(n, 1);
    /* The same id within the window: the first message, nothing new. */
    p.message_id = "a0000000-0000-4000-8000-000000000002";
    p.timestamp_ms = NOW + 299999;
    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_OK);
    assert_string_equal(id, "a0000000-0000-4000-8000-000000000001");
    assert_int_equal(seq, 1);
    assert_int_equal(n, 0);
    /* Past the window, or another id: a new message. */
    p.timestamp_ms = NOW + 300000;
    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_OK);
    assert_string_equal(id, "a0000000-0000-4000-8000-000000000002");
    assert_int_equal(seq, 2);
    /* By content: the same text is a duplicate, another is not. */
    fifo.dedup_id = NULL;
    p.message_id = "a0000000-0000-4000-8000-000000000003";
    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_OK);
    assert_int_equal(seq, 3);
    p.message_id = "a0000000-0000-4000-8000-000000000004";
    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_OK);
    assert_string_equal(id, "a0000000-0000-4000-8000-000000000003");
    p.message = "two";
    assert_int_equal(store_sns_publish_fifo(f->s, &p, &fifo, NOW, id, &seq, &n), DD_OK);
    assert_int_equal(seq, 4);
    assert_int_equal(n, 1);
}

/* ---- alerts ---- */

struct view {
    int n;
    char line[8][300];
};

static int collect_view(void *ctx, const struct store_sns_alert_row *r)
{
    struct view *v = ctx;

    snprintf(v->line[v->n++], sizeof(v->line[0]), "%lld %s %s %s %lld %lld", (long long)r->alert_id,
             r->message_id ? r->message_id : "-", r->protocol ? r->protocol : "-",
             r->status ? r->status : "-", (long long)r->attempts, (long long)r->last_http_status);
    return DD_OK;
}

static void test_alert_fanout(void **state)
{
    struct fx *f = *state;
    struct store_sns_webhook hook = { "http", "http://hook/", S1, "tokw" };
    struct view v = { 0 };
    char *topic = (char *)"x";
    int64_t id, created;
    int n;

    assert_int_equal(store_sns_alert_next(f->s, &id, &created, &topic), DD_ERR_NOT_FOUND);
    assert_null(topic);
    add_alert(f, NULL, "{\"a\":0}");
    add_alert(f, T1, "{\"a\":1}");
    add_alert(f, T1, "{\"a\":2}");
    /* No topic: only the cursor moves. */
    assert_int_equal(store_sns_alert_next(f->s, &id, &created, &topic), DD_OK);
    assert_int_equal(id, 1);
    assert_null(topic);
    assert_int_equal(store_sns_alert_fanout(f->s, 1, NULL, NULL, NULL, 0, "m0", NULL, NOW, NOW, &n),
                     DD_OK);
    assert_int_equal(store_sns_alert_next(f->s, &id, &created, &topic), DD_OK);
    assert_int_equal(id, 2);
    assert_int_equal(created, NOW);
    assert_string_equal(topic, T1);
    free(topic);
    /* The topic is created on first use and the webhook subscribed, confirmed. */
    assert_int_equal(store_sns_alert_fanout(f->s, 2, T1, "T1", &hook, 1, "m1", NULL, NOW, NOW, &n),
                     DD_OK);
    assert_int_equal(n, 1);
    /* Fanning out the same alert again changes nothing. */
    assert_int_equal(store_sns_alert_fanout(f->s, 2, T1, "T1", &hook, 1, "m1b", NULL, NOW, NOW, &n),
                     DD_OK);
    assert_int_equal(n, 0);
    hook.arn = S2; /* a fresh candidate: the existing subscription is kept */
    hook.token = "tokw2";
    assert_int_equal(store_sns_alert_fanout(f->s, 3, T1, "T1", &hook, 1, "m2", NULL, NOW, NOW, &n),
                     DD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(store_sns_alert_next(f->s, &id, &created, &topic), DD_ERR_NOT_FOUND);
    id = due_one(f, NOW,
                 "11111111-1111-4111-8111-111111111111 Notification {\"a\":1} - "
                 "- 0");
    assert_int_equal(store_sns_attempt(f->s, id, STORE_SNS_DELIVERED, NOW, 0, 200, NULL), DD_OK);
    assert_int_equal(store_sns_alert_view(f->s, 10, collect_view, &v), DD_OK);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.line[0], "3 m2 http pending 0 -1");
    assert_string_equal(v.line[1], "2 m1 http delivered 1 200");
    assert_string_equal(v.line[2], "1 - - - 0 -1");
    v.n = 0;
    assert_int_equal(store_sns_alert_view(f->s, 1, collect_view, &v), DD_OK);
    assert_int_equal(v.n, 1);
}

/* ---- configuration and sink ---- */

struct sink {
    int n;
    char body[4][64];
};

static int collect_sink(void *ctx, int64_t at, const char *headers, const char *body)
{
    struct sink *s = ctx;

    assert_int_equal(at, NOW);
    assert_string_equal(headers, "{}");
    snprintf(s->body[s->n++], sizeof(s->body[0]), "%s", body);
    return DD_OK;
}

static void test_signing_and_sink(void **state)
{
    struct fx *f = *state;
    char id[STORE_SNS_CERT_ID_SIZE] = "x", *key = (char *)"x", *cert = (char *)"x";
    struct sink s = { 0 };

    assert_int_equal(store_sns_signing_get(f->s, id, &key, &cert), DD_ERR_NOT_FOUND);
    assert_string_equal(id, "");
    assert_null(key);
    assert_null(cert);
    assert_int_equal(store_sns_signing_put(f->s, "0123456789abcdef0123456789abcdef", "K", "C"),
                     DD_OK);
    /* The first writer wins. */
    assert_int_equal(store_sns_signing_put(f->s, "ffffffffffffffffffffffffffffffff", "K2", "C2"),
                     DD_OK);
    assert_int_equal(store_sns_signing_get(f->s, id, &key, &cert), DD_OK);
    assert_string_equal(id, "0123456789abcdef0123456789abcdef");
    assert_string_equal(key, "K");
    assert_string_equal(cert, "C");
    free(key);
    free(cert);
    assert_int_equal(store_sns_signing_get(f->s, id, NULL, &cert), DD_OK);
    free(cert);
    assert_int_equal(store_sns_sink_add(f->s, "a", NOW, "{}", "first"), DD_OK);
    assert_int_equal(store_sns_sink_add(f->s, "b", NOW, "{}", "other"), DD_OK);
    assert_int_equal(store_sns_sink_add(f->s, "a", NOW, "{}", "second"), DD_OK);
    assert_int_equal(store_sns_sink_list(f->s, "a", collect_sink, &s), DD_OK);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.body[0], "first");
    assert_string_equal(s.body[1], "second");
}

/* ---- allocation failures ---- */

static struct fx *sweep_fx;

static int sweep_reads(void *ctx)
{
    char id[STORE_SNS_CERT_ID_SIZE], *key, *cert, *attrs, *topic;
    int64_t a, b, c;
    int rc;

    (void)ctx;
    rc = store_sns_topic_get(sweep_fx->s, T1, &attrs, &a, &b);
    if (rc)
        return rc;
    free(attrs);
    rc = store_sns_signing_get(sweep_fx->s, id, &key, &cert);
    if (rc)
        return rc;
    free(key);
    free(cert);
    rc = store_sns_alert_next(sweep_fx->s, &a, &c, &topic);
    if (rc)
        return rc;
    free(topic);
    return DD_OK;
}

/* Each run adds an alert and fans out the oldest one not fanned out yet, so
 * a run that failed leaves the same work for the next. */
static int sweep_fanout(void *ctx)
{
    int64_t id, created;
    char *topic, mid[40];
    int n, rc;

    (void)ctx;
    add_alert(sweep_fx, T1, "{\"a\":1}");
    rc = store_sns_alert_next(sweep_fx->s, &id, &created, &topic);
    if (rc)
        return rc;
    snprintf(mid, sizeof(mid), "m%lld", (long long)id);
    rc = store_sns_alert_fanout(sweep_fx->s, id, topic, "T1", NULL, 0, mid, NULL, NOW, NOW, &n);
    free(topic);
    return rc;
}

static void test_alloc_failures(void **state)
{
    struct fx *f = *state;

    sweep_fx = f;
    assert_int_equal(store_sns_topic_create(f->s, T1, "T1", NULL, NOW), DD_OK);
    assert_int_equal(store_sns_signing_put(f->s, "0123456789abcdef0123456789abcdef", "K", "C"),
                     DD_OK);
    add_alert(f, T1, "{\"a\":1}");
    assert_true(alloc_fail_sweep(sweep_reads, NULL) >= 4);
    assert_int_equal(
        store_sns_alert_fanout(f->s, 1, T1, "T1", NULL, 0, "m0", NULL, NOW, NOW, &(int){ 0 }),
        DD_OK);
    assert_true(alloc_fail_sweep(sweep_fanout, NULL) >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_topics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscribe_confirm_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscription_attributes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_queue_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_away_queue_deliveries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_at_and_dead_letter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_order_and_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alert_fanout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signing_and_sink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
