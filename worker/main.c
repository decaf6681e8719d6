/*
 * cmk-worker - executes and stores flows: the shared worker (--shared) or a dedicated one
 * (--env ID). main only wires the worker's modules into the daemon skeleton.
 */
#include "server.h"
#include "worker.h"

static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return worker_start(srv, (worker **)state, err);
}

static void fini(cmk_server *srv, void *state)
{
    worker *self = state;
    worker_stop(&self);
}

int main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-worker",
        .role = "worker",
        .summary = "executes and stores flows of its environments, encrypted on every write",
        .init = init,
        .fini = fini,
    };
    return cmk_server_main(argc, argv, &hooks);
}
