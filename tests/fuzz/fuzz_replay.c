/*
 * fuzz_replay.c - run one fuzz target over corpus files without libFuzzer, so that every target
 * also builds and runs with gcc (ctest fuzz.replay.<surface>) and under the ASan build.
 *
 *   fuzz_replay_<surface> DIR|FILE...
 *
 * Every regular file of each directory (not recursive) and every file named is given to
 * LLVMFuzzerTestOneInput once. A broken contract aborts (the target's FUZZ_REQUIRE); no input
 * at all is an error too, so an emptied corpus cannot pass.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* run_file - one input file through the target; returns 0, or -1 if it cannot be read */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    size_t got;

    if (!f) {
        fprintf(stderr, "fuzz_replay: cannot open %s\n", path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc(n > 0 ? (size_t)n : 1);
    got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    if (!buf || got != (size_t)n) {
        free(buf);
        fprintf(stderr, "fuzz_replay: cannot read %s\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, got);
    free(buf);
    return 0;
}

/* run_dir - every regular file of a directory, in name order */
static int run_dir(const char *dir, int *count)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort), rc = 0;

    if (n < 0) {
        fprintf(stderr, "fuzz_replay: cannot list %s\n", dir);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(path) < 0)
                rc = -1;
            else
                (*count)++;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

/* main - replay each argument; exit 1 when a file cannot be read or nothing was run */
int main(int argc, char **argv)
{
    int count = 0, rc = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc |= run_dir(argv[i], &count) < 0;
        else if (run_file(argv[i]) < 0)
            rc = 1;
        else
            count++;
    }
    if (count == 0) {
        fprintf(stderr, "fuzz_replay: no input files (usage: %s DIR|FILE...)\n", argv[0]);
        return 1;
    }
    printf("fuzz_replay: %d inputs, every parser contract held\n", count);
    return rc ? 1 : 0;
}
