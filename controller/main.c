/*
 * cmk-controller - control plane, front door and supervisor of a cmksim cluster.
 * main only wires the controller's modules into the daemon skeleton.
 */
#include <signal.h>

#include "ctl.h"
#include "server.h"

static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return ctl_start(srv, (ctl **)state, err);
}

static int on_signal(cmk_server *srv, void *state, int signo)
{
    ctl *self = state;
    if (signo == SIGCHLD) {
        supervisor_on_sigchld(self->sup);
        return 1;
    }
    if (signo == SIGTERM || signo == SIGINT) {
        ctl_begin_shutdown(self, signo == SIGTERM ? "SIGTERM" : "SIGINT");
        return 1;
    }
    return 0;
}

static void fini(cmk_server *srv, void *state)
{
    ctl *self = state;
    ctl_stop(&self);
}

int main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-controller",
        .role = "controller",
        .summary = "control plane, front door and supervisor of a cmksim cluster",
        .usage = "Start it with `cmkctl up`; it spawns the shared worker, the gateway and the\n"
                 "firewall, restarts them when they die, and stops them all on SIGTERM.\n",
        .init = init,
        .on_signal = on_signal,
        .fini = fini,
    };
    return cmk_server_main(argc, argv, &hooks);
}
