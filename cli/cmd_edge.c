/*
 * cmd_edge.c - cmkctl firewall status|apply|fault and cmkctl metrics: the customer firewall of
 * the cluster and the gateway's egress counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"
#include "ops.h"

/* cmd_firewall - firewall status | apply FILE | fault KIND [--ms N] [--duration DUR] */
int cmd_firewall(cli_opts *o)
{
    const char *sub = o->argc > 1 ? o->argv[1] : "status";
    cJSON *b = cJSON_CreateObject();
    if (strcmp(sub, "status") == 0)
        return cli_request(o, CMK_T_FIREWALL_STATUS, b, NULL);
    if (strcmp(sub, "apply") == 0 && cli_positional(o, 2, 0)) {
        char *text;
        size_t len;
        int rc = cli_read_file(cli_positional(o, 2, 0), &text, &len);
        if (rc != 0) {
            cJSON_Delete(b);
            return rc;
        }
        cJSON_AddStringToObject(b, "config", text);
        cJSON_AddStringToObject(b, "name", cli_positional(o, 2, 0));
        free(text);
        return cli_request(o, CMK_T_FIREWALL_APPLY, b, NULL);
    }
    if (strcmp(sub, "fault") == 0 && cli_positional(o, 2, 0)) {
        cJSON_AddStringToObject(b, "kind", cli_positional(o, 2, 0));
        if (cli_opt(o, "--ms"))
            cJSON_AddNumberToObject(b, "ms", (double)cli_opt_int(o, "--ms", 0));
        if (cli_opt(o, "--duration"))
            cJSON_AddStringToObject(b, "duration", cli_opt(o, "--duration"));
        return cli_request(o, CMK_T_FIREWALL_FAULT, b, NULL);
    }
    cJSON_Delete(b);
    return cli_fail(CMK_EINVAL, "usage: cmkctl firewall status | apply CONFIG.json | fault latency|reset|timeout "
                                "[--ms N] [--duration DUR]   (configs/firewalls/ holds examples)");
}

/* cmd_metrics - the gateway's counters, as Prometheus text */
int cmd_metrics(cli_opts *o)
{
    cmk_msg *rep;
    int rc = cli_call(o, "metrics", NULL, &rep);
    if (rc != 0)
        return rc;
    if (o->json || !cmk_json_str(rep->body, "text", NULL))
        cli_print_json(rep->body);
    else
        fputs(cmk_json_str(rep->body, "text", ""), stdout);
    cmk_msg_destroy(&rep);
    return 0;
}
