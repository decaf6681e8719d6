/*
 * zap.h - the ZeroMQ authentication (ZAP) handler of the controller and the gateway.
 *
 * It binds inproc://zeromq.zap.01 in the process's ZeroMQ context and answers libzmq's ZAP
 * requests for CURVE connections: a client key listed in <run>/keys/public/authorized.json (with a
 * role this process accepts) is let in and its messages carry the entry's name as User-Id;
 * any other key is refused and the refusal is logged (event=zap.refused).
 * The list is re-read when the file changes (mtime, inode or size), so keys added by the
 * controller at run time (a new dedicated worker, `cmkctl identity add`) are known without a
 * restart. Every handshake checks the file; a per-request lookup (cmk_zap_entry) checks it only
 * when the process wrote it itself (cmk_authorized_local_gen) or, if the owner put the watch in
 * its loop (cmk_zap_attach), when the watch saw its directory change: a change made by
 * another process counts from the loop's next turn. Without a watch (not attached, or inotify
 * unavailable) every lookup stats it. The controller's authorization check
 * (controller/authz/authz.h) takes an identity's role and tenants from the same cached list
 * (cmk_zap_entry): one hash lookup, no system call per request (issue #18).
 */
#ifndef CMK_ZAP_H
#define CMK_ZAP_H

#include <cjson/cJSON.h>

#include "err.h"
#include "loop.h"

typedef struct cmk_zap cmk_zap;

/* cmk_zap_new - bind the handler; roles is a comma list of accepted roles, NULL for all.
 * Create it before binding any CURVE server socket. */
cmk_zap *cmk_zap_new(void *zmq_ctx, const char *run_dir, const char *roles, cmk_err *err);
void cmk_zap_destroy(cmk_zap **self_p);

/* cmk_zap_entry - the authorized.json entry of a User-Id (name), or NULL; valid until the
 * next turn of the loop it is attached to (a handshake or a change of the file re-reads it) */
const cJSON *cmk_zap_entry(cmk_zap *self, const char *name);

/* cmk_zap_attach - serve ZAP requests in loop and watch the key list's directory there;
 * cmk_zap_detach before destroying either */
int cmk_zap_attach(cmk_zap *self, cmk_loop *loop, cmk_err *err);
void cmk_zap_detach(cmk_zap *self, cmk_loop *loop);

/* cmk_zap_watching - 1 if lookups rely on the directory watch, 0 if they stat the file */
int cmk_zap_watching(const cmk_zap *self);

/* cmk_zap_refused - how many connections were refused so far */
long cmk_zap_refused(const cmk_zap *self);

#endif
