/*
 * cmk-console - the cluster's console in a browser: tenants, environments, policies, key vaults,
 * runs, audit and drill reports, read-only, on loopback, behind a token. main only wires the
 * console's modules into the daemon skeleton; the supervisor starts it (supervisor.console).
 */
#include "console.h"
#include "server.h"

/* init - start the console */
static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return console_start(srv, (console **)state, err);
}

/* fini - stop the console */
static void fini(cmk_server *srv, void *state)
{
    console *self = state;
    console_stop(&self);
}

/* main - the daemon */
int main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-console",
        .role = "console",
        .summary = "the cluster's console in a browser (read-only; URL and token: cmkctl up)",
        .usage = NULL,
        .init = init,
        .on_signal = NULL,
        .fini = fini,
        .confine_late = 1, /* console_start: once its token, address and port are made */
    };
    return cmk_server_main(argc, argv, &hooks);
}
