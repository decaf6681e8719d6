/*
 * metrics_http.h - every daemon's metrics endpoint: GET /metrics on a loopback TCP port served
 * by libmicrohttpd (one internal thread, select), rendering the process's registry
 * (common/metrics.h). The daemon skeleton (common/server.c) runs it; daemons only count.
 *
 * The port is kept across restarts: at first start the kernel picks a free one and it is
 * recorded in <run>/metrics/<name>.port ("127.0.0.1:PORT\n"); a restarted process binds the
 * recorded port again (a new one only if another program took it meanwhile). The controller
 * lists the endpoints of the processes it runs in <run>/metrics/targets.json (Prometheus
 * file_sd format) and `cmkctl up` writes <run>/prometheus.yml, a scrape config reading it.
 *
 * Binding and serving are two steps so that the port file is written before a process confines
 * itself (dedicated workers: Landlock) and the server's thread is created after (it inherits
 * the confinement).
 */
#ifndef CMK_METRICS_HTTP_H
#define CMK_METRICS_HTTP_H

#include <cjson/cJSON.h>

#include "err.h"

typedef struct cmk_metrics_http cmk_metrics_http;

/* cmk_metrics_http_bind - listen on 127.0.0.1 (the recorded port of name, or a free one) and
 * record the address in <run_dir>/metrics/<name>.port; NULL with err on failure */
cmk_metrics_http *cmk_metrics_http_bind(const char *run_dir, const char *name, cmk_err *err);

/* cmk_metrics_http_start - serve GET /metrics (and / with a pointer to it) from now on */
int cmk_metrics_http_start(cmk_metrics_http *self, cmk_err *err);

/* cmk_metrics_http_address - "127.0.0.1:PORT" */
const char *cmk_metrics_http_address(const cmk_metrics_http *self);

/* cmk_metrics_http_destroy - stop serving and close (NULL is fine); the port file stays */
void cmk_metrics_http_destroy(cmk_metrics_http **self_p);

/* cmk_metrics_endpoint_read - the recorded address of process name into buf ("" if none);
 * returns 0 or CMK_ENOENT */
int cmk_metrics_endpoint_read(const char *run_dir, const char *name, char *buf, size_t n);

/* cmk_metrics_targets_json - a Prometheus file_sd document for procs, an array of {name, role}:
 * [{targets: ["127.0.0.1:PORT"], labels: {process, role}}] for each one that has an endpoint */
cJSON *cmk_metrics_targets_json(const char *run_dir, const cJSON *procs);

/* cmk_metrics_write_targets - write that document to <run>/metrics/targets.json atomically when
 * it differs from what is there; 0 or < 0 */
int cmk_metrics_write_targets(const char *run_dir, const cJSON *procs, cmk_err *err);

/* cmk_metrics_write_scrape_config - <run>/prometheus.yml: one job, cmksim, reading
 * <run>/metrics/targets.json every interval_s seconds; the path written into path_out */
int cmk_metrics_write_scrape_config(const char *run_dir, int interval_s, char *path_out,
                                    size_t n, cmk_err *err);

/* cmk_metrics_scrape - GET http://addr/metrics (addr "127.0.0.1:PORT", loopback only) within
 * timeout_ms; *text is the body (malloc'd). 0 or < 0 with err. */
int cmk_metrics_scrape(const char *addr, int timeout_ms, char **text, cmk_err *err);

/* cmk_metrics_sum_by - from exposition text, the sum of metric's samples grouped by the value
 * of label: {"<value>": sum, ...} (a new object; empty when there are none) */
cJSON *cmk_metrics_sum_by(const char *text, const char *metric, const char *label);

#endif
