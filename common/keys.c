/*
 * keys.c - CURVE key files, authorized keys, and socket setup.
 */
#include "keys.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <zmq.h>

#include "util.h"

/* cmk_keys_dir - <run>/keys */
char *cmk_keys_dir(const char *run_dir, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/keys", run_dir);
    return buf;
}

/* cmk_keypair_wipe - wipe the secret */
void cmk_keypair_wipe(cmk_keypair *kp)
{
    OPENSSL_cleanse(kp->sec, sizeof kp->sec);
}

/* parse_key_file - "public=...\nsecret=...\n" */
static int parse_key_file(const char *path, char *text, cmk_keypair *out, cmk_err *err)
{
    char *pub = strstr(text, "public="), *sec = strstr(text, "secret=");
    if (!pub || !sec || strlen(pub + 7) < CMK_Z85_KEY_LEN || strlen(sec + 7) < CMK_Z85_KEY_LEN)
        return cmk_err_set(err, CMK_EINVAL,
                           "%s is not a cmksim key file (expected public= and secret= lines); "
                           "remove it to have a new one generated", path);
    memcpy(out->pub, pub + 7, CMK_Z85_KEY_LEN);
    out->pub[CMK_Z85_KEY_LEN] = '\0';
    memcpy(out->sec, sec + 7, CMK_Z85_KEY_LEN);
    out->sec[CMK_Z85_KEY_LEN] = '\0';
    return 0;
}

/* cmk_keypair_load - load a key file */
int cmk_keypair_load(const char *path, cmk_keypair *out, cmk_err *err)
{
    char *text;
    size_t len;
    int rc = cmk_file_read(path, &text, &len, err);
    if (rc < 0)
        return rc;
    rc = parse_key_file(path, text, out, err);
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

/* cmk_keypair_generate_file - fresh key pair to path and its .pub */
int cmk_keypair_generate_file(const char *path, cmk_keypair *out, cmk_err *err)
{
    char text[128], pubpath[PATH_MAX];
    int rc;
    size_t plen = strlen(path);

    if (zmq_curve_keypair(out->pub, out->sec) != 0)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot generate a CURVE key pair: %s "
                           "(is libzmq built with CURVE support?)", zmq_strerror(errno));
    snprintf(text, sizeof text, "public=%s\nsecret=%s\n", out->pub, out->sec);
    rc = cmk_file_write_atomic(path, text, strlen(text), 0600, err);
    OPENSSL_cleanse(text, sizeof text);
    if (rc < 0)
        return rc;
    if (plen > 4 && strcmp(path + plen - 4, ".key") == 0)
        snprintf(pubpath, sizeof pubpath, "%.*s.pub", (int)(plen - 4), path);
    else
        snprintf(pubpath, sizeof pubpath, "%s.pub", path);
    snprintf(text, sizeof text, "%s\n", out->pub);
    return cmk_file_write_atomic(pubpath, text, strlen(text), 0644, err);
}

/* cmk_keypair_ensure - load or create <run>/keys/<name>.key */
int cmk_keypair_ensure(const char *run_dir, const char *name, cmk_keypair *out, cmk_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    int rc;

    cmk_keys_dir(run_dir, dir, sizeof dir);
    if ((rc = cmk_mkdirs(dir, 0700, err)) < 0)
        return rc;
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    rc = cmk_keypair_load(path, out, err);
    if (rc == CMK_ENOENT)
        rc = cmk_keypair_generate_file(path, out, err);
    return rc;
}

/* cmk_public_load - load <run>/keys/<name>.pub */
int cmk_public_load(const char *run_dir, const char *name, char pub[CMK_Z85_KEY_LEN + 1], cmk_err *err)
{
    char path[PATH_MAX], *text;
    int rc;

    snprintf(path, sizeof path, "%s/keys/%s.pub", run_dir, name);
    if ((rc = cmk_file_read(path, &text, NULL, err)) < 0)
        return rc == CMK_ENOENT
                   ? cmk_err_set(err, CMK_ENOENT,
                                 "no cluster at %s (%s missing); start one with: cmkctl up --run-dir %s",
                                 run_dir, path, run_dir)
                   : rc;
    if (strlen(text) < CMK_Z85_KEY_LEN) {
        free(text);
        return cmk_err_set(err, CMK_EINVAL, "%s holds no public key", path);
    }
    memcpy(pub, text, CMK_Z85_KEY_LEN);
    pub[CMK_Z85_KEY_LEN] = '\0';
    free(text);
    return 0;
}

/* cmk_authorized_path - <run>/keys/public/authorized.json */
char *cmk_authorized_path(const char *run_dir, char *buf, size_t n)
{
    snprintf(buf, n, "%s/" CMK_AUTHORIZED_FILE, run_dir);
    return buf;
}

/* cmk_authorized_load - read authorized.json (a run dir made before it moved to keys/public/:
 * the old place) */
int cmk_authorized_load(const char *run_dir, cJSON **out, cmk_err *err)
{
    char path[PATH_MAX];
    int rc;

    cmk_authorized_path(run_dir, path, sizeof path);
    rc = cmk_json_load_file(path, out, err);
    if (rc == CMK_ENOENT) {
        cmk_err_clear(err);
        snprintf(path, sizeof path, "%s/keys/authorized.json", run_dir);
        rc = cmk_json_load_file(path, out, err);
    }
    if (rc == CMK_ENOENT) {
        cmk_err_clear(err);
        *out = cJSON_CreateArray();
        return *out ? 0 : cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    if (rc == 0 && !cJSON_IsArray(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        return cmk_err_set(err, CMK_EINVAL, "%s must hold a JSON array", path);
    }
    return rc;
}

static atomic_ulong authorized_gen; /* edits made by this process (cmk_authorized_local_gen) */

/* authorized_edit - under an exclusive lock: drop the entry `name` and, if entry is not NULL,
 * append it (taken); *found (may be NULL) tells whether `name` was there */
static int authorized_edit(const char *run_dir, const char *name, cJSON *entry, int *found, cmk_err *err)
{
    char path[PATH_MAX], lockpath[PATH_MAX];
    cJSON *all = NULL, *it;
    char *text;
    int rc, lockfd;

    if (found)
        *found = 0;
    snprintf(path, sizeof path, "%s/keys/public", run_dir);
    (void)mkdir(path, 0700);
    cmk_authorized_path(run_dir, path, sizeof path);
    snprintf(lockpath, sizeof lockpath, "%s/keys/.authorized.lock", run_dir);
    lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0) {
        cJSON_Delete(entry);
        return cmk_err_set(err, CMK_EIO, "cannot open %s: %s", lockpath, strerror(errno));
    }
    flock(lockfd, LOCK_EX);
    if ((rc = cmk_authorized_load(run_dir, &all, err)) < 0)
        goto out;
    for (int i = cJSON_GetArraySize(all) - 1; i >= 0; i--) {
        it = cJSON_GetArrayItem(all, i);
        if (strcmp(cmk_json_str(it, "name", ""), name) == 0) {
            cJSON_DeleteItemFromArray(all, i);
            if (found)
                *found = 1;
        }
    }
    if (entry) {
        cJSON_AddItemToArray(all, entry);
        entry = NULL;
    }
    text = cJSON_Print(all);
    rc = text ? cmk_file_write_atomic(path, text, strlen(text), 0600, err)
              : cmk_err_set(err, CMK_ENOMEM, "out of memory");
    free(text);
    atomic_fetch_add(&authorized_gen, 1);
out:
    cJSON_Delete(entry);
    cJSON_Delete(all);
    flock(lockfd, LOCK_UN);
    close(lockfd);
    return rc;
}

/* cmk_authorized_local_gen - how many edits this process made to authorized.json */
unsigned long cmk_authorized_local_gen(void) { return atomic_load(&authorized_gen); }

/* cmk_authorized_set - add or replace an entry with its environments and tenants */
int cmk_authorized_set(const char *run_dir, const char *name, const char *role, const char *pub,
                       const cJSON *envs, const cJSON *tenants, cmk_err *err)
{
    cJSON *entry = cJSON_CreateObject();
    if (!entry)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    cJSON_AddStringToObject(entry, "key", pub);
    cJSON_AddStringToObject(entry, "name", name);
    cJSON_AddStringToObject(entry, "role", role);
    cJSON_AddItemToObject(entry, "envs", envs ? cJSON_Duplicate(envs, 1) : cJSON_CreateArray());
    if (tenants)
        cJSON_AddItemToObject(entry, "tenants", cJSON_Duplicate(tenants, 1));
    return authorized_edit(run_dir, name, entry, NULL, err);
}

/* cmk_authorized_add - add or replace an entry (under an exclusive lock on the file's dir) */
int cmk_authorized_add(const char *run_dir, const char *name, const char *role, const char *pub,
                       const cJSON *envs, cmk_err *err)
{
    return cmk_authorized_set(run_dir, name, role, pub, envs, NULL, err);
}

/* cmk_authorized_remove - drop an entry; CMK_ENOENT if there was none */
int cmk_authorized_remove(const char *run_dir, const char *name, cmk_err *err)
{
    int found = 0, rc = authorized_edit(run_dir, name, NULL, &found, err);
    if (rc == 0 && !found)
        return cmk_err_set(err, CMK_ENOENT, "no identity '%s' in %s/" CMK_AUTHORIZED_FILE, name, run_dir);
    return rc;
}

/* cmk_curve_server - CURVE server options */
int cmk_curve_server(void *sock, const cmk_keypair *kp, cmk_err *err)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->sec, CMK_Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, "cmk", 3) != 0)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot set up CURVE on a server socket: %s",
                           zmq_strerror(errno));
    return 0;
}

/* cmk_curve_client - CURVE client options */
int cmk_curve_client(void *sock, const cmk_keypair *kp, const char *server_pub, cmk_err *err)
{
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pub, CMK_Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, kp->pub, CMK_Z85_KEY_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, kp->sec, CMK_Z85_KEY_LEN) != 0)
        return cmk_err_set(err, CMK_ECRYPTO, "cannot set up CURVE on a client socket: %s",
                           zmq_strerror(errno));
    return 0;
}
