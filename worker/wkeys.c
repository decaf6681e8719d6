/*
 * wkeys.c - a worker's cache of environments' DEKs, filled through dek.get.
 */
#include "wkeys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "ops.h"

/* One caller waiting for an environment's keys. */
typedef struct waiter {
    wkeys_ready_fn fn;
    void *arg;
    struct waiter *next;
} waiter;

/* One environment's keys. */
typedef struct env_keys {
    char env[64];         /* environment id */
    cmk_dek *data;        /* data DEK (NULL until fetched) */
    cmk_dek *mmk;         /* MMK DEK for non-OAuth secrets */
    int fetching;         /* requests outstanding */
    int failed;           /* one of them failed: last_err says why */
    cmk_err last_err;     /* the failure handed to waiters */
    waiter *waiters;      /* callers queued while fetching */
    struct env_keys *next;
} env_keys;

struct wkeys {
    cmk_peer *peer;       /* link to the controller */
    char purpose[8];      /* the data key's purpose: data or cmk */
    int64_t timeout_ms;   /* per request */
    env_keys *envs;
    struct fetch_ctx *fetches; /* dek.get requests in flight */
};

/* A dek.get in flight; orphaned (self NULL) when the cache is destroyed before its answer. */
typedef struct fetch_ctx {
    wkeys *self;
    char env[64];
    int mmk;              /* 1: the mmk purpose */
    struct fetch_ctx *next;
} fetch_ctx;

wkeys *wkeys_new(cmk_peer *peer, int64_t timeout_ms, const char *data_purpose)
{
    wkeys *self = calloc(1, sizeof *self);
    if (self) {
        snprintf(self->purpose, sizeof self->purpose, "%s", data_purpose);
        self->peer = peer;
        self->timeout_ms = timeout_ms;
    }
    return self;
}

static env_keys *find(wkeys *self, const char *env)
{
    for (env_keys *e = self->envs; e; e = e->next)
        if (strcmp(e->env, env) == 0)
            return e;
    return NULL;
}

/* notify - hand the outcome to every waiter */
static void notify(env_keys *e, const cmk_err *err)
{
    waiter *w = e->waiters;
    e->waiters = NULL;
    while (w) {
        waiter *next = w->next;
        w->fn(w->arg, e->env, err ? NULL : e->data, err ? NULL : e->mmk, err);
        free(w);
        w = next;
    }
}

/* on_reply - a dek.get answered; waiters hear once both purposes are in */
static void on_reply(cmk_peer *peer, const cmk_msg *reply, const cmk_err *err, void *arg)
{
    fetch_ctx *f = arg;
    env_keys *e = NULL;
    cmk_err local = CMK_ERR_INIT;

    if (f->self) {
        for (fetch_ctx **pp = &f->self->fetches; *pp; pp = &(*pp)->next)
            if (*pp == f) {
                *pp = f->next;
                break;
            }
        e = find(f->self, f->env);
    }
    if (!e) {
        free(f);
        return;
    }
    e->fetching--;
    if (!reply)
        local = *err;
    else if (reply->nbins != 2 || reply->bins[0].len != CMK_DEK_ID_LEN || reply->bins[1].len != CMK_DEK_KEY_LEN)
        cmk_err_set(&local, CMK_EPROTO, "dek.get reply carries no key");
    else {
        cmk_dek *dek = cmk_dek_from_bytes(reply->bins[0].data, reply->bins[1].data, &local);
        if (dek) {
            cmk_dek **slot = f->mmk ? &e->mmk : &e->data;
            cmk_dek_destroy(slot);
            *slot = dek;
        }
    }
    if (local.code) {
        cmk_log(CMK_LOG_WARN, e->env, NULL, "dek.unavailable", "purpose=%s error=\"%s\"", f->mmk ? "mmk" : "data",
                local.msg);
        e->failed = 1;
        e->last_err = local;
    }
    free(f);
    if (e->fetching > 0)
        return;
    if (e->failed) {
        cmk_dek_destroy(&e->data);
        cmk_dek_destroy(&e->mmk);
        e->failed = 0;
        notify(e, &e->last_err);
    } else if (e->data && e->mmk) {
        char hex[33];
        cmk_log(CMK_LOG_INFO, e->env, NULL, "dek.cached", "data=%s", cmk_dek_id_hex(e->data, hex, sizeof hex));
        notify(e, NULL);
    }
}

/* fetch - send dek.get for one purpose */
static int fetch(wkeys *self, env_keys *e, int mmk, cmk_err *err)
{
    fetch_ctx *f = calloc(1, sizeof *f);
    cJSON *body = cJSON_CreateObject();
    int rc;
    if (!f || !body) {
        free(f);
        cJSON_Delete(body);
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    }
    f->self = self;
    f->mmk = mmk;
    cmk_strlcpy(f->env, e->env, sizeof f->env);
    cJSON_AddStringToObject(body, "env", e->env);
    cJSON_AddStringToObject(body, "purpose", mmk ? "mmk" : self->purpose);
    rc = cmk_peer_request(self->peer, CMK_T_DEK_GET, body, self->timeout_ms, on_reply, f, err);
    cJSON_Delete(body);
    if (rc < 0)
        free(f);
    else {
        f->next = self->fetches;
        self->fetches = f;
        e->fetching++;
    }
    return rc;
}

/* wkeys_get - keys now or later */
int wkeys_get(wkeys *self, const char *env, wkeys_ready_fn fn, void *arg, cmk_err *err)
{
    env_keys *e = find(self, env);
    waiter *w;
    int rc;

    if (e && e->data && e->mmk && e->fetching == 0) {
        fn(arg, env, e->data, e->mmk, NULL);
        return 0;
    }
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e)
            return cmk_err_set(err, CMK_ENOMEM, "out of memory");
        cmk_strlcpy(e->env, env, sizeof e->env);
        e->next = self->envs;
        self->envs = e;
    }
    w = calloc(1, sizeof *w);
    if (!w)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    w->fn = fn;
    w->arg = arg;
    w->next = e->waiters;
    e->waiters = w;
    if (e->fetching != 0)
        return 0;
    if ((rc = fetch(self, e, 0, err)) == 0)
        rc = fetch(self, e, 1, err);
    if (rc < 0) {
        e->waiters = w->next;
        free(w);
    }
    return rc;
}

/* wkeys_forget - wipe keys */
void wkeys_forget(wkeys *self, const char *env)
{
    for (env_keys **pp = &self->envs; *pp;) {
        env_keys *e = *pp;
        if (env && strcmp(e->env, env) != 0) {
            pp = &e->next;
            continue;
        }
        cmk_dek_destroy(&e->data);
        cmk_dek_destroy(&e->mmk);
        if (e->waiters || e->fetching) {
            pp = &e->next; /* keep the entry; replies and waiters still refer to it */
            continue;
        }
        *pp = e->next;
        cmk_log(CMK_LOG_INFO, e->env, NULL, "dek.wiped", "%s", "");
        free(e);
    }
}

int wkeys_count(const wkeys *self)
{
    int n = 0;
    for (env_keys *e = self->envs; e; e = e->next)
        n += e->data != NULL;
    return n;
}

/* wkeys_destroy - wipe everything */
void wkeys_destroy(wkeys **self_p)
{
    wkeys *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    /* answers still to come (a peer being destroyed fails them) find no cache */
    for (fetch_ctx *f = self->fetches; f; f = f->next)
        f->self = NULL;
    while (self->envs) {
        env_keys *e = self->envs;
        self->envs = e->next;
        cmk_dek_destroy(&e->data);
        cmk_dek_destroy(&e->mmk);
        while (e->waiters) {
            waiter *w = e->waiters;
            e->waiters = w->next;
            free(w);
        }
        free(e);
    }
    free(self);
    *self_p = NULL;
}
