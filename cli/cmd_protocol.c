/*
 * cmd_protocol.c - `cmkctl protocol`: every request type of the operation table
 * (common/ops.h) with its door, authorization class, route, limits and controller-owned fields;
 * `--markdown` prints the table of docs/PROTOCOL.md, `--json` the rows, `--fields` every request
 * type's body fields with their types and limits (common/op_fields.c, also in docs/PROTOCOL.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "op_fields.h"
#include "ops.h"

/* cmd_protocol - print the operation table */
int cmd_protocol(cli_opts *o)
{
    if (cli_flag(o, "--help")) {
        fputs("usage: cmkctl protocol [--markdown] [--fields] [--json]\n\n"
              "Every request type the cluster knows, from the one operation table (common/ops.h):\n"
              "who may send it (door, authorization class, tenant scope), where it is answered,\n"
              "which environment states it needs, its body limit and the fields the controller\n"
              "sets itself. --markdown prints the table of docs/PROTOCOL.md; --fields the body\n"
              "fields of every type with their types and limits (common/op_fields.c).\n",
              stdout);
        return 0;
    }
    if (cli_flag(o, "--fields")) {
        char *md = cmk_op_fields_markdown();
        if (!md)
            return cli_fail(CMK_ENOMEM, "out of memory");
        fputs(md, stdout);
        free(md);
        return 0;
    }
    if (o->json) {
        cJSON *t = cmk_op_json();
        cli_print_json(t);
        cJSON_Delete(t);
        return 0;
    }
    if (cli_flag(o, "--markdown")) {
        char *md = cmk_op_markdown();
        if (!md)
            return cli_fail(CMK_ENOMEM, "out of memory");
        fputs(md, stdout);
        free(md);
        return 0;
    }
    printf("%-24s %-8s %-7s %-18s %-9s %s\n", "TYPE", "DOOR", "CLASS", "ROUTE", "MAX BODY", "WHAT IT DOES");
    for (const cmk_op *op = cmk_op_table(); op < cmk_op_table() + CMK_NOPS; op++)
        printf("%-24s %-8s %-7s %-18s %-9zu %s\n", op->type, cmk_op_door_name(op->door),
               authz_class_name(op->cls), cmk_op_route_name(op->route), op->max_body, op->help);
    return 0;
}
