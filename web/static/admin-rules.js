// Rule thresholds (detect.rules_config.RuleConfig) for all cameras or one camera:
// GET/PUT /api/rules and /api/cameras/{id}/rules; a 404 means never set, so the form shows what
// the camera really runs with (its global fallback or the built-in defaults). The API validates
// (ranges, k ≤ n) and its 422 messages show next to the form; `version` is the server's, never sent.
import { ApiError, api, el, formatTime, guarded, replace, t } from "./app.js";

const $ = (id) => document.getElementById(id);
const seconds = { kind: "float", unit: "s" };
const label = (f) => t(`rules.label.${f.name}`);

// Bounds and defaults group by group; labels and help (the RuleConfig field descriptions) are the catalogue's
// "rules.label.<name>" and "rules.help.<name>", group titles "rules.group.<id>".
const GROUPS = [
  ["debounce", [
    { name: "k", kind: "int", min: 1, max: 100, def: 3 },
    { name: "n", kind: "int", min: 1, max: 100, def: 5 },
    { name: "cooldown_s", ...seconds, min: 0, max: 86400, def: 60 },
  ]],
  ["events", [
    { name: "event_gap_s", ...seconds, min: 0, max: 3600, def: 10 },
    { name: "max_event_s", ...seconds, min: 0, max: 86400, def: 300 },
  ]],
  ["people", [
    { name: "ppe_window", kind: "int", min: 1, max: 50, def: 3 },
    { name: "ppe_margin", kind: "float", min: 0, max: 1, def: 0.3 },
    { name: "min_person_height_px", kind: "int", unit: "px", min: 0, max: 4000, def: 48 },
    { name: "implied_person_conf", kind: "float", min: 0, max: 1, def: 0.6 },
    { name: "track_lost_s", ...seconds, min: 0, max: 60, def: 2 },
  ]],
  ["distance", [
    { name: "min_distance_m", kind: "float", unit: "m", min: 0, max: 50, def: 1.5 },
    { name: "distance_dwell_s", ...seconds, min: 0, max: 3600, def: 5 },
  ]],
  ["floors", [
    ["person", 0.35],
    ["hardhat", 0.35],
    ["no_hardhat", 0.45],
    ["vest", 0.35],
    ["no_vest", 0.45],
    ["mask", 0.35],
    ["no_mask", 0.45],
  ].map(([key, def]) => ({ name: `thresholds.${key}`, kind: "float", min: 0, max: 1, def }))],
];
const FIELDS = GROUPS.flatMap(([, fields]) => fields);

const getPath = (obj, path) => path.split(".").reduce((o, key) => (o == null ? undefined : o[key]), obj);
function setPath(obj, path, value) {
  const keys = path.split(".");
  const last = keys.pop();
  const target = keys.reduce((o, key) => (o[key] ??= {}), obj);
  target[last] = value;
}

export class RulesPanel {
  constructor() {
    this.cameras = [];
    this.inputs = new Map(FIELDS.map((f) => [f.name, null]));
    this.build();
    $("rules-scope").addEventListener("change", () => this.load());
    $("rules-form").addEventListener("submit", (ev) => this.save(ev));
    $("rules-defaults").addEventListener("click", () => this.fill({}));
    $("rules-reload").addEventListener("click", () => this.load());
    $("rules-revert").addEventListener("click", (ev) => this.revert(ev));
  }

  build() {
    const groups = GROUPS.map(([title, fields]) =>
      el("fieldset", {}, el("legend", {}, t(`rules.group.${title}`)), el("div", { class: "row" }, fields.map((f) => this.field(f)))),
    );
    replace($("rules-fields"), groups);
  }

  field(f) {
    const id = `rule-${f.name.replace(".", "-")}`;
    const input = el("input", {
      id,
      name: f.name,
      type: "number",
      min: f.min,
      max: f.max,
      step: f.kind === "int" ? 1 : "any",
      required: true,
      "aria-describedby": `${id}-help`,
    });
    this.inputs.set(f.name, input);
    const text = f.unit ? t("rules.withUnit", { label: label(f), unit: f.unit }) : label(f);
    const help = t("rules.helpDefault", { help: t(`rules.help.${f.name}`), def: f.def });
    return el("div", { class: "field" }, el("label", { for: id }, text), input, el("div", { class: "hint", id: `${id}-help` }, help));
  }

  setCameras(cameras, siteName) {
    this.cameras = cameras;
    const scope = $("rules-scope");
    const current = scope.value;
    replace(
      scope,
      el("option", { value: "" }, t("rules.allCameras")),
      cameras.map((c) => el("option", { value: c.id }, t("rules.cameraOption", { id: c.id, name: c.name, site: siteName(c.site_id) }))),
    );
    if ([...scope.options].some((o) => o.value === current)) scope.value = current;
  }

  open(cameraId) {
    $("rules-scope").value = String(cameraId);
  }

  show() {
    return this.load();
  }

  get cameraId() {
    return Number($("rules-scope").value) || null;
  }

  cameraLabel(id) {
    const camera = this.cameras.find((c) => c.id === id);
    return camera ? t("rules.cameraNamed", { id, name: camera.name }) : t("app.cameraN", { id });
  }

  // The stored rules at `path`, or null when never set (404).
  async fetchRules(path) {
    try {
      return await api(path);
    } catch (exc) {
      if (exc instanceof ApiError && exc.status === 404) return null;
      throw exc;
    }
  }

  async load() {
    const id = this.cameraId;
    await guarded($("rules-error"), null, async () => {
      const own = await this.fetchRules(id ? `/api/cameras/${id}/rules` : "/api/rules");
      const inherited = !own && id ? await this.fetchRules("/api/rules") : null;
      if (id !== this.cameraId) return; // the admin picked another scope meanwhile
      this.fill((own || inherited)?.config || {});
      $("rules-status").textContent = this.describe(id, own, inherited);
      $("rules-revert").hidden = !(id && own); // only a camera's own rules can be dropped
    });
  }

  describe(id, own, inherited) {
    const saved = (row) => t("rules.saved", { version: row.version, time: formatTime(row.updated_at) });
    if (!id) return own ? t("rules.globalSaved", { saved: saved(own) }) : t("rules.noGlobal");
    const who = this.cameraLabel(id);
    if (own) return t("rules.ownRules", { who, saved: saved(own) });
    if (inherited) return t("rules.inheritsGlobal", { who, saved: saved(inherited) });
    return t("rules.inheritsDefaults", { who });
  }

  fill(config) {
    this.markInvalid([]);
    for (const f of FIELDS) this.inputs.get(f.name).value = String(getPath(config, f.name) ?? f.def);
  }

  body() {
    const body = {};
    for (const f of FIELDS) {
      const raw = this.inputs.get(f.name).value.trim();
      if (raw === "") {
        this.markInvalid([f.name]);
        throw new Error(t("rules.enterNumber", { label: label(f) }));
      }
      setPath(body, f.name, Number(raw));
    }
    return body;
  }

  async save(ev) {
    ev.preventDefault();
    const id = this.cameraId;
    const path = id ? `/api/cameras/${id}/rules` : "/api/rules";
    this.markInvalid([]);
    await guarded($("rules-error"), ev.submitter, async () => {
      try {
        const saved = await api(path, { method: "PUT", json: this.body() });
        this.fill(saved.config);
        $("rules-status").textContent = this.describe(id, saved, null);
        $("rules-revert").hidden = !id;
      } catch (exc) {
        if (exc instanceof ApiError && Array.isArray(exc.detail)) this.markInvalid(this.namesIn(exc.detail));
        throw exc;
      }
    });
  }

  // Drop the camera's own rules: it runs the global rules (or the defaults) again.
  async revert(ev) {
    const id = this.cameraId;
    if (!id) return;
    await guarded($("rules-error"), ev.currentTarget, async () => {
      await api(`/api/cameras/${id}/rules`, { method: "DELETE" });
      await this.load();
    });
  }

  // Field names a 422 points at: by its loc, or, for whole-body checks (k ≤ n), named in the message as "k (6)".
  namesIn(detail) {
    const names = new Set();
    for (const item of detail) {
      const loc = (item.loc || []).filter((part) => part !== "body").join(".");
      if (this.inputs.has(loc)) names.add(loc);
      else for (const f of FIELDS) if (new RegExp(`\\b${f.name} \\(`).test(String(item.msg))) names.add(f.name);
    }
    return [...names];
  }

  markInvalid(names) {
    for (const [name, input] of this.inputs) {
      if (names.includes(name)) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
    if (names.length) this.inputs.get(names[0]).focus();
  }
}
