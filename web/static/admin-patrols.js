// Patrol plans (issue 15): per site, which cameras a round steps through (in order), at which times of
// day (site time zone), the grace window and the responsible inspectors. The server validates (422 for
// times out of range, unknown cameras, cameras of another site); its message is shown as is.
import { api, apiAll, el, fillSelect, guarded, replace, t } from "./app.js";

const $ = (id) => document.getElementById(id);

export class PatrolsPanel {
  constructor() {
    this.sites = [];
    this.cameras = [];
    this.inspectors = [];
    this.editing = null;
    $("plan-site").addEventListener("change", () => this.refresh());
    $("plan-form").addEventListener("submit", (ev) => this.save(ev));
    $("plan-cancel").addEventListener("click", () => this.reset());
  }

  setSites(sites) {
    this.sites = sites;
    fillSelect($("plan-site"), sites.map((s) => [String(s.id), s.name]));
  }

  async show() {
    await guarded($("plan-error"), null, async () => {
      const [cameras, users] = await Promise.all([apiAll("/api/cameras"), apiAll("/api/users")]);
      this.cameras = cameras;
      this.inspectors = users.filter((u) => u.role === "inspector" && u.active);
    });
    this.reset();
    await this.refresh();
  }

  siteCameras() {
    return this.cameras.filter((c) => String(c.site_id) === $("plan-site").value);
  }

  async refresh() {
    const siteId = $("plan-site").value;
    this.renderChoices();
    await guarded($("plan-error"), null, async () => {
      const plans = siteId ? await apiAll("/api/patrol-plans", { query: { site_id: siteId } }) : [];
      replace(
        $("plan-rows"),
        plans.length ? plans.map((p) => this.row(p)) : el("tr", {}, el("td", { colspan: 7, class: "muted" }, t("admin.noPlans"))),
      );
    });
  }

  name(list, id, label) {
    const found = list.find((x) => x.id === id);
    return found ? label(found) : `#${id}`;
  }

  row(plan) {
    return el(
      "tr",
      { dataset: { planId: plan.id } },
      el("td", {}, plan.name),
      el("td", {}, plan.times.join(", ")),
      el("td", {}, t("app.unit.min", { n: plan.grace_minutes })),
      el("td", {}, plan.camera_ids.map((id) => this.name(this.cameras, id, (c) => c.name)).join(" → ")),
      el("td", {}, plan.inspector_ids.map((id) => this.name(this.inspectors, id, (u) => u.name || u.email)).join(t("app.listSeparator")) || "–"),
      el("td", {}, t(plan.active ? "admin.yes" : "admin.no")),
      el(
        "td",
        { class: "actions" },
        el("button", { type: "button", class: "small", onclick: () => this.edit(plan) }, t("admin.edit")),
        el("button", { type: "button", class: "small danger", onclick: (ev) => this.remove(plan, ev.currentTarget) }, t("admin.delete")),
      ),
    );
  }

  renderChoices(plan = null) {
    const chosen = new Set(plan ? plan.camera_ids : []);
    const order = plan ? [...plan.camera_ids, ...this.siteCameras().map((c) => c.id).filter((id) => !chosen.has(id))] : this.siteCameras().map((c) => c.id);
    const cameras = order.map((id) => this.cameras.find((c) => c.id === id)).filter(Boolean);
    replace(
      $("plan-cameras"),
      cameras.length
        ? cameras.map((c) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "camera", value: c.id, checked: chosen.has(c.id) || !plan }), c.name))
        : el("span", { class: "muted small" }, t("app.noCameras")),
    );
    const responsible = new Set(plan ? plan.inspector_ids : []);
    replace(
      $("plan-inspectors"),
      this.inspectors.length
        ? this.inspectors.map((u) => el("label", { class: "check" }, el("input", { type: "checkbox", name: "inspector", value: u.id, checked: responsible.has(u.id) }), u.name || u.email))
        : el("span", { class: "muted small" }, t("admin.noInspectors")),
    );
  }

  body() {
    const checked = (name) => [...$("plan-form").querySelectorAll(`input[name="${name}"]:checked`)].map((i) => Number(i.value));
    return {
      name: $("plan-name").value.trim(),
      times: $("plan-times").value.split(",").map((time) => time.trim()).filter(Boolean),
      grace_minutes: Number($("plan-grace").value),
      camera_ids: checked("camera"),
      inspector_ids: checked("inspector"),
      active: $("plan-active").checked,
    };
  }

  async save(ev) {
    ev.preventDefault();
    await guarded($("plan-error"), $("plan-save"), async () => {
      if (this.editing) {
        await api(`/api/patrol-plans/${this.editing.id}`, { method: "PUT", json: this.body() });
      } else {
        await api("/api/patrol-plans", { method: "POST", json: { site_id: Number($("plan-site").value), ...this.body() } });
      }
      this.reset();
      await this.refresh();
    });
  }

  edit(plan) {
    this.editing = plan;
    $("plan-form-title").textContent = t("admin.editPlan", { name: plan.name });
    $("plan-name").value = plan.name;
    $("plan-times").value = plan.times.join(", ");
    $("plan-grace").value = String(plan.grace_minutes);
    $("plan-active").checked = plan.active;
    $("plan-save").textContent = t("admin.savePlan");
    $("plan-cancel").hidden = false;
    this.renderChoices(plan);
  }

  reset() {
    this.editing = null;
    $("plan-form").reset();
    $("plan-form-title").textContent = t("admin.newPlan");
    $("plan-save").textContent = t("admin.addPlan");
    $("plan-cancel").hidden = true;
    this.renderChoices();
  }

  async remove(plan, button) {
    await guarded($("plan-error"), button, async () => {
      await api(`/api/patrol-plans/${plan.id}`, { method: "DELETE" });
      await this.refresh();
    });
  }
}
