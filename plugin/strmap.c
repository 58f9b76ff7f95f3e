/* SPDX-License-Identifier: MIT */
/* strmap.c: open addressing with linear probing, FNV-1a, doubling at 50%
 * load. Removal shifts the rest of the probe run back into the hole, so no
 * tombstones build up, and the slot array halves once it is at most 1/8
 * full: a map that emptied costs what its live entries cost. */
#include "plugin/strmap.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/probe.h"

struct slot {
    char *key; /* owned; NULL = empty */
    size_t len;
    uint32_t hash;
    void *value;
};

struct strmap {
    struct slot *slots;
    size_t cap, n;
    size_t key_bytes; /* the keys' copies */
};

uint32_t strmap_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint32_t h = 2166136261u;

    while (len--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

struct strmap *strmap_new(void)
{
    struct strmap *m = calloc(1, sizeof(*m));

    if (!m)
        return NULL;
    m->cap = 16;
    m->slots = calloc(m->cap, sizeof(*m->slots));
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void strmap_free(struct strmap *m, void (*free_value)(void *))
{
    size_t i;

    if (!m)
        return;
    for (i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        free(m->slots[i].key);
        if (free_value)
            free_value(m->slots[i].value);
    }
    free(m->slots);
    free(m);
}

/* The slot holding key, or the empty slot where it would go. The map grows
 * at half load, so the probe always meets an empty slot. */
static struct slot *find(const struct strmap *m, const void *key, size_t len, uint32_t h)
{
    size_t mask = m->cap - 1, i = h & mask;

    assert((m->cap & mask) == 0 && m->n < m->cap);
    for (;; i = (i + 1) & mask) {
        struct slot *s = &m->slots[i];

        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

void *strmap_get(const struct strmap *m, const void *key, size_t len)
{
    struct slot *s = find(m, key, len, strmap_hash(key, len));

    return s->key ? s->value : NULL;
}

#define MIN_CAP 16

/* Move every entry to a new slot array of cap slots (a power of two, more
 * than twice the entries). -1 when out of memory (m unchanged). */
static int resize(struct strmap *m, size_t cap)
{
    struct strmap moved = { calloc(cap, sizeof(struct slot)), cap, m->n, m->key_bytes };
    size_t i;

    assert(m->n * 2 < cap);
    if (!moved.slots)
        return -1;
    for (i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *find(&moved, m->slots[i].key, m->slots[i].len, m->slots[i].hash) = m->slots[i];
    free(m->slots);
    *m = moved;
    return 0;
}

/* After removals (probe_shrunk_cap). Out of memory keeps the larger array,
 * which is still correct. */
static void shrink(struct strmap *m)
{
    size_t cap = probe_shrunk_cap(m->n, m->cap, MIN_CAP);

    if (cap < m->cap)
        (void)resize(m, cap);
}

static bool slot_used(const void *slot)
{
    return ((const struct slot *)slot)->key != NULL;
}

static size_t slot_hash(const void *slot)
{
    return ((const struct slot *)slot)->hash;
}

/* Empty slot i (its value is the caller's) and shift the probe run after
 * it back. */
static void remove_at(struct strmap *m, size_t i)
{
    struct probe_slots slots = { m->slots, m->cap, sizeof(m->slots[0]), slot_used, slot_hash };

    assert(m->slots[i].key && m->n > 0);
    m->key_bytes -= m->slots[i].len ? m->slots[i].len : 1;
    free(m->slots[i].key);
    memset(&m->slots[i], 0, sizeof(m->slots[i]));
    m->n--;
    probe_shift_back(&slots, i);
}

int strmap_put(struct strmap *m, const void *key, size_t len, void *value, void **old)
{
    uint32_t h = strmap_hash(key, len);
    struct slot *s;

    if (old)
        *old = NULL;
    if ((m->n + 1) * 2 > m->cap && resize(m, m->cap * 2))
        return -1;
    assert((m->n + 1) * 2 <= m->cap);
    s = find(m, key, len, h);
    if (s->key) {
        if (old)
            *old = s->value;
        s->value = value;
        return 0;
    }
    s->key = malloc(len ? len : 1);
    if (!s->key)
        return -1;
    memcpy(s->key, key, len);
    s->len = len;
    s->hash = h;
    s->value = value;
    m->n++;
    m->key_bytes += len ? len : 1;
    return 0;
}

void strmap_each(const struct strmap *m,
                 void (*fn)(void *ctx, const void *key, size_t len, void *value), void *ctx)
{
    size_t i;

    for (i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            fn(ctx, m->slots[i].key, m->slots[i].len, m->slots[i].value);
}

void *strmap_take(struct strmap *m, const void *key, size_t len)
{
    struct slot *s = find(m, key, len, strmap_hash(key, len));
    void *value = s->value;

    if (!s->key)
        return NULL;
    remove_at(m, (size_t)(s - m->slots));
    shrink(m);
    return value;
}

size_t strmap_drop(struct strmap *m, bool (*keep)(void *ctx, const void *value), void *ctx,
                   void (*free_value)(void *))
{
    size_t i = 0, dropped = 0;

    while (i < m->cap) {
        struct slot *s = &m->slots[i];

        if (!s->key || keep(ctx, s->value)) {
            i++;
            continue;
        }
        if (free_value)
            free_value(s->value);
        /* The shift may bring an entry not yet seen into slot i (or, at
         * the wrap, one seen already): look at slot i again. */
        remove_at(m, i);
        dropped++;
    }
    shrink(m);
    return dropped;
}

size_t strmap_count(const struct strmap *m)
{
    return m->n;
}

size_t strmap_bytes(const struct strmap *m)
{
    return sizeof(*m) + m->cap * sizeof(m->slots[0]) + m->key_bytes;
}
