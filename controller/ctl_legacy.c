/*
 * ctl_legacy.c - the calls controller/envops/ still makes with the whole controller, forwarded
 * to the services that now take typed dependencies (migration, recurrence). Delete this file
 * once envops is given its own dependencies struct.
 */
#include "ctl.h"

/* migration_running - migration_is_running */
int migration_running(ctl *c, const char *env)
{
    return migration_is_running(c->migration, env);
}

/* migration_forget - migration_forget_flows */
void migration_forget(ctl *c, const char *env, const char *flow)
{
    migration_forget_flows(c->migration, env, flow);
}

/* migration_keep_shared - migration_keep_on_shared */
int migration_keep_shared(ctl *c, const char *env, const char *flow)
{
    return migration_keep_on_shared(c->migration, env, flow);
}

/* recurrence_set - recurrence_schedule */
void recurrence_set(ctl *c, const char *env, const char *flow, int64_t period_ms, int enabled)
{
    recurrence_schedule(c->recurrence, env, flow, period_ms, enabled);
}
