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
    X("gateway.endpoint", gateway_endpoint, STR, "ipc://{run}/gateway.sock",                       \
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
    X("worker.commit_when_idle", commit_when_idle, BOOL, "true",                                  \
      "commit a partition's pending writes as soon as no request is queued (not only every 5 ms)") \
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
    X("vault.throttle", vault_throttle, BOOL, "true",                                              \
      "enforce Azure Key Vault's per-vault transaction limits (HTTP 429 with retry-after)")        \
    X("vault.throttle_window", vault_throttle_window, DUR, "10s", "the window the limits count over") \
    X("vault.limit_rsa2048", vault_limit_rsa2048, INT, "4000",                                     \
      "cryptographic transactions per window on 2048-bit keys")                                    \
    X("vault.limit_rsa3072", vault_limit_rsa3072, INT, "1000", "... on 3072-bit keys")              \
    X("vault.limit_rsa4096", vault_limit_rsa4096, INT, "250", "... on 4096-bit keys")               \
    X("vault.limit_management", vault_limit_mgmt, INT, "2000",                                     \
      "management transactions per window (create, import, ...)")
