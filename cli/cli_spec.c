/*
 * cli_spec.c - cmkctl's tables: every command, every subcommand and every option it takes
 * (name, value or flag, type, default, help). cmkctl parses from them (cli_parse.c), and
 * --help, `cmkctl completion bash` and the man page (`cmkctl man`) are generated from them.
 */
#include "cli.h"

#define END { NULL, NULL, CLI_T_FLAG, NULL, NULL, NULL, 0 }
#define FLAG(n, h) { n, NULL, CLI_T_FLAG, NULL, NULL, h, 0 }
#define OPT(n, m, h) { n, m, CLI_T_STR, NULL, NULL, h, 0 }
#define REQ(n, m, h) { n, m, CLI_T_STR, NULL, NULL, h, CLI_O_REQUIRED }
#define FILEOPT(n, m, h) { n, m, CLI_T_FILE, NULL, NULL, h, 0 }
#define REQFILE(n, m, h) { n, m, CLI_T_FILE, NULL, NULL, h, CLI_O_REQUIRED }
#define ENUMOPT(n, m, allowed, def, h) { n, m, CLI_T_ENUM, allowed, def, h, 0 }
#define INTOPT(n, m, range, def, h) { n, m, CLI_T_INT, range, def, h, 0 }
#define DUROPT(n, m, def, h) { n, m, CLI_T_DUR, NULL, def, h, 0 }

#define ENV_REQ REQ("--env", "ENV", "the environment: its id or unique name")
#define NO_WAIT FLAG("--no-wait", "do not wait for the operation to end: print its id and status now")
#define YES FLAG("--yes", "do it without asking (needed when not on a terminal)")

static const cli_option o_none[] = { END };

/* ---- global ---- */
static const cli_option o_global[] = {
    { "--run-dir", "DIR", CLI_T_DIR, NULL, "$CMK_RUN_DIR or ./var", "the cluster's run directory", 0 },
    FLAG("--json", "machine-readable output; errors as {\"error\": {\"code\", \"message\"}} on stderr"),
    DUROPT("--timeout", "DUR", "15s", "how long to wait for an answer"),
    FILEOPT("--curve-key", "FILE", "act with another CURVE key file instead of keys/admin.key"),
    OPT("--as", "NAME", "act as identity NAME: --curve-key <run dir>/keys/NAME.key"),
    FLAG("--help", "this text; after a command or subcommand: its options"),
    FLAG("--version", "the version of cmkctl (before any command: after one, it is that command's)"),
    END,
};

/* ---- cluster ---- */
static const cli_option o_up[] = {
    FILEOPT("--config", "FILE", "a cluster configuration (JSON) over the defaults (configs/default.json)"),
    { "--set", "NAME=VALUE", CLI_T_STR, NULL, NULL, "one configuration parameter, e.g. clock.mode=virtual",
      CLI_O_REPEAT },
    END,
};
static const cli_option o_ping[] = { OPT("--target", "all|controller|NAME", "which process to ping (default all)"), END };
static const cli_option o_scenario[] = { END };
static const cli_option o_drill[] = {
    { "--report-dir", "DIR", CLI_T_DIR, NULL, ".", "where the drill's report (Markdown) goes", 0 }, END,
};
static const cli_option o_call[] = {
    FILEOPT("--file", "FILE", "read the body (a JSON object) from FILE; `-` as the body reads stdin"), END,
};
static const cli_option o_completion[] = { END };
static const cli_option o_protocol[] = {
    FLAG("--markdown", "the table of docs/PROTOCOL.md (Markdown)"),
    FLAG("--fields", "every request type's body fields with type and limits (docs/PROTOCOL.md, Markdown)"), END,
};

/* ---- tenants and environments ---- */
static const cli_option o_tenant_create[] = { OPT("--name", "NAME", "display name (default: the id)"), END };
static const cli_option o_tenant_lock[] = {
    REQFILE("--key-file", "FILE", "the tenant's active key (.pfx)"),
    FILEOPT("--password-file", "FILE", "the key file's password"),
    OPT("--confirm", "TEXT", "the confirmation text the first call prints"),
    END,
};
static const cli_option o_tenant_unlock[] = {
    REQFILE("--key-file", "FILE", "the key the tenant was locked with (.pfx)"),
    FILEOPT("--password-file", "FILE", "the key file's password"),
    END,
};
static const cli_option o_env_create[] = {
    REQ("--tenant", "T", "the tenant"),
    REQ("--name", "NAME", "display name, unique in the tenant"),
    REQ("--region", "REGION", "a Power Platform region: unitedstates, europe, ..."),
    ENUMOPT("--type", "TYPE", "production|sandbox|developer|trial|teams", "production", "environment type"),
    FLAG("--managed", "a managed environment (only those can join an enterprise policy)"),
    END,
};
static const cli_option o_tenant_opt[] = { OPT("--tenant", "T", "only this tenant's"), END };
static const cli_option o_env_settings[] = {
    ENUMOPT("--create-flows-in-solutions", "on|off", "on|off", NULL, "new flows go into solutions"), END,
};
static const cli_option o_env_backup[] = { OPT("--label", "L", "a label for the backup"), END };
static const cli_option o_env_restore[] = {
    OPT("--to", "ENV", "restore over this environment (default: the backed-up one)"), YES, END,
};
static const cli_option o_yes[] = { YES, END };
static const cli_option o_apply_tk[] = { FLAG("--yes", "confirm the downtime of applying the tenant key"), END };
static const cli_option o_return_mmk[] = {
    OPT("--confirm-name", "NAME", "the environment's name, typed to confirm"), END,
};
static const cli_option o_clock_advance[] = { END };

/* ---- tenant keys (BYOK) ---- */
static const cli_option o_tk_generate[] = {
    REQ("--tenant", "T", "the tenant"), OPT("--region", "R", "the region"), OPT("--name", "N", "the key's name"),
    FILEOPT("--password-file", "F", "password of the .pfx written"), REQFILE("--out", "KEY.pfx", "where the key goes"),
    END,
};
static const cli_option o_tk_upload[] = {
    REQ("--tenant", "T", "the tenant"), OPT("--region", "R", "the region"), OPT("--name", "N", "the key's name"),
    FILEOPT("--password-file", "F", "password of a .pfx"), END,
};
static const cli_option o_tk_tenant[] = { REQ("--tenant", "T", "the tenant"), OPT("--region", "R", "the region"), END };
static const cli_option o_tk_kek[] = {
    REQ("--tenant", "T", "the tenant"), OPT("--region", "R", "the region"),
    FILEOPT("--out", "KEK.pem", "write the key-exchange key's public key here"), END,
};

/* ---- vaults and keys ---- */
static const cli_option o_vault_create[] = {
    REQ("--tenant", "T", "the owning tenant"),
    REQ("--region", "R", "the vault's region"),
    INTOPT("--retention-days", "DAYS", "7..90", "90", "how long a deleted vault or key can be recovered"),
    FLAG("--purge-protection", "nothing deleted can be purged before its retention ends (a CMK needs it)"),
    FLAG("--no-soft-delete", "deleted means gone at once (a CMK cannot use such a vault)"),
    ENUMOPT("--public-network-access", "on|off", "on|off", "on", "reachable from public networks"),
    END,
};
static const cli_option o_vault_update[] = {
    FLAG("--purge-protection", "turn purge protection on (it cannot be turned off)"),
    ENUMOPT("--public-network-access", "on|off", "on|off", NULL, "reachable from public networks"),
    INTOPT("--retention-days", "DAYS", "7..90", NULL, "how long a deleted vault or key can be recovered"),
    ENUMOPT("--default-action", "Allow|Deny", "Allow|Deny", NULL,
            "the vault firewall's default: Allow (all networks) or Deny (selected networks only)"),
    ENUMOPT("--bypass", "AzureServices|None", "AzureServices|None", NULL,
            "let trusted Microsoft services (an enterprise policy's identity) through the vault firewall"),
    END,
};
static const cli_option o_vault_network_rule[] = {
    OPT("--ip", "ADDRESS[/BITS]", "an IP rule: the addresses that may reach the vault"),
    OPT("--vnet", "SUBNET-ID", "a virtual network rule: a subnet that may reach the vault"),
    END,
};
static const cli_option o_vault_list[] = {
    OPT("--tenant", "T", "only this tenant's"), FLAG("--deleted", "the deleted (recoverable) ones"), END,
};
static const cli_option o_vault_grant[] = {
    REQ("--principal", "P", "who: an identity such as a policy's pp-identity-..."),
    REQ("--perms", "LIST", "comma-separated: get,wrapKey,unwrapKey (or data, management, all)"),
    END,
};
#define KEY_DATES                                                                                                  \
    OPT("--expires", "DATE|+DUR", "expiry: 2027-01-31T00:00:00Z, or +90d from the controller's clock"),              \
        OPT("--not-before", "DATE|+DUR", "not usable before this time")
#define KEY_TAG { "--tag", "K=V", CLI_T_STR, NULL, NULL, "a tag (repeatable)", CLI_O_REPEAT }
static const cli_option o_key_create[] = {
    ENUMOPT("--kty", "KTY", "RSA|RSA-HSM", "RSA", "key type"),
    ENUMOPT("--size", "BITS", "2048|3072|4096", "2048", "key size in bits"),
    OPT("--ops", "LIST", "permitted operations: wrapKey,unwrapKey,encrypt,decrypt,import,..."),
    KEY_DATES, KEY_TAG, END,
};
static const cli_option o_key_import[] = {
    REQFILE("--file", "KEY.pem|.der|.pfx", "the key to import"),
    FILEOPT("--password-file", "F", "password of a .pfx"), KEY_DATES, KEY_TAG, END,
};
static const cli_option o_key_import_byok[] = { REQFILE("--file", "KEY.byok", "the .byok file (key-exchange format)"), END };
static const cli_option o_key_byok_export[] = {
    REQ("--kek", "VAULT/KEK", "the vault's key-exchange key (created with --kty RSA-HSM --ops import)"),
    REQFILE("--target", "TARGET.pem", "the key to wrap (your HSM's key)"),
    REQFILE("--out", "KEY.byok", "where the .byok goes"),
    END,
};
static const cli_option o_key_show[] = {
    OPT("--version", "V", "a version (default: the current one)"), FLAG("--pem", "also the public key as PEM"), END,
};
static const cli_option o_key_list[] = { FLAG("--deleted", "the deleted (recoverable) keys"), END };
static const cli_option o_key_version[] = { OPT("--version", "V", "a version (default: the current one)"), END };
static const cli_option o_key_update[] = {
    OPT("--version", "V", "a version (default: the current one)"),
    FLAG("--enable", "enable it (same as `cmkctl key enable`)"),
    FLAG("--disable", "disable it (same as `cmkctl key disable`)"),
    OPT("--ops", "LIST", "permitted operations"), KEY_DATES, KEY_TAG, END,
};
static const cli_option o_key_backup[] = { REQFILE("--out", "FILE", "where the backup goes"), END };
static const cli_option o_key_restore[] = { REQFILE("--file", "FILE", "a backup made by `cmkctl key backup`"), END };
static const cli_option o_key_wrap[] = {
    OPT("--value", "BASE64", "the bytes to wrap or unwrap"),
    FILEOPT("--in", "FILE", "the bytes, from a file"),
    ENUMOPT("--alg", "ALG", "RSA-OAEP|RSA-OAEP-256", "RSA-OAEP-256", "the algorithm"),
    OPT("--version", "V", "a version (default: the current one)"),
    FILEOPT("--out", "FILE", "write the result's bytes here"),
    END,
};
static const cli_option o_key_policy[] = {
    OPT("--rotate-after", "P90D", "rotate this long after creation (ISO 8601 duration)"),
    OPT("--rotate-before-expiry", "P30D", "rotate this long before expiry"),
    OPT("--expires-after", "P1Y", "new versions expire this long after creation"),
    END,
};

/* ---- flows ---- */
static const cli_option o_flow_env[] = { ENV_REQ, END };
static const cli_option o_flow_create[] = {
    ENV_REQ, REQFILE("--file", "DEFINITION.json", "the definition (or, for import, the package)"),
    OPT("--id", "ID", "the flow's id (default: made up)"), OPT("--name", "NAME", "display name (default: the file's name)"),
    FLAG("--solution", "a solution flow"), FLAG("--desktop", "a desktop flow"), END,
};
static const cli_option o_flow_update[] = {
    ENV_REQ, FILEOPT("--file", "DEFINITION.json", "a new definition"), OPT("--name", "NAME", "a new display name"),
    FLAG("--solution", "move it into a solution"), END,
};
static const cli_option o_flow_save_as[] = { ENV_REQ, OPT("--name", "NAME", "the copy's name (default Copy)"), END };
static const cli_option o_flow_export[] = { ENV_REQ, FILEOPT("--out", "PACKAGE.json", "write the package here (default: stdout)"), END };
static const cli_option o_flow_run[] = {
    ENV_REQ, OPT("--body", "JSON", "the trigger body (JSON)"),
    OPT("--client-req", "ID", "a client request id: the same id is not run twice within worker.dedup_window (5m)"), END,
};
static const cli_option o_flows_mmk[] = { ENV_REQ, FLAG("--cannot-migrate", "only the flows that cannot move to the CMK"), END };
static const cli_option o_app_register[] = { ENV_REQ, OPT("--app", "NAME", "the app's name (default Canvas app)"), END };
static const cli_option o_mg_create[] = { ENV_REQ, REQ("--name", "NAME", "the group's name"), END };
static const cli_option o_run_list[] = { ENV_REQ, OPT("--flow", "FLOW", "only this flow's runs"), END };
static const cli_option o_run_csv[] = {
    ENV_REQ, OPT("--flow", "FLOW", "only this flow's runs"), FILEOPT("--out", "FILE", "write the CSV here"), END,
};
static const cli_option o_conn_create[] = {
    ENV_REQ, OPT("--name", "NAME", "the connection's name"), REQFILE("--secret-file", "F", "its secret"),
    FLAG("--non-oauth", "a non-OAuth connection (secret stored encrypted)"), END,
};

/* ---- policies and support ---- */
static const cli_option o_policy_create[] = {
    REQ("--tenant", "T", "the tenant"), REQ("--vault", "VAULT", "the key vault"), REQ("--key", "KEY", "the key"),
    OPT("--version", "V", "pin a key version (default: the current one)"), REQ("--region", "R", "the region"), END,
};
static const cli_option o_no_wait[] = { NO_WAIT, END };
static const cli_option o_move_env[] = { REQ("--to", "POLICY", "the new policy"), NO_WAIT, END };
static const cli_option o_raise[] = {
    REQ("--tenant", "T", "the tenant"), { "--to", "N", CLI_T_INT, "1..100000", NULL, "the new limit", CLI_O_REQUIRED },
    END,
};
static const cli_option o_support_env[] = { ENV_REQ, END };
static const cli_option o_protect[] = { ENV_REQ, NO_WAIT, END };

/* ---- firewall, audit, identities ---- */
static const cli_option o_fault[] = {
    INTOPT("--ms", "N", "0..600000", NULL, "latency in milliseconds (latency)"),
    DUROPT("--duration", "DUR", NULL, "how long the fault lasts"),
    END,
};
static const cli_option o_audit_list[] = {
    OPT("--principal", "P", "only this principal's entries"), OPT("--operation", "OP", "only this operation"),
    OPT("--target", "T", "only this target"), OPT("--result", "ok|error|CODE", "only this result"),
    INTOPT("--limit", "N", "1..100000", NULL, "at most N entries"), FLAG("--newest-first", "newest first"), END,
};
static const cli_option o_identity_add[] = {
    { "--role", "ROLE", CLI_T_ENUM, "reader|tenant-admin|admin", NULL, "what it may call (`cmkctl identity matrix`)",
      CLI_O_REQUIRED },
    { "--tenant", "T", CLI_T_STR, NULL, NULL, "a tenant a tenant-admin acts on (repeatable)", CLI_O_REPEAT },
    END,
};

#define U(c, s, a, lo, hi, f, sum, o) { c, s, a, lo, hi, f, sum, o }

static const cli_usage usages[] = {
    U("up", NULL, "", 0, 0, 0, "start a cluster in the background (controller, shared worker, gateway, firewall)", o_up),
    U("down", NULL, "", 0, 0, 0, "stop the cluster; no process, socket or lock is left behind", o_none),
    U("status", NULL, "", 0, 0, 0, "every process: pid, role, state, uptime, heartbeat age, restarts", o_none),
    U("ping", NULL, "", 0, 0, 0, "ping processes through the controller", o_ping),
    U("scenario", "run", "FILE", 1, 1, 0, "run a scenario: a JSON list of cmkctl steps with expected outcomes", o_scenario),

    U("tenant", "create", "ID", 1, 1, 0, "create a tenant", o_tenant_create),
    U("tenant", "list", "", 0, 0, 0, "list tenants", o_none),
    U("tenant", "show", "ID", 1, 1, 0, "a tenant and its environments", o_none),
    U("tenant", "enable-byok", "TENANT", 1, 1, 0, "allow legacy tenant keys (BYOK) for a tenant", o_none),
    U("tenant", "lock", "TENANT", 1, 1, 0,
      "lock a tenant: every active environment is disabled (the first call prints the confirmation text)",
      o_tenant_lock),
    U("tenant", "unlock-key", "TENANT", 1, 1, 0, "unlock a tenant locked with the key", o_tenant_unlock),

    U("env", "create", "", 0, 0, 0, "create an environment", o_env_create),
    U("env", "list", "", 0, 0, 0, "list environments", o_tenant_opt),
    U("env", "show", "ENV", 1, 1, 0, "one environment", o_none),
    U("env", "enable-managed", "ENV", 1, 1, 0, "make an environment managed", o_none),
    U("env", "delete", "ENV", 1, 1, CLI_S_DESTROYS, "delete an environment and its data", o_yes),
    U("env", "reenable", "ENV", 1, 1, 0, "re-enable an environment after a lock (once the key is reachable)", o_none),
    U("env", "cmk-status", "ENV", 1, 1, 0, "its enterprise policy, encryption status and lock", o_none),
    U("env", "migration", "ENV", 1, 1, 0, "its flows' move to CMK and the flows kept on the MMK", o_none),
    U("env", "settings", "ENV", 1, 1, 0, "show or change the environment's settings", o_env_settings),
    U("env", "backup", "ENV", 1, 1, 0, "back up, sealed under the environment's current key", o_env_backup),
    U("env", "backups", "ENV", 1, 1, 0, "its backups and their encryption state at backup", o_none),
    U("env", "restore", "BACKUP", 1, 1, CLI_S_DESTROYS,
      "restore a backup over an environment (same environment, or another with the same CMK)", o_env_restore),
    U("env", "copy", "SOURCE TARGET", 2, 2, CLI_S_DESTROYS,
      "copy SOURCE's flows over TARGET's (only to another environment with the same CMK)", o_yes),
    U("env", "reset", "ENV", 1, 1, CLI_S_DESTROYS, "sandbox only: data and backups deleted, back to the MMK", o_yes),
    U("env", "unlock", "ENV", 1, 1, 0, "unlock an environment locked by its tenant key (BYOK)", o_none),
    U("env", "apply-tenant-key", "ENV", 1, 1, 0, "encrypt an environment with the tenant key (BYOK; downtime)", o_apply_tk),
    U("env", "return-to-microsoft-key", "ENV", 1, 1, 0, "back from the tenant key to the Microsoft-managed key",
      o_return_mmk),
    U("env", "byok-state", "ENV", 1, 1, 0, "its tenant-key (BYOK) state", o_none),

    U("clock", "show", "", 0, 0, 0, "the controller's clock", o_none),
    U("clock", "advance", "DURATION", 1, 1, 0, "move a virtual clock forward (72h, 7d; virtual mode only)", o_clock_advance),

    U("tenant-key", "generate", "", 0, 0, 0, "make a tenant key, written password-protected to --out", o_tk_generate),
    U("tenant-key", "upload", "FILE.pfx|FILE.byok", 1, 1, 0, "upload a tenant key", o_tk_upload),
    U("tenant-key", "activate", "NAME", 0, 1, 0, "make a tenant key the active one", o_tk_tenant),
    U("tenant-key", "list", "", 0, 0, 0, "the tenant's keys", o_tk_tenant),
    U("tenant-key", "status", "", 0, 0, 0, "the tenant's key state", o_tk_tenant),
    U("tenant-key", "kek", "", 0, 0, 0, "the key-exchange key for making a .byok", o_tk_kek),

    U("vault", "create", "VAULT", 1, 1, 0, "create a key vault", o_vault_create),
    U("vault", "show", "VAULT", 1, 1, 0, "one vault", o_none),
    U("vault", "list", "", 0, 0, 0, "list vaults", o_vault_list),
    U("vault", "update", "VAULT", 1, 1, 0, "change a vault's properties", o_vault_update),
    U("vault", "delete", "VAULT", 1, 1, 0, "soft-delete a vault (recoverable until its retention ends)", o_none),
    U("vault", "recover", "VAULT", 1, 1, 0, "recover a deleted vault", o_none),
    U("vault", "purge", "VAULT", 1, 1, CLI_S_DESTROYS, "purge a deleted vault for good", o_yes),
    U("vault", "grant", "VAULT", 1, 1, 0, "give a principal permissions on the vault", o_vault_grant),
    U("vault", "revoke", "VAULT", 1, 1, 0, "take permissions back", o_vault_grant),
    U("vault", "access", "VAULT", 1, 1, 0, "who may do what on the vault", o_none),
    U("vault", "network-rule", "add|remove|list VAULT", 2, 2, 0,
      "the vault firewall: IP and virtual network rules (a rule that shuts the policy's identity out locks its environments)",
      o_vault_network_rule),

    U("key", "create", "VAULT NAME", 2, 2, 0, "create a key", o_key_create),
    U("key", "import", "VAULT NAME", 2, 2, 0, "import a key (PEM, DER or PFX)", o_key_import),
    U("key", "import-byok", "VAULT NAME", 2, 2, 0, "import a key wrapped for a key-exchange key (.byok)", o_key_import_byok),
    U("key", "byok-export", "", 0, 0, 0, "play the customer's HSM: wrap a key into a .byok file", o_key_byok_export),
    U("key", "show", "VAULT NAME", 2, 2, 0, "one key version", o_key_show),
    U("key", "list", "VAULT", 1, 1, 0, "the vault's keys", o_key_list),
    U("key", "versions", "VAULT NAME", 2, 2, 0, "a key's versions", o_none),
    U("key", "rotate", "VAULT NAME", 2, 2, 0, "make a new current version", o_none),
    U("key", "enable", "VAULT NAME", 2, 2, 0, "enable a key version", o_key_version),
    U("key", "disable", "VAULT NAME", 2, 2, 0,
      "disable a key version: environments encrypted with it lock (`cmkctl key enable` undoes it)", o_key_version),
    U("key", "update", "VAULT NAME", 2, 2, 0, "change a key version's attributes", o_key_update),
    U("key", "delete", "VAULT NAME", 2, 2, 0, "soft-delete a key (recoverable until the vault's retention ends)", o_none),
    U("key", "recover", "VAULT NAME", 2, 2, 0, "recover a deleted key", o_none),
    U("key", "purge", "VAULT NAME", 2, 2, CLI_S_DESTROYS, "purge a deleted key for good", o_yes),
    U("key", "backup", "VAULT NAME", 2, 2, 0, "back a key up to a file", o_key_backup),
    U("key", "restore", "VAULT", 1, 1, 0, "restore a key from a backup file", o_key_restore),
    U("key", "wrap", "VAULT NAME", 2, 2, 0, "wrap bytes with the key (--value or --in)", o_key_wrap),
    U("key", "unwrap", "VAULT NAME", 2, 2, 0, "unwrap bytes with the key (--value or --in)", o_key_wrap),
    U("key", "policy", "VAULT NAME", 2, 2, 0, "show or set the key's rotation policy", o_key_policy),

    U("flow", "create", "", 0, 0, 0, "create a flow from a definition", o_flow_create),
    U("flow", "import", "", 0, 0, 0, "import a package made by `flow export`", o_flow_create),
    U("flow", "list", "", 0, 0, 0, "the environment's flows", o_flow_env),
    U("flow", "schedules", "", 0, 0, 0, "the recurrence flows' next runs", o_flow_env),
    U("flow", "show", "FLOW", 1, 1, 0, "one flow", o_flow_env),
    U("flow", "update", "FLOW", 1, 1, 0, "change a flow", o_flow_update),
    U("flow", "enable", "FLOW", 1, 1, 0, "turn a flow on", o_flow_env),
    U("flow", "disable", "FLOW", 1, 1, 0, "turn a flow off", o_flow_env),
    U("flow", "delete", "FLOW", 1, 1, 0, "delete a flow", o_flow_env),
    U("flow", "trigger-url", "FLOW", 1, 1, 0, "an HTTP-trigger flow's URL with its signature (makers and admins only)",
      o_flow_env),
    U("flow", "save-as", "FLOW", 1, 1, 0, "a copy of a flow (HTTP-trigger copies get a new URL)", o_flow_save_as),
    U("flow", "export", "FLOW", 1, 1, 0, "a flow as a package", o_flow_export),
    U("flow", "run", "FLOW", 1, 1, 0, "run a flow and wait for its end (exit 5 if it ends Failed)", o_flow_run),

    U("flows", "mmk", "", 0, 0, 0, "flows on the Microsoft-managed key (Get-AdminFlowEncryptedByMicrosoftKey)", o_flows_mmk),
    U("app", "register-flow", "FLOW", 1, 1, 0, "reference a Power Apps-trigger flow from an app", o_app_register),
    U("machine-group", "create", "", 0, 0, 0, "create a hosted RPA machine group", o_mg_create),
    U("machine-group", "list", "", 0, 0, 0, "the environment's machine groups", o_flow_env),
    U("machine-group", "reprovision", "GROUP", 1, 1, 0, "reprovision a group's VMs (their disks take the CMK)", o_flow_env),
    U("run", "list", "", 0, 0, 0, "run history", o_run_list),
    U("run", "show", "RUN", 1, 1, 0, "one run with its actions", o_flow_env),
    U("run", "export-csv", "", 0, 0, 0, "run history as CSV", o_run_csv),
    U("conn", "create", "", 0, 0, 0, "create a connection", o_conn_create),
    U("conn", "show", "CONN", 1, 1, 0, "one connection", o_flow_env),

    U("policy", "create", "NAME", 1, 1, 0, "create an enterprise policy of kind Encryption", o_policy_create),
    U("policy", "list", "", 0, 0, 0, "list policies", o_tenant_opt),
    U("policy", "show", "POLICY", 1, 1, 0, "one policy", o_none),
    U("policy", "validate", "POLICY", 1, 1, 0, "check the policy's vault, key and access", o_none),
    U("policy", "delete", "POLICY", 1, 1, 0, "delete a policy without environments", o_none),
    U("policy", "grant-identity", "POLICY", 1, 1, 0,
      "give the policy's identity get, wrapKey, unwrapKey on its vault", o_none),
    U("policy", "add-env", "POLICY ENV", 2, 2, 0, "add an environment (it is disabled meanwhile)", o_no_wait),
    U("policy", "remove-env", "ENV", 1, 1, 0, "back to the Microsoft-managed key", o_no_wait),
    U("policy", "move-env", "ENV", 1, 1, 0, "remove + add: two operations, two outages", o_move_env),
    U("policy", "operation", "ID", 1, 1, 0, "wait for an operation to end (--no-wait: its status now)", o_no_wait),
    U("policy", "env-status", "ENV", 1, 1, 0, "an environment's policy, lock, key version, pending rotation", o_none),
    U("policy", "apply-rotation", "POLICY", 1, 1, 0, "apply pending key rotations now (else 24 h after rotation)", o_none),

    U("support", "raise-cmk-limit", "", 0, 0, 0, "the support ticket for more than 25 CMK environments", o_raise),
    U("support", "run-history", "", 0, 0, 0, "run history kept on the old infrastructure after migration", o_support_env),
    U("support", "protect-flows", "", 0, 0, 0, "the ticket that moves the remaining flows to the CMK", o_protect),

    U("firewall", "status", "", 0, 0, 0, "the firewall's rules and counters", o_none),
    U("firewall", "apply", "CONFIG.json", 1, 1, 0, "apply a firewall configuration (configs/firewalls/)", o_none),
    U("firewall", "fault", "latency|reset|timeout", 1, 1, 0, "inject a network fault at the firewall", o_fault),
    U("metrics", NULL, "", 0, 0, 0, "egress counters per service tag and outcome (Prometheus text)", o_none),
    U("audit", "list", "", 0, 0, 0, "the audit log, filtered", o_audit_list),
    U("audit", "verify", "", 0, 0, 0, "check the hash chain (exit 1 if tampered)", o_none),
    U("drill", "run", "FILE", 1, 1, 0, "a firewall misconfiguration drill on a fresh cluster, with a report", o_drill),
    U("identity", "add", "NAME", 1, 1, 0, "a client identity: its key goes to <run dir>/keys/NAME.key", o_identity_add),
    U("identity", "list", "", 0, 0, 0, "the authorized identities", o_none),
    U("identity", "remove", "NAME", 1, 1, 0, "take an identity made with `add` out again", o_none),
    U("identity", "matrix", "", 0, 0, 0, "which role may call which class of operation", o_none),
    U("call", NULL, "TYPE [BODY-JSON|-]", 1, 2, 0,
      "send one raw request and print the reply (body: JSON argument, --file F, or - for stdin)", o_call),
    U("protocol", NULL, "", 0, 0, 0,
      "every request type: who may send it, where it goes, its limits (the operation table)", o_protocol),
    U("curve-keygen", NULL, "FILE", 1, 1, 0, "write a new CURVE key pair (for --curve-key)", o_none),
    U("completion", "bash", "", 0, 0, 0, "bash completion for cmkctl: source <(cmkctl completion bash)", o_completion),
    U("man", NULL, "", 0, 0, 0, "the man page cmkctl(1), as roff, generated from these tables", o_none),
    { NULL, NULL, NULL, 0, 0, 0, NULL, NULL },
};

static const cli_cmd commands[] = {
    { "up", cmd_up, "[--config FILE] [--set NAME=VALUE]...",
      "start a cluster in the background (controller, shared worker, gateway, firewall)", NULL, NULL },
    { "down", cmd_down, "", "stop the cluster; no process, socket or lock is left behind", NULL, NULL },
    { "status", cmd_status, "", "every process: pid, role, state, uptime, heartbeat age, restarts", NULL, NULL },
    { "ping", cmd_ping, "[--target all|controller|NAME]", "ping processes through the controller", NULL, NULL },
    { "scenario", cmd_scenario, "run FILE", "run a scenario: a JSON list of cmkctl steps with expected outcomes",
      NULL, "Shipped scenarios: configs/scenarios/ (make run runs default.json).\n" },
    { "tenant", cmd_tenant, "create ID [--name N] | list | show ID", "tenants", "list", NULL },
    { "env", cmd_env, "create|list|show|enable-managed|delete ...", "environments (`cmkctl env --help` for details)",
      "list",
      "ENV is an environment id or a unique name. REGION: a Power Platform region such as\n"
      "unitedstates or europe. Only managed environments can be added to an enterprise policy.\n\n"
      "Rules (Power Platform, \"Environment database operations\"): a backup restores only into the\n"
      "environment it was taken from or another encrypted with the same customer-managed key, and\n"
      "only when the encryption state (Microsoft- or customer-managed) matches the state at backup\n"
      "time; copy overwrites only another environment with the same customer-managed key; locked\n"
      "environments can't be restored, copied, backed up or reset; after a reset the environment\n"
      "is on the Microsoft-managed key. delete, restore, copy and reset ask on a terminal; scripts\n"
      "pass --yes.\n\n"
      "Example:\n"
      "  cmkctl env create --tenant contoso --name \"Contoso Prod\" --region unitedstates --managed\n" },
    { "clock", cmd_clock, "[show] | advance DURATION", "the controller's clock (advance: virtual mode only)", "show",
      NULL },
    { "tenant-key", cmd_tenant_key, "generate|upload|activate|list|status|kek ...",
      "legacy tenant encryption keys (BYOK, `cmkctl tenant-key --help`)", NULL,
      "Legacy: move to customer-managed keys; see `cmkctl policy --help`. Related:\n"
      "  cmkctl tenant enable-byok|lock|unlock-key TENANT ...\n"
      "  cmkctl env apply-tenant-key|return-to-microsoft-key|unlock|byok-state ENV\n" },
    { "vault", cmd_vault, "create|show|list|update|delete|recover|purge|grant|revoke|access|network-rule ...",
      "the simulated Azure Key Vault (`cmkctl vault --help`)", "list",
      "Permissions: get list wrapKey unwrapKey encrypt decrypt create import update delete\n"
      "recover purge backup restore rotate getRotationPolicy setRotationPolicy manageAccess\n"
      "manageVault, or: data, management, all. The vault's creator gets all of them.\n\n"
      "Example (what an enterprise policy needs):\n"
      "  cmkctl vault create contoso-kv --tenant contoso --region unitedstates --purge-protection\n"
      "  cmkctl vault grant contoso-kv --principal pp-identity --perms get,wrapKey,unwrapKey\n" },
    { "key", cmd_key, "create|import|import-byok|byok-export|show|list|versions|rotate|...",
      "keys in a vault (`cmkctl key --help`)", NULL,
      "VAULT NAME name a key. DATE is like 2027-01-31T00:00:00Z; +DUR counts from the controller's\n"
      "clock (+90d). A key-exchange key for .byok import is a key created with --kty RSA-HSM --ops import.\n"
      "Disabling, deleting or purging the key of an enterprise policy locks its environments;\n"
      "`cmkctl key enable VAULT NAME` and then `cmkctl env reenable ENV` bring them back.\n\n"
      "Example:\n"
      "  cmkctl key create contoso-kv cmk-key --size 3072\n"
      "  cmkctl key wrap contoso-kv cmk-key --value $(openssl rand -base64 32)\n" },
    { "flow", cmd_flow, "create|list|show|update|enable|disable|delete|save-as|export|import|run ...",
      "flows of an environment (`cmkctl flow --help`)", NULL,
      "ENV is an environment id or name, FLOW a flow id. A definition is a Logic Apps workflow\n"
      "definition (see configs/flows/ for one of each trigger and action). It is checked when\n"
      "saved; the first error comes with its path. Runs: `cmkctl run --help`; connections:\n"
      "`cmkctl conn --help`.\n\n"
      "Example:\n"
      "  cmkctl flow create --env \"Contoso Prod\" --file configs/flows/manual-compose.json\n" },
    { "flows", cmd_flows, "mmk --env ENV [--cannot-migrate]",
      "flows on the Microsoft-managed key (Get-AdminFlowEncryptedByMicrosoftKey)", NULL, NULL },
    { "app", cmd_app, "register-flow --env ENV FLOW [--app NAME]", "reference a Power Apps-trigger flow from an app",
      NULL, NULL },
    { "machine-group", cmd_machine_group, "create|list|reprovision --env ENV ...", "hosted RPA machine groups", NULL,
      NULL },
    { "run", cmd_run, "list|show|export-csv --env ENV ...", "run history of flows", NULL, NULL },
    { "conn", cmd_conn, "create|show --env ENV ...", "connections (OAuth and non-OAuth)", NULL, NULL },
    { "policy", cmd_policy, "create|list|show|validate|delete|add-env|remove-env|move-env|operation ...",
      "enterprise policies of kind Encryption (`cmkctl policy --help`)", "list",
      "A policy's identity (pp-identity-...) needs get, wrapKey and unwrapKey on the vault:\n"
      "`cmkctl policy grant-identity POLICY` gives them. The vault needs soft delete and purge\n"
      "protection; the key is RSA or RSA-HSM of 2048 or 3072 bits. A new key version is applied\n"
      "to the policy's environments 24 hours after the rotation (policy.rotation_apply); keep the\n"
      "previous version enabled 28 days after it.\n\n"
      "Example:\n"
      "  cmkctl policy create contoso-cmk --tenant contoso --vault contoso-kv --key cmk-key --region unitedstates\n"
      "  cmkctl policy grant-identity contoso-cmk\n"
      "  cmkctl policy validate contoso-cmk && cmkctl policy add-env contoso-cmk \"Contoso Prod\"\n" },
    { "support", cmd_support, "raise-cmk-limit|run-history|protect-flows ...",
      "support tickets: CMK limit, run history after migration, protect flows", NULL, NULL },
    { "firewall", cmd_firewall, "status | apply CONFIG.json | fault KIND ...", "the customer firewall of the cluster",
      "status", "Example firewall configurations: configs/firewalls/.\n" },
    { "metrics", cmd_metrics, "", "egress counters per service tag and outcome (Prometheus text)", NULL, NULL },
    { "audit", cmd_audit, "list [filters] | verify", "the hash-chained audit log", "list", NULL },
    { "drill", cmd_drill, "run FILE [--report-dir DIR]",
      "a firewall misconfiguration drill on a fresh cluster, with a report (configs/drills/)", NULL, NULL },
    { "identity", cmd_identity, "add NAME --role R [--tenant T]... | list | remove NAME | matrix",
      "client identities and what each role may call (`cmkctl identity --help`)", NULL,
      "Act as an identity with `cmkctl --as NAME ...`, e.g. `cmkctl --as reader env list`.\n" },
    { "call", cmd_call, "TYPE [BODY-JSON|-] [--file F]",
      "send one raw request and print the reply (with --as/--curve-key: check what an identity may call)", NULL,
      NULL },
    { "protocol", cmd_protocol, "[--markdown] [--fields]",
      "every request type: who may send it, where it goes, its limits (the operation table)", NULL, NULL },
    { "curve-keygen", cmd_curve_keygen, "FILE",
      "write a new CURVE key pair (for --curve-key: acting as an identity the cluster may not know)", NULL, NULL },
    { "completion", cmd_completion, "bash", "shell completion: source <(cmkctl completion bash)", NULL, NULL },
    { "man", cmd_man, "", "the man page cmkctl(1) as roff (make install installs it)", NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL, NULL },
};

/* cli_commands - the command table */
const cli_cmd *cli_commands(void) { return commands; }

/* cli_usages - every subcommand's option table */
const cli_usage *cli_usages(void) { return usages; }

/* cli_global_options - options valid anywhere on the line */
const cli_option *cli_global_options(void) { return o_global; }
