/*
 * jschema.h - the small subset of JSON Schema that a Request trigger declares
 * (triggers.<name>.inputs.schema), as Logic Apps reads it: "type" (a name or a list of names:
 * object, array, string, number, integer, boolean, null), "required", "properties",
 * "additionalProperties": false, "items" and "enum". Other keywords (title, description,
 * format, ...) are accepted and not checked.
 *
 *   char why[256];
 *   if (jschema_validate(schema, body, "body", why, sizeof why) < 0)
 *       -> 400 with why: "body.customer.id: expected integer, got string"
 */
#ifndef CMK_JSCHEMA_H
#define CMK_JSCHEMA_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

#define JSCHEMA_MAX_DEPTH 32 /* levels of nested schemas checked */

/* jschema_check - is schema a schema of this subset? 0, or CMK_EINVAL with the path of the first
 * problem in err ("schema.properties.id.type: unknown type 'int' ...") */
int jschema_check(const cJSON *schema, cmk_err *err);

/* jschema_validate - does value match schema? 0, or CMK_EINVAL with the first mismatch, named by
 * its path below root ("body.items[2].name: missing required property"), in why */
int jschema_validate(const cJSON *schema, const cJSON *value, const char *root, char *why, size_t cap);

#endif
