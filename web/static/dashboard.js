// Dashboard (admins, inspectors: every site; supervisors: their own): a period's figures, charts (Apache
// ECharts, vendored, canvas renderer, tooltips drawn on the canvas so the strict CSP holds), the per-site
// table, CSV exports with the same filters, and the site reports (PDF). Every user-visible string is in T.
import { HOME, api, el, fillSelect, formatKind, guarded, loadPlaces, mountHeader, replace, requireUser } from "./app.js";

const T = {
  pageTitle: "siteaudit · dashboard",
  title: "Dashboard",
  live: "Live view",
  signOut: "Sign out",
  filters: "Period and place",
  site: "Site",
  allSites: "All my sites",
  camera: "Camera (exports)",
  allCameras: "Any camera",
  start: "From",
  end: "To (included)",
  apply: "Show",
  periodNote: (start, end) => `Local days ${start} to ${end}, each in its site's time zone.`,
  figures: "Figures",
  daily: "Violations per day, by kind",
  perCamera: "Violations per camera",
  perZone: "Violations per zone (top 10)",
  unmonitored: "Unmonitored hours per camera",
  perSite: "Per site",
  exports: "Exports",
  exportEvents: "Events (CSV)",
  exportActions: "Corrective actions (CSV)",
  exportUnmonitored: "Unmonitored intervals (CSV)",
  reports: "Site reports (PDF)",
  reportsHint: "Generated monthly for every site, or now for the selected site and period; stored with their SHA-256.",
  makeReport: "Generate report for this site and period",
  pickSite: "Choose one site to generate its report.",
  download: "Download",
  violations: "Violations",
  confirmed: "Confirmed",
  compliance: "Compliance rate",
  fpShare: "False-positive share",
  signoff: "Event → sign-off (median / p90)",
  verify: "Action → verified (median / p90)",
  openActions: "Open actions / overdue",
  unmonitoredHours: "Unmonitored camera-hours",
  monitoredHours: "Monitored camera-hours",
  events: "Events",
  hours: "h",
  days: "d",
  none: "–",
  wholeFrame: "outside any zone",
  definitionPrefix: "Compliance rate: ",
  siteColumns: ["Site", "Time zone", "Events", "Violations", "Confirmed", "Compliance rate", "False positives", "Open / overdue actions", "Unmonitored h"],
  reportColumns: ["Site", "Period", "How", "Status", "SHA-256", ""],
  trigger: { scheduled: "scheduled", on_demand: "on demand" },
  status: { pending: "being generated", ready: "ready", failed: "failed" },
};

const $ = (id) => document.getElementById(id);
const state = { me: null, places: null, charts: {} };

function localToday() {
  const now = new Date();
  return new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
}

function shiftDays(iso, days) {
  const date = new Date(`${iso}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function applyText() {
  document.title = T.pageTitle;
  for (const node of document.querySelectorAll("[data-t]")) node.textContent = T[node.dataset.t];
  replace($("sites-head"), el("tr", {}, T.siteColumns.map((c) => el("th", { scope: "col" }, c))));
  replace($("reports-head"), el("tr", {}, T.reportColumns.map((c) => el("th", { scope: "col" }, c))));
}

function filters() {
  const form = $("filters");
  return { site_id: form.site_id.value, camera_id: form.camera_id.value, start: form.start.value, end: form.end.value };
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return T.none;
  const hours = seconds / 3600;
  return hours < 48 ? `${hours.toFixed(1)} ${T.hours}` : `${(hours / 24).toFixed(1)} ${T.days}`;
}

function number(value, digits = 2) {
  return value === null || value === undefined ? T.none : Number(value).toFixed(digits);
}

function percent(value) {
  return value === null || value === undefined ? T.none : `${(value * 100).toFixed(1)} %`;
}

function renderKpis(data) {
  const t = data.totals;
  const cards = [
    [T.events, String(t.events)],
    [T.violations, String(t.violations)],
    [T.confirmed, String(t.confirmed_violations)],
    [T.compliance, number(t.compliance_rate)],
    [T.fpShare, percent(t.false_positive_share)],
    [T.signoff, `${duration(t.signoff_median_s)} / ${duration(t.signoff_p90_s)}`],
    [T.verify, `${duration(t.verify_median_s)} / ${duration(t.verify_p90_s)}`],
    [T.openActions, `${t.open_actions} / ${t.overdue_actions}`],
    [T.monitoredHours, number(t.monitored_hours, 1)],
    [T.unmonitoredHours, number(t.unmonitored_hours, 1)],
  ];
  replace($("kpis"), cards.map(([label, value]) => el("div", {}, el("dt", {}, label), el("dd", {}, value))));
  $("definition").textContent = T.definitionPrefix + data.definitions.compliance_rate + " " + data.definitions.monitored_hours;
  $("period-note").textContent = T.periodNote(data.start, data.end);
}

function chart(id) {
  if (!state.charts[id]) state.charts[id] = window.echarts.init($(id), null, { renderer: "canvas" });
  return state.charts[id];
}

const BASE = {
  animation: false,
  tooltip: { trigger: "axis", renderMode: "richText", axisPointer: { type: "shadow" } },
  grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
};

function days(start, end) {
  const out = [];
  for (let d = start; d <= end; d = shiftDays(d, 1)) out.push(d);
  return out;
}

function renderCharts(data) {
  const axis = days(data.start, data.end);
  const kinds = [...new Set(data.daily.map((d) => d.kind))].sort();
  const counts = new Map(data.daily.map((d) => [`${d.day}|${d.kind}`, d.count]));
  chart("chart-daily").setOption(
    {
      ...BASE,
      legend: { top: 0, type: "scroll" },
      xAxis: { type: "category", data: axis, axisLabel: { formatter: (v) => v.slice(5) } },
      yAxis: { type: "value", minInterval: 1 },
      series: kinds.map((kind) => ({
        name: formatKind(kind),
        type: "bar",
        stack: "kinds",
        data: axis.map((day) => counts.get(`${day}|${kind}`) || 0),
      })),
    },
    true,
  );
  const siteName = (id) => state.places.siteName(id);
  const several = data.sites.length > 1;
  const cameras = [...data.cameras].sort((a, b) => a.violations - b.violations);
  const cameraLabel = (c) => (several ? `${c.camera_name} · ${siteName(c.site_id)}` : c.camera_name);
  chart("chart-cameras").setOption(
    {
      ...BASE,
      legend: { top: 0 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: cameras.map(cameraLabel) },
      series: [
        { name: T.violations, type: "bar", data: cameras.map((c) => c.violations) },
        { name: T.confirmed, type: "bar", data: cameras.map((c) => c.confirmed_violations) },
      ],
    },
    true,
  );
  const zones = [...data.zones].sort((a, b) => b.violations - a.violations).slice(0, 10).reverse();
  chart("chart-zones").setOption(
    {
      ...BASE,
      legend: { top: 0 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: zones.map((z) => `${z.zone_name || T.wholeFrame} · ${z.camera_name}`) },
      series: [
        { name: T.violations, type: "bar", data: zones.map((z) => z.violations) },
        { name: T.confirmed, type: "bar", data: zones.map((z) => z.confirmed_violations) },
      ],
    },
    true,
  );
  const outages = [...data.cameras].sort((a, b) => a.unmonitored_hours - b.unmonitored_hours);
  chart("chart-outages").setOption(
    {
      ...BASE,
      xAxis: { type: "value" },
      yAxis: { type: "category", data: outages.map(cameraLabel) },
      series: [{ name: T.unmonitoredHours, type: "bar", data: outages.map((c) => Number(c.unmonitored_hours.toFixed(2))) }],
    },
    true,
  );
}

function renderSites(data) {
  const rows = data.sites.map((s) => {
    const t = s.totals;
    return el(
      "tr",
      {},
      el("td", {}, s.site_name),
      el("td", {}, s.timezone),
      el("td", {}, String(t.events)),
      el("td", {}, String(t.violations)),
      el("td", {}, String(t.confirmed_violations)),
      el("td", {}, number(t.compliance_rate)),
      el("td", {}, percent(t.false_positive_share)),
      el("td", {}, `${t.open_actions} / ${t.overdue_actions}`),
      el("td", {}, number(t.unmonitored_hours, 1)),
    );
  });
  replace($("sites"), rows);
}

async function saveBlob(path, query, filename) {
  const blob = await api(path, { query, as: "blob" });
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

async function loadReports() {
  const { site_id } = filters();
  const reports = await api("/api/reports", { query: { site_id, limit: 50 } });
  const rows = reports.map((r) =>
    el(
      "tr",
      {},
      el("td", {}, state.places.siteName(r.site_id)),
      el("td", {}, `${r.start_day} – ${r.end_day}`),
      el("td", {}, T.trigger[r.trigger] || r.trigger),
      el("td", {}, T.status[r.status] || r.status),
      el("td", { class: "small" }, el("code", {}, r.sha256 ? r.sha256.slice(0, 16) : T.none)),
      el(
        "td",
        {},
        r.status === "ready"
          ? el(
              "button",
              {
                type: "button",
                class: "small",
                onclick: (e) =>
                  guarded($("report-error"), e.currentTarget, () =>
                    saveBlob(`/api/reports/${r.id}`, {}, `siteaudit-report-${r.site_id}-${r.start_day}-${r.end_day}.pdf`),
                  ),
              },
              T.download,
            )
          : null,
      ),
    ),
  );
  replace($("reports"), rows);
}

async function load() {
  await guarded($("dash-error"), null, async () => {
    const { site_id, start, end } = filters();
    const data = await api("/api/dashboard", { query: { site_id, start, end } });
    renderKpis(data);
    renderCharts(data);
    renderSites(data);
    await loadReports();
  });
  document.body.dataset.loaded = "1"; // browser tests wait for it
}

function fillCameras() {
  const site = $("f-site").value;
  const cameras = state.places.cameras.filter((c) => !site || String(c.site_id) === site);
  fillSelect($("f-camera"), cameras.map((c) => [c.id, `${c.name} (${state.places.siteName(c.site_id)})`]), { placeholder: T.allCameras });
}

async function main() {
  applyText();
  state.me = await requireUser();
  mountHeader(state.me);
  $("home").href = HOME[state.me.role] || "index.html";
  state.places = await loadPlaces();
  fillSelect($("f-site"), state.places.sites.map((s) => [s.id, s.name]), { placeholder: T.allSites });
  fillCameras();
  const params = new URLSearchParams(location.search);
  const form = $("filters");
  form.end.value = params.get("end") || localToday();
  form.start.value = params.get("start") || shiftDays(form.end.value, -29);
  if (params.get("site_id")) form.site_id.value = params.get("site_id");
  fillCameras();
  const staff = state.me.role === "admin" || state.me.role === "inspector";
  $("make-report").hidden = !staff;
  $("f-site").addEventListener("change", fillCameras);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", () =>
      guarded($("export-error"), button, () => {
        const f = filters();
        const kind = button.dataset.export;
        return saveBlob(`/api/exports/${kind}.csv`, f, `siteaudit-${kind}-${f.start}-${f.end}.csv`);
      }),
    );
  }
  $("make-report").addEventListener("click", (e) =>
    guarded($("report-error"), e.currentTarget, async () => {
      const { site_id, start, end } = filters();
      if (!site_id) throw new Error(T.pickSite);
      await api(`/api/sites/${site_id}/reports`, { method: "POST", json: { start, end } });
      await loadReports();
    }),
  );
  window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
  await load();
}

main();
