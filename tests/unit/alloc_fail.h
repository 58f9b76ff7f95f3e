/* SPDX-License-Identifier: MIT */
/* alloc_fail.h: a counting allocator for the unit tests.
 *
 * Test binaries are linked with -Wl,--wrap=malloc,--wrap=calloc,
 * --wrap=realloc,--wrap=free, so every allocation made by core/ and store/
 * objects (and by cJSON, whose hooks alloc_fail_setup() installs) goes
 * through this file. A test can then fail the Nth allocation and check that
 * the code under test answers DD_ERR_NOMEM and leaks nothing. */
#ifndef DD_TESTS_ALLOC_FAIL_H
#define DD_TESTS_ALLOC_FAIL_H

/* Install the cJSON hooks. Call once at the start of main(). */
void alloc_fail_setup(void);

/* Run case_fn once to count its allocations, then once per allocation with
 * that allocation failing. Each failing run must return DD_ERR_NOMEM and
 * leave as many live blocks as before it started; the clean run must return
 * DD_OK. case_fn frees whatever its call produced before returning. Fails
 * the current cmocka test otherwise. Returns the number of allocations of
 * the clean run (so a test can also assert it allocated at all). */
long alloc_fail_sweep(int (*case_fn)(void *ctx), void *ctx);

/* Blocks currently allocated and not freed through the wrapped functions. */
long alloc_live_blocks(void);

#endif
