// Administration: sites, cameras (RTSP or WHIP with its one-time enrolment link), users; camera health,
// the zone and calibration editor and the rule thresholds live in admin-health.js, admin-zones.js and
// admin-rules.js. API validation errors (422) show next to the form.
import { AlertsPanel } from "./admin-alerts.js";
import { PatrolsPanel } from "./admin-patrols.js";
import { mountAuditVerify } from "./audit-verify.js";
import { StoragePanel } from "./admin-storage.js";
import { HealthPanel } from "./admin-health.js";
import { RulesPanel } from "./admin-rules.js";
import { ZonesPanel } from "./admin-zones.js";
import { api, apiAll, el, fillSelect, formatKind, guarded, mountHeader, replace, requireUser, showError } from "./app.js";

const $ = (id) => document.getElementById(id);
const data = { me: null, sites: [], cameras: [], users: [] };
let zones = null;
let health = null;
let rules = null;
let alerts = null;
let patrols = null;
let storage = null;

const siteName = (id) => data.sites.find((s) => s.id === id)?.name ?? `Site ${id}`;

// ---- tabs (WAI-ARIA tabs pattern: arrow keys move between tabs)
function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
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
  const initial = tabs.find((t) => `#${t.getAttribute("aria-controls")}` === location.hash) || tabs[0];
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
            el(
              "td",
              { class: "actions" },
              el("button", { type: "button", class: "small", onclick: () => editSite(s) }, "Edit"),
              el("button", { type: "button", class: "small danger", onclick: (ev) => deleteSite(s, ev.currentTarget) }, "Delete"),
            ),
          ),
        )
      : el("tr", {}, el("td", { colspan: 4, class: "empty" }, "No sites yet.")),
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
  form.privacy_blur.value = site.privacy_blur;
  $("site-form-title").textContent = `Edit site “${site.name}”`;
  $("site-cancel").hidden = false;
  form.name.focus();
}

function resetSiteForm() {
  editingSite = null;
  $("site-form").reset();
  $("site-form-title").textContent = "New site";
  $("site-cancel").hidden = true;
  showError($("site-error"), null);
}

async function saveSite(ev) {
  ev.preventDefault();
  const form = ev.currentTarget;
  const body = {
    name: form.name.value.trim(),
    address: form.address.value.trim(),
    timezone: form.timezone.value.trim(),
    privacy_blur: form.privacy_blur.value,
  };
  await guarded($("site-error"), ev.submitter, async () => {
    if (editingSite) await api(`/api/sites/${editingSite.id}`, { method: "PUT", json: body });
    else await api("/api/sites", { method: "POST", json: body });
    resetSiteForm();
    await loadSites();
  });
}

async function deleteSite(site, button) {
  if (!confirm(`Delete site “${site.name}” and its cameras?`)) return;
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
      : el("tr", {}, el("td", { colspan: 6, class: "empty" }, "No cameras yet.")),
  );
  syncPanels();
}

// The panels name cameras by site (and zone schedules use the site's time zone): refresh them on either change.
function syncPanels() {
  zones?.setCameras(data.cameras, data.sites);
  health?.setCameras(data.cameras, siteName);
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
    el("td", {}, c.kind === "rtsp" ? el("code", { class: "mono" }, c.url) : "WHIP push"),
    el("td", {}, c.enabled ? "Yes" : "No"),
    el(
      "td",
      { class: "actions" },
      el("button", { type: "button", class: "small", onclick: act(async () => {
        await api(`/api/cameras/${c.id}`, { method: "PATCH", json: { enabled: !c.enabled } });
        await loadCameras();
      }) }, c.enabled ? "Disable" : "Enable"),
      c.kind === "whip"
        ? el("button", { type: "button", class: "small", onclick: act(async () => {
            if (!confirm("Issue a new token? The phone using the old one will stop streaming.")) return;
            showEnrolment(await api(`/api/cameras/${c.id}/token`, { method: "POST" }));
          }) }, "New token")
        : null,
      el("button", { type: "button", class: "small", onclick: () => zones.open(c.id) }, "Zones"),
      el("button", { type: "button", class: "small", onclick: () => {
        health.focus(c.id);
        $("tab-health").click();
      } }, "Health"),
      el("button", { type: "button", class: "small", onclick: () => {
        rules.open(c.id);
        $("tab-rules").click();
      } }, "Rules"),
      el("button", { type: "button", class: "small danger", onclick: act(async () => {
        if (!confirm(`Delete camera “${c.name}”?`)) return;
        await api(`/api/cameras/${c.id}`, { method: "DELETE", as: "none" });
        await loadCameras();
      }) }, "Delete"),
    ),
  );
}

// The WHIP token is shown once: the admin opens the link on the phone (or copies it there).
function showEnrolment(camera) {
  const fragment = new URLSearchParams({ cam: camera.id, token: camera.whip_token });
  const link = camera.enrol_url || new URL(`camera.html#${fragment}`, location.href).href;
  const copy = async (ev) => {
    await navigator.clipboard.writeText(link).then(
      () => (ev.currentTarget.textContent = "Copied"),
      () => (ev.currentTarget.textContent = "Copy failed: select the link"),
    );
  };
  replace(
    $("enrol"),
    el("strong", {}, `Phone enrolment for camera #${camera.id} “${camera.name}”`),
    el("p", { class: "small" }, "Scan the QR code with the phone that will film the site, or open the link on it (the phone must reach this server at that address; camera access needs HTTPS or localhost). The token is shown only now; use “New token” to issue another."),
    camera.enrol_qr ? el("img", { id: "enrol-qr", src: camera.enrol_qr, alt: "QR code of the enrolment link: scan it with the phone" }) : null,
    el("p", {}, el("a", { id: "enrol-link", href: link, class: "mono", target: "_blank", rel: "noopener noreferrer" }, link)),
    el("p", { class: "small" }, "Token: ", el("code", { id: "enrol-token", class: "mono" }, camera.whip_token)),
    el("div", { class: "actions" }, el("button", { type: "button", class: "small", onclick: copy }, "Copy link"),
      el("button", { type: "button", class: "small", onclick: () => ($("enrol").hidden = true) }, "Done")),
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
    if (!body.site_id) throw new Error("Create a site first.");
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
    { "aria-label": `Role of ${u.email}`, disabled: self, onchange: patch(() => ({ role: role.value })) },
    ["inspector", "supervisor", "admin"].map((r) => el("option", { value: r, selected: r === u.role }, formatKind(r))),
  );
  return el(
    "tr",
    { dataset: { userId: u.id }, class: u.active ? "" : "inactive" },
    el("td", {}, u.email),
    el("td", {}, u.name || "–"),
    el("td", {}, role),
    el("td", {}, u.role === "supervisor" ? siteEditor(u, patch) : "all"),
    el("td", {}, u.active ? "Active" : "Deactivated"),
    el(
      "td",
      {},
      self
        ? el("span", { class: "muted small" }, "you")
        : el("button", { type: "button", class: `small${u.active ? " danger" : ""}`, onclick: patch(() => ({ active: !u.active })) }, u.active ? "Deactivate" : "Reactivate"),
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
    el("summary", {}, user.site_ids.map(siteName).join(", ") || "none"),
    el("div", { role: "group", "aria-label": `Sites of ${user.email}` }, boxes),
    el("button", { type: "button", class: "small", onclick: patch(chosen) }, "Save sites"),
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
