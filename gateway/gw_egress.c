/*
 * gw_egress.c - the transfer thread: libcurl multi, sockets from gw_nsock, source binding,
 * loopback-only destinations, bounded responses (see gw_egress.h).
 */
#include "gw_egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "log.h"

/* A transfer in progress: the job and its libcurl state. */
typedef struct xfer {
    gw_egress *eg;             /* owner */
    gw_job *job;               /* the job */
    CURL *easy;                /* libcurl handle */
    struct curl_slist *hdrs;   /* request header list */
    size_t cap;                /* allocated size of job->resp_body */
    struct xfer *next;         /* active list link */
} xfer;

struct gw_egress {
    gw_nsock *ns;              /* makes sockets (borrowed) */
    CURLM *multi;              /* the multi handle (used by the thread only) */
    pthread_t thread;          /* the transfer thread */
    int started;               /* thread running */
    pthread_mutex_t lock;      /* guards the queues, stop and active */
    gw_job *in_head, *in_tail; /* submitted, not started */
    gw_job *out_head, *out_tail; /* finished, not taken */
    xfer *xfers;               /* transfers in progress (thread only) */
    int efd;                   /* eventfd: readable while out queue is not empty */
    int stop;                  /* ask the thread to end */
    int active;                /* submitted and not yet taken */
};

/* gw_job_destroy - free a job */
void gw_job_destroy(gw_job **job_p)
{
    gw_job *j;
    if (!job_p || !*job_p)
        return;
    j = *job_p;
    cmk_msg_destroy(&j->req);
    free(j->method);
    free(j->uri);
    cJSON_Delete(j->headers);
    free(j->body);
    cJSON_Delete(j->resp_headers);
    free(j->resp_body);
    free(j);
    *job_p = NULL;
}

/* on_write - response body bytes, bounded by GW_MAX_RESPONSE */
static size_t on_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    gw_job *j = x->job;
    size_t n = size * nmemb;

    if (j->resp_len + n > GW_MAX_RESPONSE) {
        j->fail_flags |= GW_FAIL_TOOLARGE;
        return 0;
    }
    if (j->resp_len + n + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 4096;
        char *p;
        while (cap < j->resp_len + n + 1)
            cap *= 2;
        if (!(p = realloc(j->resp_body, cap)))
            return 0;
        j->resp_body = p;
        x->cap = cap;
    }
    memcpy(j->resp_body + j->resp_len, ptr, n);
    j->resp_len += n;
    j->resp_body[j->resp_len] = '\0';
    return n;
}

/* on_header - one response header line; a status line starts a new set (100, redirects) */
static size_t on_header(char *buf, size_t size, size_t nitems, void *arg)
{
    xfer *x = arg;
    size_t n = size * nitems, nl;
    char name[256], *value, line[8192];
    cJSON *old;

    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        cJSON_Delete(x->job->resp_headers);
        x->job->resp_headers = cJSON_CreateObject();
        return n;
    }
    nl = n < sizeof line - 1 ? n : sizeof line - 1;
    memcpy(line, buf, nl);
    line[nl] = '\0';
    line[strcspn(line, "\r\n")] = '\0';
    if (!(value = strchr(line, ':')) || value == line || (size_t)(value - line) >= sizeof name)
        return n;
    memcpy(name, line, (size_t)(value - line));
    name[value - line] = '\0';
    for (value++; *value == ' ' || *value == '\t'; value++)
        ;
    if (!x->job->resp_headers)
        x->job->resp_headers = cJSON_CreateObject();
    if ((old = cJSON_GetObjectItem(x->job->resp_headers, name)) && cJSON_IsString(old)) {
        char *joined = malloc(strlen(old->valuestring) + strlen(value) + 3);
        if (joined) {
            sprintf(joined, "%s, %s", old->valuestring, value);
            cJSON_ReplaceItemInObject(x->job->resp_headers, name, cJSON_CreateString(joined));
            free(joined);
        }
    } else
        cJSON_AddStringToObject(x->job->resp_headers, name, value);
    return n;
}

/* is_loopback - whether a destination is 127.0.0.0/8 or ::1 (or v4-mapped loopback) */
static int is_loopback(const struct sockaddr *sa, char *text, size_t n)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(text, n, "%s:%u", ip, ntohs(in->sin_port));
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        char ip[INET6_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(text, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
        return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
               (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && in6->sin6_addr.s6_addr[12] == 127);
    }
    snprintf(text, n, "(family %d)", sa->sa_family);
    return 0;
}

/* on_opensocket - the socket of a connection: loopback only, made by gw_nsock */
static curl_socket_t on_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
    xfer *x = arg;
    int fd;

    if (!is_loopback(&addr->addr, x->job->dest, sizeof x->job->dest)) {
        x->job->fail_flags |= GW_FAIL_POLICY;
        return CURL_SOCKET_BAD;
    }
    fd = gw_nsock_socket(x->eg->ns, addr->family, addr->socktype, addr->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* add_header - "Name: value" onto the list; 0 or -1 */
static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    char line[8448];
    struct curl_slist *l;
    snprintf(line, sizeof line, "%s: %s", name, value);
    if (!(l = curl_slist_append(*list, line)))
        return -1;
    *list = l;
    return 0;
}

/* has_header - whether the job's headers name one (case-insensitive) */
static int has_header(const gw_job *j, const char *name)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, j->headers) {
        if (strcasecmp(h->string, name) == 0)
            return 1;
    }
    return 0;
}

/* setup - an easy handle for the job; 0 or -1 */
static int setup(xfer *x)
{
    gw_job *j = x->job;
    CURL *e = x->easy;
    const cJSON *h;
    char iface[80], ua[256];
    int bad = 0;

    snprintf(iface, sizeof iface, "host!%s", j->source_ip);
    cJSON_ArrayForEach(h, j->headers) {
        bad |= add_header(&x->hdrs, h->string, h->valuestring);
    }
    bad |= add_header(&x->hdrs, "x-ms-workflow-name", j->flow[0] ? j->flow : "-");
    bad |= add_header(&x->hdrs, "x-ms-workflow-run-id", j->run[0] ? j->run : "-");
    if (!has_header(j, "Expect"))
        x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    if (j->body_len && !has_header(j, "Content-Type"))
        bad |= add_header(&x->hdrs, "Content-Type", "text/plain; charset=utf-8");
    snprintf(ua, sizeof ua, "azure-logic-apps/1.0 (workflow %s; version cmksim)",
             j->flow[0] ? j->flow : "-");
    if (bad || !x->hdrs)
        return -1;
    curl_easy_setopt(e, CURLOPT_URL, j->uri);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_IPRESOLVE, (long)CURL_IPRESOLVE_V4);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)j->timeout_ms);
    curl_easy_setopt(e, CURLOPT_INTERFACE, iface);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(e, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->curl_error);
    if (strcmp(j->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else {
        if (j->body_len || !strcmp(j->method, "POST") || !strcmp(j->method, "PUT") ||
            !strcmp(j->method, "PATCH")) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->body_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body ? j->body : "");
        }
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, j->method);
    }
    return 0;
}

/* finish - move a job to the out queue and wake the loop */
static void finish(gw_egress *self, gw_job *j)
{
    uint64_t one = 1;
    j->latency_ms = cmk_mono_ms() - j->submitted_ms;
    j->outcome = gw_errmap_classify(j->curl_code, j->os_errno, j->fail_flags);
    j->next = NULL;
    pthread_mutex_lock(&self->lock);
    if (self->out_tail)
        self->out_tail->next = j;
    else
        self->out_head = j;
    self->out_tail = j;
    if (write(self->efd, &one, sizeof one) < 0 && errno != EAGAIN)
        cmk_warn("egress.wake_failed", "error=\"%s\"", strerror(errno));
    pthread_mutex_unlock(&self->lock);
}

/* host_check - names are never looked up (no traffic leaves loopback): an IP literal or
 * localhost goes ahead (0); "*.invalid" fails as DNS does (RFC 6761); any other name is
 * refused by policy. Returns 0 to go ahead, 1 if the job was finished here. */
static int host_check(gw_egress *self, gw_job *j)
{
    CURLU *u = curl_url();
    char *host = NULL;
    size_t n;
    int verdict = 0;
    struct in6_addr a6;
    struct in_addr a4;

    if (!u || curl_url_set(u, CURLUPART_URL, j->uri, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return 0; /* libcurl will say what is wrong with the URI */
    }
    n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        host[n - 1] = '\0';
        verdict = inet_pton(AF_INET6, host + 1, &a6) == 1 ? 0 : 2;
    } else if (inet_pton(AF_INET, host, &a4) == 1 || strcasecmp(host, "localhost") == 0 ||
               (n > 10 && strcasecmp(host + n - 10, ".localhost") == 0))
        verdict = 0;
    else if (strcasecmp(host, "invalid") == 0 || (n > 8 && strcasecmp(host + n - 8, ".invalid") == 0))
        verdict = 1;
    else
        verdict = 2;
    if (verdict == 1) {
        j->curl_code = CURLE_COULDNT_RESOLVE_HOST;
        snprintf(j->curl_error, sizeof j->curl_error, "Could not resolve host: %s", host);
    } else if (verdict == 2) {
        j->fail_flags |= GW_FAIL_POLICY;
        j->curl_code = CURLE_COULDNT_CONNECT;
        snprintf(j->dest, sizeof j->dest, "%s", host);
        snprintf(j->curl_error, sizeof j->curl_error, "host names other than localhost are "
                 "not resolved by the simulator");
    }
    curl_free(host);
    curl_url_cleanup(u);
    if (verdict)
        finish(self, j);
    return verdict != 0;
}

/* start - begin one job's transfer (or finish it at once if it cannot start) */
static void start(gw_egress *self, gw_job *j)
{
    xfer *x;

    gw_nsock_refresh(self->ns, &j->fw);
    if (host_check(self, j))
        return;
    x = calloc(1, sizeof *x);
    if (!x || !(x->easy = curl_easy_init())) {
        free(x);
        j->curl_code = CURLE_OUT_OF_MEMORY;
        snprintf(j->curl_error, sizeof j->curl_error, "out of memory");
        finish(self, j);
        return;
    }
    x->eg = self;
    x->job = j;
    if (setup(x) < 0 || curl_multi_add_handle(self->multi, x->easy) != CURLM_OK) {
        j->curl_code = CURLE_OUT_OF_MEMORY;
        snprintf(j->curl_error, sizeof j->curl_error, "cannot set up the transfer");
        curl_slist_free_all(x->hdrs);
        curl_easy_cleanup(x->easy);
        free(x);
        finish(self, j);
        return;
    }
    x->next = self->xfers;
    self->xfers = x;
}

/* done - collect a finished transfer */
static void done(gw_egress *self, CURL *easy, CURLcode result)
{
    xfer *x = NULL, **pp;
    gw_job *j;
    long status = 0, oserr = 0;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    if (!x)
        return;
    for (pp = &self->xfers; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    j = x->job;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &oserr);
    j->curl_code = (int)result;
    j->status = result == CURLE_OK ? status : 0;
    j->os_errno = oserr;
    if (!j->curl_error[0] && result != CURLE_OK)
        snprintf(j->curl_error, sizeof j->curl_error, "%s", curl_easy_strerror(result));
    curl_multi_remove_handle(self->multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(x->hdrs);
    free(x);
    finish(self, j);
}

/* run - the transfer thread */
static void *run(void *arg)
{
    gw_egress *self = arg;
    for (;;) {
        gw_job *batch;
        CURLMsg *m;
        int running = 0, left = 0;

        pthread_mutex_lock(&self->lock);
        if (self->stop) {
            pthread_mutex_unlock(&self->lock);
            break;
        }
        batch = self->in_head;
        self->in_head = self->in_tail = NULL;
        pthread_mutex_unlock(&self->lock);
        while (batch) {
            gw_job *next = batch->next;
            start(self, batch);
            batch = next;
        }
        curl_multi_perform(self->multi, &running);
        while ((m = curl_multi_info_read(self->multi, &left)))
            if (m->msg == CURLMSG_DONE)
                done(self, m->easy_handle, m->data.result);
        curl_multi_poll(self->multi, NULL, 0, 1000, NULL);
    }
    return NULL;
}

/* gw_egress_new - multi handle, eventfd, thread */
gw_egress *gw_egress_new(gw_nsock *ns, cmk_err *err)
{
    gw_egress *self = calloc(1, sizeof *self);

    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    self->ns = ns;
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&self->lock, NULL);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(self->multi = curl_multi_init()) ||
        self->efd < 0) {
        cmk_err_set(err, CMK_EIO, "cannot set up libcurl or an eventfd for outbound HTTP");
        gw_egress_destroy(&self);
        return NULL;
    }
    curl_multi_setopt(self->multi, CURLMOPT_MAXCONNECTS, 256L);
    if (pthread_create(&self->thread, NULL, run, self) != 0) {
        cmk_err_set(err, CMK_EIO, "cannot start the egress thread");
        gw_egress_destroy(&self);
        return NULL;
    }
    self->started = 1;
    return self;
}

/* drop_list - free a queue of jobs */
static void drop_list(gw_job *j)
{
    while (j) {
        gw_job *next = j->next;
        gw_job_destroy(&j);
        j = next;
    }
}

/* gw_egress_destroy - stop and free */
void gw_egress_destroy(gw_egress **self_p)
{
    gw_egress *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->lock);
        self->stop = 1;
        pthread_mutex_unlock(&self->lock);
        curl_multi_wakeup(self->multi);
        pthread_join(self->thread, NULL);
    }
    while (self->xfers) {
        xfer *x = self->xfers;
        self->xfers = x->next;
        curl_multi_remove_handle(self->multi, x->easy);
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->hdrs);
        gw_job_destroy(&x->job);
        free(x);
    }
    drop_list(self->in_head);
    drop_list(self->out_head);
    if (self->multi)
        curl_multi_cleanup(self->multi);
    if (self->efd >= 0)
        close(self->efd);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* gw_egress_fd - the wake fd */
int gw_egress_fd(const gw_egress *self)
{
    return self->efd;
}

/* gw_egress_submit - queue a job */
void gw_egress_submit(gw_egress *self, gw_job **job_p)
{
    gw_job *j = *job_p;
    *job_p = NULL;
    j->next = NULL;
    j->submitted_ms = cmk_mono_ms();
    pthread_mutex_lock(&self->lock);
    if (self->in_tail)
        self->in_tail->next = j;
    else
        self->in_head = j;
    self->in_tail = j;
    self->active++;
    pthread_mutex_unlock(&self->lock);
    curl_multi_wakeup(self->multi);
}

/* gw_egress_take - pop a finished job */
gw_job *gw_egress_take(gw_egress *self)
{
    gw_job *j;
    uint64_t v;
    pthread_mutex_lock(&self->lock);
    j = self->out_head;
    if (j) {
        self->out_head = j->next;
        if (!self->out_head)
            self->out_tail = NULL;
        j->next = NULL;
        self->active--;
    }
    if (!self->out_head && read(self->efd, &v, sizeof v) < 0 && errno != EAGAIN)
        cmk_warn("egress.wake_failed", "error=\"%s\"", strerror(errno));
    pthread_mutex_unlock(&self->lock);
    return j;
}

/* gw_egress_active - jobs in flight */
int gw_egress_active(gw_egress *self)
{
    int n;
    pthread_mutex_lock(&self->lock);
    n = self->active;
    pthread_mutex_unlock(&self->lock);
    return n;
}
