/* app.js - the cmksim console page: polls /api/world every second and draws the cluster the
 * way the Power Platform admin center shows it. Read-only; every value goes through esc(). */
"use strict";

const POLL_MS = 1000;
const COLORS = ["#107c10", "#a4262c", "#ca5010", "#8764b8", "#0f6cbd", "#986f0b", "#038387", "#c239b3", "#4f6bed"];

/* esc - text to HTML */
function esc(v) {
  return String(v === undefined || v === null ? "" : v).replace(/[&<>"']/g, c =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/* when - "2026-12-06T18:10:08.373Z" to "2026-12-06 18:10:08 UTC" */
function when(t) {
  if (!t) return "";
  return String(t).replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC");
}

/* dur - milliseconds to "3d 4h", "5m 2s", "800ms" */
function dur(ms) {
  if (ms === undefined || ms === null || ms < 0) return "-";
  const s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
    m = Math.floor(s % 3600 / 60);
  if (d) return d + "d " + h + "h";
  if (h) return h + "h " + m + "m";
  if (m) return m + "m " + (s % 60) + "s";
  if (s) return s + "s";
  return ms + "ms";
}

function pill(text, kind) { return `<span class="pill ${kind}">${esc(text)}</span>`; }

/* encryption - the admin center's words for an environment's encryption */
function encryption(e) {
  const v = String(e.encryption || "").toLowerCase();
  if (v === "microsoft") return "Microsoft-managed key";
  if (v === "customer") return "Customer-managed key";
  if (v.includes("via")) return "Customer via Microsoft";
  if (v === "self-managed") return "Tenant key (BYOK)";
  if (v === "locked") return "Tenant key (locked)";
  return e.encryption || "-";
}

/* envState - the state pill and its details */
function envState(e, nowMs) {
  const st = e.state || "?";
  let html, det = "";
  if (st === "Ready") html = pill("Ready", "ok");
  else if (st === "Locked") {
    html = pill("Locked", "bad");
    if (e.lock_reason) det += `<div class="detail bad">${esc(e.lock_reason)}</div>`;
    if (e.locked_at) det += `<div class="detail">Locked since ${esc(when(e.locked_at))}</div>`;
    if (e.deletion_due) det += `<div class="detail">Deleted on ${esc(when(e.deletion_due))}` +
      (nowMs ? ` (in ${esc(dur(e.deletion_due_ms - nowMs))})` : "") + ` unless re-enabled</div>`;
  } else if (st === "Disabled") html = pill("Disabled", "bad");
  else html = pill(st, "info");
  const m = e.migration;
  if (m && (m.status === "Running" || st === "Migrating")) {
    html += " " + pill("Migrating", "info");
    det += `<div class="detail">Moving flows to ${esc(e.infrastructure || "dedicated")} infrastructure: ${esc(m.moved || 0)} moved` +
      `${m.held && m.held.length ? ", " + esc(m.held.length) + " held on the Microsoft-managed key" : ""}</div><div class="progress"><i></i></div>`;
  } else if (m && m.status === "Done" && m.held && m.held.length) {
    det += `<div class="detail">${esc(m.held.length)} flow(s) stay on the Microsoft-managed key</div>`;
  }
  if (e.link_status && e.link_status !== "Linked") det += `<div class="detail">Policy link: ${esc(e.link_status)}</div>`;
  return html + det;
}

/* counts - {key: n} of an array by a function */
function counts(arr, f) {
  const o = {};
  for (const x of arr) { const k = f(x); o[k] = (o[k] || 0) + 1; }
  return o;
}

function renderErrors(w) {
  const el = document.getElementById("errors");
  el.innerHTML = (w.errors || []).map(e => `<div class="err">Could not read: ${esc(e)}</div>`).join("");
}

function renderBanners(w) {
  const out = [];
  for (const e of w.environments || []) {
    if (e.state === "Locked") {
      out.push(`<div class="banner" data-env="${esc(e.id)}"><span class="icon">!</span><div>` +
        `<b>Environment disabled</b>${esc(e.name)} (${esc(e.id)}) is disabled: its encryption key cannot be reached, ` +
        `so its data, flows and apps are unavailable.` + (e.lock_reason ? ` Cause: ${esc(e.lock_reason)}.` : "") +
        (e.deletion_due ? ` It will be deleted on ${esc(when(e.deletion_due))} unless the key is restored and the environment is re-enabled.` : "") +
        `</div></div>`);
    }
  }
  for (const p of w.policies || []) {
    if (p.health && p.health !== "Healthy" && p.state !== "Disabled")
      out.push(`<div class="banner warn"><span class="icon">!</span><div><b>Enterprise policy ${esc(p.name)} is ${esc(p.health)}</b>${esc(p.health_reason || "")}</div></div>`);
  }
  document.getElementById("banners").innerHTML = out.join("");
}

function card(k, v, s) { return `<div class="card"><div class="k">${esc(k)}</div><div class="v">${v}</div><div class="s">${s}</div></div>`; }

function renderCards(w) {
  const envs = w.environments || [], st = counts(envs, e => e.state);
  const cmk = envs.filter(e => e.encryption === "customer").length;
  const pols = w.policies || [], healthy = pols.filter(p => p.health === "Healthy").length;
  const keys = (w.vaults || []).reduce((n, v) => n + (v.keys || []).length, 0);
  const procs = w.processes || [], ready = procs.filter(p => p.state === "ready").length;
  const s = w.series || {}, runs = s.runs || [];
  /* the last 5 seconds: one second alone is too jumpy to read */
  const sum5 = v => v.slice(-5).reduce((n, x) => n + x, 0);
  const last = Math.round(sum5(runs) / 5 * 10) / 10;
  const fails = (s.causes || []).reduce((n, c) => n + sum5(c.values), 0);
  document.getElementById("cards").innerHTML = [
    card("Tenants", esc((w.tenants || []).length), "&nbsp;"),
    card("Environments", esc(envs.length), `${esc(st.Ready || 0)} ready` + (st.Locked ? `, <span class="badtext">${esc(st.Locked)} locked</span>` : "") + `, ${esc(cmk)} on a customer key`),
    card("Enterprise policies", esc(pols.length), `${esc(healthy)} healthy` + (pols.length - healthy ? `, <span class="badtext">${esc(pols.length - healthy)} not</span>` : "")),
    card("Keys", esc(keys), `in ${esc((w.vaults || []).length)} key vault(s)`),
    card("Runs / s", esc(last), fails ? `<span class="badtext">${esc(fails)} failures</span> in the last 5 s` : "no failures in the last 5 s"),
    card("Processes", `${esc(ready)}/${esc(procs.length)}`, "ready"),
  ].join("");
}

function renderEnvs(w) {
  const envs = w.environments || [], now = w.clock ? w.clock.now_ms : 0;
  const pols = {};
  for (const p of w.policies || []) pols[p.id] = p.name;
  const rows = envs.map(e => `<tr data-env="${esc(e.id)}" data-state="${esc(e.state)}">` +
    `<td><span class="name">${esc(e.name)}</span><span class="id">${esc(e.id)}${e.managed ? " · Managed" : ""}</span></td>` +
    `<td>${esc(e.type ? e.type[0].toUpperCase() + e.type.slice(1) : "")}</td><td>${esc(e.region)}</td><td>${esc(e.tenant)}</td>` +
    `<td>${esc(encryption(e))}${e.key_version ? `<span class="id">key version ${esc(String(e.key_version).slice(0, 12))}</span>` : ""}</td>` +
    `<td>${envState(e, now)}</td>` +
    `<td>${e.policy ? esc(pols[e.policy] || e.policy) : '<span class="muted">-</span>'}</td>` +
    `<td>${esc(e.infrastructure || "")}</td></tr>`);
  document.getElementById("env-rows").innerHTML = rows.join("") ||
    '<tr><td colspan="8" class="muted">No environments yet: <code>cmkctl env create</code></td></tr>';
}

function renderPolicies(w) {
  const names = {};
  for (const e of w.environments || []) names[e.id] = e.name;
  const rows = (w.policies || []).map(p => {
    const envs = (p.environments || []).map(l =>
      `<div>${esc(names[l.env] || l.env)} ${pill(l.locked ? "Locked" : l.status, l.locked ? "bad" : l.status === "Linked" ? "ok" : "info")}</div>`).join("");
    const h = p.health === "Healthy" ? pill("Healthy", "ok") : pill(p.health || "?", "bad");
    return `<tr><td><span class="name">${esc(p.name)}</span><span class="id">${esc(p.id)} · ${esc(p.identity || "")}</span></td>` +
      `<td>${esc(p.tenant)}</td><td>${esc(p.region)}</td><td>${esc(p.vault)}/${esc(p.key)}${p.version ? `<span class="id">${esc(p.version)}</span>` : ""}</td>` +
      `<td>${pill(p.state, p.state === "Enabled" ? "ok" : "plain")}</td>` +
      `<td>${h}${p.health_reason && p.health !== "Healthy" ? `<div class="detail bad">${esc(p.health_reason)}</div>` : ""}</td>` +
      `<td>${envs || '<span class="muted">none</span>'}</td></tr>`;
  });
  document.getElementById("pol-rows").innerHTML = rows.join("") ||
    '<tr><td colspan="7" class="muted">No enterprise policies: <code>cmkctl policy create</code></td></tr>';
}

/* keyHealth - what a key can do for its policies now */
function keyHealth(k, nowMs) {
  const a = k.attributes || {};
  const exp = a.exp ? Date.parse(a.exp) : 0;
  if (a.enabled === false) return pill(a.keyEnabled === false ? "Disabled" : "Version disabled", "bad");
  if (exp && nowMs && exp <= nowMs) return pill("Expired", "bad");
  if (exp && nowMs && exp - nowMs < 30 * 86400000) return pill("Expires in " + dur(exp - nowMs), "warn");
  return pill("Healthy", "ok");
}

function renderVaults(w) {
  const now = w.clock ? w.clock.now_ms : 0;
  const html = (w.vaults || []).map(v => {
    const keys = (v.keys || []).map(k => {
      const a = k.attributes || {};
      const vers = (k.versions || []).map(x => {
        const xa = x.attributes || {};
        return `<div><code>${esc(x.version ? String(x.version).slice(0, 12) : "?")}</code> ${x.current ? "current · " : ""}${xa.versionEnabled === false ? "disabled" : "enabled"} · created ${esc(when(xa.created))}</div>`;
      }).join("");
      return `<tr><td><span class="name">${esc(k.name)}</span></td>` +
        `<td>${esc((k.key && k.key.kty) || "")} ${esc(k.keySize || "")}</td>` +
        `<td>${a.enabled === false ? pill("No", "bad") : pill("Yes", "ok")}</td>` +
        `<td>${a.exp ? esc(when(a.exp)) : '<span class="muted">never</span>'}</td>` +
        `<td>${keyHealth(k, now)}</td>` +
        `<td class="vers">${esc((k.versions || []).length)} version(s)${vers}</td></tr>`;
    }).join("");
    return `<div class="vault"><header><span class="name">${esc(v.name)}</span><span>${esc(v.tenant)}</span><span>${esc(v.region)}</span>` +
      `<span>purge protection ${v.enablePurgeProtection ? "on" : "off"}</span><span>soft delete ${esc(v.softDeleteRetentionInDays)} days</span>` +
      `<span>${esc(v.vaultUri || "")}</span></header>` +
      `<table class="grid"><thead><tr><th>Key</th><th>Type</th><th>Enabled</th><th>Expires</th><th>Health</th><th>Versions</th></tr></thead>` +
      `<tbody>${keys || '<tr><td colspan="6" class="muted">No keys</td></tr>'}</tbody></table></div>`;
  }).join("");
  document.getElementById("vault-list").innerHTML = html ||
    '<p class="muted">No key vault lets the console read it. Like a Key Vault Reader role assignment in Azure, a vault shows here once it grants the <b>console</b> identity get and list: <code>cmkctl vault grant VAULT --principal console --perms get,list</code></p>';
}

/* renderChart - runs per second (succeeded, failed) and failures by cause, with state changes */
function renderChart(w) {
  const s = w.series, svg = document.getElementById("chart");
  if (!s || !s.runs) return;
  const W = 960, H = 240, L = 40, R = 8, T = 10, B = 22, n = s.runs.length;
  const series = [{ name: "runs started", values: s.runs, color: "#0f6cbd" },
    { name: "succeeded", values: s.succeeded, color: COLORS[0] }];
  (s.causes || []).forEach((c, i) => series.push({ name: c.name, values: c.values, color: COLORS[1 + i % (COLORS.length - 1)] }));
  let max = 1;
  for (const x of series) for (const v of x.values) if (v > max) max = v;
  /* four grid steps of 1, 2 or 5 times a power of ten */
  const raw = max / 4, p10 = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = Math.max(1, [1, 2, 5, 10].map(m => m * p10).find(v => v >= raw));
  max = step * 4;
  const X = i => L + (W - L - R) * i / Math.max(1, n - 1), Y = v => T + (H - T - B) * (1 - v / max);
  const out = [];
  for (let g = 0; g <= 4; g++) {
    const v = max * g / 4;
    out.push(`<line class="gridline" x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}"/>` +
      `<text x="${L - 6}" y="${Y(v) + 4}" text-anchor="end">${esc(+v.toPrecision(6))}</text>`);
  }
  out.push(`<line class="axis" x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}"/>`);
  for (let sec = 0; sec <= n; sec += 30) {
    const i = n - 1 - sec;
    if (i < 0) break;
    out.push(`<text x="${X(i)}" y="${H - 6}" text-anchor="middle">${sec ? "-" + sec + "s" : "now"}</text>`);
  }
  const start = s.end_ms - (n - 1) * s.step_ms;
  for (const ev of w.events || []) {
    if (ev.time_ms < start) continue;
    const x = X((ev.time_ms - start) / s.step_ms);
    out.push(`<line class="ev" x1="${x}" x2="${x}" y1="${T}" y2="${H - B}"/><text x="${x + 3}" y="${T + 10}">${esc(ev.text)}</text>`);
  }
  if (n > 1) /* the runs started, as an area under their line */
    out.push(`<polygon class="area" points="${X(0)},${Y(0)} ${s.runs.map((v, i) => `${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join(" ")} ${X(n - 1)},${Y(0)}"/>`);
  for (const x of series) {
    const pts = x.values.map((v, i) => `${X(i).toFixed(1)},${Y(v).toFixed(1)}`).join(" ");
    out.push(`<polyline fill="none" stroke="${x.color}" stroke-width="${x.name === "runs started" ? 2 : 1.6}" points="${pts}"/>`);
  }
  svg.innerHTML = out.join("");
  document.getElementById("legend").innerHTML = series.map(x =>
    `<span><i class="sw" data-c="${esc(x.color)}"></i>${esc(x.name)}</span>`).join("") +
    '<span class="muted">failed runs come from the workers\' run lists; HTTP actions from the gateway\'s counters</span>';
  for (const i of document.querySelectorAll("#legend i.sw")) i.style.background = i.dataset.c;
  document.getElementById("events").innerHTML = (w.events || []).slice(-8).reverse()
    .map(e => `<li>${esc(when(e.time))}: ${esc(e.text)}</li>`).join("");
}

function renderAudit(w) {
  const rows = (w.audit || []).map(a => `<tr><td class="num">${esc(a.seq)}</td><td class="nw">${esc(when(a.time))}</td><td class="wrap">${esc(a.principal)}</td>` +
    `<td class="nw"><code>${esc(a.operation)}</code></td><td class="wrap">${esc(a.target)}</td>` +
    `<td>${a.result === "ok" ? pill("ok", "ok") : pill(a.result, "bad")}</td><td class="muted wrap">${esc(a.detail)}</td></tr>`);
  document.getElementById("audit-rows").innerHTML = rows.join("") || '<tr><td colspan="7" class="muted">No entries</td></tr>';
  document.getElementById("audit-note").textContent = w.audit_console_reads_hidden ?
    `(newest first; ${w.audit_console_reads_hidden} reads by this console not shown)` : "(newest first)";
}

function renderReports(w) {
  const c = w.console || {};
  document.getElementById("reports-dir").textContent = c.reports_dir ? `(in ${c.reports_dir}: cmkctl drill run FILE --report-dir ${c.reports_dir})` : "";
  document.getElementById("report-list").innerHTML = (w.reports || []).map(r =>
    `<li><a href="/api/reports/${encodeURIComponent(r.name)}" target="_blank" rel="noopener">${esc(r.name)}</a>` +
    `<span>${esc(when(r.modified))}</span><span>${esc(r.size)} bytes</span></li>`).join("") ||
    '<li class="muted">No drill reports yet</li>';
}

function renderTenants(w) {
  const envs = w.environments || [];
  document.getElementById("tenant-rows").innerHTML = (w.tenants || []).map(t => {
    const mine = envs.filter(e => e.tenant === t.id);
    return `<tr><td><span class="name">${esc(t.name || t.id)}</span><span class="id">${esc(t.id)}</span></td><td>${esc(mine.length)}</td>` +
      `<td>${esc(mine.filter(e => e.encryption === "customer").length)} / ${esc(t.cmk_env_limit)}</td><td>${esc(when(t.created))}</td></tr>`;
  }).join("") || '<tr><td colspan="4" class="muted">No tenants: <code>cmkctl tenant create</code></td></tr>';
}

function renderProcs(w) {
  document.getElementById("proc-rows").innerHTML = (w.processes || []).map(p =>
    `<tr><td>${esc(p.name)}</td><td>${esc(p.role)}</td><td>${esc(p.pid)}</td>` +
    `<td>${pill(p.state, p.state === "ready" ? "ok" : "warn")}</td><td>${esc(dur(p.uptime_ms))}</td>` +
    `<td>${p.heartbeat_age_ms === undefined || p.name === "controller" ? "-" : esc(dur(p.heartbeat_age_ms)) + " ago"}</td><td>${esc(p.restarts)}</td></tr>`).join("");
}

function render(w) {
  const c = document.getElementById("clock");
  if (w.clock) {
    c.textContent = "clock: " + when(w.clock.now) + (w.clock.offset && w.clock.offset !== "0s" ? " (+" + w.clock.offset + ")" : "");
    c.classList.toggle("virtual", w.clock.mode === "virtual");
  }
  for (const f of [renderErrors, renderBanners, renderCards, renderEnvs, renderPolicies, renderVaults, renderChart,
    renderAudit, renderReports, renderTenants, renderProcs]) {
    try { f(w); } catch (e) { console.error(f.name, e); }
  }
}

let failures = 0;
async function poll() {
  const live = document.getElementById("live");
  try {
    const r = await fetch("/api/world", { credentials: "same-origin", cache: "no-store" });
    if (r.status === 401) { live.textContent = "signed out: open the URL cmkctl up printed"; live.classList.add("stale"); return; }
    if (!r.ok) throw new Error("HTTP " + r.status);
    const w = await r.json();
    render(w);
    failures = 0;
    live.textContent = "live · updated " + when(w.generated).slice(11);
    live.classList.remove("stale");
  } catch (e) {
    failures++;
    live.textContent = "no answer from the console (" + e.message + ")";
    live.classList.add("stale");
  }
  setTimeout(poll, POLL_MS);
}

/* highlight the section in view */
function trackNav() {
  const links = [...document.querySelectorAll(".side a")];
  const onScroll = () => {
    let cur = links[0];
    for (const a of links) {
      const s = document.querySelector(a.getAttribute("href"));
      if (s && s.getBoundingClientRect().top < 120) cur = a;
    }
    links.forEach(a => a.classList.toggle("current", a === cur));
  };
  document.addEventListener("scroll", onScroll, { passive: true });
  onScroll();
}

document.addEventListener("DOMContentLoaded", () => { trackNav(); poll(); });
