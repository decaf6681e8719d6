/*
 * cmk-gateway - the platform edge: outbound HTTP actions of flows (egress) and HTTP-trigger
 * URLs (ingress). main only wires the gateway's modules into the daemon skeleton.
 */
#include "gateway.h"
#include "server.h"

static int init(cmk_server *srv, void **state, cmk_err *err)
{
    return gateway_start(srv, (gateway **)state, err);
}

static void fini(cmk_server *srv, void *state)
{
    gateway *self = state;
    gateway_stop(&self);
}

int main(int argc, char **argv)
{
    static const cmk_server_hooks hooks = {
        .program = "cmk-gateway",
        .role = "gateway",
        .summary = "the platform edge: flows' outbound HTTP actions and HTTP-trigger URLs",
        .init = init,
        .fini = fini,
    };
    return cmk_server_main(argc, argv, &hooks);
}
