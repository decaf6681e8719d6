/*
 * wstage.c - the worker's side of a restore, copy or reset that must not leave an environment
 * half-replaced (env.stage, see worker/partition_stage.c): the controller begins a staging
 * area in every partition of the environment, writes the new flows into it (flow.put with
 * `stage`), then swaps each area in (one committed transaction per partition), or discards it
 * when the operation failed. Every step is committed before the reply.
 */
#include <string.h>

#include "log.h"
#include "util.h"
#include "worker.h"

/* wstage_op - {env, stage, step: begin|swap|discard, connections?} */
int wstage_op(worker *w, wenv *e, cmk_msg *reply, const cJSON *b, cmk_err *err)
{
    const char *stage = cmk_json_str(b, "stage", ""), *step = cmk_json_str(b, "step", "");
    cJSON *o;
    int rc;

    if (!*stage)
        return cmk_err_set(err, CMK_EINVAL, "env.stage needs the staging area's name (stage)");
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "env", e->id);
    cJSON_AddStringToObject(o, "stage", stage);
    cJSON_AddStringToObject(o, "step", step);
    if (strcmp(step, "begin") == 0) {
        rc = partition_stage_begin(e->part, stage, err);
    } else if (strcmp(step, "swap") == 0) {
        size_t out = 0, runs = 0, in = 0;
        int found = 0;
        rc = partition_stage_swap(e->part, stage, cmk_json_bool(b, "connections", 0), &found, &out, &runs, &in, err);
        cJSON_AddBoolToObject(o, "swapped", found);
        cJSON_AddNumberToObject(o, "flows_deleted", (double)out);
        cJSON_AddNumberToObject(o, "runs_deleted", (double)runs);
        cJSON_AddNumberToObject(o, "flows", (double)in);
        if (rc == 0)
            cmk_log(CMK_LOG_INFO, e->id, reply->reqid, "env.swapped", "stage=%s found=%d flows_out=%zu runs_out=%zu "
                    "flows_in=%zu", stage, found, out, runs, in);
    } else if (strcmp(step, "discard") == 0) {
        rc = partition_stage_discard(e->part, stage, err);
    } else {
        rc = cmk_err_set(err, CMK_EINVAL, "env.stage: step is begin, swap or discard, not '%s'", step);
    }
    if (rc < 0) {
        cJSON_Delete(o);
        return rc;
    }
    cmk_msg_set_body(reply, o);
    worker_reply(w, reply);
    return 0;
}
