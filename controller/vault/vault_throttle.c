/*
 * vault_throttle.c - Azure Key Vault-like service limits per vault.
 *
 * Two budgets per vault, each counted over a sliding window (default 10 s, split into ten
 * slots): cryptographic transactions (get, wrap, unwrap, encrypt, decrypt) and management
 * transactions (create, import, update, delete, list, ...). As in Azure, the cryptographic
 * budget is weighted by key size and enforced on the sum: with the defaults (4000 per window
 * for RSA 2048, 1000 for 3072, 250 for 4096) one 4096-bit operation costs as much as sixteen
 * 2048-bit ones. A refused transaction is CMK_EBUSY with an HTTP 429-style message carrying
 * "retry after N seconds". Time comes from a monotonic source (never the virtual clock, so
 * `cmkctl clock advance` does not refill budgets); tests inject their own source.
 */
#include "vault_int.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 10
#define BUDGET INT64_C(1000000000000) /* units per window; a transaction costs BUDGET / limit */

/* ring - one budget's sliding window */
typedef struct {
    int64_t idx[SLOTS];   /* slot number (time / slot length) each entry counts for */
    int64_t units[SLOTS]; /* units spent in that slot */
} ring;

/* vault_budget - the two budgets of one vault */
typedef struct {
    int64_t vault_id; /* vault row id */
    ring r[2];        /* [VAULT_TX_MGMT], [VAULT_TX_CRYPTO] */
} vault_budget;

struct vault_throttle {
    pthread_mutex_t mu;   /* guards the table */
    vault_config cfg;     /* limits, window, time source */
    vault_budget *vaults; /* one entry per vault seen */
    size_t n, cap;        /* entries used / allocated */
};

/* vault_throttle_new - a throttle with the config's limits */
vault_throttle *vault_throttle_new(const vault_config *cfg)
{
    vault_throttle *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->mu, NULL);
    self->cfg = *cfg;
    if (self->cfg.throttle_window_ms < SLOTS)
        self->cfg.throttle_window_ms = 10000;
    return self;
}

/* vault_throttle_destroy - free; accepts NULL */
void vault_throttle_destroy(vault_throttle **self_p)
{
    if (self_p && *self_p) {
        pthread_mutex_destroy(&(*self_p)->mu);
        free((*self_p)->vaults);
        free(*self_p);
        *self_p = NULL;
    }
}

/* budget_for - the entry of a vault, created on first use */
static vault_budget *budget_for(vault_throttle *self, int64_t vault_id)
{
    for (size_t i = 0; i < self->n; i++)
        if (self->vaults[i].vault_id == vault_id)
            return &self->vaults[i];
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        vault_budget *p = realloc(self->vaults, cap * sizeof *p);
        if (!p)
            return NULL;
        self->vaults = p;
        self->cap = cap;
    }
    memset(&self->vaults[self->n], 0, sizeof self->vaults[0]);
    self->vaults[self->n].vault_id = vault_id;
    for (int s = 0; s < SLOTS; s++)
        self->vaults[self->n].r[0].idx[s] = self->vaults[self->n].r[1].idx[s] = INT64_MIN;
    return &self->vaults[self->n++];
}

/* limit_for - transactions per window of a class (and key size); 0 means unlimited */
static int limit_for(const vault_config *cfg, vault_tx_class cls, int bits)
{
    if (cls == VAULT_TX_MGMT)
        return cfg->limit_mgmt;
    if (bits >= 4096)
        return cfg->limit_rsa4096;
    if (bits >= 3072)
        return cfg->limit_rsa3072;
    return cfg->limit_rsa2048;
}

/* vault_throttle_take - charge one transaction or refuse with retry-after */
int vault_throttle_take(vault_throttle *self, int64_t vault_id, const char *vault_name,
                        vault_tx_class cls, int bits, cmk_err *err)
{
    int64_t slot_ms, now, cur, used = 0, cost, retry_ms = 0;
    int limit;
    vault_budget *b;
    ring *r;
    int rc = 0;

    if (!self || !self->cfg.throttle_enabled)
        return 0;
    limit = limit_for(&self->cfg, cls, bits);
    if (limit <= 0)
        return 0;
    cost = BUDGET / limit;
    slot_ms = self->cfg.throttle_window_ms / SLOTS;
    now = self->cfg.mono_now ? self->cfg.mono_now(self->cfg.mono_arg) : cmk_mono_ms();
    cur = now / slot_ms;
    pthread_mutex_lock(&self->mu);
    b = budget_for(self, vault_id);
    if (!b) {
        pthread_mutex_unlock(&self->mu);
        return 0; /* out of memory: do not refuse service for it */
    }
    r = &b->r[cls];
    for (int s = 0; s < SLOTS; s++)
        if (r->idx[s] > cur - SLOTS && r->idx[s] <= cur)
            used += r->units[s];
    if (used + cost > BUDGET) {
        /* free slots oldest first until the transaction would fit */
        int64_t freed = 0;
        for (int64_t i = cur - SLOTS + 1; i <= cur; i++) {
            int s = (int)(((i % SLOTS) + SLOTS) % SLOTS);
            if (r->idx[s] != i)
                continue;
            freed += r->units[s];
            if (used - freed + cost <= BUDGET) {
                retry_ms = (i + SLOTS) * slot_ms - now;
                break;
            }
        }
        if (retry_ms <= 0)
            retry_ms = self->cfg.throttle_window_ms;
        rc = CMK_EBUSY;
    } else {
        int s = (int)(((cur % SLOTS) + SLOTS) % SLOTS);
        if (r->idx[s] != cur) {
            r->idx[s] = cur;
            r->units[s] = 0;
        }
        r->units[s] += cost;
    }
    pthread_mutex_unlock(&self->mu);
    if (rc == 0)
        return 0;
    {
        int64_t secs = (retry_ms + 999) / 1000;
        double window_s = (double)self->cfg.throttle_window_ms / 1000.0;
        if (secs < 1)
            secs = 1;
        if (cls == VAULT_TX_MGMT)
            return cmk_err_set(err, CMK_EBUSY,
                               "429 Too Many Requests: vault '%s' is throttled: more than %d "
                               "management transactions in %g seconds; retry after %" PRId64
                               " seconds",
                               vault_name, limit, window_s, secs);
        return cmk_err_set(err, CMK_EBUSY,
                           "429 Too Many Requests: vault '%s' is throttled: its cryptographic "
                           "transaction budget (%d per %g seconds for RSA 2048-bit keys, %d for "
                           "3072-bit, %d for 4096-bit; this key has %d bits) is used up; retry "
                           "after %" PRId64 " seconds",
                           vault_name, self->cfg.limit_rsa2048, window_s, self->cfg.limit_rsa3072,
                           self->cfg.limit_rsa4096, bits, secs);
    }
}

/* vault_throttle_forget - drop a vault's counters */
void vault_throttle_forget(vault_throttle *self, int64_t vault_id)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->mu);
    for (size_t i = 0; i < self->n; i++)
        if (self->vaults[i].vault_id == vault_id) {
            self->vaults[i] = self->vaults[--self->n];
            break;
        }
    pthread_mutex_unlock(&self->mu);
}
