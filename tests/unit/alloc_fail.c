/* SPDX-License-Identifier: MIT */
/* alloc_fail.c: the wrapped allocator behind alloc_fail.h. Single-threaded:
 * unit tests that use it must not allocate from other threads. */
#include "alloc_fail.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "../../core/error.h"

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);

static long n_allocs; /* allocations since the last reset */
static long fail_at;  /* 1-based allocation to fail, 0 = none */
static long live;     /* blocks not yet freed */

static int should_fail(void)
{
    n_allocs++;
    return fail_at && n_allocs == fail_at;
}

void *__wrap_malloc(size_t size)
{
    void *p;

    if (should_fail())
        return NULL;
    p = __real_malloc(size);
    if (p)
        live++;
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p;

    if (should_fail())
        return NULL;
    p = __real_calloc(n, size);
    if (p)
        live++;
    return p;
}

void *__wrap_realloc(void *p, size_t size)
{
    void *q;

    if (should_fail())
        return NULL;
    q = __real_realloc(p, size);
    if (q && !p)
        live++;
    return q;
}

void __wrap_free(void *p)
{
    if (p)
        live--;
    __real_free(p);
}

void alloc_fail_setup(void)
{
    cJSON_Hooks hooks = { __wrap_malloc, __wrap_free };

    cJSON_InitHooks(&hooks);
}

long alloc_live_blocks(void)
{
    return live;
}

long alloc_fail_sweep(int (*case_fn)(void *ctx), void *ctx)
{
    long total, i, before;
    int rc;

    fail_at = 0;
    n_allocs = 0;
    before = live;
    rc = case_fn(ctx);
    assert_int_equal(rc, DD_OK);
    assert_int_equal(live, before);
    total = n_allocs;
    for (i = 1; i <= total; i++) {
        fail_at = i;
        n_allocs = 0;
        before = live;
        rc = case_fn(ctx);
        if (rc != DD_ERR_NOMEM)
            fail_msg("allocation %ld of %ld failed but the call returned %d", i, total, rc);
        if (live != before)
            fail_msg("allocation %ld of %ld failed and %ld blocks leaked", i, total, live - before);
    }
    fail_at = 0;
    return total;
}
