/*
 * vault_network.c - the key vault firewall (Azure Key Vault "networkAcls"): a default action
 * (Allow: all networks; Deny: selected networks only), IP rules (IPv4 addresses or CIDR ranges),
 * virtual network rules (subnet resource ids) and the "Allow trusted Microsoft services to bypass
 * this firewall" exception (bypass AzureServices, Azure's default). Adding the first rule
 * switches the vault to selected networks, as the portal does; removing the last one switches it
 * back to all networks. Who may reach the vault through
 * it is vault_network_admits(): the enterprise policy's identity calls from the Power Platform
 * infrastructure, so a firewall on selected networks without the trusted-services exception and
 * with no IP rule covering those ranges shuts it out - a lock trigger ("Adding a virtual network
 * or adding an IP range outside of Microsoft services' reach").
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"
#include "vault_int.h"

/* net_schema - the table, made on first use (kept by vault name: names are unique and a
 * recovered vault keeps its firewall) */
static int net_schema(vault_svc *svc, cmk_err *err)
{
    return store_exec(svc->db,
                      "CREATE TABLE IF NOT EXISTS vault_netacls (vault TEXT PRIMARY KEY, default_action TEXT NOT NULL "
                      "DEFAULT 'Allow', bypass TEXT NOT NULL DEFAULT 'AzureServices', ip_rules TEXT NOT NULL DEFAULT "
                      "'[]', vnet_rules TEXT NOT NULL DEFAULT '[]');",
                      err);
}

/* net_load - the vault's firewall as JSON {defaultAction, bypass, ipRules, virtualNetworkRules} */
static cJSON *net_load(vault_svc *svc, const char *vault)
{
    sqlite3_stmt *st;
    cJSON *o = cJSON_CreateObject();
    const char *da = "Allow", *bp = "AzureServices";
    cJSON *ip = NULL, *vn = NULL;
    if (net_schema(svc, NULL) == 0 &&
        sqlite3_prepare_v2(svc->db, "SELECT default_action, bypass, ip_rules, vnet_rules FROM vault_netacls WHERE vault = ?",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, vault, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            cJSON_AddStringToObject(o, "defaultAction", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddStringToObject(o, "bypass", (const char *)sqlite3_column_text(st, 1));
            ip = cJSON_Parse((const char *)sqlite3_column_text(st, 2));
            vn = cJSON_Parse((const char *)sqlite3_column_text(st, 3));
        }
        sqlite3_finalize(st);
    }
    if (!cJSON_GetObjectItem(o, "defaultAction")) {
        cJSON_AddStringToObject(o, "defaultAction", da);
        cJSON_AddStringToObject(o, "bypass", bp);
    }
    cJSON_AddItemToObject(o, "ipRules", cJSON_IsArray(ip) ? ip : (cJSON_Delete(ip), cJSON_CreateArray()));
    cJSON_AddItemToObject(o, "virtualNetworkRules", cJSON_IsArray(vn) ? vn : (cJSON_Delete(vn), cJSON_CreateArray()));
    return o;
}

/* net_store - write the firewall back */
static int net_store(vault_svc *svc, const char *vault, const cJSON *acl, cmk_err *err)
{
    char *ip = cJSON_PrintUnformatted(cJSON_GetObjectItem(acl, "ipRules"));
    char *vn = cJSON_PrintUnformatted(cJSON_GetObjectItem(acl, "virtualNetworkRules"));
    int rc = net_schema(svc, err);
    if (rc == 0)
        rc = store_exec_text(svc->db,
                             "INSERT INTO vault_netacls(vault, default_action, bypass, ip_rules) VALUES(?1, ?2, ?3, ?4) "
                             "ON CONFLICT(vault) DO UPDATE SET default_action = excluded.default_action, "
                             "bypass = excluded.bypass, ip_rules = excluded.ip_rules",
                             vault, cmk_json_str(acl, "defaultAction", "Allow"), cmk_json_str(acl, "bypass", "AzureServices"),
                             ip, err);
    if (rc == 0)
        rc = store_exec_text(svc->db, "UPDATE vault_netacls SET vnet_rules = ?2 WHERE vault = ?1", vault, vn, NULL, NULL,
                             err);
    free(ip);
    free(vn);
    return rc;
}

/* parse_cidr - "a.b.c.d" or "a.b.c.d/n" (IPv4, as Key Vault's IP rules): network and prefix length */
static int parse_cidr(const char *text, uint32_t *net, int *bits, cmk_err *err)
{
    char buf[64], *slash;
    struct in_addr a;
    cmk_strlcpy(buf, text ? text : "", sizeof buf);
    *bits = 32;
    if ((slash = strchr(buf, '/'))) {
        char *end;
        long n = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || n < 0 || n > 32)
            return cmk_err_set(err, CMK_EINVAL, "'%s' is not an IPv4 address or CIDR range (e.g. 203.0.113.0/24)", text);
        *bits = (int)n;
        *slash = '\0';
    }
    if (inet_pton(AF_INET, buf, &a) != 1)
        return cmk_err_set(err, CMK_EINVAL, "'%s' is not an IPv4 address or CIDR range (e.g. 203.0.113.0/24)",
                           text ? text : "");
    *net = ntohl(a.s_addr) & (*bits ? 0xffffffffu << (32 - *bits) : 0);
    return 0;
}

/* overlaps - two CIDR ranges share an address */
static int overlaps(uint32_t a, int abits, uint32_t b, int bbits)
{
    int bits = abits < bbits ? abits : bbits;
    uint32_t mask = bits ? 0xffffffffu << (32 - bits) : 0;
    return (a & mask) == (b & mask);
}

/* canonical - a CIDR as Azure shows it ("a.b.c.d/n"; a single address keeps /32) */
static void canonical(uint32_t net, int bits, char *out, size_t cap)
{
    struct in_addr a = { .s_addr = htonl(net) };
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, ip, sizeof ip);
    snprintf(out, cap, "%s/%d", ip, bits);
}

/* vault_network_show - the vault's firewall (permission: get) */
int vault_network_show(vault_svc *self, const char *principal, const char *name, cJSON **out, cmk_err *err)
{
    vault_op op;
    vrow v;
    int rc;
    *out = NULL;
    vop_begin(&op, self, principal, "vault.network-rule.list", name, NULL, NULL);
    if ((rc = vault_open_for(&op, name, VAULT_PERM_GET, 0, 0, &v, err)) == 0) {
        *out = net_load(self, v.name);
        cJSON_AddStringToObject(*out, "vault", v.name);
        cJSON_AddStringToObject(*out, "publicNetworkAccess", v.public_network ? "Enabled" : "Disabled");
    }
    return vop_end(&op, rc, err);
}

/* vault_network_change - add or remove an IP or virtual network rule, or set the default action
 * or the bypass (permission: manageVault); *out the firewall afterwards */
int vault_network_change(vault_svc *self, const char *principal, const char *name, const vault_network_req *req,
                         cJSON **out, cmk_err *err)
{
    vault_op op;
    vrow v;
    cJSON *acl = NULL;
    int rc;
    *out = NULL;
    vop_begin(&op, self, principal, "vault.network-rule", name, NULL, NULL);
    if ((rc = vault_open_for(&op, name, VAULT_PERM_MANAGE_VAULT, 0, 0, &v, err)) < 0)
        goto done;
    acl = net_load(self, v.name);
    if (req->ip) {
        cJSON *rules = cJSON_GetObjectItem(acl, "ipRules"), *it;
        uint32_t net;
        int bits, found = -1, i = 0;
        char text[40];
        if ((rc = parse_cidr(req->ip, &net, &bits, err)) < 0)
            goto done;
        canonical(net, bits, text, sizeof text);
        cJSON_ArrayForEach(it, rules) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, text) == 0)
                found = i;
            i++;
        }
        if (req->remove) {
            if (found < 0) {
                rc = cmk_err_set(err, CMK_ENOENT, "vault '%s' has no IP rule %s; `cmkctl vault network-rule list %s` "
                                                  "shows its rules", v.name, text, v.name);
                goto done;
            }
            cJSON_DeleteItemFromArray(rules, found);
        } else if (found < 0) {
            cJSON_AddItemToArray(rules, cJSON_CreateString(text));
            /* as the portal: a rule means "selected networks" */
            cJSON_ReplaceItemInObject(acl, "defaultAction", cJSON_CreateString("Deny"));
        }
        snprintf(op.detail, sizeof op.detail, "%s ip %s", req->remove ? "removed" : "added", text);
    }
    if (req->vnet) {
        cJSON *rules = cJSON_GetObjectItem(acl, "virtualNetworkRules"), *it;
        int found = -1, i = 0;
        if (strncmp(req->vnet, "/subscriptions/", 15) != 0 || !strstr(req->vnet, "/virtualNetworks/") ||
            !strstr(req->vnet, "/subnets/")) {
            rc = cmk_err_set(err, CMK_EINVAL, "'%s' is not a subnet id; a virtual network rule names a subnet: "
                                              "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Network/"
                                              "virtualNetworks/<vnet>/subnets/<subnet>", req->vnet);
            goto done;
        }
        cJSON_ArrayForEach(it, rules) {
            if (cJSON_IsString(it) && strcmp(it->valuestring, req->vnet) == 0)
                found = i;
            i++;
        }
        if (req->remove) {
            if (found < 0) {
                rc = cmk_err_set(err, CMK_ENOENT, "vault '%s' has no virtual network rule %s", v.name, req->vnet);
                goto done;
            }
            cJSON_DeleteItemFromArray(rules, found);
        } else if (found < 0) {
            cJSON_AddItemToArray(rules, cJSON_CreateString(req->vnet));
            cJSON_ReplaceItemInObject(acl, "defaultAction", cJSON_CreateString("Deny"));
        }
        snprintf(op.detail, sizeof op.detail, "%s vnet %s", req->remove ? "removed" : "added", req->vnet);
    }
    if (req->remove && cJSON_GetArraySize(cJSON_GetObjectItem(acl, "ipRules")) == 0 &&
        cJSON_GetArraySize(cJSON_GetObjectItem(acl, "virtualNetworkRules")) == 0)
        /* the last rule gone: all networks again (the mirror of adding the first) */
        cJSON_ReplaceItemInObject(acl, "defaultAction", cJSON_CreateString("Allow"));
    if (req->default_action) {
        if (strcmp(req->default_action, "Allow") != 0 && strcmp(req->default_action, "Deny") != 0) {
            rc = cmk_err_set(err, CMK_EINVAL, "the default action is Allow (all networks) or Deny (selected networks "
                                              "only), not '%s'", req->default_action);
            goto done;
        }
        cJSON_ReplaceItemInObject(acl, "defaultAction", cJSON_CreateString(req->default_action));
        snprintf(op.detail, sizeof op.detail, "defaultAction=%s", req->default_action);
    }
    if (req->bypass) {
        if (strcmp(req->bypass, "AzureServices") != 0 && strcmp(req->bypass, "None") != 0) {
            rc = cmk_err_set(err, CMK_EINVAL, "bypass is AzureServices (trusted Microsoft services may bypass the "
                                              "firewall) or None, not '%s'", req->bypass);
            goto done;
        }
        cJSON_ReplaceItemInObject(acl, "bypass", cJSON_CreateString(req->bypass));
        snprintf(op.detail, sizeof op.detail, "bypass=%s", req->bypass);
    }
    if ((rc = net_store(self, v.name, acl, err)) < 0)
        goto done;
    *out = acl;
    acl = NULL;
    cJSON_AddStringToObject(*out, "vault", v.name);
    cJSON_AddStringToObject(*out, "publicNetworkAccess", v.public_network ? "Enabled" : "Disabled");
done:
    cJSON_Delete(acl);
    rc = vop_end(&op, rc, err);
    if (rc < 0) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return rc;
}

/* vault_network_admits - may a caller from ranges (comma-separated CIDRs; trusted: a trusted
 * Microsoft service) reach the vault through its firewall? 1 yes; 0 no, with why */
int vault_network_admits(vault_svc *self, const char *name, const char *ranges, int trusted, char *why, size_t cap)
{
    cJSON *acl, *it;
    int ok = 0;
    pthread_mutex_lock(&self->mu);
    acl = net_load(self, name);
    pthread_mutex_unlock(&self->mu);
    if (strcmp(cmk_json_str(acl, "defaultAction", "Allow"), "Deny") != 0)
        ok = 1;
    else if (trusted && strcmp(cmk_json_str(acl, "bypass", ""), "AzureServices") == 0)
        ok = 1;
    else
        cJSON_ArrayForEach(it, cJSON_GetObjectItem(acl, "ipRules")) {
            uint32_t rnet;
            int rbits;
            char list[512], *save = NULL, *tok;
            if (!cJSON_IsString(it) || parse_cidr(it->valuestring, &rnet, &rbits, NULL) < 0)
                continue;
            cmk_strlcpy(list, ranges ? ranges : "", sizeof list);
            for (tok = strtok_r(list, ", ", &save); tok && !ok; tok = strtok_r(NULL, ", ", &save)) {
                uint32_t net;
                int bits;
                if (parse_cidr(tok, &net, &bits, NULL) == 0 && overlaps(rnet, rbits, net, bits))
                    ok = 1;
            }
        }
    if (!ok && why)
        snprintf(why, cap, "the key vault %s's firewall shuts Microsoft services out: it allows selected networks only "
                           "(%d IP rule%s, %d virtual network rule%s), none within Microsoft services' reach (%s), and "
                           "trusted Microsoft services may not bypass it; allow them with `cmkctl vault update %s "
                           "--bypass AzureServices` or remove the rule",
                 name, cJSON_GetArraySize(cJSON_GetObjectItem(acl, "ipRules")),
                 cJSON_GetArraySize(cJSON_GetObjectItem(acl, "ipRules")) == 1 ? "" : "s",
                 cJSON_GetArraySize(cJSON_GetObjectItem(acl, "virtualNetworkRules")),
                 cJSON_GetArraySize(cJSON_GetObjectItem(acl, "virtualNetworkRules")) == 1 ? "" : "s", ranges ? ranges : "",
                 name);
    cJSON_Delete(acl);
    return ok;
}
