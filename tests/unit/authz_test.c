/*
 * authz_test.c - the authorization matrix (rules AUTHZ-1..AUTHZ-4): every operation of the
 * controller's tables has a class; each role's decisions; default deny; a tenant-admin's scope
 * resolved over a real controller.db (directory and vault tables); and docs/SECURITY.md shows
 * the same matrix as controller/authz/authz.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authz.h"
#include "ctl.h"
#include "directory.h"
#include "store.h"
#include "util.h"
#include "vault.h"

/* entry - an authorized.json entry (caller frees) */
static cJSON *entry(const char *name, const char *role, const char *tenants)
{
    cJSON *e = cJSON_CreateObject(), *t = cJSON_AddArrayToObject(e, "tenants");
    char buf[128], *save = NULL;
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "role", role);
    cJSON_AddItemToObject(e, "envs", cJSON_CreateArray());
    if (tenants) {
        cmk_strlcpy(buf, tenants, sizeof buf);
        for (char *s = strtok_r(buf, ",", &save); s; s = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(t, cJSON_CreateString(s));
    }
    return e;
}

/* check - authz_check of one front request without tenant lookups; body as JSON text */
static int check(const char *name, const char *role, authz_door door, const char *type,
                 const char *body, cmk_err *err)
{
    cJSON *e = entry(name, role, NULL), *b = body ? cJSON_Parse(body) : NULL;
    int rc = authz_check(e, name, door, type, b, NULL, NULL, NULL, 0, err);
    cJSON_Delete(e);
    cJSON_Delete(b);
    return rc;
}

/* AUTHZ-1: every operation the controller takes has a class fit for its door */
START_TEST(test_every_op_has_a_class)
{
    int n = 0;
    for (const authz_op *op = cmk_op_table(); op < cmk_op_table() + CMK_NOPS; op++) {
        ck_assert_int_lt(op->cls, AUTHZ_NCLASS);
        if (op->door != AUTHZ_FRONT)
            continue;
        n++;
        ck_assert_ptr_eq(authz_find(AUTHZ_FRONT, op->type), op);
        ck_assert_msg(op->cls != AUTHZ_PEER && op->cls != AUTHZ_DATAKEY && op->cls != AUTHZ_RELAY,
                      "%s: a back-channel class on the front", op->type);
    }
    ck_assert_int_gt(n, 90);
    ck_assert_ptr_nonnull(authz_find(AUTHZ_BACK, "dek.get"));
    ck_assert_ptr_null(authz_find(AUTHZ_FRONT, "dek.get"));
    ck_assert_ptr_null(authz_find(AUTHZ_FRONT, "flow.put")); /* internal: at no door */
    ck_assert_ptr_null(authz_find(AUTHZ_BACK, "flow.put"));
    ck_assert_ptr_nonnull(authz_find(AUTHZ_BACK, "ready"));
    /* one row per operation and door; a tenant-scoped row names its fields */
    for (const authz_op *a = cmk_op_table(); a < cmk_op_table() + CMK_NOPS; a++) {
        for (const authz_op *b = a + 1; b < cmk_op_table() + CMK_NOPS; b++)
            ck_assert_msg(!(a->door == b->door && strcmp(a->type, b->type) == 0), "'%s' twice",
                          a->type);
        if (a->scope == AUTHZ_SCOPE_TENANT)
            ck_assert_msg(a->fields[0].field != NULL, "'%s' is tenant-scoped but names no field",
                          a->type);
    }
    /* the classes announced for operations other engineers add */
    ck_assert_int_eq(authz_find(AUTHZ_FRONT, "env.backups")->cls, AUTHZ_READ);
    ck_assert_int_eq(authz_find(AUTHZ_FRONT, "env.restore")->cls, AUTHZ_WRITE);
    ck_assert_int_eq(authz_find(AUTHZ_FRONT, "env.copy")->cls, AUTHZ_WRITE);
    ck_assert_int_eq(authz_find(AUTHZ_FRONT, "policy.apply-rotation")->cls, AUTHZ_KEYS);
}
END_TEST

/* AUTHZ-1: what each role may call, with the message a person can act on */
START_TEST(test_role_decisions)
{
    cmk_err err = CMK_ERR_INIT;

    /* reader: reads only */
    ck_assert_int_eq(check("reader", "reader", AUTHZ_FRONT, "env.list", NULL, &err), 0);
    ck_assert_int_eq(check("reader", "reader", AUTHZ_FRONT, "audit.list", NULL, &err), 0);
    ck_assert_int_eq(
        check("reader", "reader", AUTHZ_FRONT, "key.delete", "{\"vault\":\"kv\"}", &err),
        CMK_EPERM);
    ck_assert_str_eq(
        err.msg,
        "identity 'reader' (role reader) may not call 'key.delete': it is a keys operation; "
        "use an admin identity");
    ck_assert_int_eq(check("reader", "reader", AUTHZ_FRONT, "env.delete", NULL, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "it is a write operation"));
    ck_assert_int_eq(check("reader", "reader", AUTHZ_FRONT, "shutdown", NULL, &err), CMK_EPERM);
    ck_assert_int_eq(check("reader", "reader", AUTHZ_FRONT, "flow.invoke", NULL, &err), CMK_EPERM);
    /* admin: everything on the front, also what the matrix does not know; never a peer */
    for (const authz_op *op = cmk_op_table(); op < cmk_op_table() + CMK_NOPS; op++)
        if (op->door == AUTHZ_FRONT)
            ck_assert_msg(check("admin", "admin", AUTHZ_FRONT, op->type, NULL, &err) == 0,
                          "admin %s: %s", op->type, err.msg);
    ck_assert_int_eq(check("admin", "admin", AUTHZ_FRONT, "no.such-op", NULL, &err), 0);
    ck_assert_int_eq(check("admin", "admin", AUTHZ_BACK, "ready", NULL, &err), CMK_EPERM);
    /* default deny: unknown to the matrix is refused for everyone else */
    ck_assert_int_eq(check("bench", "bench", AUTHZ_FRONT, "no.such-op", NULL, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "in no class of the authorization matrix"));
    ck_assert_int_eq(check("x", "no-such-role", AUTHZ_FRONT, "ping", NULL, &err), CMK_EPERM);
    /* an identity without an entry (removed since it connected) */
    ck_assert_int_eq(
        authz_check(NULL, "gone", AUTHZ_FRONT, "ping", NULL, NULL, NULL, NULL, 0, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "no longer in keys/public/authorized.json"));
    /* gateway: flow.invoke only, no key operation */
    ck_assert_int_eq(check("gateway", "gateway", AUTHZ_FRONT, "flow.invoke", NULL, &err), 0);
    ck_assert_int_eq(check("gateway", "gateway", AUTHZ_FRONT, "key.unwrap", NULL, &err), CMK_EPERM);
    ck_assert_int_eq(check("gateway", "gateway", AUTHZ_FRONT, "dek.list", NULL, &err), CMK_EPERM);
    ck_assert_int_eq(check("gateway", "gateway", AUTHZ_FRONT, "policy.delete", NULL, &err),
                     CMK_EPERM);
    ck_assert_int_eq(check("gateway", "gateway", AUTHZ_BACK, "ready", NULL, &err), 0);
    ck_assert_int_eq(check("gateway", "gateway", AUTHZ_BACK, "dek.get", NULL, &err), CMK_EPERM);
    ck_assert_str_eq(
        err.msg,
        "identity 'gateway' (role gateway) may not call 'dek.get' on the back channel: it is a "
        "datakey operation, for roles worker only");
    /* worker: nothing on the front; ready and dek.get on the back (which keys: keyring_authorize)
     */
    for (const authz_op *op = cmk_op_table(); op < cmk_op_table() + CMK_NOPS; op++) {
        if (op->door != AUTHZ_FRONT)
            continue;
        ck_assert_int_eq(check("worker-e1", "worker", AUTHZ_FRONT, op->type, NULL, &err),
                         CMK_EPERM);
        ck_assert_int_eq(check("firewall", "firewall", AUTHZ_FRONT, op->type, NULL, &err),
                         CMK_EPERM);
        ck_assert_int_eq(check("gateway", "gateway", AUTHZ_FRONT, op->type, NULL, &err),
                         strcmp(op->type, "flow.invoke") == 0 ? 0 : CMK_EPERM);
    }
    ck_assert_int_eq(check("worker-e1", "worker", AUTHZ_BACK, "dek.get", NULL, &err), 0);
    ck_assert_int_eq(check("worker-e1", "worker", AUTHZ_BACK, "ready", NULL, &err), 0);
    ck_assert_int_eq(check("firewall", "firewall", AUTHZ_BACK, "dek.get", NULL, &err), CMK_EPERM);
    ck_assert_int_eq(check("reader", "reader", AUTHZ_BACK, "ready", NULL, &err), CMK_EPERM);
    /* bench: what cmk-bench load calls (bench/load.c, bench/load_pump.c), not the cluster itself */
    {
        static const char *const calls[] = {"status",      "tenant.create",  "env.create",
                                            "flow.create", "flow.run",       "run.show",
                                            "key.rotate",  "firewall.fault", NULL};
        for (int i = 0; calls[i]; i++)
            ck_assert_msg(check("bench", "bench", AUTHZ_FRONT, calls[i], NULL, &err) == 0,
                          "bench %s: %s", calls[i], err.msg);
        ck_assert_int_eq(check("bench", "bench", AUTHZ_FRONT, "shutdown", NULL, &err), CMK_EPERM);
        ck_assert_int_eq(check("bench", "bench", AUTHZ_FRONT, "identity.add", NULL, &err),
                         CMK_EPERM);
        ck_assert_int_eq(check("bench", "bench", AUTHZ_FRONT, "flow.invoke", NULL, &err),
                         CMK_EPERM);
    }
    ck_assert(authz_role_assignable("reader") && authz_role_assignable("tenant-admin") &&
              authz_role_assignable("admin"));
    ck_assert(!authz_role_assignable("worker") && !authz_role_assignable("gateway") &&
              !authz_role_assignable("bench"));
}
END_TEST

/* A controller.db with two tenants, an environment and a vault in each. */
static char dir[64];
static sqlite3 *db;
static cmk_clock *clk;
static directory *dirs;
static vault_svc *vs;
static char env_a[64], env_b[64];

static void setup(void)
{
    cmk_err err = CMK_ERR_INIT;
    uint8_t mk[VAULT_MASTER_KEY_LEN] = {7};
    vault_props props = {.region = "europe"};
    env_spec sa = {"fabrikam", "prod", "europe", "production", 0},
             sb = {"contoso", "prod", "europe", "production", 0};
    cJSON *row;

    strcpy(dir, "/tmp/authz-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(store_open(dir, &db, &err), 0);
    clk = cmk_clock_new(CMK_CLOCK_VIRTUAL, 0);
    dirs = directory_new(db, clk, &err);
    ck_assert_msg(dirs != NULL, "%s", err.msg);
    ck_assert_int_eq(directory_tenant_create(dirs, "fabrikam", "Fabrikam", NULL, &err), 0);
    ck_assert_int_eq(directory_tenant_create(dirs, "contoso", "Contoso", NULL, &err), 0);
    ck_assert_msg(directory_env_create(dirs, &sa, &row, &err) == 0, "%s", err.msg);
    cmk_strlcpy(env_a, cmk_json_str(row, "id", ""), sizeof env_a);
    cJSON_Delete(row);
    ck_assert_int_eq(directory_env_create(dirs, &sb, &row, &err), 0);
    cmk_strlcpy(env_b, cmk_json_str(row, "id", ""), sizeof env_b);
    cJSON_Delete(row);
    vs = vault_svc_new(db, clk, NULL, mk, NULL, &err);
    ck_assert_msg(vs != NULL, "%s", err.msg);
    ck_assert_int_eq(vault_create(vs, "admin", "fabrikam", "fab-kv", &props, NULL, &err), 0);
    ck_assert_int_eq(vault_create(vs, "admin", "contoso", "con-kv", &props, NULL, &err), 0);
}

static void teardown(void)
{
    char cmd[128];
    vault_svc_destroy(&vs);
    directory_destroy(&dirs);
    store_close(&db);
    cmk_clock_destroy(&clk);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* scoped - a tenant-admin of fabrikam calling type with body (printf-built JSON) */
static int scoped(const char *type, const char *body, char *target, cmk_err *err)
{
    cJSON *e = entry("alice", "tenant-admin", "fabrikam"), *b = cJSON_Parse(body);
    int rc;
    ck_assert_msg(b != NULL, "bad test body %s", body);
    rc = authz_check(e, "alice", AUTHZ_FRONT, type, b, authz_resolve_db, db, target, 128, err);
    cJSON_Delete(e);
    cJSON_Delete(b);
    return rc;
}

/* AUTHZ-2: a tenant-admin acts only on objects of its tenant(s) */
START_TEST(test_tenant_scope)
{
    cmk_err err = CMK_ERR_INIT;
    char body[256], target[128];

    /* its own tenant: by tenant, by environment id and name, by vault */
    ck_assert_int_eq(scoped("env.list", "{\"tenant\":\"fabrikam\"}", target, &err), 0);
    snprintf(body, sizeof body, "{\"env\":\"%s\"}", env_a);
    ck_assert_msg(scoped("env.delete", body, target, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(scoped("flow.run", body, target, &err), 0);
    ck_assert_int_eq(
        scoped("vault.create", "{\"tenant\":\"fabrikam\",\"vault\":\"new-kv\"}", target, &err), 0);
    ck_assert_int_eq(scoped("key.create", "{\"vault\":\"fab-kv\",\"name\":\"k\"}", target, &err),
                     0);
    ck_assert_int_eq(scoped("tenant.show", "{\"id\":\"fabrikam\"}", target, &err), 0);
    ck_assert_int_eq(scoped("ping", "{}", target, &err), 0);
    /* another tenant's: refused, naming the owner */
    snprintf(body, sizeof body, "{\"env\":\"%s\"}", env_b);
    ck_assert_int_eq(scoped("env.delete", body, target, &err), CMK_EPERM);
    ck_assert_str_eq(target, env_b);
    ck_assert_ptr_nonnull(strstr(err.msg, "belongs to tenant contoso"));
    ck_assert_ptr_nonnull(
        strstr(err.msg, "identity 'alice' (role tenant-admin, tenants fabrikam)"));
    ck_assert_int_eq(scoped("env.show", body, target, &err), CMK_EPERM);
    ck_assert_int_eq(scoped("key.unwrap", "{\"vault\":\"con-kv\",\"name\":\"k\"}", target, &err),
                     CMK_EPERM);
    ck_assert_int_eq(
        scoped("vault.create", "{\"tenant\":\"contoso\",\"vault\":\"x-kv\"}", target, &err),
        CMK_EPERM);
    ck_assert_int_eq(scoped("env.create", "{\"tenant\":\"contoso\",\"name\":\"x\"}", target, &err),
                     CMK_EPERM);
    /* two objects: both must be its own */
    snprintf(body, sizeof body, "{\"source\":\"%s\",\"target\":\"%s\"}", env_a, env_b);
    ck_assert_int_eq(scoped("env.copy", body, target, &err), CMK_EPERM);
    snprintf(body, sizeof body, "{\"policy\":\"nope\",\"env\":\"%s\"}", env_a);
    ck_assert_int_eq(scoped("policy.link", body, target, &err),
                     CMK_EPERM); /* no policies table here */
    /* cannot tell the tenant: refused */
    ck_assert_int_eq(scoped("env.list", "{}", target, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "without naming what it acts on: give `tenant`"));
    ck_assert_int_eq(scoped("env.show", "{\"env\":\"no-such-env\"}", target, &err), CMK_EPERM);
    ck_assert_ptr_nonnull(strstr(err.msg, "its tenant cannot be checked"));
    ck_assert_int_eq(scoped("env.show", "{\"env\":\"prod\"}", target, &err),
                     CMK_EPERM); /* two named prod */
    ck_assert_int_eq(scoped("env.restore", "{\"backup\":\"b1\"}", target, &err), CMK_EPERM);
    /* data of every tenant, the cluster itself, peers' calls: refused */
    ck_assert_int_eq(scoped("tenant.list", "{}", target, &err), CMK_EPERM);
    ck_assert_int_eq(scoped("audit.list", "{}", target, &err), CMK_EPERM);
    ck_assert_int_eq(scoped("shutdown", "{}", target, &err), CMK_EPERM);
    ck_assert_int_eq(scoped("identity.add", "{\"name\":\"x\"}", target, &err), CMK_EPERM);
    snprintf(body, sizeof body, "{\"env\":\"%s\"}", env_a);
    ck_assert_int_eq(scoped("flow.invoke", body, target, &err), CMK_EPERM);
    /* the same lookups without the tenant-admin role: an admin is not scoped */
    {
        cJSON *e = entry("root", "admin", NULL), *b = cJSON_Parse(body);
        ck_assert_int_eq(authz_check(e, "root", AUTHZ_FRONT, "env.delete", b, authz_resolve_db, db,
                                     target, 128, &err),
                         0);
        cJSON_Delete(e);
        cJSON_Delete(b);
    }
}
END_TEST

/* cells - split a markdown table row "| a | b |" into trimmed cells; returns how many */
static int cells(char *line, char **out, int max)
{
    int n = 0;
    char *p = line;
    if (*p != '|')
        return 0;
    p++;
    while (*p && n < max) {
        char *bar = strchr(p, '|'), *s = p, *e;
        if (!bar)
            break;
        *bar = '\0';
        while (*s == ' ')
            s++;
        e = s + strlen(s);
        while (e > s && e[-1] == ' ')
            *--e = '\0';
        out[n++] = s;
        p = bar + 1;
    }
    return n;
}

/* AUTHZ-4: docs/SECURITY.md's matrix is the table the controller enforces */
START_TEST(test_doc_matches_table)
{
    char path[4200], *text = NULL, *line, *save = NULL;
    cmk_err err = CMK_ERR_INIT;
    int in_section = 0, roles_seen = 0, classes_seen = 0, header_classes[AUTHZ_NCLASS + 1],
        nheader = 0;

    snprintf(path, sizeof path, "%s/docs/SECURITY.md", CMK_SOURCE_DIR);
    ck_assert_msg(cmk_file_read(path, &text, NULL, &err) == 0, "%s", err.msg);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *c[AUTHZ_NCLASS + 2];
        int n, cls;
        if (strncmp(line, "## ", 3) == 0) {
            in_section = strcmp(line, "## Authorization matrix") == 0;
            continue;
        }
        if (!in_section || (n = cells(line, c, AUTHZ_NCLASS + 2)) < 2)
            continue;
        if (strcmp(c[0], "role") == 0) { /* header of the roles x classes table */
            nheader = n - 1;
            for (int i = 1; i < n; i++) {
                header_classes[i - 1] = authz_class_parse(c[i]);
                ck_assert_msg(header_classes[i - 1] >= 0, "SECURITY.md: unknown class column '%s'",
                              c[i]);
            }
            ck_assert_int_eq(nheader, AUTHZ_NCLASS);
            continue;
        }
        for (const char *const *r = authz_roles(); *r; r++)
            if (strcmp(c[0], *r) == 0) {
                ck_assert_int_eq(n - 1, nheader);
                for (int i = 1; i < n; i++)
                    ck_assert_msg(
                        (strcmp(c[i], "yes") == 0) ==
                            authz_role_allows(*r, (authz_class)header_classes[i - 1]),
                        "SECURITY.md says role %s / class %s is '%s'; controller/authz/authz.c differs",
                        *r, authz_class_name((authz_class)header_classes[i - 1]), c[i]);
                roles_seen++;
            }
        cls = -1;
        if (strncmp(c[0], "**", 2) == 0 && strlen(c[0]) > 4) {
            c[0][strlen(c[0]) - 2] = '\0';
            c[0] += 2;
            cls = authz_class_parse(c[0]);
            ck_assert_msg(cls >= 0, "SECURITY.md: unknown class **%s**", c[0]);
        }
        if (cls >= 0) {
            /* | **class** | door | operations | : every backticked operation, and only those, are
             * of it */
            int doc_n = 0, code_n = 0;
            char *ops = c[n - 1], *tick;
            while ((tick = strchr(ops, '`'))) {
                char *end = strchr(tick + 1, '`');
                const authz_op *row;
                ck_assert_ptr_nonnull(end);
                *end = '\0';
                row = authz_find(
                    cls == AUTHZ_PEER || cls == AUTHZ_DATAKEY || cls == AUTHZ_RELAY ? AUTHZ_BACK : AUTHZ_FRONT,
                    tick + 1);
                ck_assert_msg(row && (int)row->cls == cls,
                              "SECURITY.md lists '%s' under %s; controller/authz/authz.c does not",
                              tick + 1, c[0]);
                doc_n++;
                ops = end + 1;
            }
            for (const authz_op *op = cmk_op_table(); op < cmk_op_table() + CMK_NOPS; op++)
                code_n += op->door != AUTHZ_INTERNAL && (int)op->cls == cls;
            ck_assert_msg(doc_n == code_n,
                          "SECURITY.md lists %d %s operations, controller/authz/authz.c has %d", doc_n,
                          c[0], code_n);
            classes_seen++;
        }
    }
    free(text);
    ck_assert_int_eq(roles_seen, 8);
    ck_assert_int_eq(classes_seen, AUTHZ_NCLASS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("authz");
    TCase *tc = tcase_create("matrix"), *scope = tcase_create("scope");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_op_has_a_class);
    tcase_add_test(tc, test_role_decisions);
    tcase_add_test(tc, test_doc_matches_table);
    tcase_add_checked_fixture(scope, setup, teardown);
    tcase_add_test(scope, test_tenant_scope);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, scope);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
