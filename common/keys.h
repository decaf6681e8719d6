/*
 * keys.h - CURVE key pairs and who is allowed in.
 *
 * Every process has a key pair in <run>/keys/<name>.key (Z85 public and secret, mode 0600) and
 * its public key in <run>/keys/<name>.pub. The controller creates them on first start and
 * records each client key it trusts in <run>/keys/public/authorized.json:
 *
 *   [ {"key": "<z85 public>", "name": "worker-shared", "role": "worker", "envs": ["*"]},
 *     {"key": "...", "name": "alice", "role": "tenant-admin", "envs": [], "tenants": ["contoso"]}, ... ]
 *
 * The ZAP handlers of the controller and the gateway accept only keys listed there, and tag
 * every accepted connection with the entry's name (the ZeroMQ User-Id of its messages).
 */
#ifndef CMK_KEYS_H
#define CMK_KEYS_H

#include <cjson/cJSON.h>

#include "err.h"

#define CMK_Z85_KEY_LEN 40

/* A CURVE key pair in Z85 text. */
typedef struct {
    char pub[CMK_Z85_KEY_LEN + 1]; /* public key */
    char sec[CMK_Z85_KEY_LEN + 1]; /* secret key: wipe with cmk_keypair_wipe when done */
} cmk_keypair;

/* cmk_keys_dir - <run>/keys into buf */
char *cmk_keys_dir(const char *run_dir, char *buf, size_t cap);

/* cmk_keypair_ensure - load <run>/keys/<name>.key, generating it (and .pub) if missing */
int cmk_keypair_ensure(const char *run_dir, const char *name, cmk_keypair *out, cmk_err *err);

/* cmk_keypair_load - load a key file by path (for --key FILE) */
int cmk_keypair_load(const char *path, cmk_keypair *out, cmk_err *err);

/* cmk_keypair_generate_file - write a fresh key pair to path (.key) and path's .pub sibling */
int cmk_keypair_generate_file(const char *path, cmk_keypair *out, cmk_err *err);

/* cmk_keypair_wipe - wipe the secret */
void cmk_keypair_wipe(cmk_keypair *kp);

/* cmk_public_load - load <run>/keys/<name>.pub */
int cmk_public_load(const char *run_dir, const char *name, char pub[CMK_Z85_KEY_LEN + 1], cmk_err *err);

/* cmk_authorized_add - add or replace the entry `name` in authorized.json */
int cmk_authorized_add(const char *run_dir, const char *name, const char *role, const char *pub,
                       const cJSON *envs, cmk_err *err);

/* cmk_authorized_set - add or replace the entry `name` with its environments (workers) and
 * tenants (tenant-admins; NULL: none recorded) */
int cmk_authorized_set(const char *run_dir, const char *name, const char *role, const char *pub,
                       const cJSON *envs, const cJSON *tenants, cmk_err *err);

/* cmk_authorized_local_gen - a count of the edits this process made (set, add, remove), so a
 * cache of the file in this process (zap.c) knows to look again without a stat */
unsigned long cmk_authorized_local_gen(void);

/* cmk_authorized_remove - drop the entry `name`; CMK_ENOENT if there is none */
int cmk_authorized_remove(const char *run_dir, const char *name, cmk_err *err);

/* Where the trusted client keys are listed, under the run dir: a directory of its own, since it
 * holds only public keys and the gateway, which may not read keys/, reads it (issue #20). */
#define CMK_AUTHORIZED_FILE "keys/public/authorized.json"

/* cmk_authorized_path - the list's path in run_dir, into buf */
char *cmk_authorized_path(const char *run_dir, char *buf, size_t n);

/* cmk_authorized_load - the whole authorized.json (an empty array if none) */
int cmk_authorized_load(const char *run_dir, cJSON **out, cmk_err *err);

/* cmk_curve_server - make sock a CURVE server with kp (ZAP domain "cmk"); before bind */
int cmk_curve_server(void *sock, const cmk_keypair *kp, cmk_err *err);

/* cmk_curve_client - make sock a CURVE client of server_pub with kp; before connect */
int cmk_curve_client(void *sock, const cmk_keypair *kp, const char *server_pub, cmk_err *err);

#endif
