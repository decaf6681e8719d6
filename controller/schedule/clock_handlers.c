/*
 * ops_clock.c - the controller's clock: show it, advance a virtual one. The virtual offset is
 * kept in controller.db, so a restarted controller resumes at the same clock time.
 */
#include "handlers.h"
#include "op_fields.h"
#include "log.h"
#include "store.h"
#include "util.h"

/* clock_body - {mode, now, now_ms, offset} */
static cJSON *clock_body(ctl *self)
{
    cJSON *o = cJSON_CreateObject();
    char ts[40], off[64];
    cJSON_AddStringToObject(o, "mode", cmk_clock_get_mode(self->clock) == CMK_CLOCK_VIRTUAL ? "virtual" : "real");
    cJSON_AddStringToObject(o, "now", cmk_time_format(cmk_clock_now(self->clock), ts, sizeof ts));
    cJSON_AddNumberToObject(o, "now_ms", (double)cmk_clock_now(self->clock));
    cJSON_AddStringToObject(o, "offset", cmk_duration_format(cmk_clock_offset(self->clock), off, sizeof off));
    cJSON_AddNumberToObject(o, "pending_timers", (double)cmk_clock_pending(self->clock));
    return o;
}

int op_clock_show(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    return ctl_reply_json(self, req, clock_body(self), err);
}

int op_clock_advance(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    int64_t by = -1; /* -1: not given */
    char text[32];
    int rc;

    if (cmk_op_get_duration(req->type, req->body, "by", &by, err) < 0)
        return cmk_err_prefix(err, "clock advance: ");
    if (by < 0)
        return cmk_err_set(err, CMK_EINVAL, "clock advance: field 'by' is required (a duration like 5m or 7d)");
    if ((rc = cmk_clock_advance(self->clock, by, err)) < 0)
        return rc;
    if ((rc = store_meta_set_int(self->db, "clock.offset_ms", cmk_clock_offset(self->clock), err)) < 0)
        return rc;
    policy_health_check(self->policies, "clock advanced"); /* expiries and such came due */
    cmk_log(CMK_LOG_INFO, NULL, req->reqid, "clock.advanced", "by=%s offset_ms=%lld user=%s",
            cmk_duration_format(by, text, sizeof text), (long long)cmk_clock_offset(self->clock), req->user);
    return ctl_reply_json(self, req, clock_body(self), err);
}
