// Administration: sites, cameras (RTSP or WHIP with its one-time enrolment link), users; camera health,
// the zone and calibration editor and the rule thresholds live in admin-health.js, admin-zones.js and
// admin-rules.js. API validation errors (422) show next to the form.
import { AlertsPanel } from "./admin-alerts.js";
import { PatrolsPanel } from "./admin-patrols.js";
import { SiteAlertFields, describeAlerting } from "./admin-site-alerts.js";
import { mountAuditVerify } from "./audit-verify.js";
import { StoragePanel } from "./admin-storage.js";
import { HealthPanel } from "./admin-health.js";
import { RulesPanel } from "./admin-rules.js";
import { ZonesPanel } from "./admin-zones.js";
import { api, apiAll, el, fillSelect, formatKind, guarded, mountHeader, replace, requireUser, showError, t } from "./app.js";

const $ = (id) => document.getElementById(id);
const data = { me: null, sites: [], cameras: [], users: [] };
let zones = null;
let health = null;
let rules = null;
let alerts = null;
let patrols = null;
let siteAlerts = null;
let storage = null;

const siteZone = (id) => data.sites.find((s) => s.id === id)?.timezone;
const siteName = (id) => data.sites.find((s) => s.id === id)?.name ?? t("app.siteN", { id });

// ---- tabs (WAI-ARIA tabs pattern: arrow keys move between tabs)
function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !on;
    }
    history.replaceState(null, "", `#${tab.getAttribute("aria-controls")}`);
    if (tab.id === "tab-health") health.show();
    else health.hide();
    if (tab.id === "tab-zones") zones.show();
    if (tab.id === "tab-rules") rules.show();
    if (tab.id === "tab-alerts") alerts.show();
    if (tab.id === "tab-patrols") patrols.show();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (ev) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[ev.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      next.focus();
      select(next);
    });
  });
  const initial = tabs.find((tab) => `#${tab.getAttribute("aria-controls")}` === location.hash) || tabs[0];
  select(initial);
}

// ---- sites
let editingSite = null;

async function loadSites() {
  data.sites = await apiAll("/api/sites");
  alerts?.setSites(data.sites);
  patrols?.setSites(data.sites);
  replace(
    $("site-rows"),
    data.sites.length
      ? data.sites.map((s) =>
          el(
            "tr",
            { dataset: { siteId: s.id } },
            el("td", {}, s.name),
            el("td", {}, s.address || "–"),
            el("td", {}, s.timezone),
            el("td", {}, describeAlerting(s)),
            el(
              "td",
              { class: "actions" },
              el("button", { type: "button", class: "small", onclick: () => editSite(s) }, t("admin.edit")),
              el("button", { type: "button", class: "small danger", onclick: (ev) => deleteSite(s, ev.currentTarget) }, t("admin.delete")),
            ),
          ),
        )
      : el("tr", {}, el("td", { colspan: 5, class: "empty" }, t("admin.noSites"))),
  );
  fillSelect($("camera-site"), data.sites.map((s) => [s.id, s.name]));
  replace(
    $("user-sites"),
    data.sites.map((s) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "site_ids", value: s.id }), s.name)),
  );
  syncPanels();
  storage?.load();
}

function editSite(site) {
  editingSite = site;
  const form = $("site-form");
  form.name.value = site.name;
  form.address.value = site.address;
  form.timezone.value = site.timezone;
  form.locale.value = site.locale;
  form.privacy_blur.value = site.privacy_blur;
  siteAlerts.edit(site);
  $("site-form-title").textContent = t("admin.editSite", { name: site.name });
  $("site-cancel").hidden = false;
  form.name.focus();
}

function resetSiteForm() {
  editingSite = null;
  $("site-form").reset();
  siteAlerts.reset();
  $("site-form-title").textContent = t("admin.newSite");
  $("site-cancel").hidden = true;
  showError($("site-error"), null);
}

async function saveSite(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  await guarded($("site-error"), ev.submitter, async () => {
    const body = {
      name: form.name.value.trim(),
      address: form.address.value.trim(),
      timezone: form.timezone.value.trim(),
      locale: form.locale.value,
      privacy_blur: form.privacy_blur.value,
      ...siteAlerts.value(),
    };
    try {
      if (editingSite) await api(`/api/sites/${editingSite.id}`, { method: "PUT", json: body });
      else await api("/api/sites", { method: "POST", json: body });
    } catch (exc) {
      throw siteAlerts.explain(exc);
    }
    resetSiteForm();
    await loadSites();
  });
}

async function deleteSite(site, button) {
  if (!confirm(t("admin.confirmDeleteSite", { name: site.name }))) return;
  await guarded($("site-error"), button, async () => {
    await api(`/api/sites/${site.id}`, { method: "DELETE", as: "none" });
    await Promise.all([loadSites(), loadCameras()]);
  });
}

// ---- cameras
async function loadCameras() {
  data.cameras = await apiAll("/api/cameras");
  replace(
    $("camera-rows"),
    data.cameras.length
      ? data.cameras.map(cameraRow)
      : el("tr", {}, el("td", { colspan: 6, class: "empty" }, t("admin.noCameras"))),
  );
  syncPanels();
}

// The panels name cameras by site (and zone schedules use the site's time zone): refresh them on either change.
function syncPanels() {
  zones?.setCameras(data.cameras, data.sites);
  health?.setCameras(data.cameras, siteName, siteZone);
  rules?.setCameras(data.cameras, siteName);
}

function cameraRow(c) {
  const rowError = $("camera-row-error");
  const act = (work) => (ev) => guarded(rowError, ev.currentTarget, work);
  return el(
    "tr",
    { dataset: { cameraId: c.id }, class: c.enabled ? "" : "inactive" },
    el("td", {}, c.id),
    el("td", {}, siteName(c.site_id)),
    el("td", {}, c.name),
    el("td", {}, c.kind === "rtsp" ? el("code", { class: "mono" }, c.url) : t("admin.whipPush")),
    el("td", {}, t(c.enabled ? "admin.yes" : "admin.no")),
    el(
      "td",
      { class: "actions" },
      el("button", { type: "button", class: "small", onclick: act(async () => {
        await api(`/api/cameras/${c.id}`, { method: "PATCH", json: { enabled: !c.enabled } });
        await loadCameras();
      }) }, t(c.enabled ? "admin.disable" : "admin.enable")),
      c.kind === "whip"
        ? el("button", { type: "button", class: "small", onclick: act(async () => {
            if (!confirm(t("admin.confirmNewToken"))) return;
            showEnrolment(await api(`/api/cameras/${c.id}/token`, { method: "POST" }));
          }) }, t("admin.newToken"))
        : null,
      el("button", { type: "button", class: "small", onclick: () => zones.open(c.id) }, t("admin.zonesButton")),
      el("button", { type: "button", class: "small", onclick: () => {
        health.focus(c.id);
        $("tab-health").click();
      } }, t("admin.healthButton")),
      el("button", { type: "button", class: "small", onclick: () => {
        rules.open(c.id);
        $("tab-rules").click();
      } }, t("admin.rulesButton")),
      el("button", { type: "button", class: "small danger", onclick: act(async () => {
        if (!confirm(t("admin.confirmDeleteCamera", { name: c.name }))) return;
        await api(`/api/cameras/${c.id}`, { method: "DELETE", as: "none" });
        await loadCameras();
      }) }, t("admin.delete")),
    ),
  );
}

// The WHIP token is shown once: the admin opens the link on the phone (or copies it there).
function showEnrolment(camera) {
  const fragment = new URLSearchParams({ cam: camera.id, token: camera.whip_token });
  const link = camera.enrol_url || new URL(`camera.html#${fragment}`, location.href).href;
  const copy = async (ev) => {
    await navigator.clipboard.writeText(link).then(
      () => (ev.currentTarget.textContent = t("admin.copied")),
      () => (ev.currentTarget.textContent = t("admin.copyFailed")),
    );
  };
  replace(
    $("enrol"),
    el("strong", {}, t("admin.enrolTitle", { id: camera.id, name: camera.name })),
    el("p", { class: "small" }, t("admin.enrolHelp")),
    camera.enrol_qr ? el("img", { id: "enrol-qr", src: camera.enrol_qr, alt: t("admin.enrolQr") }) : null,
    el("p", {}, el("a", { id: "enrol-link", href: link, class: "mono", target: "_blank", rel: "noopener noreferrer" }, link)),
    el("p", { class: "small" }, t("admin.token"), " ", el("code", { id: "enrol-token", class: "mono" }, camera.whip_token)),
    el("div", { class: "actions" }, el("button", { type: "button", class: "small", onclick: copy }, t("admin.copyLink")),
      el("button", { type: "button", class: "small", onclick: () => ($("enrol").hidden = true) }, t("admin.done"))),
  );
  $("enrol").hidden = false;
}

async function saveCamera(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const kind = form.kind.value;
  const body = { site_id: Number(form.site_id.value), name: form.name.value.trim(), kind, enabled: form.enabled.checked };
  if (kind === "rtsp") body.url = form.url.value.trim();
  await guarded($("camera-error"), ev.submitter, async () => {
    if (!body.site_id) throw new Error(t("admin.siteFirst"));
    const camera = await api("/api/cameras", { method: "POST", json: body });
    form.reset();
    syncKind();
    if (camera.whip_token) showEnrolment(camera);
    await loadCameras();
  });
}

function syncKind() {
  $("camera-url-field").hidden = $("camera-kind").value !== "rtsp";
}

// ---- users
async function loadUsers() {
  data.users = await apiAll("/api/users");
  replace($("user-rows"), data.users.map(userRow));
}

function userRow(u) {
  const rowError = $("user-row-error");
  const patch = (body) => (ev) =>
    guarded(rowError, ev.currentTarget, async () => {
      await api(`/api/users/${u.id}`, { method: "PATCH", json: body() });
      await loadUsers();
    });
  const self = u.id === data.me.id;
  const role = el(
    "select",
    { "aria-label": t("admin.roleOf", { email: u.email }), disabled: self, onchange: patch(() => ({ role: role.value })) },
    ["inspector", "supervisor", "admin"].map((r) => el("option", { value: r, selected: r === u.role }, formatKind(r))),
  );
  return el(
    "tr",
    { dataset: { userId: u.id }, class: u.active ? "" : "inactive" },
    el("td", {}, u.email),
    el("td", {}, u.name || "–"),
    el("td", {}, role),
    el("td", {}, u.role === "supervisor" ? siteEditor(u, patch) : t("admin.allSites")),
    el("td", {}, t(u.active ? "admin.active" : "admin.deactivated")),
    el(
      "td",
      {},
      self
        ? el("span", { class: "muted small" }, t("admin.you"))
        : el("button", { type: "button", class: `small${u.active ? " danger" : ""}`, onclick: patch(() => ({ active: !u.active })) }, t(u.active ? "admin.deactivate" : "admin.reactivate")),
    ),
  );
}

// A supervisor's sites: the summary names them, opening it offers the checkboxes to change them.
function siteEditor(user, patch) {
  const boxes = data.sites.map((s) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", value: s.id, checked: user.site_ids.includes(s.id) }), s.name),
  );
  const chosen = () => ({ site_ids: boxes.map((b) => b.firstChild).filter((i) => i.checked).map((i) => Number(i.value)) });
  return el(
    "details",
    {},
    el("summary", {}, user.site_ids.map(siteName).join(t("app.listSeparator")) || t("admin.noneSites")),
    el("div", { role: "group", "aria-label": t("admin.sitesOf", { email: user.email }) }, boxes),
    el("button", { type: "button", class: "small", onclick: patch(chosen) }, t("admin.saveSites")),
  );
}

async function saveUser(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const body = {
    email: form.email.value.trim(),
    name: form.name.value.trim(),
    password: form.password.value,
    role: form.role.value,
    site_ids: form.role.value === "supervisor" ? [...form.querySelectorAll("[name=site_ids]:checked")].map((i) => Number(i.value)) : [],
  };
  await guarded($("user-error"), ev.submitter, async () => {
    await api("/api/users", { method: "POST", json: body });
    form.reset();
    $("user-sites-field").hidden = true;
    await loadUsers();
  });
}

async function main() {
  data.me = await requireUser("admin");
  mountHeader(data.me);
  zones = new ZonesPanel();
  health = new HealthPanel({ onCalibrate: (id) => zones.open(id, "calibration") });
  rules = new RulesPanel();
  alerts = new AlertsPanel();
  patrols = new PatrolsPanel();
  siteAlerts = new SiteAlertFields($("site-form"));
  mountAuditVerify($("audit-verify"));
  storage = new StoragePanel($("storage-usage"));
  await loadSites();
  await Promise.all([loadCameras(), loadUsers()]);
  setupTabs();
  $("site-form").addEventListener("submit", saveSite);
  $("site-cancel").addEventListener("click", resetSiteForm);
  $("camera-form").addEventListener("submit", saveCamera);
  $("camera-kind").addEventListener("change", syncKind);
  $("user-form").addEventListener("submit", saveUser);
  $("user-role").addEventListener("change", () => ($("user-sites-field").hidden = $("user-role").value !== "supervisor"));
  zones.onOpen = () => $("tab-zones").click();
  document.querySelector("main").removeAttribute("aria-busy"); // loaded and wired: ready for input
}

main().catch((exc) => showError($("page-error"), exc));
