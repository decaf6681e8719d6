/*
 * hmap.h - a small string-keyed hash map (open addressing, linear probing, backward-shift
 * deletion): O(1) lookup of things found by a name or id, such as the broker's thousands of
 * pending forwards. Keys are copied; values are borrowed (the map never frees them).
 * The hash is FNV-1a mixed with a per-map random seed, so keys chosen by a peer or client
 * cannot be made to collide on purpose across runs. Not thread-safe.
 */
#ifndef CMK_HMAP_H
#define CMK_HMAP_H

#include <stddef.h>

typedef struct cmk_hmap cmk_hmap;

/* cmk_hmap_new - an empty map; NULL when out of memory */
cmk_hmap *cmk_hmap_new(void);
void cmk_hmap_destroy(cmk_hmap **self_p);

/* cmk_hmap_put - set key to value (replacing an existing value); 0, or CMK_ENOMEM */
int cmk_hmap_put(cmk_hmap *self, const char *key, void *value);

/* cmk_hmap_get - the value of key, or NULL */
void *cmk_hmap_get(const cmk_hmap *self, const char *key);

/* cmk_hmap_remove - remove key; its value, or NULL if it was not there */
void *cmk_hmap_remove(cmk_hmap *self, const char *key);

/* cmk_hmap_count - how many keys */
size_t cmk_hmap_count(const cmk_hmap *self);

/* cmk_hmap_next - iterate: start with *pos = 0; returns 1 with key/value of the next entry
 * (either out pointer may be NULL), 0 at the end. The map must not change while iterating. */
int cmk_hmap_next(const cmk_hmap *self, size_t *pos, const char **key, void **value);

#endif
