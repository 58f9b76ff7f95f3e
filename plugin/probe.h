/* SPDX-License-Identifier: MIT */
/* probe.h: what the plugin's open-addressing tables share (plugin/strmap.c,
 * the two tables of plugin/clients.c): they probe linearly, grow by
 * doubling at half load, delete by backward shift and shrink once at most
 * 1/8 full. */
#ifndef DD_PLUGIN_PROBE_H
#define DD_PLUGIN_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* Whether the entry in slot j, whose home slot is home, may move back into
 * the hole at slot i of the same probe run: unless its home lies
 * cyclically in (i, j], where the move would put it before its home. */
static inline bool probe_may_fill(size_t i, size_t j, size_t home)
{
    return (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j);
}

/* A table's slots: size bytes each; used(slot) tells a full one from an
 * empty one (all zero bytes), hash(slot) its key's hash. */
struct probe_slots {
    void *slots;
    size_t cap; /* a power of two */
    size_t size;
    bool (*used)(const void *slot);
    size_t (*hash)(const void *slot);
};

/* Slot i was just emptied (zeroed): shift the rest of its probe run back
 * so that every key stays reachable from its home slot, leaving no
 * tombstone (Knuth's algorithm R). */
static inline void probe_shift_back(const struct probe_slots *t, size_t i)
{
    char *base = t->slots;
    size_t mask = t->cap - 1, j = i;

    for (;;) {
        j = (j + 1) & mask;
        if (!t->used(base + j * t->size))
            return;
        if (probe_may_fill(i, j, t->hash(base + j * t->size) & mask)) {
            memcpy(base + i * t->size, base + j * t->size, t->size);
            memset(base + j * t->size, 0, t->size);
            i = j;
        }
    }
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
