// Zones and distance calibration for one camera, drawn on its latest snapshot (or a blank 16:9 frame).
// Zone clicks build a polygon; calibration clicks place numbered ground points whose metres are typed in.
import { api, apiAll, el, evidenceUrl, fillSelect, guarded, replace, showError, t } from "./app.js";
import { PointCanvas } from "./zone-editor.js";
import { ScheduleEditor, describeSchedule } from "./zone-schedule.js";

const $ = (id) => document.getElementById(id);

export class ZonesPanel {
  constructor() {
    this.canvas = new PointCanvas($("zone-canvas"), { onChange: () => this.pointsChanged() });
    this.schedule = new ScheduleEditor($("schedule-windows"), $("schedule-add"), $("schedule-help"));
    this.cameras = [];
    this.timezoneOf = () => "";
    this.cameraId = null;
    this.loadedId = null;
    this.zones = [];
    this.editing = null;
    this.mode = "zone";
    this.points = { zone: [], calibration: [] };
    this.world = []; // typed ground coordinates, parallel to the calibration points
    this.backgroundUrl = null;
    this.onOpen = () => {};
    $("zone-camera").addEventListener("change", () => this.show());
    for (const radio of document.querySelectorAll("input[name=mode]")) {
      radio.addEventListener("change", () => this.setMode(radio.value));
    }
    $("undo-point").addEventListener("click", () => this.canvas.undo());
    $("clear-points").addEventListener("click", () => this.canvas.clear());
    $("zone-form").addEventListener("submit", (ev) => this.saveZone(ev));
    $("zone-new").addEventListener("click", () => this.editZone(null));
    $("zone-delete").addEventListener("click", (ev) => this.deleteZone(ev.currentTarget));
    $("calib-form").addEventListener("submit", (ev) => this.saveCalibration(ev));
    // A preset ticks its PPE (listed in the option's data-ppe); ticking by hand makes the zone custom.
    $("zone-preset").addEventListener("change", (ev) => this.applyPreset(ev.currentTarget.selectedOptions[0]));
    for (const box of document.querySelectorAll("#zone-form [name=ppe]")) {
      box.addEventListener("change", () => this.matchPreset());
    }
    this.setMode("zone");
  }

  // `sites` gives names for the picker and the time zone that zone schedules are read in.
  setCameras(cameras, sites) {
    this.cameras = cameras;
    const site = (id) => sites.find((s) => s.id === id);
    this.timezoneOf = (cameraId) => site(cameras.find((c) => c.id === cameraId)?.site_id)?.timezone ?? "";
    const siteLabel = (c) => site(c.site_id)?.name ?? t("app.siteN", { id: c.site_id });
    fillSelect($("zone-camera"), cameras.map((c) => [c.id, t("zones.cameraOption", { id: c.id, name: c.name, site: siteLabel(c) })]));
    this.schedule.setTimezone(this.timezoneOf(this.cameraId));
  }

  open(cameraId, mode = "zone") {
    $("zone-camera").value = String(cameraId);
    const radio = document.querySelector(`input[name=mode][value=${mode}]`);
    radio.checked = true;
    this.setMode(mode);
    this.onOpen();
  }

  // Called when the tab is shown or another camera picked: loads that camera's image and config once.
  async show() {
    const id = Number($("zone-camera").value) || null;
    if (id === this.loadedId) return;
    this.loadedId = id;
    this.cameraId = id;
    this.schedule.setTimezone(this.timezoneOf(id));
    this.editZone(null);
    this.points.calibration = [];
    this.world = [];
    if (id === null) return;
    await guarded($("zone-error"), null, async () => {
      await Promise.all([this.loadBackground(id), this.loadZones(), this.loadCalibration()]);
    });
  }

  async loadBackground(cameraId) {
    if (this.backgroundUrl) URL.revokeObjectURL(this.backgroundUrl);
    this.backgroundUrl = null;
    const page = await api("/api/events", { query: { camera_id: cameraId, limit: 1 } });
    const latest = page.items[0];
    if (latest) this.backgroundUrl = await evidenceUrl(`/api/events/${latest.id}/snapshot`).catch(() => null);
    await this.canvas.setBackground(this.backgroundUrl);
  }

  async loadZones() {
    this.zones = await apiAll(`/api/cameras/${this.cameraId}/zones`);
    this.canvas.setOverlays(this.zones.filter((z) => z.id !== this.editing?.id).map((z) => ({ points: z.polygon, label: z.name })));
    const items = this.zones.map((z) =>
      el(
        "li",
        { dataset: { zoneId: z.id } },
        el("strong", {}, z.name),
        el(
          "span",
          { class: "small muted" },
          " · ",
          t("zones.summary", {
            version: z.version,
            ppe: [...z.required_ppe].map((p) => t(`zones.ppe.${p}`)).join(t("app.listSeparator")) || t("zones.none"),
            cap: z.occupancy_cap ?? t("zones.none"),
          }),
          " ",
        ),
        el("span", { class: "small zone-hours" }, t("zones.hours", { hours: describeSchedule(z.schedule) }), " "),
        el("button", { type: "button", class: "small", onclick: () => this.editZone(z) }, t("admin.edit")),
      ),
    );
    replace($("zone-list"), items.length ? items : el("li", { class: "muted small" }, t("zones.noZones")));
  }

  async loadCalibration() {
    try {
      const calibration = await api(`/api/cameras/${this.cameraId}/calibration`);
      this.points.calibration = calibration.image_points;
      this.world = calibration.world_points_m.map(([x, y]) => [String(x), String(y)]);
      $("calib-status").textContent = t("zones.calibrationSaved", { version: calibration.version });
    } catch (exc) {
      if (exc.status !== 404) throw exc;
      $("calib-status").textContent = t("zones.notCalibrated");
    }
    if (this.mode === "calibration") this.canvas.setPoints(this.points.calibration);
    this.renderCalibration();
  }

  setMode(mode) {
    this.mode = mode;
    $("zone-form").hidden = mode !== "zone";
    $("calib-form").hidden = mode !== "calibration";
    $("canvas-help").textContent = t(`zones.help.${mode}`);
    this.canvas.setMode(mode === "zone" ? "polygon" : "markers");
    this.canvas.setPoints(this.points[mode]);
  }

  pointsChanged() {
    this.points[this.mode] = this.canvas.points;
    const n = this.canvas.points.length;
    $("point-count").textContent = t("zones.points", { count: n });
    if (this.mode === "calibration") this.renderCalibration();
  }

  applyPreset(option) {
    if (!option?.dataset.ppe) return;
    const wanted = option.dataset.ppe.split(" ");
    for (const box of document.querySelectorAll("#zone-form [name=ppe]")) box.checked = wanted.includes(box.value);
  }

  // Select the preset whose PPE equals the ticked boxes, else "Custom".
  matchPreset() {
    const ticked = [...document.querySelectorAll("#zone-form [name=ppe]:checked")].map((b) => b.value).sort().join(" ");
    const match = [...$("zone-preset").options].find((o) => o.dataset.ppe?.split(" ").sort().join(" ") === ticked);
    $("zone-preset").value = match?.value ?? "";
  }

  editZone(zone) {
    this.editing = zone;
    const form = $("zone-form");
    form.reset();
    showError($("zone-error"), null);
    if (zone) {
      form.name.value = zone.name;
      for (const box of form.querySelectorAll("[name=ppe]")) box.checked = zone.required_ppe.includes(box.value);
      form.occupancy_cap.value = zone.occupancy_cap ?? "";
    }
    this.matchPreset();
    this.schedule.set(zone?.schedule ?? null);
    $("zone-form-title").textContent = zone ? t("zones.editZone", { name: zone.name }) : t("admin.newZone");
    $("zone-new").hidden = $("zone-delete").hidden = !zone;
    this.points.zone = zone ? zone.polygon : [];
    if (this.mode === "zone") this.canvas.setPoints(this.points.zone);
    this.canvas.setOverlays(this.zones.filter((z) => z.id !== zone?.id).map((z) => ({ points: z.polygon, label: z.name })));
  }

  async saveZone(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    const cap = form.occupancy_cap.value.trim();
    await guarded($("zone-error"), ev.submitter, async () => {
      const body = {
        name: form.name.value.trim(),
        polygon: this.points.zone,
        required_ppe: [...form.querySelectorAll("[name=ppe]:checked")].map((b) => b.value),
        occupancy_cap: cap ? Number(cap) : null,
        schedule: this.schedule.value(),
      };
      if (this.cameraId === null) throw new Error(t("zones.cameraFirst"));
      if (body.polygon.length < 3) throw new Error(t("zones.needPolygon"));
      const saved = await (this.editing
        ? api(`/api/zones/${this.editing.id}`, { method: "PUT", json: body })
        : api(`/api/cameras/${this.cameraId}/zones`, { method: "POST", json: body })
      ).catch((exc) => {
        throw this.schedule.explain(exc);
      });
      this.editZone(null);
      await this.loadZones();
      $("point-count").textContent = t("zones.zoneSaved", { name: saved.name, version: saved.version });
    });
  }

  async deleteZone(button) {
    if (!this.editing || !confirm(t("zones.confirmDelete", { name: this.editing.name }))) return;
    await guarded($("zone-error"), button, async () => {
      await api(`/api/zones/${this.editing.id}`, { method: "DELETE", as: "none" });
      this.editZone(null);
      await this.loadZones();
    });
  }

  renderCalibration() {
    const points = this.points.calibration;
    this.world.length = points.length;
    const rows = points.map(([x, y], i) => {
      const [wx, wy] = this.world[i] || ["", ""];
      const input = (axis, value) =>
        el("input", {
          type: "number",
          step: "any",
          value,
          required: true,
          "aria-label": t(axis === 0 ? "zones.pointX" : "zones.pointY", { n: i + 1 }),
          oninput: (ev) => {
            this.world[i] = this.world[i] || ["", ""];
            this.world[i][axis] = ev.currentTarget.value;
          },
        });
      return el("tr", {}, el("td", {}, i + 1), el("td", { class: "mono" }, `${x.toFixed(3)}, ${y.toFixed(3)}`), el("td", {}, input(0, wx)), el("td", {}, input(1, wy)));
    });
    replace($("calib-rows"), rows.length ? rows : el("tr", {}, el("td", { colspan: 4, class: "empty" }, t("zones.clickToAdd"))));
  }

  async saveCalibration(ev) {
    ev.preventDefault();
    await guarded($("calib-error"), ev.submitter, async () => {
      const points = this.points.calibration;
      if (points.length < 4) throw new Error(t("zones.needPoints"));
      const world = points.map((_, i) => (this.world[i] || ["", ""]).map(Number));
      if (world.some(([wx, wy], i) => !Number.isFinite(wx) || !Number.isFinite(wy) || (this.world[i] || []).includes(""))) {
        throw new Error(t("zones.needWorld"));
      }
      const saved = await api(`/api/cameras/${this.cameraId}/calibration`, {
        method: "PUT",
        json: { image_points: points, world_points_m: world },
      });
      $("calib-status").textContent = t("zones.calibrationSaved", { version: saved.version });
    });
  }
}
