/*
 * keyring.c - DEKs per environment and purpose, wrapped by the MMK or a vault key.
 */
#include "keyring.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "store.h"
#include "util.h"

#define MMK_LEN 32

struct keyring {
    sqlite3 *db;          /* controller.db (not owned) */
    cmk_clock *clock;     /* creation times (not owned) */
    vault_svc *vault;     /* for customer-managed KEKs (not owned) */
    uint8_t *mmk;         /* the Microsoft-managed key: 32 bytes in locked memory */
};

/* load_mmk - read or create <run>/keys/microsoft-managed.key (hex, 0600) */
static int load_mmk(keyring *self, const char *run_dir, cmk_err *err)
{
    char path[PATH_MAX], *text = NULL, hex[2 * MMK_LEN + 2];
    size_t len = 0;
    int rc;

    snprintf(path, sizeof path, "%s/keys/microsoft-managed.key", run_dir);
    rc = cmk_file_read(path, &text, &len, err);
    if (rc == CMK_ENOENT) {
        if (RAND_bytes(self->mmk, MMK_LEN) != 1)
            return cmk_err_set(err, CMK_ECRYPTO, "no randomness for the Microsoft-managed key");
        cmk_hex_encode(self->mmk, MMK_LEN, hex, sizeof hex);
        strcat(hex, "\n");
        rc = cmk_file_write_atomic(path, hex, strlen(hex), 0600, err);
        OPENSSL_cleanse(hex, sizeof hex);
        return rc;
    }
    if (rc < 0)
        return rc;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    rc = cmk_hex_decode(text, self->mmk, MMK_LEN, err);
    cmk_wipe_str(text, len);
    return rc < 0 ? cmk_err_prefix(err, "%s: ", path) : 0;
}

/* keyring_new - MMK and table */
keyring *keyring_new(sqlite3 *db, cmk_clock *clock, const char *run_dir, vault_svc *vault, cmk_err *err)
{
    keyring *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->db = db;
    self->clock = clock;
    self->vault = vault;
    self->mmk = malloc(MMK_LEN);
    if (!self->mmk || load_mmk(self, run_dir, err) < 0 ||
        store_exec(db,
                   "CREATE TABLE IF NOT EXISTS deks ("
                   "  id TEXT PRIMARY KEY, env TEXT NOT NULL, purpose TEXT NOT NULL,"
                   "  kek_kind TEXT NOT NULL, kek_vault TEXT, kek_key TEXT, kek_version TEXT,"
                   "  principal TEXT, wrapped BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'active',"
                   "  created INTEGER NOT NULL);"
                   "CREATE INDEX IF NOT EXISTS deks_env ON deks(env, purpose, state);",
                   err) < 0) {
        if (!self->mmk)
            cmk_err_set(err, CMK_ENOMEM, "out of memory");
        keyring_destroy(&self);
        return NULL;
    }
    return self;
}

/* keyring_destroy - wipe the MMK */
void keyring_destroy(keyring **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->mmk) {
        OPENSSL_cleanse((*self_p)->mmk, MMK_LEN);
        free((*self_p)->mmk);
    }
    free(*self_p);
    *self_p = NULL;
}

/* mmk_wrap - AES-256 key wrap with padding (RFC 5649) under the MMK */
static int mmk_wrap(keyring *self, int enc, const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len,
                    cmk_err *err)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, f = 0, ok;
    if (!ctx)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_wrap_pad(), NULL, self->mmk, NULL, enc) == 1 &&
         EVP_CipherUpdate(ctx, out, &n, in, (int)in_len) == 1 && EVP_CipherFinal_ex(ctx, out + n, &f) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        return cmk_err_set(err, CMK_ECRYPTO, "%s under the Microsoft-managed key failed%s", enc ? "wrapping" : "unwrapping",
                           enc ? "" : ": the wrapped data key is damaged or was wrapped by another key");
    *out_len = (size_t)(n + f);
    return 0;
}

/* wrap_dek - wrap key bytes under kek into *out (malloc'd); *version_out the vault version used */
static int wrap_dek(keyring *self, const keyring_kek *kek, const uint8_t *key, uint8_t **out, size_t *out_len,
                    char version_out[VAULT_VERSION_MAX], cmk_err *err)
{
    version_out[0] = '\0';
    if (!kek || strcmp(kek->kind, "mmk") == 0) {
        *out = malloc(CMK_DEK_KEY_LEN + 16);
        if (!*out)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return mmk_wrap(self, 1, key, CMK_DEK_KEY_LEN, *out, out_len, err);
    }
    if (strcmp(kek->kind, "vault") == 0) {
        char kid[VAULT_KID_MAX], v[VAULT_NAME_MAX], n[VAULT_KEY_NAME_MAX];
        int rc;
        if (!self->vault)
            return cmk_err_set(err, CMK_EINTERNAL, "no vault service");
        rc = vault_key_wrap(self->vault, kek->principal, kek->vault, kek->key,
                            kek->version && *kek->version ? kek->version : NULL, VAULT_ALG_RSA_OAEP_256, key,
                            CMK_DEK_KEY_LEN, out, out_len, kid, err);
        if (rc < 0)
            return rc;
        return vault_kid_parse(kid, v, n, version_out, err);
    }
    return cmk_err_set(err, CMK_EINVAL, "unknown KEK kind '%s'", kek->kind);
}

/* keyring_ensure - an active DEK exists, or is made */
int keyring_ensure(keyring *self, const char *env, const char *purpose, const keyring_kek *kek,
                   char id_hex[33], cmk_err *err)
{
    sqlite3_stmt *st;
    cmk_dek *dek;
    uint8_t *wrapped = NULL;
    size_t wlen = 0;
    char hex[33], version[VAULT_VERSION_MAX];
    int rc;

    if (strcmp(purpose, "data") != 0 && strcmp(purpose, "mmk") != 0 && strcmp(purpose, "cmk") != 0)
        return cmk_err_set(err, CMK_EINVAL, "unknown data-key purpose '%s' (data, cmk or mmk)", purpose);
    if (sqlite3_prepare_v2(self->db, "SELECT id FROM deks WHERE env = ? AND purpose = ? AND state = 'active'", -1, &st,
                           NULL) != SQLITE_OK)
        return store_err(self->db, err, "dek lookup");
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (id_hex)
            cmk_strlcpy(id_hex, (const char *)sqlite3_column_text(st, 0), 33);
        sqlite3_finalize(st);
        return 0;
    }
    sqlite3_finalize(st);
    if (strcmp(purpose, "mmk") == 0 || strcmp(purpose, "data") == 0)
        kek = NULL; /* shared partitions and non-OAuth secrets: always the Microsoft-managed key */
    if (!(dek = cmk_dek_generate(err)))
        return err->code;
    rc = wrap_dek(self, kek, cmk_dek_key(dek), &wrapped, &wlen, version, err);
    cmk_dek_id_hex(dek, hex, sizeof hex);
    cmk_dek_destroy(&dek);
    if (rc < 0) {
        free(wrapped);
        return rc;
    }
    if (sqlite3_prepare_v2(self->db,
                           "INSERT INTO deks(id, env, purpose, kek_kind, kek_vault, kek_key, kek_version, principal, "
                           "wrapped, created) VALUES(?,?,?,?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) {
        free(wrapped);
        return store_err(self->db, err, "dek insert");
    }
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, env, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, purpose, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, kek ? kek->kind : "mmk", -1, SQLITE_STATIC);
    if (kek && strcmp(kek->kind, "vault") == 0) {
        sqlite3_bind_text(st, 5, kek->vault, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, kek->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, version, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 8, kek->principal, -1, SQLITE_STATIC);
    }
    sqlite3_bind_blob(st, 9, wrapped, (int)wlen, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, cmk_clock_now(self->clock));
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->db, err, "dek insert");
    sqlite3_finalize(st);
    free(wrapped);
    if (rc == 0 && id_hex)
        cmk_strlcpy(id_hex, hex, 33);
    return rc;
}

/* keyring_unwrap - the active DEK in the clear */
int keyring_unwrap(keyring *self, const char *env, const char *purpose, uint8_t id[CMK_DEK_ID_LEN],
                   uint8_t key[CMK_DEK_KEY_LEN], cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;

    if (sqlite3_prepare_v2(self->db,
                           "SELECT id, kek_kind, kek_vault, kek_key, kek_version, principal, wrapped FROM deks "
                           "WHERE env = ? AND purpose = ? AND state = 'active'", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "dek lookup");
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return cmk_err_set(err, CMK_ENOENT, "environment %s has no %s key yet", env, purpose);
    }
    rc = cmk_hex_decode((const char *)sqlite3_column_text(st, 0), id, CMK_DEK_ID_LEN, err);
    if (rc == 0) {
        const char *kind = (const char *)sqlite3_column_text(st, 1);
        const uint8_t *w = sqlite3_column_blob(st, 6);
        size_t wlen = (size_t)sqlite3_column_bytes(st, 6), out_len = 0;
        if (strcmp(kind, "mmk") == 0) {
            uint8_t buf[CMK_DEK_KEY_LEN + 16];
            rc = mmk_wrap(self, 0, w, wlen, buf, &out_len, err);
            if (rc == 0 && out_len != CMK_DEK_KEY_LEN)
                rc = cmk_err_set(err, CMK_ECRYPTO, "the data key of %s has a wrong length", env);
            if (rc == 0)
                memcpy(key, buf, CMK_DEK_KEY_LEN);
            OPENSSL_cleanse(buf, sizeof buf);
        } else {
            uint8_t *plain = NULL;
            char kid[VAULT_KID_MAX];
            rc = self->vault ? vault_key_unwrap(self->vault, (const char *)sqlite3_column_text(st, 5),
                                                (const char *)sqlite3_column_text(st, 2),
                                                (const char *)sqlite3_column_text(st, 3),
                                                (const char *)sqlite3_column_text(st, 4), VAULT_ALG_RSA_OAEP_256, w,
                                                wlen, &plain, &out_len, kid, err)
                             : cmk_err_set(err, CMK_EINTERNAL, "no vault service");
            if (rc == 0 && out_len != CMK_DEK_KEY_LEN)
                rc = cmk_err_set(err, CMK_ECRYPTO, "the data key of %s has a wrong length", env);
            if (rc == 0)
                memcpy(key, plain, CMK_DEK_KEY_LEN);
            vault_secret_free(&plain, out_len);
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* keyring_rewrap - env's active DEK of purpose under a new KEK */
int keyring_rewrap(keyring *self, const char *env, const char *purpose, const keyring_kek *kek, int *count,
                   cmk_err *err)
{
    sqlite3_stmt *st;
    uint8_t id[CMK_DEK_ID_LEN], key[CMK_DEK_KEY_LEN], *wrapped = NULL;
    size_t wlen;
    char version[VAULT_VERSION_MAX], hex[33];
    int rc;

    *count = 0;
    if ((rc = keyring_unwrap(self, env, purpose, id, key, err)) < 0)
        return rc;
    rc = wrap_dek(self, kek, key, &wrapped, &wlen, version, err);
    OPENSSL_cleanse(key, sizeof key);
    if (rc < 0) {
        free(wrapped);
        return rc;
    }
    cmk_hex_encode(id, sizeof id, hex, sizeof hex);
    if (sqlite3_prepare_v2(self->db,
                           "UPDATE deks SET kek_kind = ?, kek_vault = ?, kek_key = ?, kek_version = ?, principal = ?, "
                           "wrapped = ? WHERE id = ?", -1, &st, NULL) != SQLITE_OK) {
        free(wrapped);
        return store_err(self->db, err, "dek rewrap");
    }
    sqlite3_bind_text(st, 1, kek ? kek->kind : "mmk", -1, SQLITE_STATIC);
    if (kek && strcmp(kek->kind, "vault") == 0) {
        sqlite3_bind_text(st, 2, kek->vault, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, kek->key, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, version, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, kek->principal, -1, SQLITE_STATIC);
    }
    sqlite3_bind_blob(st, 6, wrapped, (int)wlen, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, hex, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->db, err, "dek rewrap");
    sqlite3_finalize(st);
    free(wrapped);
    if (rc == 0)
        *count = 1;
    return rc;
}

/* keyring_kek_version - which vault key version wraps the active DEK */
int keyring_kek_version(keyring *self, const char *env, const char *purpose, char *version, size_t cap,
                        cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(self->db, "SELECT kek_kind, kek_version FROM deks WHERE env = ? AND purpose = ? AND "
                                     "state = 'active'", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "dek lookup");
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *kind = (const char *)sqlite3_column_text(st, 0), *v = (const char *)sqlite3_column_text(st, 1);
        cmk_strlcpy(version, kind && strcmp(kind, "vault") == 0 && v ? v : "", cap);
        rc = 0;
    } else
        rc = cmk_err_set(err, CMK_ENOENT, "environment %s has no %s key yet", env, purpose);
    sqlite3_finalize(st);
    return rc;
}

/* keyring_list - DEKs as JSON */
int keyring_list(keyring *self, const char *env, cJSON **out, cmk_err *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(self->db,
                           "SELECT id, env, purpose, kek_kind, kek_vault, kek_key, kek_version, state, created FROM deks "
                           "WHERE ?1 IS NULL OR env = ?1 ORDER BY created", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "dek list");
    if (env)
        sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    *out = cJSON_CreateArray();
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        char kek[512], ts[40];
        const char *kind = (const char *)sqlite3_column_text(st, 3);
        if (strcmp(kind, "vault") == 0)
            snprintf(kek, sizeof kek, "%s/%s/%s", sqlite3_column_text(st, 4), sqlite3_column_text(st, 5),
                     sqlite3_column_text(st, 6));
        else
            snprintf(kek, sizeof kek, "microsoft-managed");
        cJSON_AddStringToObject(o, "id", (const char *)sqlite3_column_text(st, 0));
        cJSON_AddStringToObject(o, "env", (const char *)sqlite3_column_text(st, 1));
        cJSON_AddStringToObject(o, "purpose", (const char *)sqlite3_column_text(st, 2));
        cJSON_AddStringToObject(o, "kek", kek);
        cJSON_AddStringToObject(o, "state", (const char *)sqlite3_column_text(st, 7));
        cJSON_AddStringToObject(o, "created", cmk_time_format(sqlite3_column_int64(st, 8), ts, sizeof ts));
        cJSON_AddItemToArray(*out, o);
    }
    sqlite3_finalize(st);
    return 0;
}

/* keyring_forget_env - drop an environment's DEKs */
int keyring_forget_env(keyring *self, const char *env, cmk_err *err)
{
    sqlite3_stmt *st;
    int rc;
    if (sqlite3_prepare_v2(self->db, "DELETE FROM deks WHERE env = ?", -1, &st, NULL) != SQLITE_OK)
        return store_err(self->db, err, "dek delete");
    sqlite3_bind_text(st, 1, env, -1, SQLITE_STATIC);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : store_err(self->db, err, "dek delete");
    sqlite3_finalize(st);
    return rc;
}

/* keyring_authorize - who may hold which DEK */
int keyring_authorize(const cJSON *peer_entry, const char *env, const char *encryption, const char *purpose,
                      cmk_err *err)
{
    const char *name = cmk_json_str(peer_entry, "name", "?"), *role = cmk_json_str(peer_entry, "role", "");
    const cJSON *envs = cJSON_GetObjectItem(peer_entry, "envs"), *it;
    int named = 0, wildcard = 0;

    if (!peer_entry || strcmp(role, "worker") != 0)
        return cmk_err_set(err, CMK_EPERM, "only workers hold data keys; '%s' (role %s) cannot have the key of %s",
                           name, role[0] ? role : "unknown", env);
    cJSON_ArrayForEach(it, envs) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, env) == 0)
            named = 1;
        if (cJSON_IsString(it) && strcmp(it->valuestring, "*") == 0)
            wildcard = 1;
    }
    if (strcmp(purpose, "cmk") == 0) {
        /* the customer-managed key's partition: only the environment's own dedicated worker */
        if (named && strcmp(encryption, "customer") == 0)
            return 0;
        return cmk_err_set(err, CMK_EPERM,
                           "environment %s%s: only its dedicated worker may unwrap its customer-managed data key, "
                           "not '%s'", env, strcmp(encryption, "customer") == 0 ? "" : " is not under a customer-managed key",
                           name);
    }
    if (named || wildcard)
        return 0; /* Microsoft-managed keys: the shared worker keeps serving flows that stay there */
    return cmk_err_set(err, CMK_EPERM, "worker '%s' does not serve environment %s and cannot unwrap its %s key", name,
                       env, purpose);
}
