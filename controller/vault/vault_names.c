/*
 * vault_names.c - names of the vault's permissions, key operations, key types and algorithms:
 * parsing (case-insensitive, comma or space separated) and formatting.
 */
#include "vault_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const perm_names[] = {
    "get",
    "list",
    "wrapKey",
    "unwrapKey",
    "encrypt",
    "decrypt",
    "create",
    "import",
    "update",
    "delete",
    "recover",
    "purge",
    "backup",
    "restore",
    "rotate",
    "getRotationPolicy",
    "setRotationPolicy",
    "manageAccess",
    "manageVault",
};
#define PERM_COUNT (sizeof perm_names / sizeof perm_names[0])

static const char *const keyop_names[] = {"encrypt", "decrypt", "wrapKey", "unwrapKey", "import"};
#define KEYOP_COUNT (sizeof keyop_names / sizeof keyop_names[0])

/* vault_perm_name - one permission's name */
const char *vault_perm_name(unsigned perm)
{
    for (size_t i = 0; i < PERM_COUNT; i++)
        if (perm == 1u << i)
            return perm_names[i];
    return "?";
}

/* names_format - a mask as comma-separated names */
static char *names_format(const char *const *names, size_t count, unsigned mask, char *buf,
                          size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++)
        if (mask & (1u << i)) {
            int w = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", names[i]);
            if (w < 0 || (size_t)w >= cap - o)
                break;
            o += (size_t)w;
        }
    return buf;
}

/* names_parse - comma/space-separated names to a mask */
static int names_parse(const char *const *names, size_t count, const char *list, unsigned *mask,
                       const char *what, cmk_err *err)
{
    char known[512], word[64];
    const char *p = list;

    *mask = 0;
    if (!list)
        return cmk_err_set(err, CMK_EINVAL, "no %s given", what);
    while (*p) {
        size_t n = 0;
        int found = 0;
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        while (p[n] && p[n] != ',' && p[n] != ' ' && p[n] != '\t')
            n++;
        if (n == 0)
            break;
        if (n >= sizeof word)
            n = sizeof word - 1;
        memcpy(word, p, n);
        word[n] = '\0';
        p += n;
        if (names == perm_names && strcasecmp(word, "all") == 0) {
            *mask |= VAULT_PERM_ALL;
            continue;
        }
        if (names == perm_names && strcasecmp(word, "data") == 0) {
            *mask |= VAULT_PERM_DATA;
            continue;
        }
        if (names == perm_names && strcasecmp(word, "management") == 0) {
            *mask |= VAULT_PERM_MANAGEMENT;
            continue;
        }
        for (size_t i = 0; i < count; i++)
            if (strcasecmp(word, names[i]) == 0) {
                *mask |= 1u << i;
                found = 1;
            }
        if (!found)
            return cmk_err_set(err, CMK_EINVAL, "unknown %s '%s'; known: %s%s", what, word,
                               names_format(names, count, (1u << count) - 1, known, sizeof known),
                               names == perm_names ? ",all,data,management" : "");
    }
    if (*mask == 0)
        return cmk_err_set(err, CMK_EINVAL, "no %s given", what);
    return 0;
}

/* vault_perms_parse - names to a permission mask */
int vault_perms_parse(const char *list, unsigned *perms, cmk_err *err)
{
    return names_parse(perm_names, PERM_COUNT, list, perms, "permission", err);
}

/* vault_perms_format - a permission mask as names */
char *vault_perms_format(unsigned perms, char *buf, size_t cap)
{
    return names_format(perm_names, PERM_COUNT, perms, buf, cap);
}

/* vault_keyops_parse - names to a key_ops mask */
int vault_keyops_parse(const char *list, unsigned *ops, cmk_err *err)
{
    return names_parse(keyop_names, KEYOP_COUNT, list, ops, "key operation", err);
}

/* vault_keyops_format - a key_ops mask as names */
char *vault_keyops_format(unsigned ops, char *buf, size_t cap)
{
    return names_format(keyop_names, KEYOP_COUNT, ops, buf, cap);
}

/* vault_kty_name - "RSA" or "RSA-HSM" */
const char *vault_kty_name(vault_kty kty)
{
    return kty == VAULT_KTY_RSA_HSM ? "RSA-HSM" : kty == VAULT_KTY_RSA ? "RSA" : "?";
}

/* vault_kty_parse - "RSA" / "RSA-HSM" */
int vault_kty_parse(const char *s, vault_kty *kty, cmk_err *err)
{
    if (s && strcasecmp(s, "RSA") == 0)
        *kty = VAULT_KTY_RSA;
    else if (s && strcasecmp(s, "RSA-HSM") == 0)
        *kty = VAULT_KTY_RSA_HSM;
    else
        return cmk_err_set(err, CMK_EINVAL, "unknown key type '%s'; use RSA or RSA-HSM",
                           s ? s : "");
    return 0;
}

/* vault_alg_name - "RSA-OAEP" / "RSA-OAEP-256" */
const char *vault_alg_name(vault_alg alg)
{
    return alg == VAULT_ALG_RSA_OAEP       ? "RSA-OAEP"
           : alg == VAULT_ALG_RSA_OAEP_256 ? "RSA-OAEP-256"
                                           : "?";
}

/* vault_alg_parse - algorithm name to value */
int vault_alg_parse(const char *s, vault_alg *alg, cmk_err *err)
{
    if (s && strcasecmp(s, "RSA-OAEP") == 0)
        *alg = VAULT_ALG_RSA_OAEP;
    else if (s && strcasecmp(s, "RSA-OAEP-256") == 0)
        *alg = VAULT_ALG_RSA_OAEP_256;
    else
        return cmk_err_set(err, CMK_EINVAL,
                           "unsupported algorithm '%s'; use RSA-OAEP or "
                           "RSA-OAEP-256",
                           s ? s : "");
    return 0;
}
