/* SPDX-License-Identifier: MIT */
/* test_store_sqs.c: the sqs_* tables on real SQLite: queue create, get,
 * set, list with prefix and paging, delete with its messages; messages
 * through send, delay, receive (visibility, counts, receipt serials,
 * retention), visibility changes, delete and purge; FIFO sends
 * (deduplication, sequence numbers) and receives (group order and
 * blocking); and messages kept
 * across a close and reopen of a database file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/sqs/store_sqs.h"
#include "store/store.h"
#include "tests/unit/store_fixture.h"

static int64_t make_queue(struct store *s, const char *name)
{
    struct store_sqs_queue q;
    int64_t id;

    assert_int_equal(store_sqs_queue_create(s, name, "{\"VisibilityTimeout\":\"30\"}", 1000),
                     DD_OK);
    assert_int_equal(store_sqs_queue_get(s, name, &q), DD_OK);
    id = q.id;
    store_sqs_queue_cleanup(&q);
    return id;
}

static void send(struct store *s, int64_t qid, const char *id, const char *body, int64_t sent,
                 int64_t visible)
{
    struct store_sqs_send m = { id, body, "{}", "md5", "", sent, visible };

    assert_int_equal(store_sqs_send(s, qid, &m), DD_OK);
}

/* store_sqs_receive() without a redrive policy. */
static int receive(struct store *s, int64_t qid, int64_t now, size_t max, int64_t vis, int64_t ret,
                   struct store_sqs_message **m, size_t *n)
{
    struct store_sqs_receive r = { max, vis, ret, 0, 0, NULL, false };

    return store_sqs_receive(s, qid, now, &r, m, n);
}

/* Check a page the call returned (rc), then free it: n names, the first
 * one first (NULL when n is 0), and more. */
static void page_is(int rc, struct store_names *l, size_t n, const char *first, bool more)
{
    assert_int_equal(rc, DD_OK);
    assert_int_equal(l->n, n);
    if (first)
        assert_string_equal(l->names[0], first);
    assert_int_equal(l->more != 0, more);
    store_names_cleanup(l);
}

static void test_queues(void **state)
{
    struct store *s = *state;
    struct store_sqs_queue q;
    struct store_names l = { 0 };

    make_queue(s, "b1");
    make_queue(s, "a1");
    make_queue(s, "a2");
    assert_int_equal(store_sqs_queue_create(s, "a1", "{}", 5), DD_ERR_EXISTS);
    assert_int_equal(store_sqs_queue_get(s, "zz", &q), DD_ERR_NOT_FOUND);
    assert_null(q.attributes);
    assert_int_equal(store_sqs_queue_get(s, "a1", &q), DD_OK);
    assert_string_equal(q.name, "a1");
    assert_string_equal(q.attributes, "{\"VisibilityTimeout\":\"30\"}");
    assert_int_equal(q.created_ms, 1000);
    assert_int_equal(store_sqs_queue_set(s, q.id, "{\"DelaySeconds\":\"5\"}", 2000), DD_OK);
    store_sqs_queue_cleanup(&q);
    assert_int_equal(store_sqs_queue_get(s, "a1", &q), DD_OK);
    assert_string_equal(q.attributes, "{\"DelaySeconds\":\"5\"}");
    assert_int_equal(q.modified_ms, 2000);
    assert_int_equal(q.created_ms, 1000);
    store_sqs_queue_cleanup(&q);
    assert_int_equal(store_sqs_queue_set(s, 999, "{}", 1), DD_ERR_NOT_FOUND);

    page_is(store_sqs_queue_list(s, "a", "", 1, &l), &l, 1, "a1", true);
    page_is(store_sqs_queue_list(s, "a", "a1", 1, &l), &l, 1, "a2", false);
    page_is(store_sqs_queue_list(s, "", "", 1000, &l), &l, 3, "a1", false);

    assert_int_equal(store_sqs_queue_delete(s, "a1"), DD_OK);
    assert_int_equal(store_sqs_queue_delete(s, "a1"), DD_ERR_NOT_FOUND);
}

static void counts(struct store *s, int64_t qid, int64_t now, int64_t v, int64_t f, int64_t d)
{
    int64_t a, b, c;

    assert_int_equal(store_sqs_counts(s, qid, now, &a, &b, &c), DD_OK);
    assert_int_equal(a, v);
    assert_int_equal(b, f);
    assert_int_equal(c, d);
}

static void test_messages(void **state)
{
    struct store *s = *state;
    struct store_sqs_message *m;
    int64_t qid = make_queue(s, "q");
    size_t n;

    send(s, qid, "m1", "one", 1000, 1000);
    send(s, qid, "m2", "two", 1000, 6000); /* delayed 5 s */
    counts(s, qid, 1000, 1, 0, 1);

    assert_int_equal(receive(s, qid, 1000, 10, 30000, 345600000, &m, &n), DD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].message_id, "m1");
    assert_string_equal(m[0].body, "one");
    assert_int_equal(m[0].receive_count, 1);
    assert_int_equal(m[0].first_receive_ms, 1000);
    assert_int_equal(m[0].receipt_serial, 1);
    store_sqs_messages_free(m, n);
    counts(s, qid, 1000, 0, 1, 1);

    /* at 31 s both are visible again: m1 back from flight, m2 out of delay */
    assert_int_equal(receive(s, qid, 31000, 1, 0, 345600000, &m, &n), DD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].message_id, "m1");
    assert_int_equal(m[0].receive_count, 2);
    assert_int_equal(m[0].first_receive_ms, 1000);
    assert_int_equal(m[0].receipt_serial, 2);
    store_sqs_messages_free(m, n);

    assert_int_equal(store_sqs_message_visibility(s, qid, "m2", 99000), DD_OK);
    assert_int_equal(store_sqs_message_visibility(s, qid, "nope", 1), DD_ERR_NOT_FOUND);
    assert_int_equal(store_sqs_message_delete(s, qid, "m1"), DD_OK);
    assert_int_equal(store_sqs_message_delete(s, qid, "m1"), DD_OK);
    counts(s, qid, 31000, 0, 0, 1);

    /* retention: m2 was sent at 1 s, so with 10 s retention it is gone at 40 s */
    assert_int_equal(receive(s, qid, 100000, 10, 0, 10000, &m, &n), DD_OK);
    assert_int_equal(n, 0);
    assert_null(m);
    counts(s, qid, 100000, 0, 0, 0);

    send(s, qid, "m3", "three", 1000, 1000);
    assert_int_equal(store_sqs_purge(s, qid), DD_OK);
    counts(s, qid, 1000, 0, 0, 0);

    send(s, qid, "m4", "four", 1000, 1000);
    assert_int_equal(store_sqs_queue_delete(s, "q"), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM sqs_messages"), 0);
}

/* A FIFO send of id with group and dedup id at sent ms; the outcome. */
static struct store_sqs_sent send_fifo(struct store *s, int64_t qid, const char *id,
                                       const char *group, const char *dedup, const char *scope,
                                       int64_t sent)
{
    struct store_sqs_send m = { id, id, "{}", "md5", "", sent, sent };
    struct store_sqs_extra x = { group, dedup, scope, NULL };
    struct store_sqs_sent out;

    assert_int_equal(store_sqs_send_extra(s, qid, &m, &x, &out), DD_OK);
    return out;
}

/* The ids of the messages a receive at now takes (at most max, hidden for
 * 30 s; with the FIFO rules when fifo), joined with spaces into ids (size
 * bytes). */
static void receive_ids(struct store *s, int64_t qid, int64_t now, size_t max, bool fifo, char *ids,
                        size_t size)
{
    struct store_sqs_receive r = { max, 30000, 345600000, 0, 0, NULL, fifo };
    struct store_sqs_message *m;
    size_t n, i;

    assert_int_equal(store_sqs_receive(s, qid, now, &r, &m, &n), DD_OK);
    ids[0] = '\0';
    for (i = 0; i < n; i++)
        snprintf(ids + strlen(ids), size - strlen(ids), "%s%s", i ? " " : "", m[i].message_id);
    store_sqs_messages_free(m, n);
}

static void test_fifo(void **state)
{
    struct store *s = *state;
    struct store_sqs_sent out;
    struct store_sqs_message *m;
    struct store_sqs_send bad = { "x", "x", "{}", "md5", "", 0, 0 };
    struct store_sqs_extra bad_x = { "g", "d", "", NULL };
    struct store_sqs_extra traced = { NULL, NULL, NULL, "Root=1" };
    struct store_sqs_send plain = { "t1", "t", "{}", "md5", "", 0, 0 };
    struct store_sqs_receive one = { 1, 30000, 345600000, 0, 0, NULL, true };
    int64_t qid = make_queue(s, "q.fifo");
    char ids[128];
    size_t n;

    out = send_fifo(s, qid, "a1", "A", "d1", "", 1000);
    assert_false(out.duplicate);
    assert_string_equal(out.message_id, "a1");
    assert_int_equal(out.sequence, 1);
    out = send_fifo(s, qid, "b1", "B", "d2", "", 1000);
    assert_int_equal(out.sequence, 2);
    send_fifo(s, qid, "a2", "A", "d3", "", 1000);
    send_fifo(s, qid, "b2", "B", "d4", "", 1000);
    send_fifo(s, qid, "a3", "A", "d5", "", 1000);

    /* a duplicate within five minutes: the first message's answer, nothing stored */
    out = send_fifo(s, qid, "a9", "A", "d1", "", 2000);
    assert_true(out.duplicate);
    assert_string_equal(out.message_id, "a1");
    assert_int_equal(out.sequence, 1);
    counts(s, qid, 2000, 5, 0, 0);

    /* a group's messages come together, groups in order of their first */
    receive_ids(s, qid, 2000, 4, true, ids, sizeof(ids));
    assert_string_equal(ids, "a1 a2 a3 b1");
    /* B waits behind b1 in flight, A behind a1..a3 */
    receive_ids(s, qid, 2000, 10, true, ids, sizeof(ids));
    assert_string_equal(ids, "");
    /* b1 deleted: b2 comes; a2 made visible alone stays behind a1 */
    assert_int_equal(store_sqs_message_delete(s, qid, "b1"), DD_OK);
    assert_int_equal(store_sqs_message_visibility(s, qid, "a2", 2000), DD_OK);
    receive_ids(s, qid, 2000, 10, true, ids, sizeof(ids));
    assert_string_equal(ids, "b2");
    /* a1 visible again: a1 and a2 come back, a3 stays behind them */
    assert_int_equal(store_sqs_message_visibility(s, qid, "a1", 2000), DD_OK);
    assert_int_equal(store_sqs_message_visibility(s, qid, "a2", 2000), DD_OK);
    receive_ids(s, qid, 2000, 10, true, ids, sizeof(ids));
    assert_string_equal(ids, "a1 a2");
    assert_int_equal(store_sqs_receive(s, qid, 40000, &one, &m, &n), DD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].group_id, "A");
    assert_string_equal(m[0].dedup_id, "d1");
    assert_int_equal(m[0].sequence, 1);
    store_sqs_messages_free(m, n);

    /* without the FIFO rules, the visible rows come in plain send order:
     * a2 (its timeout ended at 32 s), a3 and b2, though a1 is in flight */
    assert_int_equal(store_sqs_message_visibility(s, qid, "a3", 40000), DD_OK);
    assert_int_equal(store_sqs_message_visibility(s, qid, "b2", 40000), DD_OK);
    receive_ids(s, qid, 40000, 10, false, ids, sizeof(ids));
    assert_string_equal(ids, "a2 b2 a3");

    /* the id is remembered after the message is gone, forgotten after five minutes */
    assert_int_equal(store_sqs_purge(s, qid), DD_OK);
    assert_true(send_fifo(s, qid, "c1", "A", "d1", "", 300999).duplicate);
    out = send_fifo(s, qid, "c2", "A", "d1", "", 301000);
    assert_false(out.duplicate);
    assert_int_equal(out.sequence, 6);
    /* the message group scope keeps the same id apart per group */
    assert_false(send_fifo(s, qid, "c3", "A", "e", "A", 301000).duplicate);
    assert_false(send_fifo(s, qid, "c4", "B", "e", "B", 301000).duplicate);
    assert_true(send_fifo(s, qid, "c5", "B", "e", "B", 301000).duplicate);

    assert_int_equal(store_sqs_send_extra(s, 999, &bad, &bad_x, &out), DD_ERR_NOT_FOUND);
    assert_int_equal(store_sqs_queue_delete(s, "q.fifo"), DD_OK);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM sqs_dedup"), 0);

    /* without a deduplication id: a plain message, with its trace header */
    qid = make_queue(s, "std");
    assert_int_equal(store_sqs_send_extra(s, qid, &plain, &traced, &out), DD_OK);
    assert_false(out.duplicate);
    assert_int_equal(out.sequence, 0);
    assert_string_equal(out.message_id, "t1");
    assert_int_equal(receive(s, qid, 0, 10, 30000, 345600000, &m, &n), DD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].trace_header, "Root=1");
    assert_string_equal(m[0].group_id, "");
    assert_int_equal(m[0].sequence, 0);
    store_sqs_messages_free(m, n);
}

static void test_redrive(void **state)
{
    struct store *s = *state;
    struct store_sqs_receive r = { 10, 0, 345600000, 2, 0, "arn:src", false };
    struct store_sqs_message *m;
    int64_t qid = make_queue(s, "src");
    size_t n;

    struct store_names l = { 0 };
    const char *policy = "{\"RedrivePolicy\":\"{\\\"deadLetterTargetArn\\\":\\\"arn:dlq\\\","
                         "\\\"maxReceiveCount\\\":2}\"}";

    r.dlq_id = make_queue(s, "dlq");
    assert_int_equal(store_sqs_queue_create(s, "b", policy, 1), DD_OK);
    assert_int_equal(store_sqs_queue_create(s, "a", policy, 1), DD_OK);
    page_is(store_sqs_dead_letter_sources(s, "arn:dlq", "", 1, &l), &l, 1, "a", true);
    page_is(store_sqs_dead_letter_sources(s, "arn:dlq", "a", 10, &l), &l, 1, "b", false);
    page_is(store_sqs_dead_letter_sources(s, "arn:other", "", 10, &l), &l, 0, NULL, false);
    send(s, qid, "m1", "one", 1000, 1000);
    /* two receives return it (visibility 0), the third moves it */
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(store_sqs_receive(s, qid, 1000, &r, &m, &n), DD_OK);
        assert_int_equal(n, 1);
        assert_int_equal(m[0].receive_count, i);
        assert_string_equal(m[0].dlq_source, "");
        store_sqs_messages_free(m, n);
    }
    assert_int_equal(store_sqs_receive(s, qid, 1000, &r, &m, &n), DD_OK);
    assert_int_equal(n, 0);
    counts(s, qid, 1000, 0, 0, 0);
    counts(s, r.dlq_id, 1000, 1, 0, 0);
    assert_int_equal(receive(s, r.dlq_id, 1000, 10, 0, 345600000, &m, &n), DD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].message_id, "m1");
    assert_string_equal(m[0].dlq_source, "arn:src");
    assert_int_equal(m[0].receive_count, 3);
    assert_int_equal(m[0].sent_ms, 1000);
    store_sqs_messages_free(m, n);
}

static void test_durable(void **state)
{
    struct store_fixture_dir d;
    struct store_sqs_message *m;
    struct dd_errbuf eb;
    struct store *s;
    int64_t qid;
    size_t n;

    (void)state;
    store_fixture_dir_make(&d, "sqs", "db");
    assert_int_equal(store_open(d.path, &s, &eb), DD_OK);
    qid = make_queue(s, "q");
    send(s, qid, "m1", "kept", 1000, 1000);
    store_close(s);
    assert_int_equal(store_open(d.path, &s, &eb), DD_OK);
    assert_int_equal(receive(s, qid, 2000, 10, 0, 345600000, &m, &n), DD_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].body, "kept");
    store_sqs_messages_free(m, n);
    store_close(s);
    store_fixture_dir_remove(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queues, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_messages, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_redrive, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fifo, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test(test_durable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
