/*
 * server.h - the one skeleton every daemon runs in (Postfix's multi_server_main in spirit).
 *
 * It owns start-up order, command-line options, configuration, logging, signals (through a
 * signalfd in the event loop), the ZeroMQ context and the loop itself. A daemon's main() only
 * fills a cmk_server_hooks and calls cmk_server_main().
 *
 * Common options: --run-dir DIR, --config FILE, --set NAME=VALUE, --name NAME, --env ID
 * (repeatable), --shared, --log-level LEVEL, --help.
 */
#ifndef CMK_SERVER_H
#define CMK_SERVER_H

#include <cjson/cJSON.h>

#include "config.h"
#include "err.h"
#include "loop.h"

typedef struct cmk_server cmk_server;

/* What a daemon plugs into the skeleton. */
typedef struct {
    const char *program;  /* "cmk-worker" */
    const char *role;     /* controller, worker, gateway, firewall */
    const char *summary;  /* one line for --help */
    const char *usage;    /* extra --help text (options of this daemon), may be NULL */
    /* init - set up sockets and modules; *state is handed back to the other hooks */
    int (*init)(cmk_server *srv, void **state, cmk_err *err);
    /* on_signal - SIGTERM, SIGINT, SIGHUP or SIGCHLD arrived; return 1 if handled, 0 to let
     * the skeleton stop the loop (SIGTERM/SIGINT) or ignore it (others) */
    int (*on_signal)(cmk_server *srv, void *state, int signo);
    /* fini - tear down (always called after a successful init) */
    void (*fini)(cmk_server *srv, void *state);
    /* confine_late - 1: init calls cmk_server_confine itself once it has made what needs
     * more than the confinement allows (the firewall: its namespace); 0: the skeleton confines
     * the daemon before init */
    int confine_late;
} cmk_server_hooks;

/* cmk_server_main - run a daemon; returns the process exit status */
int cmk_server_main(int argc, char **argv, const cmk_server_hooks *hooks);

cmk_config *cmk_server_config(cmk_server *srv);
cmk_loop *cmk_server_loop(cmk_server *srv);
void *cmk_server_zmq(cmk_server *srv);
const char *cmk_server_name(cmk_server *srv);   /* instance name: "worker-shared" */
const char *cmk_server_role(cmk_server *srv);
const char *cmk_server_config_path(cmk_server *srv); /* --config FILE or NULL */
const cJSON *cmk_server_envs(cmk_server *srv);  /* --env values (JSON array of strings) */
int cmk_server_shared(cmk_server *srv);         /* --shared given */
int64_t cmk_server_started_ms(cmk_server *srv); /* wall ms at start */

/* cmk_server_metrics_address - "127.0.0.1:PORT" of this process's /metrics (recorded in
 * <run>/metrics/<name>.port), or NULL when metrics are off or unavailable */
const char *cmk_server_metrics_address(cmk_server *srv);

/* cmk_server_confine - Landlock, seccomp and the last capability drop of the daemon's role
 * (common/confine_policy.c); once (later calls return 0). Called by the skeleton before init,
 * or by a daemon with confine_late from its init, before it starts threads. */
int cmk_server_confine(cmk_server *srv, cmk_err *err);

/* cmk_server_stop - stop the loop; the daemon exits with status 0 after fini */
void cmk_server_stop(cmk_server *srv);

#endif
