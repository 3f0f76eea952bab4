// Dashboard (admins, inspectors: every site; supervisors: their own): a period's figures, charts (Apache
// ECharts, vendored, canvas renderer, tooltips drawn on the canvas so the strict CSP holds), the per-site
// table, CSV exports with the same filters, and the site reports (PDF). Texts: the "dashboard." catalogue keys.
import {
  HOME,
  api,
  el,
  fillSelect,
  formatKind,
  formatNumber,
  guarded,
  loadPlaces,
  mountHeader,
  replace,
  requireUser,
  t,
} from "./app.js";

const SITE_COLUMNS = ["site", "timeZone", "events", "violations", "confirmed", "compliance", "falsePositives", "openOverdue", "unmonitoredH"];
const REPORT_COLUMNS = ["site", "period", "how", "status", "sha256", null];

const $ = (id) => document.getElementById(id);
const NONE = "–";
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
  const head = (columns) => el("tr", {}, columns.map((c) => el("th", { scope: "col" }, c ? t(`dashboard.col.${c}`) : "")));
  replace($("sites-head"), head(SITE_COLUMNS));
  replace($("reports-head"), head(REPORT_COLUMNS));
}

function filters() {
  const form = $("filters");
  return { site_id: form.site_id.value, camera_id: form.camera_id.value, start: form.start.value, end: form.end.value };
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return NONE;
  const hours = seconds / 3600;
  const one = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
  return hours < 48
    ? t("dashboard.hours", { value: formatNumber(hours, one) })
    : t("dashboard.days", { value: formatNumber(hours / 24, one) });
}

function number(value, digits = 2) {
  const fixed = { minimumFractionDigits: digits, maximumFractionDigits: digits };
  return value === null || value === undefined ? NONE : formatNumber(Number(value), fixed);
}

function percent(value) {
  const style = { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 };
  return value === null || value === undefined ? NONE : formatNumber(value, style);
}

function renderKpis(data) {
  const totals = data.totals;
  const cards = [
    [t("dashboard.events"), String(totals.events)],
    [t("dashboard.violations"), String(totals.violations)],
    [t("dashboard.confirmed"), String(totals.confirmed_violations)],
    [t("dashboard.compliance"), number(totals.compliance_rate)],
    [t("dashboard.fpShare"), percent(totals.false_positive_share)],
    [t("dashboard.signoff"), `${duration(totals.signoff_median_s)} / ${duration(totals.signoff_p90_s)}`],
    [t("dashboard.verify"), `${duration(totals.verify_median_s)} / ${duration(totals.verify_p90_s)}`],
    [t("dashboard.openActions"), `${totals.open_actions} / ${totals.overdue_actions}`],
    [t("dashboard.monitoredHours"), number(totals.monitored_hours, 1)],
    [t("dashboard.unmonitoredHours"), number(totals.unmonitored_hours, 1)],
  ];
  replace($("kpis"), cards.map(([label, value]) => el("div", {}, el("dt", {}, label), el("dd", {}, value))));
  // The definitions are the server's own (English) text.
  $("definition").textContent = t("dashboard.definition", {
    compliance: data.definitions.compliance_rate,
    monitored: data.definitions.monitored_hours,
  });
  $("period-note").textContent = t("dashboard.periodNote", { start: data.start, end: data.end });
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
        { name: t("dashboard.violations"), type: "bar", data: cameras.map((c) => c.violations) },
        { name: t("dashboard.confirmed"), type: "bar", data: cameras.map((c) => c.confirmed_violations) },
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
      yAxis: { type: "category", data: zones.map((z) => `${z.zone_name || t("dashboard.wholeFrame")} · ${z.camera_name}`) },
      series: [
        { name: t("dashboard.violations"), type: "bar", data: zones.map((z) => z.violations) },
        { name: t("dashboard.confirmed"), type: "bar", data: zones.map((z) => z.confirmed_violations) },
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
      series: [{ name: t("dashboard.unmonitoredHours"), type: "bar", data: outages.map((c) => Number(c.unmonitored_hours.toFixed(2))) }],
    },
    true,
  );
}

function renderSites(data) {
  const rows = data.sites.map((s) => {
    const totals = s.totals;
    return el(
      "tr",
      {},
      el("td", {}, s.site_name),
      el("td", {}, s.timezone),
      el("td", {}, String(totals.events)),
      el("td", {}, String(totals.violations)),
      el("td", {}, String(totals.confirmed_violations)),
      el("td", {}, number(totals.compliance_rate)),
      el("td", {}, percent(totals.false_positive_share)),
      el("td", {}, `${totals.open_actions} / ${totals.overdue_actions}`),
      el("td", {}, number(totals.unmonitored_hours, 1)),
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
      el("td", {}, formatKind(r.trigger)),
      el("td", {}, t(`dashboard.reportStatus.${r.status}`)),
      el("td", { class: "small" }, el("code", {}, r.sha256 ? r.sha256.slice(0, 16) : NONE)),
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
              t("dashboard.download"),
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
  fillSelect($("f-camera"), cameras.map((c) => [c.id, `${c.name} (${state.places.siteName(c.site_id)})`]), { placeholder: t("dashboard.allCameras") });
}

async function main() {
  applyText();
  state.me = await requireUser();
  mountHeader(state.me);
  $("home").href = HOME[state.me.role] || "index.html";
  state.places = await loadPlaces();
  fillSelect($("f-site"), state.places.sites.map((s) => [s.id, s.name]), { placeholder: t("dashboard.allSites") });
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
      if (!site_id) throw new Error(t("dashboard.pickSite"));
      await api(`/api/sites/${site_id}/reports`, { method: "POST", json: { start, end } });
      await loadReports();
    }),
  );
  window.addEventListener("resize", () => Object.values(state.charts).forEach((c) => c.resize()));
  await load();
}

main();
