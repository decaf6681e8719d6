/*
 * keyring.h - data keys (DEKs) of every environment's partition, wrapped by a key-encryption
 * key (KEK): the Microsoft-managed key (MMK), which the controller holds in
 * <run>/keys/microsoft-managed.key and no customer API reaches, or a customer-managed key in
 * the vault, used through the enterprise policy's identity.
 *
 * Every environment has an active DEK per purpose:
 *   "data" - the shared infrastructure's partition (flows, runs, OAuth secrets); always wrapped
 *            by the MMK: flows that stay on the Microsoft-managed key after CMK live there;
 *   "cmk"  - the dedicated infrastructure's partition; wrapped by the customer's key through
 *            the enterprise policy (made when the environment is added to a policy);
 *   "mmk"  - non-OAuth connection secrets; always wrapped by the MMK (seed 000: "CMKs aren't
 *            leveraged to encrypt non-OAuth connections").
 * Workers get their DEKs unwrapped over the CURVE back channel (`dek.get`) once at start and
 * cache them; keyring_authorize() decides who may have which: a worker only its environments'
 * keys, and the shared worker none of a customer-managed environment.
 * Rotating the KEK re-wraps the DEKs (keyring_rewrap): no data is rewritten.
 */
#ifndef CMK_KEYRING_H
#define CMK_KEYRING_H

#include <stdint.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "clock.h"
#include "envelope.h"
#include "err.h"
#include "vault.h"

typedef struct keyring keyring;

/* A key-encryption key. */
typedef struct {
    const char *kind;      /* "mmk" or "vault" */
    const char *vault;     /* vault name (vault) */
    const char *key;       /* key name (vault) */
    const char *version;   /* key version (vault); NULL or "": current */
    const char *principal; /* identity used at the vault (the policy's) */
} keyring_kek;

/* keyring_new - MMK (created on first start) and the deks table */
keyring *keyring_new(sqlite3 *db, cmk_clock *clock, const char *run_dir, vault_svc *vault, cmk_err *err);
void keyring_destroy(keyring **self_p);

/* keyring_ensure - make sure env has an active DEK for purpose, making one wrapped by kek
 * (NULL: the MMK) if it has none; id_hex (may be NULL) gets its id */
int keyring_ensure(keyring *self, const char *env, const char *purpose, const keyring_kek *kek,
                   char id_hex[33], cmk_err *err);

/* keyring_unwrap - the active DEK of env for purpose, unwrapped (wipe key after use) */
int keyring_unwrap(keyring *self, const char *env, const char *purpose, uint8_t id[CMK_DEK_ID_LEN],
                   uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err);

/* keyring_rewrap - re-wrap env's active DEK of purpose under kek; *count re-wrapped */
int keyring_rewrap(keyring *self, const char *env, const char *purpose, const keyring_kek *kek, int *count,
                   cmk_err *err);

/* keyring_kek_version - the vault key version that wraps env's active DEK of purpose into
 * version (VAULT_VERSION_MAX; "" when the Microsoft-managed key wraps it); CMK_ENOENT if none */
int keyring_kek_version(keyring *self, const char *env, const char *purpose, char *version, size_t cap,
                        cmk_err *err);

/* keyring_list - the DEKs of env (NULL: all): [{id, env, purpose, kek, state, created}] */
int keyring_list(keyring *self, const char *env, cJSON **out, cmk_err *err);

/* keyring_forget_env - drop an environment's DEKs (environment deleted or reset) */
int keyring_forget_env(keyring *self, const char *env, cmk_err *err);

/* keyring_authorize - may the peer described by its authorized.json entry have env's DEK for
 * purpose, given the environment's encryption ("microsoft" or "customer")? 0 or CMK_EPERM */
int keyring_authorize(const cJSON *peer_entry, const char *env, const char *encryption,
                      const char *purpose, cmk_err *err);

#endif
