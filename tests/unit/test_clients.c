/* SPDX-License-Identifier: MIT */
/* test_clients.c: the broker thread's counters and the incremental window
 * close: every count lands in exactly one window, whether the sweep reaches
 * an entry first or the broker touches it first, while entries are forgotten
 * and while the table grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_land_in_one_window_while_sweeping),
        cmocka_unit_test(test_disconnects_and_forgetting_during_a_sweep),
        cmocka_unit_test(test_growth_during_a_sweep_finishes_the_close),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
