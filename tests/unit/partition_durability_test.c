/*
 * partition_durability_test.c - Check suite for worker/partition on disk: group commit
 * (durable callbacks only after the commit, in write order; partition_tick commits after
 * group_commit_ms), crash safety (a child killed with SIGKILL loses no acknowledged run),
 * directory and file modes (0700 / 0600, -wal and -shm too), no plaintext in the partition
 * file or its WAL, and the benchmark table sealed vs plaintext.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "worker/partition.h"

#define ENV "env-dur-1"
#define MAX_EVENTS 1024

static char rootdir[64]; /* temp dir of the whole test case, removed even after failures */
static char tmpdir[96];  /* this test's temp dir */
static cmk_dek *dek;     /* data DEK */
static cmk_dek *mmk;     /* MMK DEK */

/* What the durable callbacks saw. */
static struct {
    int id[MAX_EVENTS]; /* callback argument, in call order */
    int rc[MAX_EVENTS]; /* its rc */
    int n;              /* calls */
} seen;

/* rm_entry - nftw callback removing one entry */
static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* root_setup - in the runner: one temp dir for the test case */
static void root_setup(void)
{
    strcpy(rootdir, "/tmp/cmk-pdur-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(rootdir));
}

/* root_teardown - in the runner: remove the test case's temp dir, failed tests' files too */
static void root_teardown(void)
{
    nftw(rootdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* setup - a temp dir and two DEKs */
static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    snprintf(tmpdir, sizeof tmpdir, "%s/t-XXXXXX", rootdir);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    dek = cmk_dek_generate(&err);
    mmk = cmk_dek_generate(&err);
    ck_assert_ptr_nonnull(dek);
    ck_assert_ptr_nonnull(mmk);
    memset(&seen, 0, sizeof seen);
}

/* teardown - free the keys, remove the temp dir */
static void teardown(void)
{
    cmk_dek_destroy(&dek);
    cmk_dek_destroy(&mmk);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* on_durable - record a callback */
static void on_durable(void *arg, int rc)
{
    if (seen.n < MAX_EVENTS) {
        seen.id[seen.n] = (int)(intptr_t)arg;
        seen.rc[seen.n] = rc;
    }
    seen.n++;
}

/* open_with - open the partition at path with group commit settings and keys */
static partition *open_with(const char *dir, int seal, int ms, int max)
{
    cmk_err err = CMK_ERR_INIT;
    partition_opts o;
    partition *p = NULL;

    partition_opts_default(&o);
    o.seal = seal;
    o.group_commit_ms = ms;
    o.group_commit_max = max;
    ck_assert_msg(partition_open(dir, ENV, &o, &p, &err) == 0, "partition_open: %s", err.msg);
    partition_set_keys(p, dek, mmk);
    return p;
}

/* put_run - begin run "run-<i>" of flow-a with a trigger, callback argument i */
static int put_run(partition *p, int i, cmk_err *err)
{
    partition_run r;
    char trig[96];

    memset(&r, 0, sizeof r);
    snprintf(r.id, sizeof r.id, "run-%d", i);
    strcpy(r.flow_id, "flow-a");
    strcpy(r.status, "Running");
    r.start_ms = 1000 + i;
    snprintf(trig, sizeof trig, "{\"body\":\"trigger-input-%d\"}", i);
    return partition_run_begin(p, &r, trig, NULL, on_durable, (void *)(intptr_t)i, err);
}

/* count_rows - rows of table seen by a separate connection (committed rows only) */
static int count_rows(const char *path, const char *table)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char sql[128];
    int n = -1;

    ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* sleep_ms - a short sleep */
static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

START_TEST(test_group_commit_max)
{
    cmk_err err = CMK_ERR_INIT;
    partition *p = open_with(tmpdir, 1, 3600 * 1000, 4);
    char path[128];

    snprintf(path, sizeof path, "%s", partition_path(p));

    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(put_run(p, i, &err), 0);
    ck_assert_int_eq(seen.n, 0); /* nothing durable yet */
    ck_assert_uint_eq(partition_pending(p), 3);
    ck_assert_int_eq(count_rows(path, "runs"), 0); /* and nothing committed */
    ck_assert_int_ge(partition_tick(p, &err), 1);  /* an hour away */
    ck_assert_int_eq(seen.n, 0);

    ck_assert_int_eq(put_run(p, 3, &err), 0); /* the 4th: inline commit */
    ck_assert_int_eq(seen.n, 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(seen.id[i], i);
        ck_assert_int_eq(seen.rc[i], 0);
    }
    ck_assert_uint_eq(partition_pending(p), 0);
    ck_assert_int_eq(count_rows(path, "runs"), 4);
    ck_assert_int_eq(partition_tick(p, &err), -1); /* nothing pending */

    /* an explicit commit, and one on close */
    ck_assert_int_eq(put_run(p, 4, &err), 0);
    ck_assert_int_eq(partition_commit(p, &err), 0);
    ck_assert_int_eq(seen.n, 5);
    ck_assert_int_eq(put_run(p, 5, &err), 0);
    ck_assert_int_eq(put_run(p, 6, &err), 0);
    ck_assert_int_eq(seen.n, 5);
    partition_close(&p);
    ck_assert_int_eq(seen.n, 7);
    ck_assert_int_eq(seen.id[5], 5);
    ck_assert_int_eq(seen.id[6], 6);
    ck_assert_int_eq(count_rows(path, "runs"), 7);
}
END_TEST

START_TEST(test_group_commit_tick)
{
    cmk_err err = CMK_ERR_INIT;
    partition *p = open_with(tmpdir, 1, 20, 1000);
    char path[128];
    int64_t due;
    int loops = 0;

    snprintf(path, sizeof path, "%s", partition_path(p));
    ck_assert_int_eq(partition_tick(p, &err), -1);
    ck_assert_int_eq(put_run(p, 0, &err), 0);
    ck_assert_int_eq(put_run(p, 1, &err), 0);
    due = partition_tick(p, &err);
    ck_assert_int_ge(due, 0);
    ck_assert_int_le(due, 20);
    /* tick until the commit happens (bounded, no assertion on the time it takes) */
    while (seen.n == 0 && loops++ < 5000) {
        sleep_ms(2);
        due = partition_tick(p, &err);
    }
    ck_assert_int_eq(seen.n, 2);
    ck_assert_int_eq(seen.id[0], 0);
    ck_assert_int_eq(seen.id[1], 1);
    ck_assert_int_eq(seen.rc[0], 0);
    ck_assert_int_eq(due, -1);
    ck_assert_int_eq(err.code, 0);
    ck_assert_int_eq(count_rows(path, "runs"), 2);
    partition_close(&p);
}
END_TEST

START_TEST(test_commit_failure)
{
    cmk_err err = CMK_ERR_INIT;
    partition *p = open_with(tmpdir, 1, 3600 * 1000, 3);
    partition_run r, *list = NULL;
    char path[128];
    size_t n = 0;

    snprintf(path, sizeof path, "%s", partition_path(p));
    ck_assert_int_eq(put_run(p, 0, &err), 0);
    ck_assert_int_eq(put_run(p, 1, &err), 0);
    partition_fail_next_commit(p, CMK_EIO);
    /* the third write fills the group; its commit fails: accepted, and every callback of the
     * group hears the error, in write order */
    ck_assert_int_eq(put_run(p, 2, &err), 0);
    ck_assert_int_eq(seen.n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(seen.id[i], i);
        ck_assert_int_eq(seen.rc[i], CMK_EIO);
    }
    ck_assert_uint_eq(partition_pending(p), 0);
    ck_assert_int_eq(count_rows(path, "runs"), 0); /* rolled back */
    ck_assert_int_eq(partition_run_list(p, NULL, 0, 0, &list, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(list);

    /* a write without a callback gets the failure of its inline commit itself */
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(put_run(p, 10 + i, &err), 0);
    partition_fail_next_commit(p, CMK_EIO);
    memset(&r, 0, sizeof r);
    strcpy(r.id, "run-nocb");
    strcpy(r.flow_id, "flow-a");
    ck_assert_int_eq(partition_run_begin(p, &r, "{}", NULL, NULL, NULL, &err), CMK_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "committing"));
    ck_assert_int_eq(seen.n, 5);
    ck_assert_int_eq(seen.rc[4], CMK_EIO);

    /* a due commit that fails: partition_tick says so */
    ck_assert_int_eq(put_run(p, 20, &err), 0);
    partition_fail_next_commit(p, CMK_EIO);
    cmk_err_clear(&err);
    ck_assert_int_eq(partition_commit(p, &err), CMK_EIO);
    ck_assert_int_eq(seen.rc[5], CMK_EIO);

    /* and the partition goes on working */
    ck_assert_int_eq(put_run(p, 30, &err), 0);
    ck_assert_int_eq(partition_commit(p, &err), 0);
    ck_assert_int_eq(seen.n, 7);
    ck_assert_int_eq(seen.id[6], 30);
    ck_assert_int_eq(seen.rc[6], 0);
    ck_assert_int_eq(count_rows(path, "runs"), 1);
    partition_close(&p);
}
END_TEST

static partition *chain_part; /* partition the chaining callback writes to */

/* on_durable_chain - a callback that writes again (a follow-up run) from inside the commit */
static void on_durable_chain(void *arg, int rc)
{
    cmk_err err = CMK_ERR_INIT;
    int i = (int)(intptr_t)arg;

    on_durable(arg, rc);
    if (i < 100)
        ck_assert_int_eq(put_run(chain_part, i + 100, &err), 0);
}

START_TEST(test_group_commit_reentrant)
{
    cmk_err err = CMK_ERR_INIT;
    partition_run r;

    chain_part = open_with(tmpdir, 1, 3600 * 1000, 2);
    for (int i = 0; i < 2; i++) {
        memset(&r, 0, sizeof r);
        snprintf(r.id, sizeof r.id, "run-%d", i);
        strcpy(r.flow_id, "flow-a");
        ck_assert_int_eq(partition_run_begin(chain_part, &r, "{}", NULL, on_durable_chain,
                                             (void *)(intptr_t)i, &err),
                         0);
    }
    /* the second write committed both; their callbacks wrote two more, which filled a group
     * and were committed after the first callbacks returned: order holds */
    ck_assert_int_eq(seen.n, 4);
    ck_assert_int_eq(seen.id[0], 0);
    ck_assert_int_eq(seen.id[1], 1);
    ck_assert_int_eq(seen.id[2], 100);
    ck_assert_int_eq(seen.id[3], 101);
    ck_assert_uint_eq(partition_pending(chain_part), 0);
    partition_close(&chain_part);
}
END_TEST

/* read_file - the whole file (NULL and 0 if it does not exist) */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, k;

    *len = 0;
    if (!f)
        return NULL;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
        k = fread(buf + n, 1, cap - n, f);
        n += k;
    } while (k > 0);
    fclose(f);
    *len = n;
    return buf;
}

/* on_disk - 1 if needle occurs in the partition file or its -wal */
static int on_disk(const char *dbpath, const char *needle, size_t nlen)
{
    char path[256];
    int found = 0;

    for (int i = 0; i < 2 && !found; i++) {
        size_t len;
        uint8_t *buf;
        snprintf(path, sizeof path, "%s%s", dbpath, i ? "-wal" : "");
        buf = read_file(path, &len);
        if (buf && memmem(buf, len, needle, nlen))
            found = 1;
        free(buf);
    }
    return found;
}

#define ON_DISK(path, s) on_disk((path), (s), strlen(s))

START_TEST(test_no_plaintext_on_disk)
{
    cmk_err err = CMK_ERR_INIT;
    partition *p = open_with(tmpdir, 1, 5, 256);
    partition_flow f;
    char path[128];
    const char *def = "{\"actions\":{\"Compose\":{\"inputs\":\"FLOW-CONTENT-7f3a9c\"}}}";
    const char *rec = "{\"actions\":[{\"name\":\"Call\",\"outputs\":\"ACTION-OUTPUT-51be2d\"}]}";

    snprintf(path, sizeof path, "%s", partition_path(p));
    memset(&f, 0, sizeof f);
    strcpy(f.id, "flow-grep");
    strcpy(f.name, "VISIBLE-FLOW-NAME-0d1e");
    strcpy(f.trigger_kind, "manual");
    strcpy(f.kind, "cloud");
    ck_assert_int_eq(partition_flow_put(p, &f, def, strlen(def), NULL, NULL, &err), 0);
    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(put_run(p, i, &err), 0);
    ck_assert_int_eq(partition_run_save(p, "run-3", "Succeeded", 5000, rec, NULL, NULL, &err), 0);
    ck_assert_int_eq(
        partition_conn_put(p, "c-oauth", "CONN-NAME-OAUTH-3c4d", 1, "OAUTH-SECRET-9a8b7c", NULL, NULL, &err), 0);
    ck_assert_int_eq(
        partition_conn_put(p, "c-basic", "CONN-NAME-BASIC-5e6f", 0, "BASIC-PASSWORD-1c2d3e", NULL, NULL, &err), 0);
    ck_assert_int_eq(partition_commit(p, &err), 0);

    /* the WAL holds the commit; the grep does see clear metadata (the flow id, so it can
     * fail); the name is sealed (schema 2) */
    ck_assert_int_eq(ON_DISK(path, "flow-grep"), 1);
    ck_assert_int_eq(ON_DISK(path, "VISIBLE-FLOW-NAME-0d1e"), 0);
    ck_assert_int_eq(ON_DISK(path, "FLOW-CONTENT-7f3a9c"), 0);
    ck_assert_int_eq(ON_DISK(path, "trigger-input-"), 0);
    ck_assert_int_eq(ON_DISK(path, "ACTION-OUTPUT-51be2d"), 0);
    ck_assert_int_eq(ON_DISK(path, "OAUTH-SECRET-9a8b7c"), 0);
    ck_assert_int_eq(ON_DISK(path, "BASIC-PASSWORD-1c2d3e"), 0);

    /* and after a checkpoint into the main file */
    partition_close(&p);
    ck_assert_int_eq(ON_DISK(path, "flow-grep"), 1);
    ck_assert_int_eq(ON_DISK(path, "VISIBLE-FLOW-NAME-0d1e"), 0);
    ck_assert_int_eq(ON_DISK(path, "FLOW-CONTENT-7f3a9c"), 0);
    ck_assert_int_eq(ON_DISK(path, "trigger-input-"), 0);
    ck_assert_int_eq(ON_DISK(path, "ACTION-OUTPUT-51be2d"), 0);
    ck_assert_int_eq(ON_DISK(path, "OAUTH-SECRET-9a8b7c"), 0);
    ck_assert_int_eq(ON_DISK(path, "BASIC-PASSWORD-1c2d3e"), 0);
    ck_assert_int_eq(ON_DISK(path, "CONN-NAME-OAUTH-3c4d"), 0);
    ck_assert_int_eq(ON_DISK(path, "CONN-NAME-BASIC-5e6f"), 0);
}
END_TEST

START_TEST(test_bench_sealed_vs_plaintext)
{
    cmk_err err = CMK_ERR_INIT;
    char sdir[128], pdir[128], spath[160], ppath[160];
    const char *marker = "BENCH-PAYLOAD-MARKER-4e5f";
    uint8_t rec[1024];
    partition *s, *p;
    partition_opts o;

    snprintf(sdir, sizeof sdir, "%s/sealed", tmpdir);
    snprintf(pdir, sizeof pdir, "%s/plain", tmpdir);
    memset(rec, 'x', sizeof rec);
    memcpy(rec + 100, marker, strlen(marker));
    s = open_with(sdir, 1, 5, 64);
    p = open_with(pdir, 0, 5, 64);
    snprintf(spath, sizeof spath, "%s", partition_path(s));
    snprintf(ppath, sizeof ppath, "%s", partition_path(p));
    for (int i = 0; i < 200; i++) {
        ck_assert_int_eq(partition_bench_put(s, i, rec, sizeof rec, on_durable, NULL, &err), 0);
        ck_assert_int_eq(partition_bench_put(p, i, rec, sizeof rec, on_durable, NULL, &err), 0);
    }
    ck_assert_int_eq(partition_commit(s, &err), 0);
    ck_assert_int_eq(partition_commit(p, &err), 0);
    ck_assert_int_eq(seen.n, 400);
    ck_assert_int_eq(count_rows(spath, "bench"), 200);
    ck_assert_int_eq(count_rows(ppath, "bench"), 200);
    ck_assert_int_eq(ON_DISK(ppath, marker), 1);
    ck_assert_int_eq(ON_DISK(spath, marker), 0);

    /* the plaintext partition needs no key, and stays plaintext */
    partition_forget_keys(p);
    ck_assert_int_eq(partition_bench_put(p, 500, rec, sizeof rec, NULL, NULL, &err), 0);
    partition_forget_keys(s);
    ck_assert_int_eq(partition_bench_put(s, 500, rec, sizeof rec, NULL, NULL, &err), CMK_EUNAVAIL);
    partition_close(&s);
    partition_close(&p);
    ck_assert_int_eq(ON_DISK(ppath, marker), 1);
    ck_assert_int_eq(ON_DISK(spath, marker), 0);

    partition_opts_default(&o);
    o.seal = 1;
    ck_assert_int_eq(partition_open(pdir, ENV, &o, &p, &err), CMK_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "without sealing"));
}
END_TEST

/* mode_of - permission bits of path, or -1 */
static int mode_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

START_TEST(test_modes)
{
    cmk_err err = CMK_ERR_INIT;
    char dir[128], path[192];
    partition *p;
    mode_t old = umask(022);
    int fd;

    snprintf(dir, sizeof dir, "%s/a/b/env", tmpdir);
    p = open_with(dir, 1, 5, 256);
    ck_assert_int_eq(put_run(p, 1, &err), 0);
    ck_assert_int_eq(partition_commit(p, &err), 0);
    ck_assert_int_eq(mode_of(dir), 0700);
    snprintf(path, sizeof path, "%s/partition.db", dir);
    ck_assert_str_eq(partition_path(p), path);
    ck_assert_int_eq(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/partition.db-wal", dir);
    ck_assert_int_eq(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/partition.db-shm", dir);
    ck_assert_int_eq(mode_of(path), 0600);
    partition_close(&p);

    /* an existing directory and file with loose modes are tightened */
    snprintf(dir, sizeof dir, "%s/loose", tmpdir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/partition.db", dir);
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fchmod(fd, 0644), 0);
    close(fd);
    p = open_with(dir, 1, 5, 256);
    ck_assert_int_eq(put_run(p, 1, &err), 0);
    ck_assert_int_eq(partition_commit(p, &err), 0);
    ck_assert_int_eq(mode_of(dir), 0700);
    ck_assert_int_eq(mode_of(path), 0600);
    snprintf(path, sizeof path, "%s/partition.db-wal", dir);
    ck_assert_int_eq(mode_of(path), 0600);
    ck_assert_int_eq(partition_integrity_check(p, &err), 0);
    partition_close(&p);
    umask(old);
}
END_TEST

#define CRASH_RUNS 200
#define CRASH_GROUP 16

static int ack_fd = -1; /* the child's end of the acknowledgement pipe */

/* on_durable_ack - in the child: tell the parent run i is durable (acknowledged) */
static void on_durable_ack(void *arg, int rc)
{
    int i = (int)(intptr_t)arg;
    if (rc == 0 && write(ack_fd, &i, sizeof i) != (ssize_t)sizeof i)
        _exit(3);
}

/* crash_child - write runs, acknowledging each once durable, then die by SIGKILL unclosed */
static void crash_child(int fd)
{
    cmk_err err = CMK_ERR_INIT;
    partition_opts o;
    partition *p = NULL;
    partition_run r;

    ack_fd = fd;
    partition_opts_default(&o);
    o.group_commit_ms = 3600 * 1000; /* only full groups commit: the tail stays pending */
    o.group_commit_max = CRASH_GROUP;
    if (partition_open(tmpdir, ENV, &o, &p, &err) < 0)
        _exit(2);
    partition_set_keys(p, dek, mmk);
    for (int i = 0; i < CRASH_RUNS; i++) {
        char trig[64];
        memset(&r, 0, sizeof r);
        snprintf(r.id, sizeof r.id, "run-%d", i);
        strcpy(r.flow_id, "flow-a");
        strcpy(r.status, "Running");
        r.start_ms = i;
        snprintf(trig, sizeof trig, "{\"n\":%d}", i);
        if (partition_run_begin(p, &r, trig, NULL, on_durable_ack, (void *)(intptr_t)i, &err) < 0)
            _exit(4);
    }
    close(fd);
    raise(SIGKILL); /* no close, no commit of the pending tail */
    _exit(5);
}

START_TEST(test_crash_sigkill)
{
    cmk_err err = CMK_ERR_INIT;
    int fds[2], status = 0, idx, acked[CRASH_RUNS] = {0}, nacked = 0;
    partition *p;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        crash_child(fds[1]);
    }
    close(fds[1]);
    while (read(fds[0], &idx, sizeof idx) == (ssize_t)sizeof idx) {
        ck_assert_int_ge(idx, 0);
        ck_assert_int_lt(idx, CRASH_RUNS);
        ck_assert_int_eq(idx, nacked); /* in write order */
        acked[idx] = 1;
        nacked++;
    }
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "child did not die by SIGKILL (status %d)", status);
    ck_assert_int_eq(nacked, CRASH_RUNS / CRASH_GROUP * CRASH_GROUP);

    p = open_with(tmpdir, 1, 5, 256);
    ck_assert_msg(partition_integrity_check(p, &err) == 0, "integrity: %s", err.msg);
    for (int i = 0; i < CRASH_RUNS; i++) {
        char id[32], want[64], *trig = NULL;
        partition_run m;
        int rc;
        snprintf(id, sizeof id, "run-%d", i);
        rc = partition_run_get(p, id, &m, &trig, NULL, &err);
        if (acked[i]) {
            ck_assert_msg(rc == 0, "acknowledged run %s lost: %s", id, err.msg);
            snprintf(want, sizeof want, "{\"n\":%d}", i);
            ck_assert_str_eq(trig, want);
            ck_assert_str_eq(m.status, "Running");
            free(trig);
        } else {
            ck_assert_int_eq(rc, CMK_ENOENT); /* never committed */
        }
    }
    partition_close(&p);
}
END_TEST

/* partition_durability_suite - the suite */
static Suite *partition_durability_suite(void)
{
    Suite *su = suite_create("partition_durability");
    TCase *tc = tcase_create("disk");

    tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_group_commit_max);
    tcase_add_test(tc, test_group_commit_tick);
    tcase_add_test(tc, test_group_commit_reentrant);
    tcase_add_test(tc, test_commit_failure);
    tcase_add_test(tc, test_no_plaintext_on_disk);
    tcase_add_test(tc, test_bench_sealed_vs_plaintext);
    tcase_add_test(tc, test_modes);
    tcase_add_test(tc, test_crash_sigkill);
    suite_add_tcase(su, tc);
    return su;
}

/* main - run the suite; non-zero exit on any failure */
int main(void)
{
    SRunner *sr = srunner_create(partition_durability_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
