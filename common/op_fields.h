/*
 * op_fields.h - the fields of every request type, declared once: for each row of the operation
 * table (common/ops.h), the body members its reader takes, each with its type and limits
 * (common/fields.h). The controller's broker checks a request against its list before the
 * authorization hook and the handler see it (front and back door); a worker checks what the
 * controller routes to it. Members not listed pass untouched (the controller-owned fields of a
 * routed request are overwritten). docs/PROTOCOL.md's field table is `cmkctl protocol --fields`.
 */
#ifndef CMK_OP_FIELDS_H
#define CMK_OP_FIELDS_H

#include "fields.h"
#include "ops.h"

/* Limits shared by many fields (characters). */
#define CMK_FL_ID 63          /* an id: tenant, flow, run, connection, backup, operation */
#define CMK_FL_REF 128        /* an id or a name: environment, policy */
#define CMK_FL_NAME 255       /* a display name */
#define CMK_FL_TENANT_NAME 128 /* a tenant's display name */
#define CMK_FL_ENV_NAME 100   /* an environment's name */
#define CMK_FL_WORD 32        /* a region, a type, a role */
#define CMK_FL_TEXT 512       /* free text: confirmations, permissions, filters */
#define CMK_FL_SECRET 4096    /* a password or a connection's secret */
#define CMK_FL_DATA (1024 * 1024) /* base64 data (keys, backups, .byok) */

/* cmk_op_fields - the field list of an operation (CMK_FT_END first for none); NULL only for a
 * row that declares no list, which tests/unit/fields_test.c refuses */
const cmk_field *cmk_op_fields(int op_id);

/* cmk_op_fields_check - a request's body against its type's list; NULL op passes */
int cmk_op_fields_check(const cmk_op *op, const cJSON *body, cmk_err *err);

/* cmk_op_field - the declaration of member name in type's list, or NULL */
const cmk_field *cmk_op_field(const char *type, const char *name);

/* cmk_op_get_str, cmk_op_get_bool, cmk_op_get_int, cmk_op_get_duration - a handler reads a member
 * through its declaration in type's list (checked again; absent or null leaves *out as it was).
 * A member the list does not declare is CMK_EINTERNAL: declare it in common/op_fields.c. */
int cmk_op_get_str(const char *type, const cJSON *body, const char *name, const char **out, cmk_err *err);
int cmk_op_get_bool(const char *type, const cJSON *body, const char *name, int *out, cmk_err *err);
int cmk_op_get_int(const char *type, const cJSON *body, const char *name, int64_t *out, cmk_err *err);
int cmk_op_get_duration(const char *type, const cJSON *body, const char *name, int64_t *out, cmk_err *err);

/* cmk_op_fields_markdown - the field table of docs/PROTOCOL.md (caller frees) */
char *cmk_op_fields_markdown(void);

#endif
