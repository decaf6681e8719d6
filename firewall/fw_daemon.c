/*
 * fw_daemon.c - `cmk-firewall serve`: the firewall as a supervised process.
 */
#include "fw_daemon.h"

#include <stdlib.h>

/* fw_daemon_start - register with the controller */
int fw_daemon_start(cmk_server *srv, fw_daemon **out, cmk_err *err)
{
    fw_daemon *self = calloc(1, sizeof *self);
    *out = NULL;
    if (!self)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    self->srv = srv;
    if (!(self->peer = cmk_peer_new(srv, NULL, self, err))) {
        free(self);
        return err->code;
    }
    *out = self;
    return 0;
}

/* fw_daemon_stop - leave */
void fw_daemon_stop(fw_daemon **self_p)
{
    if (!self_p || !*self_p)
        return;
    cmk_peer_destroy(&(*self_p)->peer);
    free(*self_p);
    *self_p = NULL;
}

static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return fw_daemon_start(srv, (fw_daemon **)state, err);
}

static void fini(cmk_server *srv, void *state)
{
    fw_daemon *self = state;
    fw_daemon_stop(&self);
}

/* fw_daemon_main - the daemon skeleton with the firewall's hooks */
int fw_daemon_main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-firewall serve",
        .role = "firewall",
        .summary = "the customer's firewall as a process of the cluster",
        .init = init,
        .fini = fini,
    };
    return cmk_server_main(argc, argv, &hooks);
}
