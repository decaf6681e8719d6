/*
 * zap.c - ZAP handler: CURVE keys from authorized.json.
 */
#include "zap.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "hmap.h"
#include "keys.h"
#include "log.h"
#include "util.h"

struct cmk_zap {
    void *sock;                 /* REP bound at inproc://zeromq.zap.01 */
    char run_dir[PATH_MAX];     /* where keys/authorized.json is */
    char roles[128];            /* accepted roles, comma list; "" for all */
    cJSON *authorized;          /* the loaded list */
    cmk_hmap *by_name;          /* name -> entry of `authorized` (borrowed) */
    int watch_fd;               /* inotify on keys/public and keys, or -1: stat on every lookup */
    int changed;                /* the watch saw the directory change since the last reload */
    int watch_lost;             /* a watched directory went away: stat on every lookup */
    unsigned long local_gen;    /* cmk_authorized_local_gen() at the last reload */
    struct timespec mtime;      /* of the loaded file */
    ino_t ino;                  /* of the loaded file: a rewrite (rename) makes a new one */
    off_t size;                 /* of the loaded file */
    long refused;               /* refusals so far */
};

/* index - the name -> entry map of the loaded list (a NULL map: lookups scan the list) */
static void index_names(cmk_zap *self)
{
    const cJSON *it;
    cmk_hmap_destroy(&self->by_name);
    if (!(self->by_name = cmk_hmap_new()))
        return;
    cJSON_ArrayForEach(it, self->authorized) {
        const char *name = cmk_json_str(it, "name", "");
        if (name[0] && !cmk_hmap_get(self->by_name, name) && cmk_hmap_put(self->by_name, name, (void *)it) < 0) {
            cmk_hmap_destroy(&self->by_name);
            return;
        }
    }
}

/* reload - re-read authorized.json if it changed. Without force, a process whose watch is on
 * (cmk_zap_attach) and saw no change, and which wrote no change itself, skips the stat: the
 * per-request lookups cost no system call (issue #18). A handshake always checks the file. */
static void reload(cmk_zap *self, int force)
{
    char path[PATH_MAX + 32];
    struct stat st;
    cJSON *list;
    cmk_err err = CMK_ERR_INIT;
    unsigned long gen = cmk_authorized_local_gen();

    if (!force && self->watch_fd >= 0 && !self->watch_lost && !self->changed && gen == self->local_gen && self->authorized)
        return;
    if (stat(cmk_authorized_path(self->run_dir, path, sizeof path), &st) < 0) {
        snprintf(path, sizeof path, "%s/keys/authorized.json", self->run_dir); /* an older run dir */
        if (stat(path, &st) < 0)
            return; /* looked for again at the next lookup */
    }
    if (self->authorized && st.st_mtim.tv_sec == self->mtime.tv_sec &&
        st.st_mtim.tv_nsec == self->mtime.tv_nsec && st.st_ino == self->ino && st.st_size == self->size) {
        self->changed = 0;
        self->local_gen = gen;
        return;
    }
    if (cmk_authorized_load(self->run_dir, &list, &err) < 0) {
        cmk_warn("zap.reload_failed", "error=\"%s\"", err.msg);
        return; /* read again at the next lookup */
    }
    self->changed = 0;
    self->local_gen = gen;
    cJSON_Delete(self->authorized);
    self->authorized = list;
    self->mtime = st.st_mtim;
    self->ino = st.st_ino;
    self->size = st.st_size;
    index_names(self);
}

/* watch - an inotify watch on the directories authorized.json is written in (an atomic
 * rename lands there); -1 when it cannot be had (lookups then stat the file each time) */
static int watch(const char *run_dir)
{
    static const char *const dirs[] = { "/keys/public", "/keys" };
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char dir[PATH_MAX + 16];
        snprintf(dir, sizeof dir, "%s%s", run_dir, dirs[i]);
        if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                       IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

/* cmk_zap_new - bind the ZAP handler */
cmk_zap *cmk_zap_new(void *zmq_ctx, const char *run_dir, const char *roles, cmk_err *err)
{
    cmk_zap *self = calloc(1, sizeof *self);
    if (!self) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    cmk_strlcpy(self->run_dir, run_dir, sizeof self->run_dir);
    cmk_strlcpy(self->roles, roles ? roles : "", sizeof self->roles);
    self->watch_fd = -1;
    self->sock = zmq_socket(zmq_ctx, ZMQ_REP);
    if (!self->sock || zmq_bind(self->sock, "inproc://zeromq.zap.01") != 0) {
        cmk_err_set(err, CMK_EIO, "cannot bind the ZAP handler: %s", zmq_strerror(errno));
        cmk_zap_destroy(&self);
        return NULL;
    }
    reload(self, 1);
    return self;
}

/* cmk_zap_destroy - close and free */
void cmk_zap_destroy(cmk_zap **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->sock) {
        int zero = 0;
        zmq_setsockopt((*self_p)->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close((*self_p)->sock);
    }
    if ((*self_p)->watch_fd >= 0)
        close((*self_p)->watch_fd);
    cmk_hmap_destroy(&(*self_p)->by_name);
    cJSON_Delete((*self_p)->authorized);
    free(*self_p);
    *self_p = NULL;
}

long cmk_zap_refused(const cmk_zap *self) { return self->refused; }
int cmk_zap_watching(const cmk_zap *self) { return self->watch_fd >= 0 && !self->watch_lost; }

/* on_watch - the keys' directory changed: drain the events; the next lookup checks the file */
static int on_watch(cmk_loop *loop, void *sock, int fd, void *arg)
{
    cmk_zap *self = arg;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    (void)loop, (void)sock;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            const struct inotify_event *ev = (const struct inotify_event *)(buf + off);
            if (ev->mask & (IN_IGNORED | IN_Q_OVERFLOW))
                self->watch_lost = 1; /* a directory went away, or events were lost: stat from now on */
            off += (ssize_t)sizeof *ev + ev->len;
        }
    }
    self->changed = 1;
    return 0;
}

static int zap_handle(cmk_zap *self);

/* on_request - ZAP requests */
static int on_request(cmk_loop *loop, void *sock, int fd, void *arg)
{
    (void)loop, (void)sock, (void)fd;
    zap_handle(arg);
    return 0;
}

/* cmk_zap_attach - serve ZAP requests and watch the key list in loop */
int cmk_zap_attach(cmk_zap *self, cmk_loop *loop, cmk_err *err)
{
    if (cmk_loop_add_socket(loop, self->sock, on_request, self) < 0)
        return cmk_err_set(err, CMK_ENOMEM, "cannot add the ZAP handler to the loop");
    if (self->watch_fd < 0)
        self->watch_fd = watch(self->run_dir);
    if (self->watch_fd >= 0 && cmk_loop_add_fd(loop, self->watch_fd, on_watch, self) < 0) {
        close(self->watch_fd); /* lookups stat the file instead */
        self->watch_fd = -1;
    }
    return 0;
}

/* cmk_zap_detach - undo cmk_zap_attach */
void cmk_zap_detach(cmk_zap *self, cmk_loop *loop)
{
    cmk_loop_remove_socket(loop, self->sock);
    if (self->watch_fd >= 0)
        cmk_loop_remove_fd(loop, self->watch_fd);
}

/* role_ok - is role in the accepted list */
static int role_ok(const cmk_zap *self, const char *role)
{
    size_t n = strlen(role);
    const char *p = self->roles;
    if (!*p)
        return 1;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, role, n) == 0)
            return 1;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* find_key - the entry for a Z85 key */
static const cJSON *find_key(cmk_zap *self, const char *z85)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, self->authorized) {
        if (strcmp(cmk_json_str(it, "key", ""), z85) == 0)
            return it;
    }
    return NULL;
}

/* cmk_zap_entry - entry by name */
const cJSON *cmk_zap_entry(cmk_zap *self, const char *name)
{
    const cJSON *it;
    reload(self, 0);
    if (self->by_name)
        return cmk_hmap_get(self->by_name, name);
    cJSON_ArrayForEach(it, self->authorized) {
        if (strcmp(cmk_json_str(it, "name", ""), name) == 0)
            return it;
    }
    return NULL;
}

/* reply - send a ZAP reply */
static void reply(void *sock, const char *reqid, size_t reqid_len, const char *status,
                  const char *text, const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, reqid, reqid_len, ZMQ_SNDMORE);
    zmq_send(sock, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* handle_one - one ZAP request: version, id, domain, address, identity, mechanism, creds */
static int handle_one(cmk_zap *self)
{
    char frames[7][256];
    size_t lens[7] = { 0 };
    int n = 0, more = 1;

    while (more) {
        char buf[256];
        int r = zmq_recv(self->sock, buf, sizeof buf, ZMQ_DONTWAIT);
        size_t more_len = sizeof more;
        if (r < 0)
            return errno == EAGAIN && n == 0 ? 1 : -1;
        if (n < 7) {
            lens[n] = (size_t)r < sizeof buf ? (size_t)r : sizeof buf;
            memcpy(frames[n], buf, lens[n]);
            n++;
        }
        zmq_getsockopt(self->sock, ZMQ_RCVMORE, &more, &more_len);
    }
    if (n < 6) {
        reply(self->sock, n > 1 ? frames[1] : "", n > 1 ? lens[1] : 0, "500", "bad ZAP request", "");
        return 0;
    }
    {
        char mech[32] = "", addr[64] = "", z85[CMK_Z85_KEY_LEN + 1] = "";
        const cJSON *entry = NULL;

        snprintf(mech, sizeof mech, "%.*s", (int)lens[5], frames[5]);
        snprintf(addr, sizeof addr, "%.*s", (int)lens[3], frames[3]);
        if (strcmp(mech, "CURVE") == 0 && n == 7 && lens[6] == 32) {
            zmq_z85_encode(z85, (const uint8_t *)frames[6], 32);
            reload(self, 1);
            entry = find_key(self, z85);
        }
        if (entry && role_ok(self, cmk_json_str(entry, "role", ""))) {
            const char *name = cmk_json_str(entry, "name", "");
            cmk_debug("zap.allowed", "name=%s role=%s", name, cmk_json_str(entry, "role", ""));
            reply(self->sock, frames[1], lens[1], "200", "OK", name);
        } else {
            self->refused++;
            cmk_warn("zap.refused", "mechanism=%s address=%s key=%s reason=\"%s\"", mech,
                     addr[0] ? addr : "-", z85[0] ? z85 : "-",
                     strcmp(mech, "CURVE") != 0 ? "CURVE required"
                     : entry                    ? "role not accepted here"
                                                : "unknown key");
            reply(self->sock, frames[1], lens[1], "400", "key not authorized", "");
        }
    }
    return 0;
}

/* zap_handle - answer every pending request */
static int zap_handle(cmk_zap *self)
{
    for (int i = 0; i < 64; i++) {
        int rc = handle_one(self);
        if (rc != 0)
            return rc > 0 ? 0 : -1;
    }
    return 0;
}
