// strom console: a hash-routed page over the broker's JSON API
// (docs/console.md). No libraries: the page is embedded in the binary.
"use strict";

const view = document.getElementById("view");
const errorBox = document.getElementById("error");
let refreshTimer = null;
const lagHistory = new Map(); // "group topic-partition" -> [lag...]
const rateHistory = [];       // broker rates, newest last
let latestRates = null;

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function fmtBytes(n) {
  if (n == null) return "-";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0; n = Number(n);
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + " " + u[i];
}
function fmtNum(n) { return n == null ? "-" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 1 }); }
function showError(msg) {
  errorBox.textContent = msg; errorBox.hidden = false;
  clearTimeout(showError.t); showError.t = setTimeout(() => { errorBox.hidden = true; }, 6000);
}
async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const r = await fetch("/api" + path, opts);
  const data = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) throw new Error(data.error || r.statusText);
  return data;
}
function spark(values, w = 120, h = 24) {
  if (!values.length) return "";
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? w / (values.length - 1) : w;
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`).join(" ");
  return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><polyline fill="none" stroke="#0b6bcb" stroke-width="1.5" points="${pts}"/></svg>`;
}
function chart(series, label, w = 560, h = 140) {
  const max = Math.max(1, ...series.flatMap(s => s.values));
  const lines = series.map(s => {
    const step = s.values.length > 1 ? w / (s.values.length - 1) : w;
    const pts = s.values.map((v, i) => `${(i * step).toFixed(1)},${(h - 4 - (v / max) * (h - 20)).toFixed(1)}`).join(" ");
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts}"/>`;
  }).join("");
  const legend = series.map(s => `<tspan fill="${s.color}">■ ${esc(s.name)}</tspan> `).join("");
  return `<svg class="chart" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-label="${esc(label)}"><text x="6" y="14" font-size="11">${legend} max ${esc(fmtNum(max))}</text>${lines}</svg>`;
}
function setNav(name) {
  document.querySelectorAll("nav a").forEach(a => a.classList.toggle("active", a.dataset.nav === name));
}
function every(ms, fn) { clearInterval(refreshTimer); refreshTimer = setInterval(fn, ms); }

// ---- Cluster ----------------------------------------------------------
async function cluster() {
  setNav("cluster");
  const c = await api("GET", "/cluster");
  const rows = c.brokers.map(b => `<tr><td>${b.id}${b.controller ? " (controller)" : ""}</td><td>${esc(b.address)}</td><td class="ok">${esc(b.health)}</td></tr>`).join("");
  const under = c.under_replicated.map(p => `<tr><td><a href="#/topics/${encodeURIComponent(p.topic)}">${esc(p.topic)}</a></td><td>${p.partition}</td><td>${esc(p.replicas.join(","))}</td><td class="bad">${esc(p.isr.join(","))}</td></tr>`).join("");
  view.innerHTML = `<h1>Cluster</h1>
    <div class="cards">
      <div class="card"><span class="muted">Brokers</span><b>${c.brokers.length}</b></div>
      <div class="card"><span class="muted">Controller</span><b>${c.controller}</b></div>
      <div class="card"><span class="muted">Partitions</span><b>${c.partitions}</b></div>
      <div class="card"><span class="muted">Under-replicated</span><b class="${c.under_replicated.length ? "bad" : "ok"}">${c.under_replicated.length}</b></div>
      <div class="card"><span class="muted">Offline</span><b class="${c.offline.length ? "bad" : "ok"}">${c.offline.length}</b></div>
      <div class="card"><span class="muted">Version</span><b>${esc(c.version)}</b></div>
    </div>
    <h2>Brokers</h2><table><thead><tr><th>ID</th><th>Address</th><th>Health</th></tr></thead><tbody>${rows}</tbody></table>
    <h2>Under-replicated partitions</h2>${under ? `<table><thead><tr><th>Topic</th><th>Partition</th><th>Replicas</th><th>ISR</th></tr></thead><tbody>${under}</tbody></table>` : `<p class="muted">None: every partition has its full ISR.</p>`}`;
}

// ---- Topics -----------------------------------------------------------
async function topics() {
  setNav("topics");
  const ts = await api("GET", "/topics");
  const rows = ts.map(t => `<tr data-topic="${esc(t.name)}"><td><a href="#/topics/${encodeURIComponent(t.name)}">${esc(t.name)}</a>${t.internal ? ' <span class="muted">internal</span>' : ""}</td>
    <td class="num">${t.partitions}</td><td class="num">${t.replication_factor}</td><td class="num">${fmtNum(t.records)}</td><td class="num">${fmtBytes(t.size_bytes)}</td>
    <td class="${t.under_replicated ? "bad" : ""}">${t.under_replicated || ""}</td></tr>`).join("");
  view.innerHTML = `<h1>Topics</h1>
    <form class="inline" id="create">
      <label>Name<input name="name" required placeholder="orders"></label>
      <label>Partitions<input name="partitions" type="number" min="1" placeholder="default"></label>
      <label>Replication<input name="rf" type="number" min="1" placeholder="default"></label>
      <label>Configs (k=v,…)<input name="configs" placeholder="retention.ms=86400000"></label>
      <button type="submit">Create topic</button>
    </form>
    <table id="topics"><thead><tr><th>Name</th><th class="num">Partitions</th><th class="num">RF</th><th class="num">Records</th><th class="num">Size</th><th>Under-replicated</th></tr></thead><tbody>${rows}</tbody></table>`;
  document.getElementById("create").onsubmit = async e => {
    e.preventDefault();
    const f = new FormData(e.target);
    const configs = {};
    for (const kv of String(f.get("configs") || "").split(",").map(s => s.trim()).filter(Boolean)) {
      const i = kv.indexOf("="); if (i < 1) { showError(`config "${kv}" is not KEY=VALUE`); return; }
      configs[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const body = { name: f.get("name"), configs };
    if (f.get("partitions")) body.partitions = Number(f.get("partitions"));
    if (f.get("rf")) body.replication_factor = Number(f.get("rf"));
    if (!confirm(`Create topic ${body.name}?`)) return;
    try { await api("POST", "/topics", body); topics(); } catch (err) { showError(err.message); }
  };
}

async function topic(name) {
  setNav("topics");
  const t = await api("GET", "/topics/" + encodeURIComponent(name));
  const parts = t.partitions.map(p => `<tr><td><a href="#/topics/${encodeURIComponent(name)}/messages/${p.partition}">${p.partition}</a></td><td>${p.leader}</td><td>${p.replicas.join(",")}</td>
    <td class="${p.isr.length < p.replicas.length ? "bad" : ""}">${p.isr.join(",")}</td><td class="num">${fmtNum(p.log_start_offset)}</td><td class="num">${fmtNum(p.log_end_offset)}</td><td class="num">${fmtBytes(p.size_bytes)}</td></tr>`).join("");
  const cfgs = t.configs.map(c => `<tr><td>${esc(c.key)}</td><td><input data-key="${esc(c.key)}" value="${esc(c.value)}" ${t.internal ? "disabled" : ""}></td><td class="muted">${c.default ? "default" : "set on the topic"}</td></tr>`).join("");
  view.innerHTML = `<h1>Topic ${esc(name)}</h1>
    <p><a href="#/topics/${encodeURIComponent(name)}/messages/0">Browse messages</a> ${t.internal ? "" : `· <button class="danger" id="delete">Delete topic</button>`}</p>
    <h2>Partitions</h2><table id="partitions"><thead><tr><th>Partition</th><th>Leader</th><th>Replicas</th><th>ISR</th><th class="num">Log start</th><th class="num">Log end</th><th class="num">Size</th></tr></thead><tbody>${parts}</tbody></table>
    <h2>Configs</h2><table id="configs"><thead><tr><th>Key</th><th>Value</th><th>Source</th></tr></thead><tbody>${cfgs}</tbody></table>
    ${t.internal ? "" : `<p><button id="save">Save changed configs</button></p>`}`;
  const del = document.getElementById("delete");
  if (del) del.onclick = async () => {
    if (!confirm(`Delete topic ${name} and all its records? This cannot be undone.`)) return;
    try { await api("DELETE", `/topics/${encodeURIComponent(name)}?confirm=${encodeURIComponent(name)}`); location.hash = "#/topics"; } catch (err) { showError(err.message); }
  };
  const save = document.getElementById("save");
  if (save) save.onclick = async () => {
    const set = {};
    for (const input of view.querySelectorAll("input[data-key]")) {
      const old = t.configs.find(c => c.key === input.dataset.key);
      if (old && old.value !== input.value) set[input.dataset.key] = input.value;
    }
    if (!Object.keys(set).length) { showError("nothing changed"); return; }
    if (!confirm("Change " + Object.entries(set).map(([k, v]) => `${k}=${v}`).join(", ") + "?")) return;
    try { await api("PUT", `/topics/${encodeURIComponent(name)}/configs`, { set }); topic(name); } catch (err) { showError(err.message); }
  };
}

// ---- Messages ---------------------------------------------------------
function bytesOf(d) {
  if (!d) return null;
  if (d.text !== undefined) return new TextEncoder().encode(d.text);
  return Uint8Array.from(atob(d.base64), c => c.charCodeAt(0));
}
function render(d, as) {
  if (!d) return '<span class="muted">null</span>';
  if (as === "hex") return esc(Array.from(bytesOf(d), b => b.toString(16).padStart(2, "0")).join(" "));
  if (d.base64 !== undefined) return esc("base64:" + d.base64);
  if (as === "json") { try { return esc(JSON.stringify(JSON.parse(d.text), null, 2)); } catch (_) { /* not JSON: as text */ } }
  return esc(d.text);
}
async function messages(name, partition, query) {
  setNav("topics");
  const q = new URLSearchParams(query);
  const t = await api("GET", "/topics/" + encodeURIComponent(name));
  const params = new URLSearchParams();
  for (const k of ["offset", "timestamp", "filter", "limit"]) if (q.get(k)) params.set(k, q.get(k));
  const as = q.get("as") || "json";
  let page;
  try { page = await api("GET", `/topics/${encodeURIComponent(name)}/partitions/${partition}/messages?${params}`); }
  catch (err) { page = { records: [], error: err.message }; }
  const opts = t.partitions.map(p => `<option ${String(p.partition) === String(partition) ? "selected" : ""}>${p.partition}</option>`).join("");
  const rows = page.records.map(r => `<tr class="record"><td class="num">${r.offset}</td><td>${new Date(r.timestamp).toISOString()}</td>
    <td><pre class="value">${render(r.key, as)}</pre></td><td><pre class="value">${render(r.value, as)}</pre></td>
    <td>${r.headers.map(h => `${esc(h.key)}=${render(h.value, "text")}`).join("<br>")}</td></tr>`).join("");
  view.innerHTML = `<h1><a href="#/topics/${encodeURIComponent(name)}">${esc(name)}</a> · messages</h1>
    <form class="inline" id="browse">
      <label>Partition<select name="partition">${opts}</select></label>
      <label>From offset<input name="offset" type="number" value="${esc(q.get("offset") || "")}" placeholder="newest"></label>
      <label>Or from time<input name="time" type="datetime-local" value="${esc(q.get("time") || "")}"></label>
      <label>jq filter<input name="filter" size="30" value="${esc(q.get("filter") || "")}" placeholder='.value | fromjson | .total > 100'></label>
      <label>Show as<select name="as">${["json", "text", "hex"].map(o => `<option ${o === as ? "selected" : ""}>${o}</option>`).join("")}</select></label>
      <label>Limit<input name="limit" type="number" min="1" max="500" value="${esc(q.get("limit") || "50")}"></label>
      <button type="submit">Show</button>
    </form>
    ${page.error ? `<p class="bad">${esc(page.error)}</p>` : `<p class="muted">Offsets ${page.log_start_offset}–${page.high_watermark}, from ${page.from}; ${page.records.length} shown${page.filter_errors ? `, ${page.filter_errors} where the filter failed` : ""}.
      ${page.next_offset < page.high_watermark ? `<a id="next" href="#/topics/${encodeURIComponent(name)}/messages/${partition}?${new URLSearchParams({ ...Object.fromEntries(q), offset: page.next_offset })}">Next</a>` : ""}</p>`}
    <table id="messages"><thead><tr><th class="num">Offset</th><th>Timestamp</th><th>Key</th><th>Value</th><th>Headers</th></tr></thead><tbody>${rows}</tbody></table>`;
  document.getElementById("browse").onsubmit = e => {
    e.preventDefault();
    const f = new FormData(e.target);
    const next = new URLSearchParams();
    for (const k of ["offset", "filter", "as", "limit", "time"]) if (f.get(k)) next.set(k, f.get(k));
    if (f.get("time") && !f.get("offset")) next.set("timestamp", String(new Date(f.get("time")).getTime()));
    location.hash = `#/topics/${encodeURIComponent(name)}/messages/${f.get("partition")}?${next}`;
  };
}

// ---- Groups -----------------------------------------------------------
async function groups() {
  setNav("groups");
  const gs = await api("GET", "/groups");
  const rows = gs.map(g => `<tr><td><a href="#/groups/${encodeURIComponent(g.group_id)}">${esc(g.group_id)}</a></td><td>${esc(g.state)}</td><td class="num">${g.members}</td><td class="num lag">${fmtNum(g.lag)}</td></tr>`).join("");
  view.innerHTML = `<h1>Consumer groups</h1>${rows ? `<table id="groups"><thead><tr><th>Group</th><th>State</th><th class="num">Members</th><th class="num">Lag</th></tr></thead><tbody>${rows}</tbody></table>` : `<p class="muted">No groups yet.</p>`}`;
  every(2000, () => { if (location.hash === "#/groups") groups().catch(err => showError(err.message)); });
}

async function group(id) {
  setNav("groups");
  const g = await api("GET", "/groups/" + encodeURIComponent(id));
  for (const o of g.offsets) {
    const k = `${id} ${o.topic}-${o.partition}`;
    const h = lagHistory.get(k) || []; h.push(o.lag ?? 0); if (h.length > 60) h.shift(); lagHistory.set(k, h);
  }
  const total = g.offsets.reduce((s, o) => s + (o.lag || 0), 0);
  const members = g.members.map(m => `<tr><td>${esc(m.member_id)}</td><td>${esc(m.client_id)}</td><td>${esc(m.client_host)}</td><td>${m.assignment.map(a => `${esc(a.topic)}: ${a.partitions.join(",")}`).join("<br>")}</td></tr>`).join("");
  const offsets = g.offsets.map(o => `<tr><td>${esc(o.topic)}</td><td>${o.partition}</td><td class="num">${fmtNum(o.committed)}</td><td class="num">${fmtNum(o.log_end_offset)}</td><td class="num lag">${fmtNum(o.lag)}</td><td>${spark(lagHistory.get(`${id} ${o.topic}-${o.partition}`) || [])}</td></tr>`).join("");
  const topics = [...new Set(g.offsets.map(o => o.topic))];
  view.innerHTML = `<h1>Group ${esc(id)}</h1>
    <div class="cards"><div class="card"><span class="muted">State</span><b>${esc(g.state)}</b></div><div class="card"><span class="muted">Members</span><b>${g.members.length}</b></div><div class="card"><span class="muted">Total lag</span><b id="total-lag">${fmtNum(total)}</b></div></div>
    <h2>Members</h2>${members ? `<table><thead><tr><th>Member</th><th>Client</th><th>Host</th><th>Assignment</th></tr></thead><tbody>${members}</tbody></table>` : `<p class="muted">No members (the group is ${esc(g.state)}).</p>`}
    <h2>Lag per partition</h2><table id="lag"><thead><tr><th>Topic</th><th>Partition</th><th class="num">Committed</th><th class="num">Log end</th><th class="num">Lag</th><th>Trend</th></tr></thead><tbody>${offsets}</tbody></table>
    <h2>Reset offsets</h2>
    <form class="inline" id="reset">
      <label>Topic<select name="topic">${topics.map(t => `<option>${esc(t)}</option>`).join("")}</select></label>
      <label>To<select name="to"><option>earliest</option><option>latest</option><option>offset</option></select></label>
      <label>Offset<input name="offset" type="number"></label>
      <button type="submit" class="plain">Dry run</button>
    </form><div id="plan"></div>`;
  document.getElementById("reset").onsubmit = async e => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { topic: f.get("topic"), to: f.get("to") };
    if (f.get("offset")) body.offset = Number(f.get("offset"));
    clearInterval(refreshTimer);
    try {
      const plan = await api("POST", `/groups/${encodeURIComponent(id)}/reset-offsets`, body);
      document.getElementById("plan").innerHTML = `<p class="muted">${esc(plan.note)}</p><table><thead><tr><th>Partition</th><th class="num">Current</th><th class="num">New</th></tr></thead><tbody>${plan.plan.map(p => `<tr><td>${p.partition}</td><td class="num">${fmtNum(p.current)}</td><td class="num">${p.new}</td></tr>`).join("")}</tbody></table><p><button class="danger" id="execute">Execute</button></p>`;
      document.getElementById("execute").onclick = async () => {
        if (!confirm(`Commit these offsets for group ${id}?`)) return;
        try { await api("POST", `/groups/${encodeURIComponent(id)}/reset-offsets`, { ...body, execute: true }); group(id); } catch (err) { showError(err.message); }
      };
    } catch (err) { showError(err.message); }
  };
  every(2000, () => { if (location.hash === `#/groups/${encodeURIComponent(id)}`) group(id).catch(err => showError(err.message)); });
}

// ---- Live rates -------------------------------------------------------
function ratesView() {
  setNav("rates");
  const draw = () => {
    if (location.hash !== "#/rates") return;
    const b = rateHistory.map(r => r.broker);
    const topics = latestRates ? Object.entries(latestRates.topics) : [];
    view.innerHTML = `<h1>Live rates (broker ${latestRates ? latestRates.node_id : "-"})</h1>
      <h2>Records per second</h2>${chart([{ name: "in", color: "#0b6bcb", values: b.map(x => x.records_in) }, { name: "out", color: "#1e7d32", values: b.map(x => x.records_out) }], "records per second")}
      <h2>Bytes per second</h2>${chart([{ name: "in", color: "#0b6bcb", values: b.map(x => x.bytes_in) }, { name: "out", color: "#1e7d32", values: b.map(x => x.bytes_out) }], "bytes per second")}
      <h2>Per topic</h2><table id="rates"><thead><tr><th>Topic</th><th class="num">Records in/s</th><th class="num">Records out/s</th><th class="num">Bytes in/s</th><th class="num">Bytes out/s</th><th>Records in (last minute)</th></tr></thead><tbody>
      ${topics.map(([t, r]) => `<tr><td>${esc(t)}</td><td class="num">${fmtNum(r.records_in)}</td><td class="num">${fmtNum(r.records_out)}</td><td class="num">${fmtBytes(r.bytes_in)}</td><td class="num">${fmtBytes(r.bytes_out)}</td><td>${spark(rateHistory.map(h => (h.topics[t] || {}).records_in || 0))}</td></tr>`).join("")}</tbody></table>`;
  };
  draw();
  ratesView.draw = draw;
}

function connectEvents() {
  const live = document.getElementById("live");
  const es = new EventSource("/api/events");
  es.addEventListener("rates", e => {
    latestRates = JSON.parse(e.data);
    rateHistory.push(latestRates); if (rateHistory.length > 60) rateHistory.shift();
    const b = latestRates.broker;
    live.textContent = `live · ${fmtNum(b.records_in)} rec/s in · ${fmtNum(b.records_out)} rec/s out`;
    if (location.hash === "#/rates" && ratesView.draw) ratesView.draw();
  });
  es.onerror = () => { live.textContent = "reconnecting…"; };
}

// ---- Router -----------------------------------------------------------
async function routeTo() {
  clearInterval(refreshTimer);
  const hash = location.hash || "#/";
  const [path, query] = hash.slice(1).split("?");
  const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
  try {
    if (seg.length === 0) await cluster();
    else if (seg[0] === "topics" && seg.length === 1) await topics();
    else if (seg[0] === "topics" && seg[2] === "messages") await messages(seg[1], seg[3] || "0", query || "");
    else if (seg[0] === "topics") await topic(seg[1]);
    else if (seg[0] === "groups" && seg.length === 1) await groups();
    else if (seg[0] === "groups") await group(seg[1]);
    else if (seg[0] === "rates") ratesView();
    else view.innerHTML = `<p>Nothing here. <a href="#/">Back to the cluster</a>.</p>`;
  } catch (err) {
    view.innerHTML = `<p class="bad">${esc(err.message)}</p>`;
  }
}
window.addEventListener("hashchange", routeTo);
connectEvents();
routeTo();
