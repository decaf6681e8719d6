/*
 * hmap.c - string-keyed open-addressing hash map (see hmap.h).
 */
#include "hmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "err.h"

typedef struct {
    char *key;     /* NULL: empty slot */
    uint64_t hash; /* full hash of key */
    void *value;
} slot;

struct cmk_hmap {
    slot *slots;
    size_t cap;   /* power of two */
    size_t count;
    uint64_t seed;
};

/* hash - seeded FNV-1a, finished with a 64-bit mix so low bits depend on every byte */
static uint64_t hash(const cmk_hmap *self, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ self->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* cmk_hmap_new - an empty map with 16 slots */
cmk_hmap *cmk_hmap_new(void)
{
    cmk_hmap *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = 16;
    if (!(self->slots = calloc(self->cap, sizeof *self->slots))) {
        free(self);
        return NULL;
    }
    if (RAND_bytes((unsigned char *)&self->seed, sizeof self->seed) != 1)
        self->seed = (uint64_t)(uintptr_t)self; /* still a map, just a predictable one */
    return self;
}

/* cmk_hmap_destroy - free the keys and the map (not the values) */
void cmk_hmap_destroy(cmk_hmap **self_p)
{
    cmk_hmap *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    for (size_t i = 0; i < self->cap; i++)
        free(self->slots[i].key);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

/* find - the slot holding key, or the empty slot where it would go */
static size_t find(const cmk_hmap *self, const char *key, uint64_t h)
{
    size_t mask = self->cap - 1, i = (size_t)h & mask;
    while (self->slots[i].key && (self->slots[i].hash != h || strcmp(self->slots[i].key, key) != 0))
        i = (i + 1) & mask;
    return i;
}

/* grow - double the table and re-insert every key */
static int grow(cmk_hmap *self)
{
    size_t ncap = self->cap * 2, mask = ncap - 1;
    slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return CMK_ENOMEM;
    for (size_t i = 0; i < self->cap; i++) {
        size_t j;
        if (!self->slots[i].key)
            continue;
        j = (size_t)self->slots[i].hash & mask;
        while (ns[j].key)
            j = (j + 1) & mask;
        ns[j] = self->slots[i];
    }
    free(self->slots);
    self->slots = ns;
    self->cap = ncap;
    return 0;
}

/* cmk_hmap_put - insert or replace */
int cmk_hmap_put(cmk_hmap *self, const char *key, void *value)
{
    uint64_t h = hash(self, key);
    size_t i;

    if ((self->count + 1) * 10 > self->cap * 7 && grow(self) < 0)
        return CMK_ENOMEM;
    i = find(self, key, h);
    if (!self->slots[i].key) {
        if (!(self->slots[i].key = strdup(key)))
            return CMK_ENOMEM;
        self->slots[i].hash = h;
        self->count++;
    }
    self->slots[i].value = value;
    return 0;
}

/* cmk_hmap_get - lookup */
void *cmk_hmap_get(const cmk_hmap *self, const char *key)
{
    size_t i = find(self, key, hash(self, key));
    return self->slots[i].key ? self->slots[i].value : NULL;
}

/* cmk_hmap_remove - delete with backward shift, so no tombstones slow later lookups */
void *cmk_hmap_remove(cmk_hmap *self, const char *key)
{
    size_t mask = self->cap - 1, i = find(self, key, hash(self, key)), j;
    void *value;

    if (!self->slots[i].key)
        return NULL;
    value = self->slots[i].value;
    free(self->slots[i].key);
    self->slots[i].key = NULL;
    self->count--;
    /* move later members of the probe run back into the hole when their home allows it */
    for (j = (i + 1) & mask; self->slots[j].key; j = (j + 1) & mask) {
        size_t home = (size_t)self->slots[j].hash & mask;
        /* j may move to i if home is not cyclically in (i, j] */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            self->slots[i] = self->slots[j];
            self->slots[j].key = NULL;
            i = j;
        }
    }
    return value;
}

size_t cmk_hmap_count(const cmk_hmap *self)
{
    return self->count;
}

/* cmk_hmap_next - iteration in slot order */
int cmk_hmap_next(const cmk_hmap *self, size_t *pos, const char **key, void **value)
{
    for (; *pos < self->cap; (*pos)++)
        if (self->slots[*pos].key) {
            if (key)
                *key = self->slots[*pos].key;
            if (value)
                *value = self->slots[*pos].value;
            (*pos)++;
            return 1;
        }
    return 0;
}
