/*
 * tenantkey_fixture.h - the fixture shared by the tenantkey unit suites (included by each
 * tests/unit/tenantkey*_test.c): a temp-file controller.db, a VIRTUAL clock starting at
 * 2025-03-03T10:00:00Z, the directory with tenant "contoso" (BYOK turned on), the audit log
 * and the service; test keys made once per run by make_keys.sh with the openssl CLI; helpers
 * to move the clock to exact rule boundaries and to check refusals and their messages.
 */
#ifndef TENANTKEY_FIXTURE_H
#define TENANTKEY_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "common/util.h"
#include "controller/audit/audit.h"
#include "controller/directory/directory.h"
#include "controller/tenantkey/tenantkey.h"

#define SEC INT64_C(1000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)
#define BASE_MS INT64_C(1740996000000)   /* 2025-03-03T10:00:00Z */
#define CUTOFF_MS INT64_C(1748736000000) /* 2025-06-01T00:00:00Z */
#define ADMIN "alice@contoso.com"
#define TKF_UNUSED __attribute__((unused)) /* not every suite uses every helper */
#define TENANT "contoso"

static char g_dir[256]; /* temp dir of the run: keys made by make_keys.sh, databases */
static const uint8_t MASTER[32] = {7,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                   16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* fx - one test's world */
static struct {
    char dbpath[320];     /* controller.db of this test */
    sqlite3 *db;          /* its connection */
    cmk_clock *clock;     /* virtual clock */
    audit_log *audit;     /* audit log */
    directory *dir;       /* tenants and environments */
    tenantkey_svc *tk;    /* the service under test */
    tenantkey_config cfg; /* its config */
    int events[8];        /* hook counts: key.active, env.locked, env.unlocked, env.deleted,
                             env.encryption, keys.removed */
} fx;

static TKF_UNUSED int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* sh - run a shell command built like printf; its exit status */
static TKF_UNUSED int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* path - a file in the temp dir */
static TKF_UNUSED const char *path(const char *name)
{
    static char buf[4][320];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

/* slurp - a whole file (free it) */
static TKF_UNUSED char *slurp(const char *p, size_t *len)
{
    char *data = NULL;
    cmk_err err = CMK_ERR_INIT;
    ck_assert_msg(cmk_file_read(p, &data, len, &err) == 0, "%s", err.msg);
    return data;
}

/* spit - write a file */
static TKF_UNUSED void spit(const char *p, const void *data, size_t len)
{
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* on_event - count hook events */
static TKF_UNUSED void on_event(const tenantkey_event *ev, void *arg)
{
    static const char *const kinds[] = {"key.active",  "env.locked",     "env.unlocked",
                                        "env.deleted", "env.encryption", "keys.removed"};
    (void)arg;
    for (int i = 0; i < 6; i++)
        if (strcmp(ev->kind, kinds[i]) == 0)
            fx.events[i]++;
}

/* fx_open_svc - the service over fx.db with fx.cfg */
static TKF_UNUSED void fx_open_svc(void)
{
    cmk_err err = CMK_ERR_INIT;
    fx.cfg.master_key = MASTER;
    fx.tk = tenantkey_svc_new(fx.db, fx.clock, fx.audit, fx.dir, &fx.cfg, &err);
    ck_assert_msg(fx.tk != NULL, "%s", err.msg);
    tenantkey_set_event_hook(fx.tk, on_event, NULL);
}

/* fx_open - db, clock at BASE_MS, audit, directory, tenant contoso (BYOK on), service */
static TKF_UNUSED void fx_open(int enable)
{
    cmk_err err = CMK_ERR_INIT;

    snprintf(fx.dbpath, sizeof fx.dbpath, "%s/controller-%d.db", g_dir, (int)getpid());
    unlink(fx.dbpath);
    ck_assert_int_eq(sqlite3_open(fx.dbpath, &fx.db), SQLITE_OK);
    fx.clock = cmk_clock_new(CMK_CLOCK_VIRTUAL, BASE_MS - cmk_wall_ms());
    fx.audit = audit_log_new(fx.db, fx.clock, &err);
    ck_assert_msg(fx.audit != NULL, "%s", err.msg);
    fx.dir = directory_new(fx.db, fx.clock, &err);
    ck_assert_msg(fx.dir != NULL, "%s", err.msg);
    ck_assert_msg(directory_tenant_create(fx.dir, TENANT, "Contoso", NULL, &err) == 0, "%s",
                  err.msg);
    fx_open_svc();
    if (enable)
        ck_assert_msg(tenantkey_enable_byok(fx.tk, ADMIN, TENANT, &err) == 0, "%s", err.msg);
}

/* setup - the default fixture: default durations, BYOK on */
static TKF_UNUSED void setup(void)
{
    memset(&fx, 0, sizeof fx);
    tenantkey_config_defaults(&fx.cfg);
    fx_open(1);
}

/* teardown - close everything, remove the database */
static TKF_UNUSED void teardown(void)
{
    tenantkey_svc_destroy(&fx.tk);
    ck_assert_ptr_null(fx.tk);
    directory_destroy(&fx.dir);
    audit_log_destroy(&fx.audit);
    sqlite3_close(fx.db);
    cmk_clock_destroy(&fx.clock);
    unlink(fx.dbpath);
}

/* now - the clock */
static TKF_UNUSED int64_t now(void)
{
    return cmk_clock_now(fx.clock);
}

/* advance_to - move the clock to exactly `at` (firing timers on the way) */
static TKF_UNUSED void advance_to(int64_t at)
{
    cmk_err err = CMK_ERR_INIT;
    int64_t d = at - now();
    ck_assert_msg(d >= 0, "advance_to: %lld is in the past", (long long)at);
    ck_assert_msg(cmk_clock_advance(fx.clock, d, &err) == 0, "%s", err.msg);
}

/* advance - move the clock forward */
static TKF_UNUSED void advance(int64_t ms)
{
    advance_to(now() + ms);
}

/* expect - rc is `code` and the message contains `part` */
#define expect(rc, err, code, part)                                                                \
    do {                                                                                           \
        int rc_ = (rc);                                                                            \
        ck_assert_msg(rc_ == (code), "expected %s, got %s: %s", cmk_code_name(code),               \
                      cmk_code_name(rc_), (err).msg);                                              \
        ck_assert_msg(strstr((err).msg, (part)) != NULL, "message lacks \"%s\": %s", (part),       \
                      (err).msg);                                                                  \
    } while (0)

#define ok(rc, err) ck_assert_msg((rc) == 0, "%s", (err).msg)

/* new_env - an environment of contoso; its id (static buffer, 4 in rotation) */
static TKF_UNUSED const char *new_env(const char *name, const char *type, const char *region)
{
    static char ids[4][64];
    static int i;
    cmk_err err = CMK_ERR_INIT;
    env_spec spec = {TENANT, name, region, type, 0};
    cJSON *j = NULL;

    ok(directory_env_create(fx.dir, &spec, &j, &err), err);
    i = (i + 1) % 4;
    snprintf(ids[i], sizeof ids[i], "%s", cmk_json_str(j, "id", ""));
    cJSON_Delete(j);
    return ids[i];
}

/* dir_state - the directory's visible state of an environment ("" if it is gone) */
static TKF_UNUSED const char *dir_state(const char *env)
{
    static char s[32];
    cJSON *j = NULL;
    s[0] = '\0';
    if (directory_env_get(fx.dir, env, &j, NULL) == 0)
        snprintf(s, sizeof s, "%s", cmk_json_str(j, "state", ""));
    cJSON_Delete(j);
    return s;
}

/* upload - upload a fixture key file ("a.pfx", ...) as name in region */
static TKF_UNUSED int upload(const char *name, const char *region, const char *file,
                             const char *password, tenantkey_format fmt, tenantkey_key_info *out,
                             cmk_err *err)
{
    size_t len;
    char *data = slurp(path(file), &len);
    int rc = tenantkey_upload(fx.tk, ADMIN, TENANT, region, name, (uint8_t *)data, len, password,
                              fmt, out, err);
    free(data);
    return rc;
}

/* upload_ok - upload a .pfx that must be accepted */
static TKF_UNUSED tenantkey_key_info upload_ok(const char *name, const char *file,
                                               const char *password)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info k;
    ok(upload(name, "unitedstates", file, password, TENANTKEY_FORMAT_PFX, &k, &err), err);
    return k;
}

/* key_state - the state of a key by name (0 if it is gone) */
static TKF_UNUSED int key_state(const char *name)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info *keys = NULL;
    size_t n = 0;
    int st = 0;
    ok(tenantkey_list(fx.tk, ADMIN, TENANT, &keys, &n, &err), err);
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].name, name) == 0)
            st = (int)keys[i].state;
    tenantkey_key_infos_free(&keys);
    return st;
}

/* count_state - how many keys of the tenant are in a state */
static TKF_UNUSED int count_state(tenantkey_key_state s)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_key_info *keys = NULL;
    size_t n = 0;
    int c = 0;
    ok(tenantkey_list(fx.tk, ADMIN, TENANT, &keys, &n, &err), err);
    for (size_t i = 0; i < n; i++)
        c += keys[i].state == s;
    tenantkey_key_infos_free(&keys);
    return c;
}

/* active_a - key "ka" from a.pfx, uploaded first (so activated at once) and Active */
static TKF_UNUSED tenantkey_key_info active_a(void)
{
    tenantkey_key_info k = upload_ok("ka", "a.pfx", "pass-a");
    ck_assert_int_eq(k.state, TENANTKEY_KEY_INSTALLING);
    advance_to(k.active_at_ms + SEC);
    ck_assert_int_eq(key_state("ka"), TENANTKEY_KEY_ACTIVE);
    return k;
}

/* env_mode - the environment's encryption mode */
static TKF_UNUSED tenantkey_env_mode env_mode(const char *env)
{
    cmk_err err = CMK_ERR_INIT;
    tenantkey_env_state st;
    ok(tenantkey_env_byok_state(fx.tk, ADMIN, env, &st, &err), err);
    return st.mode;
}

/* audit_cb_count - count entries */
static TKF_UNUSED int audit_cb_count(const audit_entry *e, void *arg)
{
    (void)e;
    (*(int *)arg)++;
    return 0;
}

/* audit_count_of - entries of an operation with a result ("ok", "ESTATE", NULL: any) */
static TKF_UNUSED int audit_count_of(const char *operation, const char *result)
{
    cmk_err err = CMK_ERR_INIT;
    audit_filter f;
    int n = 0;
    memset(&f, 0, sizeof f);
    f.operation = operation;
    f.result = result;
    ok(audit_list(fx.audit, &f, audit_cb_count, &n, &err), err);
    return n;
}

/* rm_cb - nftw callback removing everything */
static TKF_UNUSED int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* fixture_run - make the keys, run the suite, clean up; the process exit status */
static TKF_UNUSED int fixture_run(Suite *s, const char *name)
{
    const char *src = getenv("CMK_SOURCE_DIR");
    SRunner *sr;
    int failed;

    snprintf(g_dir, sizeof g_dir, "/tmp/%s.XXXXXX", name);
    if (!mkdtemp(g_dir))
        return 2;
    if (sh("sh %s/tests/data/tenantkey/make_keys.sh %s", src && *src ? src : CMK_SOURCE_DIR,
           g_dir) != 0) {
        fprintf(stderr, "%s: cannot make the test keys with the openssl CLI\n", name);
        nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        return 2;
    }
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    nftw(g_dir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    return failed ? 1 : 0;
}

#endif
