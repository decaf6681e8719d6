/*
 * args.h - command-line parsing of cmk-bench: a table of the options a subcommand accepts
 * (an unknown one is an error that names the subcommand's --help), sizes with units
 * ("256", "1k", "4KiB", "64K"), comma lists of sizes and counts with suffixes ("20k").
 */
#ifndef CMK_BENCH_ARGS_H
#define CMK_BENCH_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/* One option a subcommand accepts. */
typedef struct {
    const char *name;   /* "--sizes" */
    const char **value; /* where its value goes (NULL: a flag) */
    int *flag;          /* where a flag's 1 goes (NULL: takes a value) */
} bench_optdef;

/* bench_args_parse - fill the table's targets from argv[0..argc) (argv[0] is the first
 * option, not the program); "--name=value" and "--name value" both work. CMK_EINVAL with a
 * message naming `cmd --help` for an unknown option, a missing value or a stray word. */
int bench_args_parse(int argc, char **argv, const bench_optdef *defs, const char *cmd,
                     cmk_err *err);

/* bench_parse_size - "256", "1k", "1K", "1KiB", "4kb", "64K", "1m" (binary units) to bytes;
 * CMK_EINVAL for 0, junk or more than 1 GiB */
int bench_parse_size(const char *s, size_t *out, cmk_err *err);

/* bench_parse_sizes - a comma list of sizes into out[0..cap); *n gets how many */
int bench_parse_sizes(const char *list, size_t *out, size_t cap, size_t *n, cmk_err *err);

/* bench_parse_count - "20000", "20k", "2m" (decimal units) to a count >= 1 */
int bench_parse_count(const char *s, uint64_t *out, cmk_err *err);

/* bench_parse_int - a decimal integer in [min, max] for option name */
int bench_parse_int(const char *s, const char *name, long min, long max, long *out, cmk_err *err);

/* bench_size_label - 1024 -> "1 KiB", 300 -> "300 B" into buf */
const char *bench_size_label(size_t size, char *buf, size_t cap);

#endif
