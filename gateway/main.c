/*
 * cmk-gateway - the platform edge: outbound HTTP actions of flows (egress) and HTTP-trigger
 * URLs (ingress); `cmk-gateway probe` is its diagnostic tool. main only wires the gateway's
 * modules into the daemon skeleton.
 */
#include <signal.h>
#include <string.h>

#include "gateway.h"
#include "gw_probe.h"
#include "server.h"

/* init - start the gateway */
static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return gateway_start(srv, (gateway **)state, err);
}

/* on_signal - SIGCHLD: reap namespace helpers */
static int on_signal(cmk_server *srv, void *state, int signo)
{
    return gateway_on_signal(state, signo);
}

/* fini - stop the gateway */
static void fini(cmk_server *srv, void *state)
{
    gateway *self = state;
    gateway_stop(&self);
}

/* main - `probe`, or the daemon */
int main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-gateway",
        .role = "gateway",
        .summary = "the platform edge: flows' outbound HTTP actions and HTTP-trigger URLs",
        .usage = "Subcommand:\n"
                 "  cmk-gateway probe --url URL [...]  send one outbound HTTP action as a worker\n"
                 "                                     and print the reply (probe --help)\n",
        .init = init,
        .confine_late = 1, /* gateway_start: once its spawner, HTTP port and key are made */
        .on_signal = on_signal,
        .fini = fini,
    };
    if (argc > 1 && strcmp(argv[1], "probe") == 0)
        return gw_probe_main(argc - 1, argv + 1);
    return cmk_server_main(argc, argv, &hooks);
}
