/*
 * partition_ckpt.c - a partition's WAL checkpoints on a thread of their own (partition_ckpt.h).
 */
#include "partition_ckpt.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "common/log.h"

struct pt_ckpt {
    sqlite3 *db;            /* the thread's own connection */
    sqlite3 *writer;        /* the writer's connection, whose WAL hook this is */
    pthread_t thread;
    int started;            /* the thread runs */
    pthread_mutex_t lock;   /* guards want, running, stop and the counts */
    pthread_cond_t cond;    /* want or stop changed */
    int want;               /* a checkpoint is asked for */
    int running;            /* the thread is in a checkpoint */
    int stop;               /* the thread is to end */
    int last_poke;          /* WAL pages when the thread was last asked (writer's thread only) */
    long done;              /* checkpoints done on the thread */
    long inline_done;       /* checkpoints the writer finished itself */
};

/* run - the thread: a PASSIVE checkpoint each time one is asked for */
static void *run(void *arg)
{
    pt_ckpt *self = arg;
    pthread_mutex_lock(&self->lock);
    while (!self->stop) {
        int log = 0, ckpt = 0, rc;
        if (!self->want) {
            pthread_cond_wait(&self->cond, &self->lock);
            continue;
        }
        self->want = 0;
        self->running = 1;
        pthread_mutex_unlock(&self->lock);
        rc = sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            cmk_log(CMK_LOG_WARN, NULL, NULL, "partition.checkpoint_failed", "error=\"%s\"", sqlite3_errmsg(self->db));
        pthread_mutex_lock(&self->lock);
        self->running = 0;
        self->done++;
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* on_wal - after each commit (the write lock released): ask the thread for a checkpoint every
 * PT_CKPT_PAGES new pages; finish one here when the WAL has grown past PT_CKPT_INLINE pages and
 * the thread idles (it copied most pages already), or past PT_CKPT_FORCE pages */
static int on_wal(void *arg, sqlite3 *db, const char *name, int pages)
{
    pt_ckpt *self = arg;
    int idle;

    if (pages < self->last_poke)
        self->last_poke = 0; /* the WAL started over */
    pthread_mutex_lock(&self->lock);
    if (pages >= self->last_poke + PT_CKPT_PAGES) {
        self->want = 1;
        self->last_poke = pages;
        pthread_cond_signal(&self->cond);
    }
    idle = !self->running;
    pthread_mutex_unlock(&self->lock);
    if (pages >= PT_CKPT_FORCE || (pages >= PT_CKPT_INLINE && idle)) {
        int log = 0, ckpt = 0;
        if (sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, &log, &ckpt) == SQLITE_OK && log == ckpt) {
            pthread_mutex_lock(&self->lock);
            self->inline_done++;
            pthread_mutex_unlock(&self->lock);
        }
    }
    return SQLITE_OK;
}

/* pt_ckpt_start - the second connection and the thread, then the hook on the writer */
pt_ckpt *pt_ckpt_start(sqlite3 *db, const char *path, cmk_err *err)
{
    pt_ckpt *self;
    sigset_t all, old;
    int rc;

    if (!sqlite3_threadsafe()) {
        cmk_err_set(err, CMK_EINVAL, "this SQLite is built without threads: checkpoints stay on the writer");
        return NULL;
    }
    if (!(self = calloc(1, sizeof *self))) {
        cmk_err_set(err, CMK_ENOMEM, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->cond, NULL);
    self->writer = db;
    rc = sqlite3_open_v2(path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        cmk_err_set(err, CMK_EIO, "cannot open %s for checkpoints: %s", path,
                    self->db ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
        pt_ckpt_stop(&self);
        return NULL;
    }
    /* the thread takes no signals: the loop's thread handles them */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&self->thread, NULL, run, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        cmk_err_set(err, CMK_ENOMEM, "cannot start the checkpoint thread of %s", path);
        pt_ckpt_stop(&self);
        return NULL;
    }
    self->started = 1;
    sqlite3_wal_hook(db, on_wal, self);
    return self;
}

/* pt_ckpt_stop - give SQLite its own checkpoints back, end the thread, close its connection */
void pt_ckpt_stop(pt_ckpt **self_p)
{
    pt_ckpt *self;
    if (!self_p || !*self_p)
        return;
    self = *self_p;
    *self_p = NULL;
    if (self->started) {
        sqlite3_wal_autocheckpoint(self->writer, 1000); /* SQLite's default hook again */
        pthread_mutex_lock(&self->lock);
        self->stop = 1;
        pthread_cond_signal(&self->cond);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->thread, NULL);
    }
    if (self->db)
        sqlite3_close(self->db);
    pthread_cond_destroy(&self->cond);
    pthread_mutex_destroy(&self->lock);
    free(self);
}

/* pt_ckpt_count - checkpoints so far */
void pt_ckpt_count(pt_ckpt *self, long *on_thread, long *inline_done)
{
    pthread_mutex_lock(&self->lock);
    if (on_thread)
        *on_thread = self->done;
    if (inline_done)
        *inline_done = self->inline_done;
    pthread_mutex_unlock(&self->lock);
}
