/* SPDX-License-Identifier: MIT */
/* test_store_mlmodel.c: ML models on real SQLite: a missing model reads as
 * an empty PENDING_BUILD one; a written model reads back with its status,
 * dates, percentage and slots, per (profile, behavior); a second write
 * replaces the first; a stored status outside the enum is a store error
 * with the output cleared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/mlmodel.h"
#include "store/defender/store_mlmodel.h"
#include "tests/unit/store_fixture.h"

static const struct mlmodel_params params = { 1400000, 10, 300000, 900000 };

static void test_missing(void **state)
{
    struct store_mlmodel row;
    bool found = true;

    memset(&row, 0xff, sizeof(row));
    assert_int_equal(store_mlmodel_get(*state, "P", "b", &row, &found), DD_OK);
    assert_false(found);
    assert_int_equal(row.m.status, MLMODEL_PENDING_BUILD);
    assert_int_equal(row.m.start_ms, 0);
    assert_true(row.percentage == 0);
    assert_string_equal(row.slots, "");
}

static void test_round_trip(void **state)
{
    struct store *s = *state;
    struct mlmodel m = { 0 }, back = { 0 };
    struct store_mlmodel row;
    bool found;

    mlmodel_observe(&m, &params, 1000000, 6);
    mlmodel_observe(&m, &params, 1150000, 6);
    mlmodel_advance(&m, &params, 2400000);
    assert_int_equal(m.status, MLMODEL_ACTIVE);
    assert_int_equal(store_mlmodel_put(s, "P", "b", &m, 100), DD_OK);
    assert_int_equal(store_mlmodel_put(s, "P", "other", &(struct mlmodel){ 0 }, 0), DD_OK);
    assert_int_equal(store_mlmodel_get(s, "P", "b", &row, &found), DD_OK);
    assert_true(found);
    assert_int_equal(row.m.status, MLMODEL_ACTIVE);
    assert_int_equal(row.m.start_ms, 1000000);
    assert_int_equal(row.m.refresh_ms, 2400000);
    assert_int_equal(row.m.checked_ms, 2400000);
    assert_int_equal(row.m.last_data_ms, 1150000);
    assert_true(row.percentage == 100);
    assert_int_equal(mlmodel_slots_parse(&back, &params, row.slots), DD_OK);
    assert_memory_equal(back.n, m.n, sizeof(m.n));
    /* A second write replaces the first. */
    m.status = MLMODEL_EXPIRED;
    assert_int_equal(store_mlmodel_put(s, "P", "b", &m, 40), DD_OK);
    assert_int_equal(store_mlmodel_get(s, "P", "b", &row, &found), DD_OK);
    assert_int_equal(row.m.status, MLMODEL_EXPIRED);
    assert_true(row.percentage == 40);
    assert_int_equal(store_fixture_int(s, "SELECT count(*) FROM ml_models"), 2);
}

static void test_bad_status(void **state)
{
    struct store *s = *state;
    struct store_mlmodel row;
    bool found = true;

    store_fixture_exec(s, "PRAGMA ignore_check_constraints = ON;"
                          "INSERT INTO ml_models VALUES ('P', 'b', 'BUILDING', 1, 0, 0, 1, 0, '')");
    assert_int_equal(store_mlmodel_get(s, "P", "b", &row, &found), DD_ERR_STORE);
    assert_false(found);
    assert_int_equal(row.m.start_ms, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing, store_fixture_setup, store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, store_fixture_setup,
                                        store_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_status, store_fixture_setup,
                                        store_fixture_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
