/* SPDX-License-Identifier: MIT */
/* probe.h: the two rules shared by the plugin's open-addressing tables
 * (plugin/strmap.c, the client table of plugin/clients.c), which probe
 * linearly, grow by doubling at half load and delete by backward shift. */
#ifndef DD_PLUGIN_PROBE_H
#define DD_PLUGIN_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the entry in slot j, whose home slot is home, may move back into
 * the hole at slot i of the same probe run: unless its home lies
 * cyclically in (i, j], where the move would put it before its home. */
static inline bool probe_may_fill(size_t i, size_t j, size_t home)
{
    return (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j);
}

/* The capacity a table of cap slots (a power of two, at least min) holding
 * n entries should shrink to: cap itself while it is more than 1/8 full,
 * else the power of two (at least min) that leaves it at most a quarter
 * full. The gap to the growth at half load keeps a table that grows and
 * shrinks around one size from rehashing at every change. */
static inline size_t probe_shrunk_cap(size_t n, size_t cap, size_t min)
{
    size_t fit = min;

    if (cap <= min || n * 8 > cap)
        return cap;
    while (n * 4 > fit)
        fit *= 2;
    return fit;
}

#endif
