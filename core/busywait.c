/* SPDX-License-Identifier: MIT */
/* busywait.c: how long a writer waits for SQLite's write lock.
 *
 * SQLite's own busy handler (sqlite3_busy_timeout) sleeps 1, 2, 5, 10, 15,
 * 20, 25, 25, 25, 50, 50, 100 ms, while a write transaction of ours holds
 * the lock for tens of microseconds: a writer that finds it taken sleeps
 * a hundred times longer than it needed to, and requests queue behind the
 * sleepers. This backoff first yields the CPU a few times (the holder,
 * often on the other core, is about to commit), then sleeps from 10 us
 * doubling up to 1 ms, which bounds the cost of a long holder (the
 * engine's window close of a large fleet) to a thousand wake-ups a second,
 * and stops at the same total timeout as before. */
#include "core/busywait.h"

int64_t busywait_next_us(int count, int64_t waited_us, int64_t limit_us)
{
    int64_t delay = BUSYWAIT_FIRST_US;
    int i;

    if (count < 0 || waited_us < 0 || waited_us >= limit_us)
        return -1;
    if (count < BUSYWAIT_YIELDS)
        return 0;
    for (i = BUSYWAIT_YIELDS; i < count && delay < BUSYWAIT_MAX_US; i++)
        delay *= 2;
    if (delay > BUSYWAIT_MAX_US)
        delay = BUSYWAIT_MAX_US;
    if (delay > limit_us - waited_us)
        delay = limit_us - waited_us;
    return delay;
}
