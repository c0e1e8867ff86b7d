// Aurum dashboard: a hash-routed single page over the JSON API. No
// framework, no build step; charts are inline SVG. Text always goes in as
// text nodes, never as HTML.
"use strict";

const SVGNS = "http://www.w3.org/2000/svg";
const main = document.getElementById("main");
const fmt = new Intl.NumberFormat("en-US");

// h builds an element: h("td", {class: "num", "data-testid": "rows"}, "12").
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "onclick" || k === "onsubmit" || k === "onchange") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, kids);
  return el;
}
function append(el, kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === undefined || k === null || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids.flat()) if (k != null) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

const num = (n) => fmt.format(n || 0);
const pct = (f) => (100 * (f || 0)).toFixed(1) + "%";
function when(t) {
  if (!t) return "—";
  const d = new Date(t);
  if (isNaN(d) || d.getFullYear() < 2) return "—";
  return d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}
function ago(t) {
  if (!t) return "—";
  const secs = (Date.now() - new Date(t).getTime()) / 1000;
  if (secs < 60) return "just now";
  if (secs < 3600) return Math.round(secs / 60) + " min ago";
  if (secs < 86400) return Math.round(secs / 3600) + " h ago";
  return Math.round(secs / 86400) + " d ago";
}

// --- API access ---------------------------------------------------------
class HTTPError extends Error {
  constructor(status, msg) { super(msg); this.status = status; }
}
async function api(path) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem("aurum.key");
  if (key) headers.Authorization = "Bearer " + key;
  const r = await fetch(path, { headers });
  if (r.status === 401) { askKey(); throw new HTTPError(401, "This API needs a read key."); }
  let body = null;
  try { body = await r.json(); } catch (e) { /* not JSON */ }
  if (!r.ok) throw new HTTPError(r.status, (body && body.error && body.error.message) || r.statusText);
  return body;
}
function askKey() {
  const dlg = document.getElementById("keydlg");
  if (dlg.open) return;
  dlg.showModal();
}
document.getElementById("keydlg").addEventListener("close", () => {
  const dlg = document.getElementById("keydlg");
  if (dlg.returnValue === "ok") {
    sessionStorage.setItem("aurum.key", document.getElementById("keyin").value.trim());
    route();
  }
});
document.getElementById("keybtn").onclick = askKey;
document.getElementById("refresh").onclick = () => route();

// --- Small components -----------------------------------------------------
function card(title, extra, ...body) {
  return h("section", { class: "card" }, h("h2", {}, h("span", {}, title), extra ? h("span", { class: "muted" }, extra) : null), ...body);
}
function kpi(label, value, sub, testid) {
  return h("div", { class: "card kpi" }, h("div", { class: "label" }, label),
    h("div", { class: "value", "data-testid": testid }, value), sub ? h("div", { class: "sub" }, sub) : null);
}
function bar(frac, testid) {
  const f = Math.max(0, Math.min(1, frac || 0));
  const fill = h("div", { class: "fill " + (f >= 0.9 ? "ok" : f >= 0.5 ? "mid" : "low") });
  fill.style.width = (100 * f).toFixed(1) + "%";
  return h("div", { class: "bar" }, h("div", { class: "track" }, fill), h("span", { class: "pct", "data-testid": testid }, pct(f)));
}
function table(headers, rows, opts) {
  const ths = headers.map((x) => {
    const [label, cls] = Array.isArray(x) ? x : [x, ""];
    return h("th", { class: cls }, label);
  });
  return h("div", { class: "scroll" }, h("table", opts || {}, h("thead", {}, h("tr", {}, ths)), h("tbody", {}, rows)));
}
function empty(text) { return h("div", { class: "empty" }, text); }
function sev(a) { return h("span", { class: "badge " + (a.severity === "critical" ? "crit" : "warn") }, a.severity); }
function alertList(alerts, limit) {
  if (!alerts.length) return h("div", { class: "empty" }, h("span", { class: "badge ok" }, "no issues"), " Nothing to look at.");
  return h("ul", { class: "alerts", "data-testid": "alerts" },
    alerts.slice(0, limit || alerts.length).map((a) => h("li", { "data-kind": a.kind }, sev(a), h("span", {}, a.message))));
}

// Horizontal bar chart: items [{label, value, title}].
function hbars(items, opts) {
  opts = opts || {};
  const w = 560, rowH = 26, labelW = opts.labelW || 150, max = Math.max(1, ...items.map((i) => i.value));
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${w} ${items.length * rowH + 4}`, width: "100%", role: "img", "aria-label": opts.label || "bar chart" });
  items.forEach((it, i) => {
    const y = i * rowH + 2, bw = Math.max(it.value > 0 ? 2 : 0, ((w - labelW - 70) * it.value) / max);
    svg.append(
      s("text", { x: labelW - 8, y: y + 16, "text-anchor": "end" }, it.label),
      s("rect", { x: labelW, y: y + 4, width: bw, height: rowH - 10, rx: 3, fill: it.color || "#3563e9" }, s("title", {}, it.title || `${it.label}: ${num(it.value)}`)),
      s("text", { x: labelW + bw + 6, y: y + 16, class: "val" }, num(it.value)));
  });
  return svg;
}

// Column chart: items [{label, value}].
function columns(items, opts) {
  opts = opts || {};
  const w = 560, hgt = 200, pad = 28, max = Math.max(1, ...items.map((i) => i.value));
  const cw = (w - pad * 2) / Math.max(1, items.length);
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${w} ${hgt + 30}`, width: "100%", role: "img", "aria-label": opts.label || "column chart" });
  svg.append(s("line", { x1: pad, y1: hgt, x2: w - pad, y2: hgt, class: "axis" }));
  items.forEach((it, i) => {
    const bh = ((hgt - 24) * it.value) / max, x = pad + i * cw + cw * 0.15;
    svg.append(
      s("rect", { x, y: hgt - bh, width: cw * 0.7, height: bh, rx: 3, fill: opts.color || "#3563e9" }, s("title", {}, `${it.label}: ${num(it.value)}`)),
      s("text", { x: x + cw * 0.35, y: hgt - bh - 5, "text-anchor": "middle", class: "val" }, num(it.value)),
      s("text", { x: x + cw * 0.35, y: hgt + 16, "text-anchor": "middle" }, it.label));
  });
  return svg;
}

// Line chart of points [{at, count}] with a current value.
function line(points, opts) {
  opts = opts || {};
  const w = opts.w || 300, hgt = opts.h || 70, pad = 4;
  const svg = s("svg", { viewBox: `0 0 ${w} ${hgt}`, width: "100%", height: hgt, role: "img", "aria-label": opts.label || "trend" });
  if (points.length < 2) {
    svg.append(s("line", { x1: 0, y1: hgt - pad, x2: w, y2: hgt - pad, class: "axis", "stroke-dasharray": "3 3" }),
      s("text", { x: w / 2, y: hgt / 2, "text-anchor": "middle" }, points.length ? "one snapshot so far" : "no snapshots yet"));
    return svg;
  }
  const t0 = new Date(points[0].at).getTime(), t1 = new Date(points[points.length - 1].at).getTime();
  const max = Math.max(1, ...points.map((p) => p.count)), min = Math.min(...points.map((p) => p.count));
  const lo = Math.max(0, min - (max - min) * 0.2);
  const X = (p) => pad + ((w - 2 * pad) * (new Date(p.at).getTime() - t0)) / Math.max(1, t1 - t0);
  const Y = (p) => hgt - pad - ((hgt - 2 * pad) * (p.count - lo)) / Math.max(1, max - lo);
  const d = points.map((p, i) => (i ? "L" : "M") + X(p).toFixed(1) + " " + Y(p).toFixed(1)).join(" ");
  svg.append(
    s("path", { d: d + ` L${X(points[points.length - 1]).toFixed(1)} ${hgt} L${X(points[0]).toFixed(1)} ${hgt} Z`, fill: "#e8eefc" }),
    s("path", { d, fill: "none", stroke: "#3563e9", "stroke-width": 2 }));
  const last = points[points.length - 1];
  svg.append(s("circle", { cx: X(last), cy: Y(last), r: 3, fill: "#3563e9" }));
  return svg;
}

// --- Pages ------------------------------------------------------------------
const pages = {};

pages.overview = async () => {
  const [cat, segs, fired] = await Promise.all([api("/v1/catalog"), api("/v1/segments"), api("/v1/dashboard/triggers?limit=5")]);
  const rows = cat.sources.reduce((a, x) => a + x.rows, 0);
  const rejected = cat.sources.reduce((a, x) => a + x.rejected, 0);
  const crit = cat.alerts.filter((a) => a.severity === "critical").length;
  const out = [h("div", { class: "grid kpis" },
    kpi("Rows ingested", num(rows), `${cat.sources.filter((x) => x.rows > 0).length} of ${cat.sources.length} sources`, "kpi-rows"),
    kpi("Rows rejected", num(rejected), rows ? pct(rejected / rows) + " of rows" : "", "kpi-rejected"),
    kpi("Quality alerts", num(cat.alerts.length), crit ? `${crit} critical` : "none critical", "kpi-alerts"),
    kpi("Segments", num(segs.segments.length), num(segs.segments.reduce((a, x) => a + x.count, 0)) + " memberships", "kpi-segments"),
    kpi("Triggers fired", num(fired.triggers.length), fired.triggers.length ? "last " + ago(fired.triggers[0].fired_at) : "none recorded", "kpi-fired"))];
  out.push(h("div", { class: "grid two" },
    card("Sources", h("a", { href: "#/sources" }, "catalog →"), sourcesTable(cat.sources, true)),
    card("Data-quality alerts", h("a", { href: "#/quality" }, "all →"), alertList(cat.alerts, 6))));
  out.push(card("Segments", h("a", { href: "#/segments" }, "details →"),
    segs.segments.length ? hbars(segs.segments.map((x) => ({ label: x.name || x.id, value: x.count })), { labelW: 190, label: "segment sizes" }) : empty("No segments configured.")));
  return out;
};

function sourcesTable(sources, compact) {
  const rows = sources.map((x) => h("tr", { "data-source": x.name },
    h("td", {}, h("a", { href: "#/sources/" + encodeURIComponent(x.name) }, x.name), " ", h("span", { class: "badge" }, x.kind)),
    h("td", { class: "num", "data-testid": "rows" }, num(x.rows)),
    h("td", { class: "num", "data-testid": "rejected" }, num(x.rejected)),
    compact ? null : h("td", { class: "num", "data-testid": "fields" }, num(x.fields)),
    h("td", {}, bar(x.completeness, "completeness")),
    compact ? null : h("td", { class: "num" }, x.alerts ? h("span", { class: "badge warn" }, x.alerts) : h("span", { class: "badge ok" }, "0")),
    h("td", { class: "muted" }, x.last_seen ? ago(x.last_seen) : "never")));
  const head = compact ? ["Source", ["Rows", "num"], ["Rejected", "num"], "Completeness", "Last seen"]
    : ["Source", ["Rows", "num"], ["Rejected", "num"], ["Fields", "num"], "Completeness (mapped fields)", ["Alerts", "num"], "Last seen"];
  return table(head, rows, { "data-testid": "sources" });
}

pages.sources = async () => {
  const cat = await api("/v1/catalog");
  return [card("Sources", `${cat.sources.length} configured`, sourcesTable(cat.sources, false)),
    h("p", { class: "muted" }, "Completeness is the share of rows with a non-missing value; distinct counts are HyperLogLog estimates. Personal values are masked.")];
};

pages.source = async (name) => {
  const sc = await api("/v1/catalog/" + encodeURIComponent(name));
  document.getElementById("title").textContent = "Source: " + sc.name;
  const fields = sc.field_profiles.map((f) => h("tr", { "data-field": f.field },
    h("td", {}, h("div", { class: "mono" }, f.field), f.pii ? h("span", { class: "badge pii" }, "PII") : null),
    h("td", {}, f.mapped_as && f.mapped_as.length ? h("div", { class: "chips" }, f.mapped_as.map((m) => h("span", { class: "chip" }, m))) : h("span", { class: "muted" }, "not mapped")),
    h("td", {}, h("span", { class: "badge type", "data-testid": "type" }, f.type)),
    h("td", {}, bar(f.completeness, "completeness")),
    h("td", { class: "num", "data-testid": "distinct" }, num(f.distinct)),
    h("td", { class: "num" }, f.invalid ? h("span", { class: "badge " + (f.invalid_rate >= 0.1 ? "crit" : f.invalid_rate >= 0.02 ? "warn" : ""), "data-testid": "invalid", title: Object.keys(f.reasons || {}).join("; ") }, pct(f.invalid_rate) + " · " + (f.normalizer || "")) : h("span", { class: "muted", "data-testid": "invalid" }, "0%")),
    h("td", {}, topChips(f.top, 4)),
    h("td", { class: "muted mono" }, (f.samples || []).slice(0, 3).join(", "))));
  return [
    h("div", { class: "crumb" }, h("a", { href: "#/sources" }, "Sources"), " / ", sc.name),
    h("div", { class: "grid kpis" },
      kpi("Rows", num(sc.rows), sc.first_seen ? "since " + when(sc.first_seen) : "nothing received yet", "src-rows"),
      kpi("Rejected", num(sc.rejected), sc.rows ? pct(sc.rejected / sc.rows) : "", "src-rejected"),
      kpi("Rows with dropped values", num(sc.warned), sc.rows ? pct(sc.warned / sc.rows) : "", "src-warned"),
      kpi("Fields", num(sc.fields), "completeness " + pct(sc.completeness), "src-fields")),
    card("Fields", `${sc.field_profiles.length} seen`, sc.field_profiles.length ? table(
      ["Field", "Mapped as", "Type", "Completeness", ["Distinct", "num"], ["Invalid", "num"], "Top values", "Samples"], fields, { "data-testid": "fields" }) : empty("No rows received from this source yet.")),
    h("div", { class: "grid two" },
      card("Identifier health", null, identHealth(sc.identifiers)),
      card("Alerts", null, alertList(sc.alert_list)))];
};

function topChips(top, n) {
  if (!top || !top.length) return h("span", { class: "muted" }, "—");
  return h("div", { class: "chips" }, top.slice(0, n).map((c) => h("span", { class: "chip" }, c.value, h("b", {}, num(c.count)))));
}

function identHealth(list) {
  if (!list.length) return empty("No identifiers observed.");
  return table(["Type", ["Values", "num"], ["Blocked", "num"], "Most repeated values"], list.map((x) => h("tr", { "data-ident": x.type },
    h("td", {}, h("b", {}, x.type)),
    h("td", { class: "num", "data-testid": "values" }, num(x.values)),
    h("td", { class: "num" }, num(x.blocked)),
    h("td", {}, x.top.length ? h("div", { class: "chips" }, x.top.slice(0, 5).map((c) =>
      h("span", { class: "chip" + (c.placeholder ? " badge crit" : "") }, c.value, h("b", {}, "×" + num(c.count))))) : h("span", { class: "muted" }, "no value repeats")))));
}

pages.quality = async () => {
  const cat = await api("/v1/catalog");
  const sugg = cat.identifiers.flatMap((x) => x.suggested || []);
  const adopt = sugg.filter((x) => x.adoptable);
  const yaml = adopt.length ? "identifiers:\n" + [...new Set(adopt.map((x) => x.type))].map((t) =>
    `  - name: ${t}\n    blocked:\n` + adopt.filter((x) => x.type === t).map((x) => `      - ${JSON.stringify(x.value)}`).join("\n")).join("\n") : "";
  return [
    h("div", { class: "grid kpis" },
      kpi("Alerts", num(cat.alerts.length), "", "q-alerts"),
      kpi("Critical", num(cat.alerts.filter((a) => a.severity === "critical").length), "", "q-critical"),
      kpi("Block-list suggestions", num(adopt.length), sugg.length - adopt.length ? `${sugg.length - adopt.length} to review` : "", "q-suggest")),
    card("Alerts", "invalid values, rejected rows, placeholder identifiers", alertList(cat.alerts)),
    h("div", { class: "grid two" },
      card("Identifier health", "over all sources", identHealth(cat.identifiers)),
      card("Suggested block-list entries", null,
        sugg.length ? table(["Type", "Value", ["Records", "num"], "Why"], sugg.map((x) => h("tr", {},
          h("td", {}, x.type), h("td", { class: "mono" }, x.value), h("td", { class: "num" }, num(x.count)),
          h("td", {}, x.adoptable ? h("span", { class: "badge crit" }, "placeholder") : h("span", { class: "badge warn" }, "review: " + x.reason))))) : empty("No suggestions."),
        yaml ? [h("p", { class: "muted" }, "Add to aurum.yaml (merge into the existing identifier types):"), h("pre", { class: "yaml", "data-testid": "yaml" }, yaml)] : null))];
};

pages.identity = async () => {
  const st = await api("/v1/dashboard/identity");
  const rules = st.rules || [];
  const totalMerges = rules.reduce((a, r) => a + r.merges, 0);
  const blocked = Object.entries(st.blocked || {});
  const out = [h("div", { class: "grid kpis" },
    kpi("Links", num(rules.reduce((a, r) => a + r.links, 0)), "matched pairs", "id-links"),
    kpi("Merges", num(totalMerges), "profiles joined", "id-merges"),
    kpi("Blocked merges", num(blocked.reduce((a, [, n]) => a + n, 0)), "merge protection", "id-blocked"),
    kpi("Profiles", st.clusters ? num(st.clusters) : "—", st.records ? num(st.records) + " records" : "from the latest cluster scan", "id-clusters"))];
  out.push(h("div", { class: "grid two" },
    card("Match rate per rule", "share of merges", rules.length ? [
      hbars(rules.map((r) => ({ label: r.rule, value: r.merges, title: `${r.rule}: ${num(r.merges)} merges, ${num(r.links)} links` })), { labelW: 170, label: "merges per rule" }),
      table(["Rule", ["Links", "num"], ["Merges", "num"], ["Share", "num"], ["Blocked", "num"]], rules.map((r) => h("tr", { "data-rule": r.rule },
        h("td", {}, r.rule), h("td", { class: "num", "data-testid": "links" }, num(r.links)), h("td", { class: "num", "data-testid": "merges" }, num(r.merges)),
        h("td", { class: "num" }, totalMerges ? pct(r.merges / totalMerges) : "—"), h("td", { class: "num" }, num(r.blocked)))))] : empty("No rules.")),
    card("Cluster sizes", st.clusters_at ? "as of " + when(st.clusters_at) : null,
      st.histogram && st.histogram.length ? columns(st.histogram.map((b) => ({ label: b.label, value: b.clusters })), { label: "clusters per size" }) : h("div", { class: "note" }, st.note || "No cluster sizes yet."),
      h("div", { class: "legend" }, h("span", {}, h("i", { class: "sw" }), "records per profile (x) · profiles (y)")))));
  out.push(h("div", { class: "grid two" },
    card("Largest profiles", null, st.largest && st.largest.length ? table(["Profile", ["Records", "num"]], st.largest.map((c) => h("tr", {},
      h("td", {}, h("a", { class: "mono", href: "#/profiles/" + encodeURIComponent(c.profile_id) }, c.profile_id)), h("td", { class: "num" }, num(c.records))))) : empty("No cluster scan yet.")),
    card("Merges refused by protection", null, blocked.length ? hbars(blocked.map(([k, n]) => ({ label: k, value: n, color: "#c98a12" })), { labelW: 150 }) : empty("None."))));
  return out;
};

pages.segments = async () => {
  const [segs, trend] = await Promise.all([api("/v1/segments"), api("/v1/dashboard/segments/trend?days=30")]);
  const pts = Object.fromEntries(trend.segments.map((t) => [t.segment_id, t.points]));
  if (!segs.segments.length) return [empty("No segments configured.")];
  return [h("div", { class: "grid seg-grid" }, segs.segments.map((x) => h("section", { class: "card seg", "data-segment": x.id },
    h("h2", {}, h("span", {}, x.name || x.id), x.timed ? h("span", { class: "badge" }, "time-based") : null),
    h("div", { class: "count", "data-testid": "count" }, num(x.count)),
    h("div", { class: "desc" }, x.description || ""),
    line(pts[x.id] || [], { label: "30-day trend of " + x.id }),
    h("div", { class: "legend" }, h("span", {}, (pts[x.id] || []).length + " snapshots, 30 days")),
    h("code", {}, x.expr))))];
};

pages.triggers = async () => {
  const r = await api("/v1/dashboard/triggers?limit=50");
  return [card("Recent trigger firings", `${r.triggers.length} shown`, r.triggers.length ? table(["Fired", "Trigger", "Profile", "Cause"], r.triggers.map((t) => h("tr", { "data-trigger": t.trigger_id },
    h("td", { class: "muted" }, when(t.fired_at)), h("td", {}, h("b", {}, t.trigger_id)),
    h("td", {}, h("a", { class: "mono", href: "#/profiles/" + encodeURIComponent(t.profile_id) }, t.profile_id)),
    h("td", {}, (t.cause && t.cause.detail_type) || "")))) : empty("No trigger has fired yet."))];
};

pages.profiles = async (id) => {
  const form = h("form", { class: "search", onsubmit: (e) => {
    e.preventDefault();
    const t = form.querySelector("select").value, v = form.querySelector("input").value.trim();
    if (v) location.hash = "#/profiles/?identifier=" + encodeURIComponent(t + ":" + v);
  } },
  h("select", { "aria-label": "identifier type" }, ["email", "phone", "customer_id", "loyalty_id", "anonymous_id", "profile id"].map((t) => h("option", {}, t))),
  h("input", { type: "search", placeholder: "value, e.g. zoe.dubois@gmail.com", "aria-label": "identifier value" }),
  h("button", { class: "btn primary" }, "Find profile"));
  if (id.startsWith("?identifier=")) {
    const [t, ...v] = decodeURIComponent(id.slice(12)).split(":");
    form.querySelector("select").value = t;
    form.querySelector("input").value = v.join(":");
  }
  if (!id) return [form, h("p", { class: "muted" }, "Search by any identifier: the value is normalized as on ingestion, so any spelling finds the profile.")];
  let p;
  if (id.startsWith("?identifier=")) {
    const ident = decodeURIComponent(id.slice(12));
    if (ident.startsWith("profile id:")) p = await api("/v1/profiles/" + encodeURIComponent(ident.slice(11)));
    else p = await api("/v1/profiles?identifier=" + encodeURIComponent(ident));
  } else {
    p = await api("/v1/profiles/" + encodeURIComponent(id));
  }
  const [hist, merges, evs] = await Promise.all([
    api(`/v1/profiles/${encodeURIComponent(p.id)}/segments/history?limit=50`),
    api(`/v1/dashboard/profiles/${encodeURIComponent(p.id)}/merges`),
    api(`/v1/profiles/${encodeURIComponent(p.id)}/events?limit=10`)]);
  const attrs = Object.entries(p.attributes || {}).filter(([k]) => !k.endsWith("_key")).sort(([a], [b]) => a.localeCompare(b));
  const aggs = Object.entries(p.aggregates || {});
  return [form,
    h("div", { class: "grid kpis" },
      kpi("Profile", h("span", { class: "mono", "data-testid": "profile-id" }, p.id), "version " + p.version, "p-id"),
      kpi("Records", num(p.record_count), Object.entries(p.sources || {}).map(([k, n]) => `${k} ${n}`).join(" · "), "p-records"),
      kpi("Events", num(p.event_count), "", "p-events"),
      kpi("Segments", num(Object.keys(p.segments || {}).length), Object.keys(p.segments || {}).join(", "), "p-segments")),
    h("div", { class: "grid two" },
      card("Golden record", "surviving values with provenance", attrs.length ? table(["Attribute", "Value", "Source", "Observed"], attrs.map(([k, a]) => h("tr", { "data-attr": k },
        h("td", { class: "mono" }, k), h("td", { "data-testid": "value" }, typeof a.value === "object" ? JSON.stringify(a.value) : String(a.value)),
        h("td", {}, h("span", { class: "badge" }, a.source), " ", h("span", { class: "muted mono" }, a.record_id)), h("td", { class: "muted" }, when(a.observed_at))))) : empty("No attributes.")),
      h("div", {},
        card("Identifiers", null, h("div", { class: "chips", "data-testid": "identifiers" }, (p.identifiers || []).map((i) => h("span", { class: "chip" }, i.type + ": " + i.value)))),
        card("Aggregates", null, aggs.length ? h("dl", { class: "kv" }, aggs.map(([k, v]) => [h("dt", {}, k), h("dd", { "data-agg": k }, typeof v === "number" ? num(v) : String(v))])) : empty("None.")))),
    h("div", { class: "grid two" },
      card("Segment history", null, hist.entries && hist.entries.length ? h("ul", { class: "timeline", "data-testid": "seg-history" }, hist.entries.slice().reverse().map((e) => h("li", { class: e.kind },
        h("b", {}, e.kind), " ", e.segment_id, h("div", { class: "when" }, when(e.at) + (e.cause ? " · " + e.cause : ""))))) : empty("No segment changes.")),
      card("Merge history", null, merges.merges.length ? h("ul", { class: "timeline", "data-testid": "merges" }, merges.merges.map((m) => h("li", { class: "merge" },
        h("b", {}, m.merged), " merged in by rule ", h("b", {}, m.rule || "—"), h("div", { class: "when" }, when(m.at) + (m.record ? " · record " + m.record : ""))))) : empty("Never merged."))),
    card("Recent events", null, evs.events && evs.events.length ? table(["When", "Event", "Source", "Properties"], evs.events.map((e) => h("tr", {},
      h("td", { class: "muted" }, when(e.timestamp)), h("td", {}, e.name || e.type), h("td", {}, h("span", { class: "badge" }, e.source)),
      h("td", { class: "mono muted" }, Object.entries(e.properties || {}).filter(([k]) => !k.startsWith("_")).map(([k, v]) => `${k}=${v}`).join("  "))))) : empty("No events."))];
};

// --- Router -------------------------------------------------------------------
const titles = { overview: "Overview", sources: "Sources & catalog", source: "Source", quality: "Data quality", identity: "Identity resolution", segments: "Segments", profiles: "Profiles", triggers: "Triggers" };

async function route() {
  const path = location.hash.replace(/^#\/?/, "");
  const [head, ...rest] = path.split("/");
  let page = head || "overview", arg = rest.join("/");
  if (page === "sources" && arg) { page = "source"; arg = decodeURIComponent(arg); }
  if (!pages[page]) page = "overview";
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.page === (page === "source" ? "sources" : page));
  document.getElementById("title").textContent = titles[page];
  main.removeAttribute("data-ready");
  main.setAttribute("aria-busy", "true");
  const token = (route.token = (route.token || 0) + 1);
  let nodes;
  try {
    nodes = await pages[page](arg);
  } catch (e) {
    nodes = [h("div", { class: "error", "data-testid": "error" }, e.status === 404 ? "Not found." : "Could not load this page: " + e.message)];
  }
  if (token !== route.token) return; // a newer navigation won
  main.replaceChildren(...nodes);
  main.removeAttribute("aria-busy");
  main.setAttribute("data-ready", page);
  document.getElementById("updated").textContent = "Updated " + new Date().toLocaleTimeString("en-GB");
}
window.addEventListener("hashchange", route);
route();
