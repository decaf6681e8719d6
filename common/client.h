/*
 * client.h - a client of the controller's front door (cmkctl, cmk-bench, tests).
 *
 * It reads <run>/config.json (written by the controller at start) for the front endpoint,
 * <run>/keys/controller.pub for the server key and, unless another key file is given,
 * <run>/keys/admin.key for its own identity. Calls are synchronous with a timeout; many
 * calls may be outstanding with cmk_client_send / cmk_client_recv.
 */
#ifndef CMK_CLIENT_H
#define CMK_CLIENT_H

/* how long a send may wait for a connection to the controller before it fails */
#define CMK_CLIENT_SEND_TIMEOUT_MS 10000

#include <stdint.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "err.h"
#include "proto.h"

typedef struct cmk_client cmk_client;

/* cmk_client_new - connect to the cluster in run_dir; key_path NULL uses keys/admin.key */
cmk_client *cmk_client_new(const char *run_dir, const char *key_path, cmk_err *err);
void cmk_client_destroy(cmk_client **self_p);

/* cmk_client_call - send a request of `type` with body (borrowed, may be NULL) and wait up to
 * timeout_ms for its reply. An "error" reply is returned as its code with err filled.
 * On success *reply (may be NULL if not wanted) gets the reply message. */
int cmk_client_call(cmk_client *self, const char *type, const cJSON *body, int64_t timeout_ms,
                    cmk_msg **reply, cmk_err *err);

/* cmk_client_send - send without waiting; the request id goes to reqid (cap >= 64) */
int cmk_client_send(cmk_client *self, const char *type, const cJSON *body, char *reqid,
                    size_t cap, cmk_err *err);

/* cmk_client_recv - the next reply, whatever its request, within timeout_ms */
int cmk_client_recv(cmk_client *self, int64_t timeout_ms, cmk_msg **reply, cmk_err *err);

/* cmk_client_socket - the DEALER socket (to poll on) */
void *cmk_client_socket(cmk_client *self);

/* cmk_client_zmq - the client's own ZeroMQ context (for inproc sockets beside its DEALER, such
 * as a socket monitor; close them before cmk_client_destroy, which terminates the context) */
void *cmk_client_zmq(cmk_client *self);

/* cmk_client_config - the cluster's config (from <run>/config.json) */
const cmk_config *cmk_client_config(cmk_client *self);

#endif
