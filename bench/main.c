/*
 * main.c - cmk-bench: encrypt-on-write benchmarks (`write`) and flow workloads driven through
 * a running cluster (`load`). Only parses the subcommand; the modules do the work.
 */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "load.h"
#include "write.h"

/* usage - what cmk-bench does, with examples */
static void usage(void)
{
    printf("Usage: cmk-bench write [options]   encrypt-on-write cost, every mode side by side\n"
           "       cmk-bench load --run-dir DIR [--workload FILE] [options]\n"
           "                                   flow runs through a running cluster\n\n"
           "       cmk-bench --version\n\n"
           "Each subcommand has --help. Exit status: 0 done (and every threshold of the workload met),\n"
           "1 a threshold not met or runs lost, 2 bad input, 3 no cluster, 4 I/O error. Examples:\n"
           "  cmk-bench write --sizes 256,1024,4096,65536 --records 20000 --reps 5 --json w.json\n"
           "  cmkctl up --run-dir /tmp/c1\n"
           "  cmk-bench load --run-dir /tmp/c1 --workload configs/workloads/compose-shared.json\n");
}

/* main - dispatch the subcommand; only here is an error turned into an exit status */
int main(int argc, char **argv)
{
    cmk_err err = CMK_ERR_INIT;
    const char *sub = argc > 1 ? argv[1] : "--help";
    int rc;

    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage();
        return 0;
    }
    if (strcmp(sub, "--version") == 0) {
        printf("cmk-bench %s\n", CMK_VERSION);
        return 0;
    }
    if (strcmp(sub, "write") == 0)
        rc = bench_write_cmd(argc - 2, argv + 2, &err);
    else if (strcmp(sub, "load") == 0)
        rc = bench_load_cmd(argc - 2, argv + 2, &err);
    else
        rc = cmk_err_set(&err, CMK_EINVAL, "unknown subcommand '%s'; see `cmk-bench --help`", sub);
    if (rc < 0) {
        fprintf(stderr, "cmk-bench: %s\n", err.msg);
        return cmk_code_exit(rc);
    }
    return 0;
}
