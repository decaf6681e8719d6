/*
 * ops_audit.c - the audit log: list entries with filters, verify the hash chain.
 */
#include <string.h>

#include "audit.h"
#include "op_fields.h"
#include "handlers.h"
#include "util.h"

/* add_entry - one entry into an array */
static int add_entry(const audit_entry *e, void *arg)
{
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    cJSON_AddNumberToObject(o, "seq", (double)e->seq);
    cJSON_AddStringToObject(o, "time", cmk_time_format(e->time_ms, ts, sizeof ts));
    cJSON_AddStringToObject(o, "principal", e->principal);
    cJSON_AddStringToObject(o, "operation", e->operation);
    cJSON_AddStringToObject(o, "target", e->target);
    cJSON_AddStringToObject(o, "result", e->result);
    if (e->detail && *e->detail)
        cJSON_AddStringToObject(o, "detail", e->detail);
    cJSON_AddItemToArray(arg, o);
    return 0;
}

int op_audit_list(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    audit_filter f = { 0 };
    cJSON *out = cJSON_CreateObject(), *items = cJSON_AddArrayToObject(out, "items");
    int64_t limit = 0;
    int rc;

    if ((rc = cmk_op_get_int(req->type, req->body, "limit", &limit, err)) < 0 ||
        (rc = cmk_op_get_bool(req->type, req->body, "newest_first", &f.newest_first, err)) < 0) {
        cJSON_Delete(out);
        return rc;
    }
    f.principal = cmk_json_str(req->body, "principal", NULL);
    f.operation = cmk_json_str(req->body, "operation", NULL);
    f.target = cmk_json_str(req->body, "target", NULL);
    f.result = cmk_json_str(req->body, "result", NULL);
    f.limit = (size_t)limit;
    if ((rc = audit_list(self->audit, &f, add_entry, items, err)) < 0) {
        cJSON_Delete(out);
        return rc;
    }
    return ctl_reply_json(self, req, out, err);
}

int op_audit_verify(void *ctx, const cmk_msg *req, cmk_err *err)
{
    ctl *self = ctx;
    int64_t bad = 0, count = 0;
    cmk_err verr = CMK_ERR_INIT;
    cJSON *out = cJSON_CreateObject();
    int rc = audit_verify(self->audit, &bad, &verr);

    audit_count(self->audit, &count, NULL);
    cJSON_AddNumberToObject(out, "entries", (double)count);
    cJSON_AddBoolToObject(out, "intact", rc == 0);
    if (rc < 0) {
        cJSON_AddNumberToObject(out, "first_bad_seq", (double)bad);
        cJSON_AddStringToObject(out, "problem", verr.msg);
    }
    return ctl_reply_json(self, req, out, err);
}
