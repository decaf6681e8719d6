/*
 * metrics_http.c - the metrics endpoint of a daemon (libmicrohttpd, loopback, one thread), its
 * port file, the file_sd targets document and the Prometheus scrape config (see metrics_http.h).
 */
#include "metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

struct cmk_metrics_http {
    int lfd;                 /* listening socket (owned by mhd once started) */
    struct MHD_Daemon *mhd;  /* the server, once started */
    char address[64];        /* "127.0.0.1:PORT" */
};

/* port_path - <run>/metrics/<name>.port into buf; CMK_EINVAL for a name unfit for a file */
static int port_path(const char *run_dir, const char *name, char *buf, size_t n)
{
    if (!name || !*name || strchr(name, '/') || name[0] == '.')
        return CMK_EINVAL;
    if ((size_t)snprintf(buf, n, "%s/metrics/%s.port", run_dir, name) >= n)
        return CMK_EINVAL;
    return 0;
}

/* cmk_metrics_endpoint_read - recorded address */
int cmk_metrics_endpoint_read(const char *run_dir, const char *name, char *buf, size_t n)
{
    char path[4200];
    char *text = NULL;
    cmk_err err = CMK_ERR_INIT;

    buf[0] = '\0';
    if (port_path(run_dir, name, path, sizeof path) < 0 ||
        cmk_file_read(path, &text, NULL, &err) < 0)
        return CMK_ENOENT;
    text[strcspn(text, " \r\n")] = '\0';
    if (strncmp(text, "127.", 4) != 0 || !strchr(text, ':')) {
        free(text);
        return CMK_ENOENT;
    }
    cmk_strlcpy(buf, text, n);
    free(text);
    return 0;
}

/* listen_port - a listening socket on 127.0.0.1:port; -errno on failure */
static int listen_port(int port, int *bound)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -errno;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

/* listen_fixed_range - a first port for a process, below the kernel's ephemeral range: a port
 * handed out by bind(0) or to an outgoing connection could be taken by another socket while
 * its process restarts, and the restarted one must get it back (OBS-2). Ports are tried at
 * random in [low - 12000, low) (low from ip_local_port_range, 32768 if unreadable); a
 * socket or -errno when none of 64 tries is free */
static int listen_fixed_range(int *bound)
{
    int low = 32768, fd = -EADDRINUSE;
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

    if (f) {
        if (fscanf(f, "%d", &low) != 1)
            low = 32768;
        fclose(f);
    }
    if (low - 12000 < 1024)
        return -ERANGE;
    for (int i = 0; i < 64 && fd < 0; i++) {
        uint32_t r = 0;
        if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r)
            r = (uint32_t)getpid() * 2654435761u + (uint32_t)i;
        fd = listen_port(low - 12000 + (int)(r % 12000u), bound);
    }
    return fd;
}

/* same_process_serves - whether addr answers /metrics as process name (a live instance) */
static int same_process_serves(const char *addr, const char *name)
{
    char *text = NULL, want[200];
    cmk_err err = CMK_ERR_INIT;
    int same;

    if (cmk_metrics_scrape(addr, 1000, &text, &err) < 0)
        return 0;
    snprintf(want, sizeof want, "cmk_process_info{process=\"%s\",", name);
    same = strstr(text, want) != NULL;
    free(text);
    return same;
}

/* cmk_metrics_http_bind - listen and record the port */
cmk_metrics_http *cmk_metrics_http_bind(const char *run_dir, const char *name, cmk_err *err)
{
    cmk_metrics_http *self;
    char path[4200], dir[4200], old[64], line[80];
    int port = 0, fd = -1;

    if (port_path(run_dir, name, path, sizeof path) < 0) {
        cmk_err_set(err, CMK_EINVAL, "'%s' cannot name a metrics port file", name ? name : "");
        return NULL;
    }
    snprintf(dir, sizeof dir, "%s/metrics", run_dir);
    if (cmk_mkdirs(dir, 0700, err) < 0)
        return NULL;
    if (cmk_metrics_endpoint_read(run_dir, name, old, sizeof old) == 0) {
        int want = atoi(strrchr(old, ':') + 1);
        if (want > 0 && want < 65536 && (fd = listen_port(want, &port)) < 0) {
            if (same_process_serves(old, name)) {
                /* a second instance of name (it will find out in its init and stop): the
                 * running one keeps its port and its port file */
                cmk_err_set(err, CMK_EEXIST, "another %s already serves metrics on %s", name, old);
                return NULL;
            }
            cmk_warn("metrics.port_taken", "port=%d error=\"%s\" action=\"picking a new port\"",
                     want, strerror(-fd));
        }
    }
    if (fd < 0)
        fd = listen_fixed_range(&port);
    if (fd < 0 && (fd = listen_port(0, &port)) < 0) {
        cmk_err_set(err, CMK_EIO, "cannot listen on 127.0.0.1 for metrics: %s", strerror(-fd));
        return NULL;
    }
    if (!(self = calloc(1, sizeof *self))) {
        close(fd);
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->lfd = fd;
    snprintf(self->address, sizeof self->address, "127.0.0.1:%d", port);
    snprintf(line, sizeof line, "%s\n", self->address);
    if (cmk_file_write_atomic(path, line, strlen(line), 0600, err) < 0) {
        cmk_metrics_http_destroy(&self);
        return NULL;
    }
    return self;
}

/* respond - a response with a body copied */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const char *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body,
                                                             MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* on_request - GET /metrics; anything else a short pointer to it */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    static const char other[] = "cmksim: metrics are at /metrics (Prometheus text format)\n";
    char *text;
    enum MHD_Result ret;

    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond(c, 405, "text/plain", "GET /metrics\n", 13);
    if (strcmp(url, "/metrics") != 0)
        return respond(c, strcmp(url, "/") == 0 ? 200 : 404, "text/plain", other,
                       sizeof other - 1);
    if (!(text = cmk_metrics_render()))
        return respond(c, 500, "text/plain", "out of memory\n", 14);
    ret = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
    free(text);
    return ret;
}

/* cmk_metrics_http_start - libmicrohttpd on the bound socket, one internal select thread */
int cmk_metrics_http_start(cmk_metrics_http *self, cmk_err *err)
{
    if (self->mhd)
        return 0;
    self->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request,
                                 self, MHD_OPTION_LISTEN_SOCKET, self->lfd,
                                 MHD_OPTION_CONNECTION_LIMIT, 32u,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!self->mhd)
        return cmk_err_set(err, CMK_EIO, "cannot start the metrics server on %s", self->address);
    return 0;
}

/* cmk_metrics_http_address - bound address */
const char *cmk_metrics_http_address(const cmk_metrics_http *self)
{
    return self->address;
}

/* cmk_metrics_http_destroy - stop */
void cmk_metrics_http_destroy(cmk_metrics_http **self_p)
{
    cmk_metrics_http *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->mhd)
        MHD_stop_daemon(self->mhd); /* closes the listening socket too */
    else if (self->lfd >= 0)
        close(self->lfd);
    free(self);
    *self_p = NULL;
}

/* cmk_metrics_targets_json - file_sd document */
cJSON *cmk_metrics_targets_json(const char *run_dir, const cJSON *procs)
{
    cJSON *doc = cJSON_CreateArray();
    const cJSON *it;

    cJSON_ArrayForEach(it, procs) {
        const char *name = cmk_json_str(it, "name", "");
        char addr[64];
        cJSON *t, *labels;
        if (cmk_metrics_endpoint_read(run_dir, name, addr, sizeof addr) < 0)
            continue;
        t = cJSON_CreateObject();
        cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "targets"), cJSON_CreateString(addr));
        labels = cJSON_AddObjectToObject(t, "labels");
        cJSON_AddStringToObject(labels, "process", name);
        cJSON_AddStringToObject(labels, "role", cmk_json_str(it, "role", ""));
        cJSON_AddItemToArray(doc, t);
    }
    return doc;
}

/* cmk_metrics_write_targets - targets.json when changed */
int cmk_metrics_write_targets(const char *run_dir, const cJSON *procs, cmk_err *err)
{
    cJSON *doc = cmk_metrics_targets_json(run_dir, procs);
    char path[4200], *text = doc ? cJSON_Print(doc) : NULL, *old = NULL;
    cmk_err rerr = CMK_ERR_INIT;
    int rc = 0;

    cJSON_Delete(doc);
    if (!text)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/metrics/targets.json", run_dir);
    if (cmk_file_read(path, &old, NULL, &rerr) < 0 || strcmp(old, text) != 0)
        rc = cmk_file_write_atomic(path, text, strlen(text), 0644, err);
    free(old);
    free(text);
    return rc;
}

/* cmk_metrics_write_scrape_config - prometheus.yml */
int cmk_metrics_write_scrape_config(const char *run_dir, int interval_s, char *path_out,
                                    size_t n, cmk_err *err)
{
    char path[4200], *text = NULL;
    int len, rc;

    if (interval_s <= 0)
        interval_s = 5;
    len = asprintf(&text,
                   "# Prometheus scrape config for the cmksim cluster in %s (written by cmkctl up).\n"
                   "# Every process serves /metrics on a loopback port recorded in\n"
                   "# metrics/<process>.port; the controller keeps metrics/targets.json (file_sd)\n"
                   "# up to date as workers come and go. Run:\n"
                   "#   prometheus --config.file=%s/prometheus.yml --storage.tsdb.path=DIR\n"
                   "global:\n"
                   "  scrape_interval: %ds\n"
                   "  evaluation_interval: %ds\n"
                   "scrape_configs:\n"
                   "  - job_name: cmksim\n"
                   "    metrics_path: /metrics\n"
                   "    file_sd_configs:\n"
                   "      - files: ['%s/metrics/targets.json']\n"
                   "        refresh_interval: %ds\n",
                   run_dir, run_dir, interval_s, interval_s, run_dir, interval_s);
    if (len < 0)
        return cmk_err_set(err, CMK_ENOMEM, "out of memory");
    snprintf(path, sizeof path, "%s/prometheus.yml", run_dir);
    rc = cmk_file_write_atomic(path, text, (size_t)len, 0644, err);
    free(text);
    if (rc == 0 && path_out)
        cmk_strlcpy(path_out, path, n);
    return rc;
}

/* cmk_metrics_scrape - a plain HTTP/1.0 GET over a loopback TCP connection */
int cmk_metrics_scrape(const char *addr, int timeout_ms, char **text, cmk_err *err)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    const char *colon = strrchr(addr, ':');
    char host[32], req[128];
    char *buf = NULL, *body;
    size_t len = 0, cap = 0;
    int fd, port;
    struct pollfd pfd;

    *text = NULL;
    if (!colon || (size_t)(colon - addr) >= sizeof host || strncmp(addr, "127.", 4) != 0)
        return cmk_err_set(err, CMK_EINVAL, "metrics address must be 127.x.y.z:PORT, not '%s'", addr);
    snprintf(host, sizeof host, "%.*s", (int)(colon - addr), addr);
    port = atoi(colon + 1);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 || port <= 0 || port > 65535)
        return cmk_err_set(err, CMK_EINVAL, "bad metrics address '%s'", addr);
    sa.sin_port = htons((uint16_t)port);
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return cmk_err_set(err, CMK_EIO, "socket: %s", strerror(errno));
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(fd);
        return cmk_err_set(err, CMK_EUNAVAIL, "cannot connect to %s: %s", addr, strerror(e));
    }
    snprintf(req, sizeof req, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", addr);
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
        close(fd);
        return cmk_err_set(err, CMK_EIO, "cannot send to %s", addr);
    }
    pfd.fd = fd;
    pfd.events = POLLIN;
    for (;;) {
        ssize_t got;
        if (poll(&pfd, 1, timeout_ms) <= 0) {
            free(buf);
            close(fd);
            return cmk_err_set(err, CMK_ETIMEOUT, "%s did not answer in %d ms", addr, timeout_ms);
        }
        if (len + 4097 > cap) {
            char *n = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!n) {
                free(buf);
                close(fd);
                return cmk_err_set(err, CMK_ENOMEM, "out of memory");
            }
            buf = n;
        }
        if ((got = read(fd, buf + len, cap - len - 1)) <= 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    if (!buf || !(buf[len] = '\0', body = strstr(buf, "\r\n\r\n")) || !strstr(buf, " 200 ")) {
        free(buf);
        return cmk_err_set(err, CMK_EPROTO, "%s did not answer GET /metrics with 200", addr);
    }
    memmove(buf, body + 4, strlen(body + 4) + 1);
    *text = buf;
    return 0;
}

/* cmk_metrics_sum_by - sums per label value */
cJSON *cmk_metrics_sum_by(const char *text, const char *metric, const char *label)
{
    cJSON *out = cJSON_CreateObject();
    size_t mlen = strlen(metric);
    char want[80];

    snprintf(want, sizeof want, ",%s=\"", label); /* matched after '{' or ',' */
    for (const char *line = text; out && line && *line;) {
        const char *nl = strchr(line, '\n'), *lab, *val;
        if (strncmp(line, metric, mlen) == 0 && line[mlen] == '{' &&
            ((lab = strstr(line, want)) || (line[mlen + 1] == want[1] &&
                                            !strncmp(line + mlen + 1, want + 1, strlen(want) - 1) &&
                                            (lab = line + mlen))) &&
            (!nl || lab < nl) && (val = strchr(lab, '}')) &&
            (!nl || val < nl)) {
            char v[128];
            const char *q = lab + strlen(want), *end = strchr(q, '"');
            cJSON *cur;
            if (end && end < val) {
                snprintf(v, sizeof v, "%.*s", (int)(end - q), q);
                if ((cur = cJSON_GetObjectItem(out, v)))
                    cJSON_SetNumberValue(cur, cur->valuedouble + strtod(val + 1, NULL));
                else
                    cJSON_AddNumberToObject(out, v, strtod(val + 1, NULL));
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return out;
}
