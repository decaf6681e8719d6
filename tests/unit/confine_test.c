/*
 * confine_test.c - worker/confine.c on the real kernel: a child process confined to one
 * directory creates and reads files there, but cannot open, create or list anything in a
 * sibling directory - another environment's partition - even by its full path, nor run a
 * program; files it was given read-only stay readable. Without Landlock (old kernel, sanitizer
 * build) only the seccomp part is checked, and the test says so.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker/confine.h"

static char base[256];

/* in_child - run fn in a confined child; returns its exit status */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    int st = 0;
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(fn());
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* confined - confine to base/env-a; 0 when every expectation held, else the failing step */
static int confined(void)
{
    char mine[300], theirs[300], path[400];
    const char *rw[] = { mine };
    const char *ro[] = { "/dev/urandom" };
    confine_result res = { 0 };
    cmk_err err = CMK_ERR_INIT;
    int fd;

    snprintf(mine, sizeof mine, "%s/env-a", base);
    snprintf(theirs, sizeof theirs, "%s/env-b", base);
    if (confine_syscalls(&res, &err) < 0 || !res.seccomp)
        return 10;
    if (confine_fs(rw, 1, ro, 1, &res, &err) < 0)
        return 11;
    /* seccomp: no program can be run */
    execl("/bin/true", "true", (char *)NULL);
    if (errno != EPERM)
        return 12;
    if (res.landlock_abi == 0) {
        printf("note: Landlock not applied (%s): only seccomp checked\n", res.why_not);
        return 0;
    }
    /* its own directory: create, write, read, create a subdirectory */
    snprintf(path, sizeof path, "%s/dedicated", mine);
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return 13;
    snprintf(path, sizeof path, "%s/dedicated/partition.db", mine);
    if ((fd = open(path, O_RDWR | O_CREAT, 0600)) < 0 || write(fd, "x", 1) != 1)
        return 14;
    close(fd);
    /* the other environment's partition, by its full path: refused */
    snprintf(path, sizeof path, "%s/dedicated/partition.db", theirs);
    if (open(path, O_RDONLY) >= 0 || errno != EACCES)
        return 15;
    snprintf(path, sizeof path, "%s/dedicated/new.db", theirs);
    if (open(path, O_RDWR | O_CREAT, 0600) >= 0 || errno != EACCES)
        return 16;
    snprintf(path, sizeof path, "%s/dedicated", theirs);
    if (open(path, O_RDONLY | O_DIRECTORY) >= 0 || errno != EACCES)
        return 17;
    /* nor truncate it by path (Landlock ABI 3 and later) */
    snprintf(path, sizeof path, "%s/dedicated/partition.db", theirs);
    if (res.landlock_abi >= 3 && (truncate(path, 0) == 0 || errno != EACCES))
        return 21;
    /* nor through a path that climbs out of its own directory */
    snprintf(path, sizeof path, "%s/../env-b/dedicated/partition.db", mine);
    if (open(path, O_RDONLY) >= 0 || errno != EACCES)
        return 18;
    /* the read-only file stays readable, not writable */
    if ((fd = open("/dev/urandom", O_RDONLY)) < 0)
        return 19;
    close(fd);
    if (open("/etc/passwd", O_RDONLY) >= 0)
        return 20;
    return 0;
}

START_TEST(test_confined_to_its_directory)
{
    char path[400];
    int fd, rc;

    snprintf(base, sizeof base, "/tmp/confine-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
    /* another environment's partition with data in it */
    snprintf(path, sizeof path, "%s/env-b", base);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/env-b/dedicated", base);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/env-b/dedicated/partition.db", base);
    fd = open(path, O_RDWR | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "secret", 6), 6);
    close(fd);
    rc = in_child(confined);
    ck_assert_msg(rc == 0, "confined child failed at step %d", rc);
    snprintf(path, sizeof path, "rm -rf %s", base);
    ck_assert_int_eq(system(path), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("confine");
    TCase *tc = tcase_create("confine");
    SRunner *sr;
    int failed;
    tcase_add_test(tc, test_confined_to_its_directory);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
