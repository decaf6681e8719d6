/*
 * dispatch.c - the operation table's handler column bound to the controller's functions: the
 * broker dispatches every front and back request through ctl_handlers[CMK_OP_<ID>].
 */
#include "handlers.h" /* every handler, declared from the table itself */

/* op_not_dispatched - rows the broker never dispatches: `ready` (the broker registers the peer
 * itself) and internal types (the controller sends them; it does not take them) */
int op_not_dispatched(void *ctx, const cmk_msg *req, cmk_err *err)
{
    return cmk_err_set(err, CMK_EPROTO, "'%s' is not a request the controller takes", req->type);
}

#define CTL_HANDLER_BIND_(id, type, handler, ...) [CMK_OP_##id] = handler,
const broker_op_fn ctl_handlers[CMK_NOPS] = {CMK_OPS(CTL_HANDLER_BIND_)};
