/* SPDX-License-Identifier: MIT */
/* test_strmap.c: the engine's string-keyed maps: removal keeps every other
 * key reachable (backward shift, no tombstones), and a map that lost most
 * of its entries shrinks to what a new map of the survivors costs, also
 * when the shrink finds no memory (then it stays larger and correct). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "plugin/strmap.h"
#include "tests/unit/alloc_fail.h"

/* Values are the key's number plus one, as a pointer. */
static void *value_of(size_t i)
{
    return (void *)(uintptr_t)(i + 1);
}

static size_t key_of(size_t i, char *key, size_t size)
{
    /* A NUL inside the key, as the engine's "thing\0metric" keys have. */
    return (size_t)snprintf(key, size, "thing-%zu%cm", i, 0);
}

static int fill(struct strmap *m, size_t n)
{
    char key[32];
    size_t i;

    for (i = 0; i < n; i++)
        if (strmap_put(m, key, key_of(i, key, sizeof(key)), value_of(i), NULL))
            return DD_ERR_NOMEM;
    return DD_OK;
}

struct rule {
    size_t mod, rem; /* keep the values v - 1 with (v - 1) % mod == rem */
};

static bool keep_rule(void *ctx, const void *value)
{
    const struct rule *r = ctx;

    return ((size_t)(uintptr_t)value - 1) % r->mod == r->rem;
}

static void test_drop_keeps_the_rest_reachable(void **state)
{
    static const struct {
        size_t n;
        struct rule keep;
        size_t kept;
    } cases[] = {
        { 0, { 1, 0 }, 0 },       /* empty map */
        { 10, { 1, 0 }, 10 },     /* keep all */
        { 10, { 1, 1 }, 0 },      /* drop all */
        { 1000, { 2, 0 }, 500 },  /* every other one: no shrink */
        { 1000, { 10, 3 }, 100 }, /* most: shrinks */
        { 5000, { 1000, 7 }, 5 }, /* nearly all: down to the smallest map */
        { 5000, { 5000, 0 }, 1 }, /* one left */
    };

    char key[32];
    size_t c, i;

    (void)state;
    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        struct strmap *m = strmap_new(), *fit = strmap_new();
        struct rule r = cases[c].keep;

        assert_non_null(m);
        assert_non_null(fit);
        assert_int_equal(fill(m, cases[c].n), DD_OK);
        assert_int_equal(strmap_drop(m, keep_rule, &r, NULL), cases[c].n - cases[c].kept);
        assert_int_equal(strmap_count(m), cases[c].kept);
        for (i = 0; i < cases[c].n; i++) {
            size_t len = key_of(i, key, sizeof(key));
            bool kept = i % r.mod == r.rem;

            assert_ptr_equal(strmap_get(m, key, len), kept ? value_of(i) : NULL);
            if (kept)
                assert_int_equal(strmap_put(fit, key, len, value_of(i), NULL), 0);
        }
        /* A map that kept a tenth or less costs at most twice what a new
         * one of the survivors costs (a quarter full at most, where the new
         * one may be up to half full). */
        if (cases[c].kept * 10 <= cases[c].n)
            assert_true(strmap_bytes(m) <= 2 * strmap_bytes(fit));
        strmap_free(fit, NULL);
        strmap_free(m, NULL);
    }
}

static void test_take(void **state)
{
    struct strmap *m = strmap_new(), *fresh = strmap_new();
    char key[32];
    size_t i;

    (void)state;
    assert_non_null(m);
    assert_non_null(fresh);
    assert_int_equal(fill(m, 3000), DD_OK);
    assert_null(strmap_take(m, "absent", 6));
    assert_int_equal(strmap_count(m), 3000);
    /* Take them in an order unrelated to their slots; the others stay
     * reachable after every removal. */
    for (i = 0; i < 3000; i++) {
        size_t k = i * 7 % 3000, len = key_of(k, key, sizeof(key));

        assert_ptr_equal(strmap_take(m, key, len), value_of(k));
        assert_null(strmap_get(m, key, len));
        if (i % 500 == 0) {
            size_t j = (i + 1) * 7 % 3000;

            assert_ptr_equal(strmap_get(m, key, key_of(j, key, sizeof(key))), value_of(j));
        }
    }
    assert_int_equal(strmap_count(m), 0);
    assert_int_equal(strmap_bytes(m), strmap_bytes(fresh));
    strmap_free(fresh, NULL);
    strmap_free(m, NULL);
}

/* 200 entries, keep 3: the shrink allocates. Without memory the map stays
 * larger and must still find exactly the survivors: reported as
 * DD_ERR_NOMEM, as is any failed put. */
static int shrink_case(void *ctx)
{
    struct strmap *m = strmap_new(), *fit = strmap_new();
    struct rule r = { 70, 0 };
    char key[32];
    size_t i;
    int rc = DD_ERR_NOMEM;

    (void)ctx;
    if (!m || !fit || fill(m, 200) || fill(fit, 0))
        goto out;
    for (i = 0; i < 200; i += 70)
        if (strmap_put(fit, key, key_of(i, key, sizeof(key)), value_of(i), NULL))
            goto out;
    assert_int_equal(strmap_drop(m, keep_rule, &r, NULL), 197);
    for (i = 0; i < 200; i++) {
        size_t len = key_of(i, key, sizeof(key));

        assert_ptr_equal(strmap_get(m, key, len), i % 70 == 0 ? value_of(i) : NULL);
    }
    if (strmap_bytes(m) == strmap_bytes(fit))
        rc = DD_OK;
out:
    strmap_free(fit, NULL);
    strmap_free(m, NULL);
    return rc;
}

static void test_a_shrink_without_memory_keeps_a_working_map(void **state)
{
    (void)state;
    assert_true(alloc_fail_sweep(shrink_case, NULL) > 200);
}

static void free_counted(void *value)
{
    (*(size_t *)value)++;
}

static bool keep_none(void *ctx, const void *value)
{
    (void)ctx;
    (void)value;
    return false;
}

static void test_drop_frees_what_it_drops(void **state)
{
    struct strmap *m = strmap_new();
    size_t freed = 0;

    (void)state;
    assert_non_null(m);
    assert_int_equal(strmap_put(m, "a", 1, &freed, NULL), 0);
    assert_int_equal(strmap_put(m, "b", 1, &freed, NULL), 0);
    assert_int_equal(strmap_drop(m, keep_none, NULL, free_counted), 2);
    assert_int_equal(freed, 2);
    strmap_free(m, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_keeps_the_rest_reachable),
        cmocka_unit_test(test_take),
        cmocka_unit_test(test_a_shrink_without_memory_keeps_a_working_map),
        cmocka_unit_test(test_drop_frees_what_it_drops),
    };

    alloc_fail_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
