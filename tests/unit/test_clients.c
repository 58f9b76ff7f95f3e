/* SPDX-License-Identifier: MIT */
/* test_clients.c: the broker thread's counters and the incremental window
 * close: every count lands in exactly one window, whether the sweep reaches
 * an entry first or the broker touches it first, while entries are forgotten
 * and while the table grows; and what is forgotten gives its memory back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "plugin/clients.h"
#include "tests/unit/alloc_fail.h"

#define N      3000
#define END    ((int64_t)1800000000000)
#define FORGET ((int64_t)2 * 24 * 3600 * 1000)

/* Connection keys: any distinct non-NULL pointers. */
static char conns[2 * N];

static void connect_all(struct clients *t, size_t n)
{
    char id[32];
    size_t i;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "dev-%05zu", i);
        assert_non_null(clients_connect(t, &conns[i], id, "127.0.0.1", true));
    }
}

static const struct client_record *find(const struct client_window *w, const char *id)
{
    size_t i;

    for (i = 0; i < w->n; i++)
        if (strcmp(w->records[i].id, id) == 0)
            return &w->records[i];
    return NULL;
}

/* Sent counts per client in a window, by the client's number. */
static void sent_by_client(const struct client_window *w, unsigned *out, size_t n)
{
    size_t i;

    memset(out, 0, n * sizeof(*out));
    for (i = 0; i < w->n; i++) {
        unsigned k;

        assert_int_equal(sscanf(w->records[i].id, "dev-%u", &k), 1);
        assert_true(k < n);
        assert_int_equal(out[k], 0); /* one record per client */
        out[k] = w->records[i].counts.sent + 1;
    }
}

static void test_counts_land_in_one_window_while_sweeping(void **state)
{
    struct clients *t = clients_new();
    struct client_window *w1 = NULL, *w2;
    static unsigned got[N];
    size_t i, steps = 0;

    (void)state;
    assert_non_null(t);
    connect_all(t, N);
    for (i = 0; i < N; i++)
        clients_count_sent(clients_by_conn(t, &conns[i]), 0, 0, 10);
    assert_int_equal(clients_close_begin(t, END, 0, FORGET, NULL, 0), DD_OK);
    assert_true(clients_closing(t));
    assert_int_equal(clients_close_begin(t, END + 300000, 0, FORGET, NULL, 0), DD_ERR_STATE);
    /* The broker keeps counting while the sweep goes on: every third client
     * sends again before the sweep reaches it (or after). */
    while (!w1) {
        w1 = clients_close_step(t, 97);
        for (i = steps % 3; i < N; i += 3)
            if (steps < 5)
                clients_count_sent(clients_by_conn(t, &conns[i]), 0, 0, 10);
        steps++;
    }
    assert_true(steps > 5);
    assert_false(clients_closing(t));
    assert_int_equal(w1->n, N);
    sent_by_client(w1, got, N);
    for (i = 0; i < N; i++)
        assert_int_equal(got[i], 1 + 1); /* exactly the one message of window 1 */

    w2 = clients_close(t, END + 300000, 0, FORGET, NULL, 0);
    assert_non_null(w2);
    sent_by_client(w2, got, N);
    for (i = 0; i < N; i++) {
        unsigned want = 0, s;

        for (s = 0; s < 5; s++)
            if (i % 3 == s % 3)
                want++;
        assert_int_equal(got[i], want + 1);
    }
    assert_true(find(w2, "dev-00000")->had_session);
    free(w1);
    free(w2);
    clients_free(t);
}

static void test_disconnects_and_forgetting_during_a_sweep(void **state)
{
    struct clients *t = clients_new();
    struct client_window *w;
    size_t i;

    (void)state;
    assert_non_null(t);
    connect_all(t, N);
    for (i = 0; i < N; i += 2)
        clients_disconnect(t, &conns[i], END - 1000);
    w = clients_close(t, END, 0, FORGET, NULL, 0);
    assert_non_null(w);
    assert_int_equal(w->n, N);
    assert_int_equal(find(w, "dev-00000")->disconnected_at_ms, END - 1000);
    assert_int_equal(find(w, "dev-00000")->counts.disconnects, 1);
    assert_int_equal(find(w, "dev-00001")->disconnected_at_ms, 0);
    free(w);
    assert_int_equal(clients_count(t), N);
    /* Two days later the clients that left are forgotten by the sweep, in
     * small steps, and the others stay. */
    assert_int_equal(clients_close_begin(t, END + FORGET + 300000, 0, FORGET, NULL, 0), DD_OK);
    while (!(w = clients_close_step(t, 50)))
        ;
    assert_int_equal(w->n, N); /* the gone ones still report their duration */
    free(w);
    assert_int_equal(clients_count(t), N / 2);
    clients_free(t);
}

static void test_growth_during_a_sweep_finishes_the_close(void **state)
{
    struct clients *t = clients_new();
    struct client_window *w;
    char id[32];
    size_t i;

    (void)state;
    assert_non_null(t);
    connect_all(t, 40);
    assert_int_equal(clients_close_begin(t, END, 0, FORGET, NULL, 0), DD_OK);
    assert_null(clients_close_step(t, 3));
    /* New clients make the table grow: the close is finished first. */
    for (i = 40; i < N; i++) {
        snprintf(id, sizeof(id), "dev-%05zu", i);
        assert_non_null(clients_connect(t, &conns[i], id, NULL, true));
    }
    w = clients_close_step(t, 1);
    assert_non_null(w);
    assert_int_equal(w->n, 40);
    free(w);
    w = clients_close(t, END + 300000, 0, FORGET, NULL, 0);
    assert_non_null(w);
    assert_int_equal(w->n, N);
    assert_int_equal(find(w, "dev-02999")->counts.connection_attempts, 1);
    assert_int_equal(find(w, "dev-00001")->counts.connection_attempts, 0);
    free(w);
    clients_free(t);
}

/* A window given back is filled again by the next close when it has room
 * (same memory, this window's records only), and replaced by a larger one
 * when the fleet outgrew it. */
static void test_a_window_given_back_is_filled_again(void **state)
{
    struct clients *t = clients_new();
    struct client_window *w, *again;
    char id[32];
    size_t i;

    (void)state;
    assert_non_null(t);
    connect_all(t, 40);
    clients_window_reuse(t, NULL); /* nothing to keep */
    w = clients_close(t, END, 0, FORGET, NULL, 0);
    assert_non_null(w);
    assert_int_equal(w->n, 40);
    assert_true(w->cap >= 40);
    clients_window_reuse(t, w);
    clients_disconnect(t, &conns[0], END + 1000);
    again = clients_close(t, END + 300000, 0, FORGET, NULL, 0);
    assert_ptr_equal(again, w);
    assert_int_equal(again->n, 40);
    assert_int_equal(again->bucket_end_ms, END + 300000);
    assert_int_equal(find(again, "dev-00000")->counts.disconnects, 1);
    assert_int_equal(find(again, "dev-00000")->disconnected_at_ms, END + 1000);
    assert_int_equal(find(again, "dev-00001")->counts.connection_attempts, 0);
    assert_int_equal(find(again, "dev-00001")->disconnected_at_ms, 0);
    /* Outgrown: a new window with room for them all. */
    clients_window_reuse(t, again);
    for (i = 40; i < N; i++) {
        snprintf(id, sizeof(id), "dev-%05zu", i);
        assert_non_null(clients_connect(t, &conns[i], id, NULL, true));
    }
    w = clients_close(t, END + 600000, 0, FORGET, NULL, 0);
    assert_non_null(w);
    assert_int_equal(w->n, N);
    assert_true(w->cap >= N);
    free(w);
    clients_free(t); /* frees the spare it may hold */
}

/* Which entries a close forgets. Times are relative to the close's end. */
static void test_what_a_close_forgets(void **state)
{
    static const struct {
        const char *name;
        bool accepted;       /* the CONNECT was accepted */
        bool leaves;         /* it disconnects at left_ms */
        int64_t left_ms;     /* relative to END */
        bool returns;        /* it connects again after leaving */
        bool kept_1, kept_2; /* after the close at END, then at END + one bucket */
    } cases[] = {
        { "connected", true, false, 0, false, true, true },
        { "left just now", true, true, -1000, false, true, true },
        { "left exactly FORGET ago", true, true, -FORGET, false, true, false },
        { "left more than FORGET ago", true, true, -FORGET - 1, false, false, false },
        { "left long ago and came back", true, true, -FORGET - 1, true, true, true },
        { "refused: forgotten once its counts are out", false, false, 0, false, false, false },
    };

    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct clients *t = clients_new();
        struct client_window *w;

        assert_non_null(t);
        assert_non_null(clients_connect(t, &conns[0], "dev", NULL, cases[i].accepted));
        if (cases[i].leaves)
            clients_disconnect(t, &conns[0], END + cases[i].left_ms);
        if (cases[i].returns)
            assert_non_null(clients_connect(t, &conns[1], "dev", NULL, true));
        w = clients_close(t, END, 0, FORGET, NULL, 0);
        assert_non_null(w);
        free(w);
        if (clients_count(t) != (cases[i].kept_1 ? 1u : 0u))
            fail_msg("%s: %zu entries after the first close", cases[i].name, clients_count(t));
        w = clients_close(t, END + 300000, 0, FORGET, NULL, 0);
        assert_non_null(w);
        free(w);
        if (clients_count(t) != (cases[i].kept_2 ? 1u : 0u))
            fail_msg("%s: %zu entries after the second close", cases[i].name, clients_count(t));
        clients_free(t);
    }
}

/* Rounds of new ids that connect, leave and are forgotten: the table comes
 * back to the size of a new one each time, and a sweep of it is short. */
static void test_forgotten_ids_give_their_memory_back(void **state)
{
    struct clients *t = clients_new(), *fresh = clients_new();
    struct client_window *w;
    int64_t end = END;
    char id[32];
    int round;
    size_t i;

    (void)state;
    assert_non_null(t);
    assert_non_null(fresh);
    for (round = 0; round < 3; round++) {
        for (i = 0; i < N; i++) {
            snprintf(id, sizeof(id), "round%d-%05zu", round, i);
            clients_count_sent(clients_connect(t, &conns[i], id, NULL, true), 1u, 1, 10);
        }
        assert_true(clients_bytes(t) > clients_bytes(fresh) + N * 500);
        for (i = 0; i < N; i++)
            clients_disconnect(t, &conns[i], end);
        w = clients_close(t, end + 300000, 0, FORGET, NULL, 0);
        assert_non_null(w);
        assert_int_equal(w->n, N);
        free(w);
        end += FORGET + 600000;
        assert_int_equal(clients_close_begin(t, end, 0, FORGET, NULL, 0), DD_OK);
        while (!(w = clients_close_step(t, 1000)))
            ;
        free(w);
        assert_int_equal(clients_count(t), 0);
        assert_int_equal(clients_bytes(t), clients_bytes(fresh));
        /* The next sweep visits the slots of a new table only. */
        assert_int_equal(clients_close_begin(t, end + 300000, 0, FORGET, NULL, 0), DD_OK);
        w = clients_close_step(t, 64);
        assert_non_null(w);
        assert_int_equal(w->n, 0);
        free(w);
        end += 600000;
    }
    clients_free(fresh);
    clients_free(t);
}

struct shrink_case {
    size_t fresh_bytes;
};

/* Fill a table with refused clients, which the next close forgets (they
 * have no connection slots, whose shrinking would retry at the next
 * disconnect; a close's shrink retries at the next close). A shrink that finds no memory keeps the
 * larger table, which must still work: every id connects again as one entry. Reports that (or any
 * failed step) as DD_ERR_NOMEM. */
static int shrink_case(void *ctx)
{
    struct shrink_case *c = ctx;
    struct clients *t = clients_new();
    struct client_window *w;
    char id[32];
    size_t i;
    int rc = DD_ERR_NOMEM;

    if (!t)
        return DD_ERR_NOMEM;
    for (i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "dev-%05zu", i);
        if (!clients_connect(t, &conns[i], id, NULL, false))
            goto out;
    }
    w = clients_close(t, END, 0, FORGET, NULL, 0);
    if (!w)
        goto out;
    assert_int_equal(w->n, 200); /* their refusals are counted */
    free(w);
    assert_int_equal(clients_count(t), 0);
    if (clients_bytes(t) == c->fresh_bytes) {
        rc = DD_OK;
        goto out;
    }
    for (i = 0; i < 200; i++) {
        snprintf(id, sizeof(id), "dev-%05zu", i);
        assert_non_null(clients_connect(t, &conns[i], id, NULL, true));
    }
    assert_int_equal(clients_count(t), 200);
out:
    clients_free(t);
    return rc;
}

static void test_a_shrink_without_memory_keeps_a_working_table(void **state)
{
    struct clients *fresh = clients_new();
    struct shrink_case c;

    (void)state;
    assert_non_null(fresh);
    c.fresh_bytes = clients_bytes(fresh);
    clients_free(fresh);
    assert_true(alloc_fail_sweep(shrink_case, &c) > 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_land_in_one_window_while_sweeping),
        cmocka_unit_test(test_disconnects_and_forgetting_during_a_sweep),
        cmocka_unit_test(test_growth_during_a_sweep_finishes_the_close),
        cmocka_unit_test(test_a_window_given_back_is_filled_again),
        cmocka_unit_test(test_what_a_close_forgets),
        cmocka_unit_test(test_forgotten_ids_give_their_memory_back),
        cmocka_unit_test(test_a_shrink_without_memory_keeps_a_working_table),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
