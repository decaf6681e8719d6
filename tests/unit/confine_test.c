/*
 * confine_test.c - common/confine.c on the real kernel: a child process confined to one
 * directory creates and reads files there, but cannot open, create or list anything in a
 * sibling directory - another environment's partition - even by its full path, nor run a
 * program, make a device node, signal its parent or bind/connect TCP; files it was given
 * read-only stay readable. Without Landlock (old kernel, sanitizer build) only the seccomp part
 * is checked, and the test says so.
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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>

#include "common/confine.h"

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
    static const char *const calls[] = { "read", "write", "openat", "open", "close", "fstat",
                                         "newfstatat", "mkdir", "mkdirat", "exit_group", "exit",
                                         "getppid", "getpid", "kill", "socket", "bind", "connect",
                                         "truncate", "brk", "mmap", "munmap", "lseek", NULL };
    char mine[300], theirs[300], path[400];
    confine_policy p = { .role = "test", .fs = 1, .net = 1, .scope = 1, .syscalls = calls,
                         .guard_signals = 1 };
    confine_result res = { 0 };
    cmk_err err = CMK_ERR_INIT;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
    int fd;

    snprintf(mine, sizeof mine, "%s/env-a", base);
    snprintf(theirs, sizeof theirs, "%s/env-b", base);
    confine_add_path(&p, mine, CONFINE_RW);
    confine_add_path(&p, "/dev/urandom", CONFINE_RO);
    if (confine_apply(&p, &res, &err) < 0 || res.seccomp < 1)
        return 10;
    /* seccomp: no program can be run, no device node made, the parent not signalled */
    execl("/bin/true", "true", (char *)NULL);
    if (errno != EPERM)
        return 12;
    snprintf(path, sizeof path, "%s/kmsg", mine);
    if (mknod(path, S_IFCHR | 0600, makedev(1, 11)) == 0 || errno != EPERM)
        return 22;
    if (kill(getppid(), 0) == 0 || errno != EPERM)
        return 23;
    if (kill(-1, 0) == 0 || errno != EPERM)
        return 24;
    if (res.landlock_abi == 0 || !res.fs) {
        printf("note: Landlock not applied (%s): only seccomp checked\n", res.missing);
        return 0;
    }
    /* Landlock ABI 4+: no TCP */
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    if (res.net && ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
                    connect(fd, (struct sockaddr *)&sin, sizeof sin) == 0 || errno != EACCES))
        return 25;
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
