/*
 * config_params.h - every configuration parameter, declared once: name, field, type, default,
 * and what it is for. configs/default.json is checked against this table by a unit test.
 *
 * Types: STR (string), INT (integer), DUR (duration string like "500ms", "72h", "7d", stored
 * as int64 ms), BOOL. Endpoints may contain {run}, replaced by the absolute run directory.
 *
 * X(name, field, type, default, doc)
 */
#define CMK_CONFIG_PARAMS(X)                                                                       \
    X("log.level", log_level, STR, "info", "debug, info, warn or error")                           \
    X("clock.mode", clock_mode, STR, "real", "real, or virtual (cmkctl clock advance moves it)")   \
    X("controller.front", controller_front, STR, "ipc://{run}/controller-front.sock",              \
      "front door: clients (cmkctl, cmk-bench, gateway ingress) send requests here")               \
    X("controller.back", controller_back, STR, "ipc://{run}/controller-back.sock",                 \
      "back end: workers, gateway and firewall register and heartbeat here")                       \
    X("gateway.endpoint", gateway_endpoint, STR, "ipc://{run}/gateway/gateway.sock",               \
      "workers send outbound HTTP actions to the gateway here")                                    \
    X("heartbeat.interval", heartbeat_interval, DUR, "500ms", "heartbeat period, both ways")       \
    X("heartbeat.liveness", heartbeat_liveness, INT, "4",                                          \
      "heartbeats missed before a peer is taken for dead")                                         \
    X("peer.reconnect_min", reconnect_min, DUR, "100ms", "first reconnect delay of a peer")       \
    X("peer.reconnect_max", reconnect_max, DUR, "5s", "cap of a peer's reconnect backoff")        \
    X("supervisor.restart_min", restart_min, DUR, "100ms", "first restart delay of a dead child")  \
    X("supervisor.restart_max", restart_max, DUR, "5s", "cap of a child's restart backoff")       \
    X("supervisor.stop_timeout", stop_timeout, DUR, "5s",                                          \
      "how long children get to exit on SIGTERM before SIGKILL")                                   \
    X("supervisor.wrapper", child_wrapper, STR, "",                                                \
      "command prefix for every child, e.g. \"valgrind --error-exitcode=99\"")                    \
    X("supervisor.bin_dir", bin_dir, STR, "",                                                      \
      "where cmk-worker, cmk-gateway and cmk-firewall are; empty: beside cmk-controller")         \
    X("supervisor.firewall", spawn_firewall, BOOL, "true", "run the customer firewall daemon")    \
    X("supervisor.console", spawn_console, BOOL, "true", "run the browser console (cmk-console)")  \
    X("console.listen", console_listen, STR, "127.0.0.1:0",                                        \
      "address of the browser console; port 0 picks a free one, kept in <run>/console.http")     \
    X("console.refresh", console_refresh, DUR, "1s",                                               \
      "how often the console reads the cluster while a browser is watching")                     \
    X("console.reports", console_reports, STR, "{run}/reports",                                    \
      "directory of drill reports the console lists (cmkctl drill run --report-dir)")            \
    X("request.timeout", request_timeout, DUR, "10s",                                              \
      "how long a routed request waits for its process (including a restart) before failing")     \
    X("worker.confine", worker_confine, BOOL, "true",                                             \
      "a dedicated worker confines itself after start: Landlock to its partition, seccomp")      \
    X("cluster.user", cluster_user, STR, "nobody",                                                \
      "started as root, every process becomes this user (and hands it the run dir) at start")     \
    X("confine.mode", confine_mode, STR, "enforce",                                               \
      "enforce, log (calls outside a role's seccomp list are only logged: dmesg) or off")         \
    X("confine.probe", confine_probe, BOOL, "false",                                              \
      "after confining itself, each process tries what it must not do and logs it (confine.probe)") \
    X("worker.commit_when_idle", commit_when_idle, BOOL, "true",                                  \
      "commit a partition's pending writes as soon as no request is queued (not only every 5 ms)") \
    X("worker.dedup_window", dedup_window, DUR, "5m",                                            \
      "a flow.run's client_req is a duplicate of a run of its flow with the same one started at most this long before") \
    X("request.max_inflight", max_inflight, INT, "4096",                                           \
      "requests in flight to one worker or peer; more get a busy error at once (EBUSY)")           \
    X("gateway.max_inflight", gw_max_inflight, INT, "1024",                                        \
      "outbound HTTP actions the gateway performs at once; more get a busy error (EBUSY)")         \
    X("cluster.start_timeout", start_timeout, DUR, "20s",                                          \
      "how long cmkctl up waits for every process to be ready")                                   \
    X("egress.service_tags", service_tags, STR, "",                                                \
      "Azure-format service-tag file for egress ranges; empty: configs/service-tags.json")        \
    X("egress.timeout", egress_timeout, DUR, "30s", "timeout of one outbound HTTP action")         \
    X("gateway.http", gateway_http, STR, "127.0.0.1:0",                                            \
      "address of the gateway's HTTP server (trigger URLs, /metrics); port 0 picks a free one")   \
    X("firewall.config", firewall_config, STR, "",                                                 \
      "the customer firewall config (JSON); empty: configs/firewalls/allow-all.json")             \
    X("firewall.mode", firewall_mode, STR, "auto",                                                 \
      "kernel (nftables in a user+network namespace), userspace, or auto (kernel when possible)") \
    X("firewall.endpoint_port", endpoint_port, INT, "18080",                                       \
      "port of the simulated customer HTTP endpoints behind the firewall")                       \
    X("policy.cmk_env_limit", cmk_env_limit, INT, "25",                                           \
      "CMK environments per tenant unless raised by a support ticket")                            \
    X("policy.reenable_time", reenable_time, DUR, "2m",                                            \
      "how long Re-enable environment takes (the documents: within 5 minutes)")                  \
    X("policy.locked_delete_sandbox", locked_delete_sandbox, DUR, "7d",                            \
      "a locked sandbox environment not re-enabled is deleted after this")                       \
    X("policy.locked_delete_production", locked_delete_production, DUR, "30d",                     \
      "a locked production environment not re-enabled is deleted after this")                    \
    X("policy.health_interval", health_interval, DUR, "1m",                                        \
      "how often the health monitor checks every policy's key (also after each vault change)")   \
    X("policy.key_retention_after_unlink", key_retention_after_unlink, DUR, "30d",                 \
      "the key and its access must be kept this long after an environment leaves a policy")      \
    X("policy.old_version_grace", old_version_grace, DUR, "28d",                                   \
      "disabling or deleting a rotated-away key version earlier than this is warned about")      \
    X("policy.rotation_apply", rotation_apply, DUR, "24h",                                         \
      "a new key version is applied to linked environments (data keys re-wrapped) after this")   \
    X("migration.step_delay", migration_step_delay, DUR, "0s",                                      \
      "pause between two flows of a migration (slows it down to watch or interrupt it)")           \
    X("migration.step_gate", migration_step_gate, BOOL, "false",                                   \
      "move a flow only when <run>/migration.step exists (removed as each flow moves): a rehearsal steps a migration by hand") \
    X("envops.step_gate", envops_step_gate, BOOL, "false",                                         \
      "a restore, copy or reset stages a flow (or commits) only when <run>/envops.step exists (removed at each step)") \
    X("vault.throttle", vault_throttle, BOOL, "true",                                              \
      "enforce Azure Key Vault's per-vault transaction limits (HTTP 429 with retry-after)")        \
    X("vault.throttle_window", vault_throttle_window, DUR, "10s", "the window the limits count over") \
    X("vault.limit_rsa2048", vault_limit_rsa2048, INT, "4000",                                     \
      "cryptographic transactions per window on 2048-bit keys")                                    \
    X("vault.limit_rsa3072", vault_limit_rsa3072, INT, "1000", "... on 3072-bit keys")              \
    X("vault.limit_rsa4096", vault_limit_rsa4096, INT, "250", "... on 4096-bit keys")               \
    X("vault.limit_management", vault_limit_mgmt, INT, "2000",                                     \
      "management transactions per window (create, import, ...)")                                 \
    X("vault.microsoft_services", vault_ms_ranges, STR, "127.20.0.0/16",                           \
      "where Power Platform's calls to a customer's key vault come from (PowerPlatformInfra in "   \
      "configs/service-tags.json): a vault firewall IP rule must reach them") \
    X("message.max_size", msg_max_size, INT, "16777216",                                           \
      "largest frame any socket accepts (ZMQ_MAXMSGSIZE, bytes); a peer that sends more is cut off") \
    X("run.data_budget", run_data_budget, INT, "16777216",                                         \
      "bytes of data one run may hold (trigger, expression results, action outputs, its record)")  \
    X("run.max_descendants", run_max_descendants, INT, "100",                                      \
      "child-flow runs one top-level run may start in all (children, grandchildren, ...)")       \
    X("run.timeout", run_timeout, DUR, "1h",                                                        \
      "a run still Running this long after its start (cluster clock) is failed by the sweeper")  \
    X("recurrence.catchup_max", recurrence_catchup_max, INT, "10",                                 \
      "missed occurrences of one recurrence fired after a clock jump; the rest are logged once")  \
    X("gateway.per_ip_connections", gw_per_ip_connections, INT, "16",                              \
      "HTTP connections one source address may hold open on the gateway at once")                \
    X("gateway.max_connections", gw_max_connections, INT, "512",                                   \
      "HTTP connections the gateway holds open at once (all sources)")                            \
    X("gateway.connection_timeout", gw_connection_timeout, DUR, "5s",                              \
      "an HTTP connection idle this long (headers or body not arriving) is closed")              \
    X("gateway.max_trigger_inflight", gw_max_trigger_inflight, INT, "256",                         \
      "trigger-URL calls the gateway has in flight to the controller at once; one more gets 429")  \
    X("log.max_size", log_max_size, INT, "67108864",                                               \
      "a log file is rotated (to NAME.1, one generation kept) once it passes this many bytes")   \
    X("log.warn_burst", log_warn_burst, INT, "20",                                                 \
      "the same warning is logged at most this many times a minute; the rest are counted")      \
    X("metrics.enabled", metrics_enabled, BOOL, "true",                                            \
      "every process serves Prometheus metrics on a loopback port (<run>/metrics/<name>.port)")   \
    X("metrics.scrape_interval", metrics_scrape_interval, DUR, "5s",                               \
      "scrape interval written into <run>/prometheus.yml by cmkctl up")

/*
 * The range and unit of every parameter: R(name, min, max, unit). INT and DUR values must lie
 * in [min, max] (DUR in milliseconds); STR: min..max is the length in bytes; BOOL: 0..1.
 * A STR unit "one of: a|b|c" lists the only values; a unit starting "host:port" is checked as
 * one. A value outside is refused, naming the parameter and the range, before anything starts.
 * Every parameter has exactly one row (tests/unit/config_test.c checks).
 */
#define CMK_MS_DAY (86400000LL)
#define CMK_MS_YEAR (365LL * CMK_MS_DAY)
#define CMK_CONFIG_RANGES(R)                                                                       \
    R("log.level", 4, 5, "one of: debug|info|warn|error")                                             \
    R("clock.mode", 4, 7, "one of: real|virtual")                                                       \
    R("controller.front", 1, 1000, "endpoint")                                                     \
    R("controller.back", 1, 1000, "endpoint")                                                      \
    R("gateway.endpoint", 1, 1000, "endpoint")                                                     \
    R("heartbeat.interval", 10, 60000, "ms")                                                       \
    R("heartbeat.liveness", 2, 100, "heartbeats")                                                  \
    R("peer.reconnect_min", 1, 60000, "ms")                                                        \
    R("peer.reconnect_max", 1, 3600000, "ms")                                                      \
    R("supervisor.restart_min", 1, 60000, "ms")                                                    \
    R("supervisor.restart_max", 1, 3600000, "ms")                                                  \
    R("supervisor.stop_timeout", 0, 600000, "ms")                                                  \
    R("supervisor.wrapper", 0, 1000, "command text")                                               \
    R("supervisor.bin_dir", 0, 4000, "path")                                                       \
    R("supervisor.firewall", 0, 1, "boolean")                                                      \
    R("request.timeout", 100, CMK_MS_DAY, "ms")                                                    \
    R("worker.confine", 0, 1, "boolean")                                                           \
    R("cluster.user", 0, 32, "user name (\"\" or root: keep uid 0, drop capabilities)")             \
    R("confine.mode", 3, 7, "one of: enforce|log|off")                                             \
    R("confine.probe", 0, 1, "boolean")                                                            \
    R("worker.commit_when_idle", 0, 1, "boolean")                                                  \
    R("worker.dedup_window", 1000, 7 * CMK_MS_DAY, "ms")                                           \
    R("request.max_inflight", 1, 1000000, "requests")                                              \
    R("gateway.max_inflight", 1, 1000000, "HTTP actions")                                          \
    R("cluster.start_timeout", 1000, 3600000, "ms")                                                \
    R("egress.service_tags", 0, 4000, "path")                                                      \
    R("egress.timeout", 1, 3600000, "ms")                                                          \
    R("gateway.http", 3, 300, "host:port (port 0..65535; 0 picks a free one, kept in the run dir)") \
    R("firewall.config", 0, 4000, "path")                                                          \
    R("firewall.mode", 4, 9, "one of: kernel|userspace|auto")                                          \
    R("firewall.endpoint_port", 1, 65535, "TCP port")                                              \
    R("policy.cmk_env_limit", 0, 100000, "environments")                                           \
    R("policy.reenable_time", 0, CMK_MS_YEAR, "ms")                                                \
    R("policy.locked_delete_sandbox", 0, 10 * CMK_MS_YEAR, "ms")                                   \
    R("policy.locked_delete_production", 0, 10 * CMK_MS_YEAR, "ms")                                \
    R("policy.health_interval", 1000, CMK_MS_YEAR, "ms")                                           \
    R("policy.key_retention_after_unlink", 0, 10 * CMK_MS_YEAR, "ms")                              \
    R("policy.old_version_grace", 0, 10 * CMK_MS_YEAR, "ms")                                       \
    R("policy.rotation_apply", 0, 10 * CMK_MS_YEAR, "ms")                                          \
    R("migration.step_delay", 0, 3600000, "ms")                                                    \
    R("migration.step_gate", 0, 1, "boolean")                                                      \
    R("envops.step_gate", 0, 1, "boolean")                                                         \
    R("vault.throttle", 0, 1, "boolean")                                                           \
    R("vault.throttle_window", 1, CMK_MS_DAY, "ms")                                                \
    R("vault.limit_rsa2048", 1, 100000000, "transactions")                                         \
    R("vault.limit_rsa3072", 1, 100000000, "transactions")                                         \
    R("vault.limit_rsa4096", 1, 100000000, "transactions")                                         \
    R("vault.limit_management", 1, 100000000, "transactions")                                      \
    R("vault.microsoft_services", 1, 4000, "comma-separated CIDRs")                               \
    R("supervisor.console", 0, 1, "boolean")                                                       \
    R("console.listen", 3, 300, "host:port (port 0..65535; 0 picks a free one, kept in the run dir)") \
    R("console.refresh", 100, 3600000, "ms")                                                       \
    R("console.reports", 0, 4000, "path")                                                         \
    R("metrics.enabled", 0, 1, "boolean")                                                          \
    R("metrics.scrape_interval", 1000, 3600000, "ms")                                              \
    R("message.max_size", 65536, 268435456, "bytes")                                               \
    R("run.data_budget", 65536, 1073741824, "bytes")                                               \
    R("run.max_descendants", 0, 100000, "child runs")                                              \
    R("run.timeout", 1000, 10 * CMK_MS_YEAR, "ms")                                                 \
    R("recurrence.catchup_max", 1, 100000, "occurrences")                                          \
    R("gateway.per_ip_connections", 1, 100000, "connections")                                      \
    R("gateway.max_connections", 1, 100000, "connections")                                         \
    R("gateway.connection_timeout", 100, 3600000, "ms")                                            \
    R("gateway.max_trigger_inflight", 1, 100000, "calls")                                          \
    R("log.max_size", 65536, 1099511627776LL, "bytes")                                             \
    R("log.warn_burst", 1, 1000000, "lines a minute")
