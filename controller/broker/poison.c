/*
 * poison.c - the broker's memory of requests that stopped their peer twice (see poison.h).
 */
#include "poison.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "clock.h"

/* A request that stopped its peer twice: refused when sent again until `until`. */
typedef struct {
    uint8_t digest[32]; /* SHA-256 of peer, type and body */
    int64_t until;      /* mono ms; 0: free slot */
} poison;

struct poison_memory {
    poison slots[POISON_SLOTS];
    int used; /* slots in use (0: nothing to check on the forward path) */
    int next; /* next slot to overwrite */
};

/* poison_memory_new - an empty memory */
poison_memory *poison_memory_new(void)
{
    return calloc(1, sizeof(poison_memory));
}

/* poison_memory_destroy - free */
void poison_memory_destroy(poison_memory **self_p)
{
    if (self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

/* fingerprint - SHA-256 of (peer, type, body as encoded): how a request that stopped its peer twice is
 * recognised when it is sent again */
static int fingerprint(const char *peer, const char *type, const char *text, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, peer, strlen(peer) + 1) == 1 &&
             EVP_DigestUpdate(ctx, type, strlen(type) + 1) == 1 &&
             EVP_DigestUpdate(ctx, text ? text : "", text ? strlen(text) : 0) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -1;
}

/* poison_known - was (peer, type, body) remembered lately; forgets expired slots on the way */
int poison_known(poison_memory *self, const char *peer, const char *type, const char *body)
{
    uint8_t d[32];
    int64_t now = cmk_mono_ms();
    int found = 0;

    if (!self || self->used == 0 || fingerprint(peer, type, body, d) < 0)
        return 0;
    for (int i = 0; i < POISON_SLOTS; i++) {
        poison *q = &self->slots[i];
        if (q->until && q->until <= now) {
            q->until = 0; /* expired */
            self->used--;
        } else if (q->until && memcmp(q->digest, d, sizeof d) == 0)
            found = 1;
    }
    return found;
}

/* poison_remember - remember (peer, type, body), overwriting the oldest slot when full */
void poison_remember(poison_memory *self, const char *peer, const char *type, const char *body)
{
    poison *q;
    if (!self)
        return;
    q = &self->slots[self->next];
    if (fingerprint(peer, type, body, q->digest) < 0)
        return;
    if (!q->until)
        self->used++;
    q->until = cmk_mono_ms() + POISON_MEMORY_MS;
    self->next = (self->next + 1) % POISON_SLOTS;
}
