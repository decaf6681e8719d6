/*
 * route_body.c - which worker serves an environment, and the body a request carries to it
 * with the controller-owned fields set by the controller (route.h). A leaf: it knows the
 * operation table and the directory's placement, not the controller.
 */
#include "route.h"

#include <string.h>

#include "proto.h"

/* ctl_worker_of - the worker serving an environment (its dedicated one once dedicated) */
void ctl_worker_of(const dir_env *env, char *name, size_t cap)
{
    cmk_worker_name(strcmp(env->infrastructure, "dedicated") == 0 ? env->id : NULL, name, cap);
}

/* route_owned_body - the client's fields with every field the controller owns for op set by
 * the controller */
cJSON *route_owned_body(const cmk_op *op, const cJSON *fields, const char *requested_by, const dir_env *env,
                        const char *infrastructure, int64_t clock_ms)
{
    cJSON *body = cJSON_CreateObject(), *it;
    if (!body)
        return NULL;
    cJSON_ArrayForEach(it, fields) {
        /* the members set below are never copied, even for a type that owns none (an internal
         * type such as run.summary sent for a front request): a member twice is refused (BAD-7) */
        if (it->string && !cmk_op_owns(op, it->string) && strcmp(it->string, "env") != 0 &&
            strcmp(it->string, "region") != 0 && strcmp(it->string, "infrastructure") != 0 &&
            strcmp(it->string, "encryption") != 0 && strcmp(it->string, "requested_by") != 0)
            cJSON_AddItemReferenceToObject(body, it->string, it);
    }
    cJSON_AddStringToObject(body, "env", env->id);
    cJSON_AddStringToObject(body, "region", env->region);
    cJSON_AddStringToObject(body, "infrastructure", infrastructure);
    cJSON_AddStringToObject(body, "encryption", env->encryption);
    cJSON_AddStringToObject(body, "requested_by", requested_by);
    /* the cluster's time: workers stamp flows and runs with it (virtual clock included) */
    cJSON_AddNumberToObject(body, "clock_ms", (double)clock_ms);
    return body;
}
