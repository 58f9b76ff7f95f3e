/* SPDX-License-Identifier: MIT */
/* busywait.h: the backoff of the store's busy handler, as pure arithmetic.
 * Pure: any thread. */
#ifndef DD_CORE_BUSYWAIT_H
#define DD_CORE_BUSYWAIT_H

#include <stdint.h>

/* Tries that only yield the CPU before the first sleep. */
#define BUSYWAIT_YIELDS 4
/* The first sleep and the longest one, in microseconds. */
#define BUSYWAIT_FIRST_US 10
#define BUSYWAIT_MAX_US   1000

/* How long a writer that found the database locked waits before its next
 * try. count is how many times it has already waited for this lock (0 on
 * the first call), waited_us how long since the first, limit_us the total
 * it may wait. Returns 0 to yield the CPU without sleeping, a number of
 * microseconds to sleep (never past limit_us), or -1 to give up (the
 * caller answers busy). Cannot fail. Tested in tests/unit/test_busywait.c. */
int64_t busywait_next_us(int count, int64_t waited_us, int64_t limit_us);

#endif
