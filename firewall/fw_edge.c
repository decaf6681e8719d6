/*
 * fw_edge.c - mode selection, applying configs (nftables in the namespace, the engine in the
 * endpoints), the state file for the gateway, status and kernel counters (see fw_edge.h).
 */
#include "fw_edge.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"
#include "fw_config.h"
#include "fw_engine.h"
#include "fw_nft.h"
#include "fw_servicetags.h"

/* The config used when none is given and configs/firewalls/allow-all.json is not found. */
static const char builtin_allow_all[] =
    "{\"name\": \"allow-all\", \"comment\": \"built-in: no firewall config was given\","
    " \"default\": \"allow\", \"rules\": []}";

struct fw_edge {
    char mode[16];            /* "kernel" or "userspace" */
    char reason[CMK_ERR_MSG_MAX]; /* why auto fell back to userspace, "" otherwise */
    char state_path[PATH_MAX]; /* <run>/firewall/state.json, "" for none */
    char cfg_file[PATH_MAX];  /* file the config came from, "" if it came as text */
    char endpoint[64];        /* "127.0.0.1:18080" */
    int port;                 /* endpoint port */
    fw_servicetags *tags;     /* service tags, may be NULL */
    fw_config *cfg;           /* the config in force */
    fw_netns *ns;             /* kernel mode: the namespace */
    fw_endpoints *ep;         /* the endpoints */
    pthread_mutex_t lock;     /* guards cfg swaps against the counter thread, last_counts */
    pthread_cond_t wake;      /* ends the counter thread's wait early */
    pthread_t counter;        /* the counter thread (kernel mode) */
    int counting;             /* the counter thread runs */
    int stop;                 /* ask it to end */
    int kicked;               /* look at the kernel fault again now */
    int64_t interval_ms;      /* its period */
    cJSON *last_counts;       /* kernel counters at the last poll */
    pthread_mutex_t fault_lock; /* serializes changes of the kernel fault table; guards below */
    char kfault[16];          /* kernel fault in force: "", "reset" or "timeout" */
    int64_t kfault_until;     /* mono ms it ends (0: until cleared) */
};

/* fw_edge_find_config - ./configs, <exe>/../configs, the build's source tree */
int fw_edge_find_config(const char *rel, char *out, size_t n)
{
    char exe[PATH_MAX], cache[PATH_MAX + 32], line[PATH_MAX + 64];
    FILE *f;

    snprintf(out, n, "configs/%s", rel);
    if (access(out, R_OK) == 0 && realpath(out, exe))
        return snprintf(out, n, "%s", exe) < (int)n ? 0 : CMK_ENOENT;
    if (cmk_exe_dir(exe, sizeof exe, NULL) < 0)
        return CMK_ENOENT;
    snprintf(out, n, "%s/../configs/%s", exe, rel);
    if (access(out, R_OK) == 0)
        return 0;
    snprintf(cache, sizeof cache, "%s/CMakeCache.txt", exe);
    if ((f = fopen(cache, "r"))) {
        while (fgets(line, sizeof line, f)) {
            static const char key[] = "CMAKE_HOME_DIRECTORY:INTERNAL=";
            if (strncmp(line, key, sizeof key - 1) == 0) {
                line[strcspn(line, "\n")] = '\0';
                snprintf(out, n, "%s/configs/%s", line + sizeof key - 1, rel);
                break;
            }
        }
        fclose(f);
        if (access(out, R_OK) == 0)
            return 0;
    }
    return CMK_ENOENT;
}

/* write_state - <run>/firewall/state.json for the gateway */
static void write_state(fw_edge *self)
{
    cJSON *j;
    char *text, dir[PATH_MAX];
    cmk_err err = CMK_ERR_INIT;

    if (!self->state_path[0])
        return;
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "mode", self->mode);
    cJSON_AddNumberToObject(j, "pid", getpid());
    cJSON_AddNumberToObject(j, "holder_pid", self->ns ? fw_netns_pid(self->ns) : 0);
    if (self->ns) {
        cJSON_AddStringToObject(j, "netns", fw_netns_net_path(self->ns));
        cJSON_AddStringToObject(j, "userns", fw_netns_user_path(self->ns));
        cJSON_AddNumberToObject(j, "netns_inode", (double)fw_netns_net_inode(self->ns));
    }
    cJSON_AddStringToObject(j, "endpoint", self->endpoint);
    cJSON_AddNumberToObject(j, "endpoint_port", self->port);
    cJSON_AddStringToObject(j, "config", fw_config_name(self->cfg));
    cJSON_AddStringToObject(j, "config_origin", fw_config_origin(self->cfg));
    cJSON_AddStringToObject(j, "service_tags", self->tags ? fw_servicetags_origin(self->tags) : "");
    if (self->reason[0])
        cJSON_AddStringToObject(j, "reason", self->reason);
    cJSON_AddNumberToObject(j, "updated_ms", (double)cmk_wall_ms());
    text = cJSON_Print(j);
    cJSON_Delete(j);
    snprintf(dir, sizeof dir, "%s", self->state_path);
    *strrchr(dir, '/') = '\0';
    if (!text || cmk_mkdirs(dir, 0700, &err) < 0 ||
        cmk_file_write_atomic(self->state_path, text, strlen(text), 0600, &err) < 0)
        cmk_error("firewall.state_failed", "path=%s error=\"%s\"", self->state_path,
                  text ? err.msg : "out of memory");
    free(text);
}

/* put_in_force - enforce cfg (taken over on success): nftables, then the endpoints */
static int put_in_force(fw_edge *self, fw_config **cfg_p, cmk_err *err)
{
    fw_config *old = self->cfg;
    if (self->ns) {
        char *ruleset = NULL;
        int rc = fw_nft_render(*cfg_p, NULL, &ruleset, err);
        if (rc == 0)
            rc = fw_netns_nft(self->ns, ruleset, false, NULL, err);
        free(ruleset);
        if (rc < 0)
            return rc;
        pthread_mutex_lock(&self->lock);
        cJSON_Delete(self->last_counts); /* the table was replaced: its counters start at 0 */
        self->last_counts = NULL;
        pthread_mutex_unlock(&self->lock);
    }
    pthread_mutex_lock(&self->lock);
    self->cfg = *cfg_p;
    *cfg_p = NULL;
    if (self->ep)
        fw_endpoints_set_config(self->ep, self->cfg);
    fw_config_destroy(&old);
    pthread_mutex_unlock(&self->lock);
    write_state(self);
    return 0;
}

/* summary_of - what an apply reports */
static cJSON *summary_of(const fw_edge *self, const char *previous)
{
    cJSON *s = cJSON_CreateObject();
    cJSON_AddBoolToObject(s, "applied", 1);
    cJSON_AddStringToObject(s, "config", fw_config_name(self->cfg));
    cJSON_AddStringToObject(s, "origin", fw_config_origin(self->cfg));
    cJSON_AddStringToObject(s, "previous", previous);
    cJSON_AddStringToObject(s, "mode", self->mode);
    cJSON_AddStringToObject(s, "enforce", fw_mode_name(fw_config_mode(self->cfg)));
    cJSON_AddStringToObject(s, "default", fw_action_name(fw_config_default(self->cfg)));
    cJSON_AddNumberToObject(s, "rules", (double)fw_config_rule_count(self->cfg));
    return s;
}

/* apply - put a parsed config in force and log it */
static int apply(fw_edge *self, fw_config *cfg, cJSON **summary, cmk_err *err)
{
    char previous[128];
    int rc;
    if (!cfg)
        return err->code ? err->code : CMK_EINVAL;
    snprintf(previous, sizeof previous, "%s", self->cfg ? fw_config_name(self->cfg) : "-");
    if ((rc = put_in_force(self, &cfg, err)) < 0) {
        fw_config_destroy(&cfg);
        return rc;
    }
    cmk_info("firewall.applied", "config=%s origin=%s previous=%s mode=%s enforce=%s default=%s "
             "rules=%zu", fw_config_name(self->cfg), fw_config_origin(self->cfg), previous,
             self->mode, fw_mode_name(fw_config_mode(self->cfg)),
             fw_action_name(fw_config_default(self->cfg)), fw_config_rule_count(self->cfg));
    if (summary)
        *summary = summary_of(self, previous);
    return 0;
}

/* fw_edge_apply_text - text to config in force */
int fw_edge_apply_text(fw_edge *self, const char *text, size_t len, const char *origin,
                       cJSON **summary, cmk_err *err)
{
    return apply(self, fw_config_parse(text, len, origin, self->tags, 0, err), summary, err);
}

/* fw_edge_apply_file - file to config in force */
int fw_edge_apply_file(fw_edge *self, const char *path, cJSON **summary, cmk_err *err)
{
    int rc = apply(self, fw_config_load(path, self->tags, 0, err), summary, err);
    if (rc == 0)
        snprintf(self->cfg_file, sizeof self->cfg_file, "%s", path);
    return rc;
}

/* fw_edge_reload - the config file again */
int fw_edge_reload(fw_edge *self, cJSON **summary, cmk_err *err)
{
    char path[PATH_MAX];
    if (!self->cfg_file[0])
        return cmk_err_set(err, CMK_ESTATE, "the firewall was started without a config file "
                           "(built-in allow-all); use firewall.apply instead");
    snprintf(path, sizeof path, "%s", self->cfg_file);
    return fw_edge_apply_file(self, path, summary, err);
}

/* listen_socket - 127.0.0.1:port in the namespace (kernel) or on the host */
static int listen_socket(fw_edge *self, cmk_err *err)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)self->port) };
    int one = 1, fd, e;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = self->ns ? fw_netns_socket(self->ns, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, err)
                  : socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return self->ns ? fd : cmk_err_set(err, CMK_EIO, "cannot create a socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 512) == 0)
        return fd;
    e = errno;
    close(fd);
    return cmk_err_set(err, CMK_EIO, "the customer endpoints cannot listen on 127.0.0.1:%d%s: %s%s",
                       self->port, self->ns ? " in the namespace" : "", strerror(e),
                       e == EADDRINUSE ? " (set firewall.endpoint_port to a free port)" : "");
}

/* load_inputs - service tags and the first config */
static int load_inputs(fw_edge *self, const fw_edge_opts *o, fw_config **cfg, cmk_err *err)
{
    char path[PATH_MAX];
    if (o->tags_path && *o->tags_path) {
        if (!(self->tags = fw_servicetags_load(o->tags_path, err)))
            return cmk_err_prefix(err, "egress.service_tags: ");
    } else if (fw_edge_find_config("service-tags.json", path, sizeof path) == 0 &&
               !(self->tags = fw_servicetags_load(path, err)))
        return err->code;
    if (o->config_path && *o->config_path)
        snprintf(path, sizeof path, "%s", o->config_path);
    else if (fw_edge_find_config("firewalls/allow-all.json", path, sizeof path) < 0)
        path[0] = '\0';
    if (path[0]) {
        *cfg = fw_config_load(path, self->tags, 0, err);
        snprintf(self->cfg_file, sizeof self->cfg_file, "%s", path);
    } else
        *cfg = fw_config_parse(builtin_allow_all, strlen(builtin_allow_all), "built-in allow-all",
                               NULL, 0, err);
    return *cfg ? 0 : cmk_err_prefix(err, "firewall.config: ");
}

/* try_kernel - namespace, rules, listening socket inside; 0 or < 0 (all undone) */
static int try_kernel(fw_edge *self, fw_config **cfg, int *lfd, cmk_err *err)
{
    int rc;
    if (!(self->ns = fw_netns_new(err)))
        return err->code;
    snprintf(self->mode, sizeof self->mode, "kernel");
    rc = put_in_force(self, cfg, err);
    if (rc == 0 && (*lfd = listen_socket(self, err)) < 0)
        rc = *lfd;
    if (rc < 0) {
        if (self->cfg) { /* hand the config back for the fallback */
            *cfg = self->cfg;
            self->cfg = NULL;
        }
        fw_netns_destroy(&self->ns);
    }
    return rc;
}

/* fw_edge_new - mode, config, endpoints */
fw_edge *fw_edge_new(const fw_edge_opts *o, cmk_err *err)
{
    fw_edge *self = calloc(1, sizeof *self);
    fw_config *cfg = NULL;
    const char *mode = o->mode && *o->mode ? o->mode : "auto";
    int lfd = -1, rc;

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_mutex_init(&self->fault_lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    self->port = o->port;
    snprintf(self->endpoint, sizeof self->endpoint, "127.0.0.1:%d", o->port);
    if (o->run_dir)
        snprintf(self->state_path, sizeof self->state_path, "%s/firewall/state.json", o->run_dir);
    if (strcmp(mode, "auto") && strcmp(mode, "kernel") && strcmp(mode, "userspace")) {
        cmk_err_set(err, CMK_EINVAL, "firewall.mode must be auto, kernel or userspace, not \"%s\"", mode);
        goto fail;
    }
    if (o->port < 1 || o->port > 65535) {
        cmk_err_set(err, CMK_EINVAL, "firewall.endpoint_port must be 1..65535");
        goto fail;
    }
    if ((rc = load_inputs(self, o, &cfg, err)) < 0)
        goto fail;
    if (strcmp(mode, "userspace") != 0 && (rc = try_kernel(self, &cfg, &lfd, err)) < 0) {
        if (!strcmp(mode, "kernel")) {
            cmk_err_prefix(err, "firewall.mode=kernel: ");
            goto fail;
        }
        snprintf(self->reason, sizeof self->reason, "%s", err->msg);
        cmk_warn("firewall.fallback", "mode=userspace reason=\"%s\"", self->reason);
        cmk_err_clear(err);
    }
    if (!self->ns) {
        snprintf(self->mode, sizeof self->mode, "userspace");
        if ((rc = put_in_force(self, &cfg, err)) < 0 || (lfd = listen_socket(self, err)) < 0)
            goto fail;
    }
    /* the namespace is made: what it needed (capabilities, unshare) goes now, before threads */
    if (o->confine && o->confine(o->confine_arg, err) < 0) {
        close(lfd);
        goto fail;
    }
    if (!(self->ep = fw_endpoints_new(lfd, self->ns ? FW_ENFORCER_KERNEL : FW_ENFORCER_USERSPACE,
                                      self->endpoint, err)))
        goto fail;
    fw_endpoints_set_config(self->ep, self->cfg);
    write_state(self);
    cmk_info("firewall.ready", "mode=%s config=%s endpoint=%s netns=%s", self->mode,
             fw_config_name(self->cfg), self->endpoint, self->ns ? fw_netns_net_path(self->ns) : "-");
    return self;
fail:
    fw_config_destroy(&cfg);
    fw_edge_destroy(&self);
    return NULL;
}

/* fw_edge_destroy - endpoints, namespace, state file */
void fw_edge_destroy(fw_edge **self_p)
{
    fw_edge *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->counting) {
        pthread_mutex_lock(&self->lock);
        self->stop = 1;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->counter, NULL);
    }
    fw_endpoints_destroy(&self->ep);
    if (self->state_path[0])
        unlink(self->state_path);
    fw_netns_destroy(&self->ns);
    fw_config_destroy(&self->cfg);
    fw_servicetags_destroy(&self->tags);
    cJSON_Delete(self->last_counts);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->fault_lock);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* fw_edge_mode - kernel or userspace */
const char *fw_edge_mode(const fw_edge *self) { return self->mode; }
/* fw_edge_netns - the namespace or NULL */
fw_netns *fw_edge_netns(fw_edge *self) { return self->ns; }

/* fw_edge_alive - the holder still there? */
int fw_edge_alive(fw_edge *self, cmk_err *err)
{
    if (self->ns && !fw_netns_alive(self->ns))
        return cmk_err_set(err, CMK_EUNAVAIL, "the namespace holder %d died; the firewall must "
                           "restart", (int)fw_netns_pid(self->ns));
    return 0;
}

/* fw_counters_parse - counters by comment from an nft listing */
cJSON *fw_counters_parse(const char *listing)
{
    cJSON *arr = cJSON_CreateArray();
    const char *line = listing;

    while (line && *line) {
        const char *eol = strchr(line, '\n'), *c = strstr(line, "counter packets "), *cm;
        unsigned long long pk = 0, by = 0;
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        char name[128] = "";
        cJSON *it, *found = NULL;
        int rule = 0;

        if (c && c < line + len && (cm = strstr(line, "comment \"")) && cm < line + len &&
            sscanf(c, "counter packets %llu bytes %llu", &pk, &by) == 2) {
            const char *q = cm + 9, *end = memchr(q, '"', (size_t)(line + len - q));
            snprintf(name, sizeof name, "%.*s", end ? (int)(end - q) : 0, q);
            if (sscanf(name, "rule %d:", &rule) == 1 && rule > 0) {
                const char *nm = strchr(name, ':') + 1;
                while (*nm == ' ')
                    nm++;
                memmove(name, nm, strlen(nm) + 1);
            } else
                rule = 0;
            cJSON_ArrayForEach(it, arr) {
                if ((int)cmk_json_num(it, "rule", -1) == rule && !strcmp(cmk_json_str(it, "name", ""), name))
                    found = it;
            }
            if (!found) {
                found = cJSON_CreateObject();
                cJSON_AddNumberToObject(found, "rule", rule);
                cJSON_AddStringToObject(found, "name", rule ? name : "default");
                cJSON_AddNumberToObject(found, "packets", 0);
                cJSON_AddNumberToObject(found, "bytes", 0);
                cJSON_AddItemToArray(arr, found);
            }
            cJSON_SetNumberValue(cJSON_GetObjectItem(found, "packets"),
                                 cmk_json_num(found, "packets", 0) + (double)pk);
            cJSON_SetNumberValue(cJSON_GetObjectItem(found, "bytes"),
                                 cmk_json_num(found, "bytes", 0) + (double)by);
        }
        line = eol ? eol + 1 : NULL;
    }
    return arr;
}

/* label_of - the verdict word of counter entry rule (1-based, 0 default) */
static const char *label_of(const fw_edge *self, int rule)
{
    const fw_rule *r = rule > 0 ? fw_config_rule(self->cfg, (size_t)rule - 1) : NULL;
    fw_decision d = { FW_ALLOW, r ? r->action : fw_config_default(self->cfg),
                      fw_config_mode(self->cfg) == FW_MODE_REPORT, rule - 1, "" };
    d.verdict = d.report ? FW_ALLOW : d.rule_action;
    return fw_decision_label(&d);
}

/* kernel_counters - the counters now (nft list inside the namespace); NULL outside kernel
 * mode. Verdict words are added under the lock. */
static cJSON *kernel_counters(fw_edge *self)
{
    char *out = NULL;
    cmk_err err = CMK_ERR_INIT;
    cJSON *arr, *it;

    if (!self->ns)
        return NULL;
    if (fw_netns_nft(self->ns, "list table inet cmksim_fw", false, &out, &err) < 0) {
        cmk_warn("fw.counters_failed", "error=\"%s\"", err.msg);
        return NULL;
    }
    arr = fw_counters_parse(out);
    free(out);
    pthread_mutex_lock(&self->lock);
    cJSON_ArrayForEach(it, arr) {
        cJSON_AddStringToObject(it, "verdict", label_of(self, (int)cmk_json_num(it, "rule", 0)));
    }
    pthread_mutex_unlock(&self->lock);
    return arr;
}

/* fw_edge_poll_counters - log what rose since last time */
void fw_edge_poll_counters(fw_edge *self)
{
    static cmk_family *packets;
    cJSON *now = kernel_counters(self), *it;
    if (!now)
        return;
    if (!packets)
        packets = cmk_metrics_family("cmk_firewall_kernel_packets_total",
                                     "Packets counted by the nftables rules in the firewall's "
                                     "namespace, by verdict and rule (N:name or default); reset "
                                     "when a config is applied.", CMK_METRIC_COUNTER,
                                     "verdict,rule", NULL, 0);
    pthread_mutex_lock(&self->lock);
    cJSON_ArrayForEach(it, now) {
        int rule = (int)cmk_json_num(it, "rule", 0);
        double pk = cmk_json_num(it, "packets", 0), before = 0;
        const cJSON *old;
        char label[96];
        if (rule)
            snprintf(label, sizeof label, "%d:%s", rule, cmk_json_str(it, "name", ""));
        else
            snprintf(label, sizeof label, "default");
        cmk_metric_set(cmk_family_get2(packets, cmk_json_str(it, "verdict", "-"), label), (int64_t)pk);
        cJSON_ArrayForEach(old, self->last_counts) {
            if ((int)cmk_json_num(old, "rule", -1) == rule)
                before = cmk_json_num(old, "packets", 0);
        }
        if (pk > before) {
            char who[96];
            if (rule)
                snprintf(who, sizeof who, "%d:%s", rule, cmk_json_str(it, "name", ""));
            else
                snprintf(who, sizeof who, "default");
            cmk_info("fw.kernel_count", "rule=%s verdict=%s packets=+%.0f total=%.0f config=%s",
                     who, cmk_json_str(it, "verdict", "-"), pk - before, pk,
                     fw_config_name(self->cfg));
        }
    }
    cJSON_Delete(self->last_counts);
    self->last_counts = now;
    pthread_mutex_unlock(&self->lock);
}

/* kernel_fault - put the kernel fault table of kind ("" removes it) in force; under
 * fault_lock */
static int kernel_fault(fw_edge *self, const char *kind, int64_t until, cmk_err *err)
{
    char *ruleset = NULL;
    int rc = fw_nft_render_fault(kind, self->port, &ruleset, err);
    if (rc == 0)
        rc = fw_netns_nft(self->ns, ruleset, false, NULL, err);
    free(ruleset);
    if (rc < 0)
        return rc;
    snprintf(self->kfault, sizeof self->kfault, "%s", kind);
    self->kfault_until = kind[0] ? until : 0;
    return 0;
}

/* expire_fault - remove the kernel fault table once its duration is over; returns the ms
 * until it ends (-1: no timed fault) */
static int64_t expire_fault(fw_edge *self)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t left = -1;
    pthread_mutex_lock(&self->fault_lock);
    if (self->kfault[0] && self->kfault_until) {
        left = self->kfault_until - cmk_mono_ms();
        if (left <= 0) {
            char kind[16];
            snprintf(kind, sizeof kind, "%s", self->kfault);
            if (kernel_fault(self, "", 0, &err) < 0)
                cmk_warn("fw.fault_clear_failed", "kind=%s error=\"%s\"", kind, err.msg);
            else
                cmk_info("fw.fault_over", "kind=%s enforcer=kernel", kind);
            left = -1;
        }
    }
    pthread_mutex_unlock(&self->fault_lock);
    return left;
}

/* counter_main - the counter thread: every interval_ms poll the counters; end a timed kernel
 * fault when it is due (a new fault wakes it to look again); until told to stop */
static void *counter_main(void *arg)
{
    fw_edge *self = arg;
    int64_t next_poll = cmk_mono_ms() + self->interval_ms;
    for (;;) {
        struct timespec until;
        int64_t left = expire_fault(self), wait = next_poll - cmk_mono_ms();
        int stop;
        if (left >= 0 && left < wait)
            wait = left + 1;
        if (wait < 0)
            wait = 0;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&self->lock);
        if (!self->stop && !self->kicked)
            pthread_cond_timedwait(&self->wake, &self->lock, &until);
        self->kicked = 0;
        stop = self->stop;
        pthread_mutex_unlock(&self->lock);
        if (stop)
            return NULL;
        if (cmk_mono_ms() >= next_poll) {
            fw_edge_poll_counters(self);
            next_poll = cmk_mono_ms() + self->interval_ms;
        }
    }
}

/* fw_edge_start_counters - poll kernel counters every interval_ms in a thread of their own */
int fw_edge_start_counters(fw_edge *self, int64_t interval_ms, cmk_err *err)
{
    if (!self->ns || self->counting)
        return 0;
    self->interval_ms = interval_ms > 0 ? interval_ms : 1000;
    if (pthread_create(&self->counter, NULL, counter_main, self) != 0)
        return cmk_err_set(err, CMK_EIO, "cannot start the counter thread");
    self->counting = 1;
    return 0;
}

/* rules_json - the rules in force */
static cJSON *rules_json(const fw_config *cfg)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < fw_config_rule_count(cfg); i++) {
        const fw_rule *r = fw_config_rule(cfg, i);
        cJSON *o = cJSON_CreateObject(), *src = cJSON_AddArrayToObject(o, "sources");
        cJSON_AddNumberToObject(o, "rule", (double)i + 1);
        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddStringToObject(o, "action", fw_action_name(r->action));
        if (r->any_source)
            cJSON_AddItemToArray(src, cJSON_CreateString("any"));
        for (size_t k = 0; k < r->n_sources; k++) {
            const fw_source *s = &r->sources[k];
            cJSON_AddItemToArray(src, cJSON_CreateString(s->cidr ? s->cidr : s->resolved ? s->resolved
                                                                                         : s->tag));
        }
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* fw_edge_status - everything about the edge */
cJSON *fw_edge_status(fw_edge *self)
{
    cJSON *j = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(j, "config"), *k;
    cJSON_AddStringToObject(j, "mode", self->mode);
    cJSON_AddStringToObject(j, "reason", self->reason);
    cJSON_AddStringToObject(c, "name", fw_config_name(self->cfg));
    cJSON_AddStringToObject(c, "origin", fw_config_origin(self->cfg));
    cJSON_AddStringToObject(c, "enforce", fw_mode_name(fw_config_mode(self->cfg)));
    cJSON_AddStringToObject(c, "default", fw_action_name(fw_config_default(self->cfg)));
    cJSON_AddItemToObject(j, "rules", rules_json(self->cfg));
    if ((k = kernel_counters(self)))
        cJSON_AddItemToObject(j, "counters", k);
    cJSON_AddItemToObject(j, "endpoints", fw_endpoints_stats(self->ep));
    if (self->ns) {
        cJSON *n = cJSON_AddObjectToObject(j, "netns"), *kf;
        pthread_mutex_lock(&self->fault_lock);
        kf = cJSON_AddObjectToObject(j, "kernel_fault");
        cJSON_AddStringToObject(kf, "kind", self->kfault[0] ? self->kfault : "none");
        if (self->kfault[0])
            cJSON_AddNumberToObject(kf, "remaining_ms", self->kfault_until
                                        ? (double)(self->kfault_until - cmk_mono_ms()) : -1);
        pthread_mutex_unlock(&self->fault_lock);
        cJSON_AddNumberToObject(n, "holder_pid", fw_netns_pid(self->ns));
        cJSON_AddStringToObject(n, "net", fw_netns_net_path(self->ns));
        cJSON_AddStringToObject(n, "user", fw_netns_user_path(self->ns));
    }
    return j;
}

/* duration_ms - a number of ms, or "500ms" / "10s" / "2m"; -1 if bad */
static int64_t duration_ms(const cJSON *v)
{
    char *end;
    double n;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsNumber(v))
        return v->valuedouble >= 0 ? (int64_t)v->valuedouble : -1;
    if (!cJSON_IsString(v))
        return -1;
    n = strtod(v->valuestring, &end);
    if (end == v->valuestring || n < 0)
        return -1;
    if (!strcmp(end, "ms") || !*end)
        return (int64_t)n;
    if (!strcmp(end, "s"))
        return (int64_t)(n * 1000);
    if (!strcmp(end, "m"))
        return (int64_t)(n * 60000);
    return -1;
}

/* fw_edge_fault - inject a fault: reset and timeout in the kernel's path (kernel mode: every
 * connection to the endpoints, pooled ones included, meets it) and at the endpoints (which
 * apply it per request, so in userspace mode established connections meet it too); latency at
 * the endpoints */
int fw_edge_fault(fw_edge *self, const cJSON *body, cJSON **reply, cmk_err *err)
{
    const char *kind = cmk_json_str(body, "kind", NULL);
    int64_t dur = duration_ms(cJSON_GetObjectItem(body, "duration"));
    int64_t ms = duration_ms(cJSON_GetObjectItem(body, "ms"));
    int kernel_kind, rc = 0;

    *reply = NULL;
    if (dur < 0 || ms < 0)
        return cmk_err_set(err, CMK_EINVAL, "firewall.fault: ms and duration are milliseconds or "
                           "durations like \"500ms\", \"10s\"");
    if ((rc = fw_endpoints_fault(self->ep, kind, ms, dur, err)) < 0)
        return rc;
    kernel_kind = !strcmp(kind, "reset") || !strcmp(kind, "timeout");
    if (self->ns) {
        pthread_mutex_lock(&self->fault_lock);
        if (kernel_kind || self->kfault[0])
            rc = kernel_fault(self, kernel_kind ? kind : "", dur > 0 ? cmk_mono_ms() + dur : 0, err);
        pthread_mutex_unlock(&self->fault_lock);
        if (rc < 0) {
            cmk_err e2 = CMK_ERR_INIT;
            fw_endpoints_fault(self->ep, "none", 0, 0, &e2); /* all or nothing */
            return cmk_err_prefix(err, "firewall.fault: the kernel rule: ");
        }
        pthread_mutex_lock(&self->lock);
        self->kicked = 1; /* the counter thread ends a timed fault */
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
    }
    *reply = cJSON_CreateObject();
    cJSON_AddStringToObject(*reply, "kind", kind);
    cJSON_AddNumberToObject(*reply, "ms", (double)ms);
    cJSON_AddNumberToObject(*reply, "duration_ms", (double)dur);
    cJSON_AddStringToObject(*reply, "enforced_by", self->ns && kernel_kind ? "kernel" : "endpoints");
    return 0;
}
