// Rule thresholds (detect.rules_config.RuleConfig) for all cameras or one camera:
// GET/PUT /api/rules and /api/cameras/{id}/rules; a 404 means never set, so the form shows what
// the camera really runs with (its global fallback or the built-in defaults). The API validates
// (ranges, k ≤ n) and its 422 messages show next to the form; `version` is the server's, never sent.
import { ApiError, api, el, formatTime, guarded, replace } from "./app.js";

const $ = (id) => document.getElementById(id);
const seconds = { kind: "float", unit: "s" };

// Label, help (the RuleConfig field descriptions) and bounds, group by group.
const GROUPS = [
  ["Debounce", [
    { name: "k", label: "Violating frames (k)", kind: "int", min: 1, max: 100, def: 3, help: "Violating frames needed among the last n before an event fires." },
    { name: "n", label: "Window (n frames)", kind: "int", min: 1, max: 100, def: 5, help: "Debounce window length in analysed frames (k must not exceed n)." },
    { name: "cooldown_s", label: "Cooldown", ...seconds, min: 0, max: 86400, def: 60, help: "Quiet time before a track may fire the same kind again." },
  ]],
  ["Events", [
    { name: "event_gap_s", label: "Event gap", ...seconds, min: 0, max: 3600, def: 10, help: "An event closes after this long without violations." },
    { name: "max_event_s", label: "Longest event", ...seconds, min: 0, max: 86400, def: 300, help: "An event is cut (and a new one opened) at this length." },
  ]],
  ["People and PPE", [
    { name: "ppe_window", label: "PPE window (frames)", kind: "int", min: 1, max: 50, def: 3, help: "Frames of per-person PPE evidence averaged before deciding." },
    { name: "ppe_margin", label: "PPE margin", kind: "float", min: 0, max: 1, def: 0.3, help: "Mean (worn − missing) confidence needed to decide a status." },
    { name: "min_person_height_px", label: "Smallest person", kind: "int", unit: "px", min: 0, max: 4000, def: 48, help: "Smaller people are too small to judge (status unknown)." },
    { name: "implied_person_conf", label: "Implied person confidence", kind: "float", min: 0, max: 1, def: 0.6, help: "A NO-Hardhat/NO-Safety Vest box this confident implies a person on its own." },
    { name: "track_lost_s", label: "Lost track kept", ...seconds, min: 0, max: 60, def: 2, help: "Seconds a lost track is kept." },
  ]],
  ["Distance (calibrated cameras only)", [
    { name: "min_distance_m", label: "Minimum distance", kind: "float", unit: "m", min: 0, max: 50, def: 1.5, help: "People closer than this are crowding." },
    { name: "distance_dwell_s", label: "Distance dwell", ...seconds, min: 0, max: 3600, def: 5, help: "Seconds two people must stay too close to count." },
  ]],
  ["Confidence floors (0–1)", [
    ["person", "Person", 0.35, "Person boxes below this are ignored."],
    ["hardhat", "Hardhat", 0.35, "Hardhat boxes below this are ignored."],
    ["no_hardhat", "No hardhat", 0.45, "NO-Hardhat boxes below this are ignored (higher on purpose: false alarms cost review time)."],
    ["vest", "Vest", 0.35, "Safety Vest boxes below this are ignored."],
    ["no_vest", "No vest", 0.45, "NO-Safety Vest boxes below this are ignored."],
    ["mask", "Mask", 0.35, "Mask boxes below this are ignored."],
    ["no_mask", "No mask", 0.45, "NO-Mask boxes below this are ignored."],
  ].map(([key, label, def, help]) => ({ name: `thresholds.${key}`, label, kind: "float", min: 0, max: 1, def, help }))],
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
      el("fieldset", {}, el("legend", {}, title), el("div", { class: "row" }, fields.map((f) => this.field(f)))),
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
    const unit = f.unit ? ` (${f.unit})` : "";
    return el("div", { class: "field" }, el("label", { for: id }, f.label + unit), input, el("div", { class: "hint", id: `${id}-help` }, `${f.help} Default ${f.def}.`));
  }

  setCameras(cameras, siteName) {
    this.cameras = cameras;
    const scope = $("rules-scope");
    const current = scope.value;
    replace(
      scope,
      el("option", { value: "" }, "All cameras (global rules)"),
      cameras.map((c) => el("option", { value: c.id }, `Camera #${c.id} ${c.name} (${siteName(c.site_id)})`)),
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
    return `Camera #${id}${camera ? ` “${camera.name}”` : ""}`;
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
    const saved = (row) => `v${row.version}, saved ${formatTime(row.updated_at)}`;
    if (!id) {
      return own
        ? `Global rules (${saved(own)}). Cameras without rules of their own use these.`
        : "No global rules saved yet: cameras without rules of their own use the built-in defaults shown below.";
    }
    const who = this.cameraLabel(id);
    if (own) return `${who} has rules of its own (${saved(own)}); the global rules do not apply to it.`;
    const source = inherited ? `the global rules (${saved(inherited)})` : "the built-in defaults";
    return `${who} has no rules of its own: it runs with ${source}, shown below. Saving creates rules for this camera only.`;
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
        throw new Error(`${f.label}: enter a number.`);
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
