/*
 * wkeys.h - a worker's data keys: for each environment it serves, the "data" and "mmk" DEKs,
 * fetched once from the controller over the CURVE back channel (`dek.get`) and cached in
 * locked memory (cmk_dek). Callers that need an environment's keys queue until they arrive.
 * wkeys_forget() wipes an environment's keys (lock, revoke, shutdown).
 */
#ifndef CMK_WKEYS_H
#define CMK_WKEYS_H

#include "envelope.h"
#include "err.h"
#include "peer.h"

typedef struct wkeys wkeys;

/* wkeys_ready_fn - an environment's keys are here (data and mmk non-NULL) or could not be had */
typedef void (*wkeys_ready_fn)(void *arg, const char *env, cmk_dek *data, cmk_dek *mmk, const cmk_err *err);

/* wkeys_new - data_purpose: "data" (shared infrastructure, MMK-wrapped) or "cmk" (dedicated,
 * wrapped by the environment's customer key) */
wkeys *wkeys_new(cmk_peer *peer, int64_t timeout_ms, const char *data_purpose);
void wkeys_destroy(wkeys **self_p);

/* wkeys_get - call fn with env's keys: at once if cached, else after fetching them */
int wkeys_get(wkeys *self, const char *env, wkeys_ready_fn fn, void *arg, cmk_err *err);

/* wkeys_forget - wipe an environment's keys (NULL: every environment's) */
void wkeys_forget(wkeys *self, const char *env);

/* wkeys_count - environments with cached keys */
int wkeys_count(const wkeys *self);

#endif
