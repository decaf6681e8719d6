/*
 * fw_cli.h - the tool subcommands of cmk-firewall: check, diff, render, lint, decide, tags.
 *
 * firewall/main.c hands these subcommands over; argv[0] is the subcommand:
 *
 *   check  --service-tags FILE --config FW --tag TAG [--region R] [--port P]
 *          [--built-with FILE] [--verbose] [--json]       0 covered, 1 missing, 2 bad input
 *   diff   OLD NEW [--tag TAG] [--json]                   0 same, 1 changed, 2 bad input
 *   render --config FW --service-tags FILE [--table T] [--hook H] [--validate]
 *                                                          0 rendered, 2 bad input / refused
 *   lint   --config FW [--service-tags FILE] [--strict] [--json]
 *                                                          0 valid, 1 warnings with --strict,
 *                                                          2 invalid
 *   decide --config FW --service-tags FILE --source ADDR [--port P] [--json]
 *                                                          0 allowed, 1 refused, 2 bad input
 *   tags   --service-tags FILE [--tag TAG [--region R]] [--json]
 *                                                          0 found, 2 bad input / unknown tag
 *
 * Each takes --help, which explains it with an example. Output is for people by default and
 * JSON with --json; errors go to stderr as "cmk-firewall <cmd>: <message>".
 */
#ifndef CMK_FW_CLI_H
#define CMK_FW_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* fw_cli_main - run subcommand argv[0] with stdout/stderr; returns the exit status */
int fw_cli_main(int argc, char **argv);

/* fw_cli_run - the same with explicit output streams (for tests and embedding) */
int fw_cli_run(int argc, char **argv, FILE *out, FILE *errout);

/* fw_cli_is_command - whether name is one of the subcommands above (or "help") */
bool fw_cli_is_command(const char *name);

/* fw_cli_usage - the overview of all subcommands */
void fw_cli_usage(FILE *out);

#endif
