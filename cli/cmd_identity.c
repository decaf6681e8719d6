/*
 * cmd_identity.c - `cmkctl curve-keygen FILE`: make a CURVE key pair file (FILE, mode 0600,
 * and FILE's .pub). Such a key is unknown to a cluster until it is authorized; with
 * `--curve-key FILE` a command acts as that identity (used to rehearse a refused client).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "keys.h"

/* cmd_curve_keygen - write a fresh key pair */
int cmd_curve_keygen(cli_opts *o)
{
    cmk_keypair kp;
    cmk_err err = CMK_ERR_INIT;

    if (o->argc < 2)
        return cli_fail(CMK_EINVAL, "usage: cmkctl curve-keygen FILE");
    if (cmk_keypair_generate_file(o->argv[1], &kp, &err) < 0)
        return cli_fail(err.code, "%s", err.msg);
    cmk_keypair_wipe(&kp);
    if (o->json)
        printf("{\"file\": \"%s\", \"public\": \"%s\"}\n", o->argv[1], kp.pub);
    else
        printf("wrote %s (secret, mode 0600); public key %s\n", o->argv[1], kp.pub);
    return 0;
}
