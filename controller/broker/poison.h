/*
 * poison.h - the broker's memory of poison pills: requests (peer, type, body) that stopped
 * their peer twice. Such a request fails back to its client instead of being sent a third
 * time, and the same request is refused for POISON_MEMORY_MS when it is sent again, so one
 * request cannot drive a restart loop (docs/SECURITY.md, "Liveness"). A fixed ring of
 * SHA-256 fingerprints; nothing is hashed on the forward path while the ring is empty.
 */
#ifndef CMK_POISON_H
#define CMK_POISON_H

#include <stdint.h>

/* How long a request that stopped its peer twice is refused when sent again (ms). */
#define POISON_MEMORY_MS (10 * 60 * 1000)
/* How many such requests are remembered (the oldest is forgotten first). */
#define POISON_SLOTS 64

typedef struct poison_memory poison_memory;

/* poison_memory_new - an empty memory (NULL when out of memory) */
poison_memory *poison_memory_new(void);

/* poison_memory_destroy - free (NULL is fine) */
void poison_memory_destroy(poison_memory **self_p);

/* poison_remember - remember that (peer, type, body) stopped its peer twice; body is the
 * request's JSON text as sent (NULL: empty) */
void poison_remember(poison_memory *self, const char *peer, const char *type, const char *body);

/* poison_known - 1 if (peer, type, body) was remembered less than POISON_MEMORY_MS ago */
int poison_known(poison_memory *self, const char *peer, const char *type, const char *body);

#endif
