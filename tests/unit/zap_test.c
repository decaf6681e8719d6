/*
 * zap_test.c - the trusted-key list cache of the ZAP handler (common/zap.c): a lookup sees the
 * process's own edits at once, another process's edits from the loop's next turn once the
 * directory watch is attached (no stat per request, issue #18), and every edit at once when
 * no watch is attached; a handshake always reads the file.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "keys.h"
#include "loop.h"
#include "util.h"
#include "zap.h"

static char run_dir[PATH_MAX];
static void *zctx;

static const char *const KEY_A = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
static const char *const KEY_B = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";

static void setup(void)
{
    char path[PATH_MAX + 32];
    snprintf(run_dir, sizeof run_dir, "/tmp/cmk-zap-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(run_dir));
    snprintf(path, sizeof path, "%s/keys", run_dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/keys/public", run_dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    ck_assert_int_eq(cmk_authorized_add(run_dir, "alpha", "worker", KEY_A, NULL, NULL), 0);
    zctx = zmq_ctx_new();
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    zmq_ctx_term(zctx);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", run_dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* edit_elsewhere - add an entry from another process (its edit count is not ours) */
static void edit_elsewhere(const char *name, const char *key)
{
    pid_t pid = fork();
    int status = 0;
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(cmk_authorized_add(run_dir, name, "worker", key, NULL, NULL) == 0 ? 0 : 1);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Turning the loop until a name is known (or a deadline passes). */
typedef struct {
    cmk_zap *zap;
    const char *name;
    int found;
} wait_for;

static int check_known(cmk_loop *loop, int64_t id, void *arg)
{
    wait_for *w = arg;
    if (cmk_zap_entry(w->zap, w->name)) {
        w->found = 1;
        return -1;
    }
    return 0;
}

static int deadline(cmk_loop *loop, int64_t id, void *arg) { return -1; }

START_TEST(test_zap_own_edits_seen_at_once)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_loop *loop = cmk_loop_new();
    cmk_zap *zap = cmk_zap_new(zctx, run_dir, NULL, &err);

    ck_assert_ptr_nonnull(zap);
    ck_assert_int_eq(cmk_zap_attach(zap, loop, &err), 0);
    ck_assert_int_eq(cmk_zap_watching(zap), 1);
    ck_assert_ptr_nonnull(cmk_zap_entry(zap, "alpha"));
    ck_assert_ptr_null(cmk_zap_entry(zap, "beta"));
    /* this process's edits count without a turn of the loop */
    ck_assert_int_eq(cmk_authorized_add(run_dir, "beta", "tenant-admin", KEY_B, NULL, NULL), 0);
    ck_assert_str_eq(cmk_json_str(cmk_zap_entry(zap, "beta"), "role", ""), "tenant-admin");
    ck_assert_int_eq(cmk_authorized_remove(run_dir, "alpha", NULL), 0);
    ck_assert_ptr_null(cmk_zap_entry(zap, "alpha"));
    cmk_zap_detach(zap, loop);
    cmk_zap_destroy(&zap);
    cmk_loop_destroy(&loop);
}
END_TEST

START_TEST(test_zap_other_process_edits_seen_from_next_turn)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_loop *loop = cmk_loop_new();
    cmk_zap *zap = cmk_zap_new(zctx, run_dir, NULL, &err);
    wait_for w = { .name = "gamma" };

    ck_assert_ptr_nonnull(zap);
    ck_assert_int_eq(cmk_zap_attach(zap, loop, &err), 0);
    ck_assert_int_eq(cmk_zap_watching(zap), 1);
    ck_assert_ptr_nonnull(cmk_zap_entry(zap, "alpha"));
    edit_elsewhere("gamma", KEY_B);
    /* the lookup does not stat the file: until the loop turns it answers from the cache */
    ck_assert_ptr_null(cmk_zap_entry(zap, "gamma"));
    w.zap = zap;
    cmk_loop_add_timer(loop, 1, 1, check_known, &w);
    cmk_loop_add_timer(loop, 10000, 0, deadline, NULL);
    cmk_loop_run(loop);
    ck_assert_int_eq(w.found, 1);
    ck_assert_ptr_nonnull(cmk_zap_entry(zap, "alpha"));
    cmk_zap_detach(zap, loop);
    cmk_zap_destroy(&zap);
    cmk_loop_destroy(&loop);
}
END_TEST

START_TEST(test_zap_without_watch_reads_every_edit)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_zap *zap = cmk_zap_new(zctx, run_dir, NULL, &err);

    ck_assert_ptr_nonnull(zap);
    ck_assert_int_eq(cmk_zap_watching(zap), 0);
    ck_assert_ptr_nonnull(cmk_zap_entry(zap, "alpha"));
    edit_elsewhere("delta", KEY_B);
    ck_assert_ptr_nonnull(cmk_zap_entry(zap, "delta"));
    cmk_zap_destroy(&zap);
}
END_TEST

START_TEST(test_zap_watch_lost_falls_back_to_stat)
{
    cmk_err err = CMK_ERR_INIT;
    cmk_loop *loop = cmk_loop_new();
    cmk_zap *zap = cmk_zap_new(zctx, run_dir, NULL, &err);
    char path[PATH_MAX + 64], moved[PATH_MAX + 64];
    int turns = 0;

    ck_assert_ptr_nonnull(zap);
    ck_assert_int_eq(cmk_zap_attach(zap, loop, &err), 0);
    /* the watched directory is replaced and removed: its watch goes away (IN_IGNORED) */
    snprintf(path, sizeof path, "%s/keys/public", run_dir);
    snprintf(moved, sizeof moved, "%s/keys/public.old", run_dir);
    ck_assert_int_eq(rename(path, moved), 0);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/keys/public.old/authorized.json", run_dir);
    snprintf(moved, sizeof moved, "%s/keys/public/authorized.json", run_dir);
    ck_assert_int_eq(rename(path, moved), 0);
    snprintf(path, sizeof path, "%s/keys/public.old", run_dir);
    ck_assert_int_eq(rmdir(path), 0);
    /* the loop turns until the watch's loss is read */
    while (cmk_zap_watching(zap) && turns++ < 1000) {
        cmk_loop_add_timer(loop, 10, 0, deadline, NULL);
        cmk_loop_run(loop);
    }
    ck_assert_int_eq(cmk_zap_watching(zap), 0);
    /* without the watch, another process's edit is read at the next lookup */
    edit_elsewhere("epsilon", KEY_B);
    ck_assert_ptr_nonnull(cmk_zap_entry(zap, "epsilon"));
    cmk_zap_detach(zap, loop);
    cmk_zap_destroy(&zap);
    cmk_loop_destroy(&loop);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("zap");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_zap_own_edits_seen_at_once);
    tcase_add_test(tc, test_zap_other_process_edits_seen_from_next_turn);
    tcase_add_test(tc, test_zap_without_watch_reads_every_edit);
    tcase_add_test(tc, test_zap_watch_lost_falls_back_to_stat);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
