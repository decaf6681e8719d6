/*
 * cmkctl - the admin's tool: every admin-center action and PowerShell cmdlet of the seeds has
 * a command. Human tables by default, --json for scripts.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_main(argc, argv);
}
