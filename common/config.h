/*
 * config.h - configuration: every parameter declared once (config_params.h), defaults in one
 * place, overridden by a JSON file (--config FILE) and by --set name=value.
 *
 * A JSON config nests by the dots of the names: {"heartbeat": {"interval": "1s"}}.
 * An unknown name, a value of the wrong type, a value outside the parameter's declared range
 * (config_params.h) or a name given twice in one file is refused with the file and the name.
 */
#ifndef CMK_CONFIG_H
#define CMK_CONFIG_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "config_params.h"
#include "err.h"

#define CMK_CFG_FIELD_STR(field) char *field;
#define CMK_CFG_FIELD_INT(field) int64_t field;
#define CMK_CFG_FIELD_DUR(field) int64_t field; /* milliseconds */
#define CMK_CFG_FIELD_BOOL(field) int field;
#define CMK_CFG_FIELD(name, field, type, def, doc) CMK_CFG_FIELD_##type(field)

/* The loaded configuration of a process. */
typedef struct {
    char run_dir[4096]; /* absolute run directory */
    CMK_CONFIG_PARAMS(CMK_CFG_FIELD)
} cmk_config;

/* cmk_config_new - a config with every default; run_dir is made absolute (it need not exist) */
cmk_config *cmk_config_new(const char *run_dir, cmk_err *err);
void cmk_config_destroy(cmk_config **self_p);

/* cmk_config_load_file - apply a JSON config file over the current values */
int cmk_config_load_file(cmk_config *self, const char *path, cmk_err *err);

/* cmk_config_load_json - apply a parsed JSON config; `source` names it in errors */
int cmk_config_load_json(cmk_config *self, const cJSON *json, const char *source, cmk_err *err);

/* cmk_config_set - set one parameter from text ("heartbeat.interval", "1s") */
int cmk_config_set(cmk_config *self, const char *name, const char *value, cmk_err *err);

/* cmk_config_to_json - the whole config as nested JSON (defaults included) */
cJSON *cmk_config_to_json(const cmk_config *self);

/* cmk_config_endpoint - an endpoint with {run} replaced by the run dir, into buf */
char *cmk_config_endpoint(const cmk_config *self, const char *tmpl, char *buf, size_t cap);

/* cmk_config_param_count / cmk_config_param_name / cmk_config_param_doc - the table */
int cmk_config_param_count(void);
const char *cmk_config_param_name(int i);
const char *cmk_config_param_default(int i);
const char *cmk_config_param_doc(int i);

/* cmk_config_param_range - the declared range (DUR in ms, STR: length) and unit of parameter i;
 * CMK_ENOENT if it declares none */
int cmk_config_param_range(int i, long long *min, long long *max, const char **unit);

#endif
