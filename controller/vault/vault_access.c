/*
 * vault_access.c - a vault's access list: grant and revoke permissions to principals, list
 * the entries. Every change needs manageAccess and is audited with what was granted or
 * revoked and what the principal holds afterwards.
 */
#include "vault_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* access_change - grant (add) or revoke (remove) perms */
static int access_change(vault_svc *self, const char *principal, const char *vault, const char *who,
                         unsigned perms, int grant, cmk_err *err)
{
    vault_op op;
    vrow v;
    unsigned have = 0;
    char list[256];
    int rc;

    vop_begin(&op, self, principal, grant ? "vault.grant" : "vault.revoke", vault, NULL, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_MANAGE_ACCESS, 0, 0, &v, err)) < 0)
        goto done;
    if ((rc = vault_check_principal(who, err)) < 0)
        goto done;
    if (perms == 0 || (perms & ~VAULT_PERM_ALL)) {
        rc = cmk_err_set(err, CMK_EINVAL, "no valid permission given to %s; known: %s",
                         grant ? "grant" : "revoke",
                         vault_perms_format(VAULT_PERM_ALL, list, sizeof list));
        goto done;
    }
    if ((rc = vstore_access_get(self, v.id, who, &have, err)) < 0)
        goto done;
    have = grant ? (have | perms) : (have & ~perms);
    if ((rc = vstore_access_set(self, v.id, who, have, err)) < 0)
        goto done;
    snprintf(op.detail, sizeof op.detail, "principal=%s %s=%s now=%s", who,
             grant ? "granted" : "revoked", vault_perms_format(perms, list, sizeof list),
             have ? "" : "(no access)");
    {
        size_t o = strlen(op.detail);
        if (have && o > 0)
            vault_perms_format(have, op.detail + o, sizeof op.detail - o);
    }
done:
    return vop_end(&op, rc, err);
}

/* vault_access_grant - add permissions */
int vault_access_grant(vault_svc *self, const char *principal, const char *vault, const char *who,
                       unsigned perms, cmk_err *err)
{
    return access_change(self, principal, vault, who, perms, 1, err);
}

/* vault_access_revoke - remove permissions */
int vault_access_revoke(vault_svc *self, const char *principal, const char *vault, const char *who,
                        unsigned perms, cmk_err *err)
{
    return access_change(self, principal, vault, who, perms, 0, err);
}

/* vault_access_list - the access list */
int vault_access_list(vault_svc *self, const char *principal, const char *vault,
                      vault_access_entry **out, size_t *n, cmk_err *err)
{
    vault_op op;
    vrow v;
    int rc;

    *out = NULL;
    *n = 0;
    vop_begin(&op, self, principal, "vault.access", vault, NULL, NULL);
    if ((rc = vault_open_for(&op, vault, VAULT_PERM_MANAGE_ACCESS, 1, 0, &v, err)) == 0)
        rc = vstore_access_list(self, v.id, out, n, err);
    return vop_end(&op, rc, err);
}
