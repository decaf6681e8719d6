/*
 * cmk-firewall - the customer's side: `serve` runs the firewall as a process of the cluster
 * (started by the controller); check, diff, render and lint are tools for firewall configs
 * and Azure service-tag files. main only dispatches.
 */
#include <stdio.h>
#include <string.h>

#include "fw_cli.h"
#include "fw_daemon.h"

int main(int argc, char **argv)
{
    /* `serve` may come anywhere (the supervisor puts its options first) */
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "serve") == 0) {
            for (int j = i; j < argc - 1; j++)
                argv[j] = argv[j + 1];
            argv[--argc] = NULL;
            return fw_daemon_main(argc, argv);
        }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("cmk-firewall %s\n", CMK_VERSION);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fw_cli_main(1, (char *[]){ "--help", NULL });
        printf("  serve    run as the cluster's firewall process (started by cmk-controller)\n");
        return argc < 2 ? 2 : 0;
    }
    return fw_cli_main(argc - 1, argv + 1);
}
