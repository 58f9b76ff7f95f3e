/* SPDX-License-Identifier: MIT */
/* strmap.h: a string-keyed hash map of pointers, for the engine thread's
 * working sets (per-thing metric history, profile masks). Keys may contain
 * NUL bytes: they are (pointer, length) pairs, copied into the map. One
 * thread at a time; no internal locking. */
#ifndef DD_PLUGIN_STRMAP_H
#define DD_PLUGIN_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap;

/* A new map; NULL when out of memory. strmap_free(m, free_value) frees the
 * keys and calls free_value (may be NULL) on every value. */
struct strmap *strmap_new(void);
void strmap_free(struct strmap *m, void (*free_value)(void *));

/* The value for key, or NULL. */
void *strmap_get(const struct strmap *m, const void *key, size_t len);

/* Set key to value (replacing and returning the old value through *old when
 * old is not NULL). Returns 0, or -1 when out of memory (map unchanged). */
int strmap_put(struct strmap *m, const void *key, size_t len, void *value, void **old);

/* Remove key from m and hand its value to the caller (NULL when key is
 * absent). Cannot fail. */
void *strmap_take(struct strmap *m, const void *key, size_t len);

/* Remove every entry whose value keep(ctx, value) does not keep, calling
 * free_value (may be NULL) on its value; keep may be asked twice about the
 * same value. Returns how many were removed. The slots then shrink to fit
 * what is left. Cannot fail. */
size_t strmap_drop(struct strmap *m, bool (*keep)(void *ctx, const void *value), void *ctx,
                   void (*free_value)(void *));

/* Call fn for every entry, in no particular order. */
void strmap_each(const struct strmap *m,
                 void (*fn)(void *ctx, const void *key, size_t len, void *value), void *ctx);

size_t strmap_count(const struct strmap *m);

/* The map's hash of a key (FNV-1a), for tables of the same keys that a
 * strmap cannot be (plugin/config.c's things added while read). */
uint32_t strmap_hash(const void *key, size_t len);

/* Bytes the map itself holds: its slots and the copies of the keys (the
 * values are the caller's). */
size_t strmap_bytes(const struct strmap *m);

#endif
