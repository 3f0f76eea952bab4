// Camera health: one card per camera from GET /api/cameras/{id}/health (the worker's live state, fps,
// last frame, reconnects, last error) plus its recorded outages. Polls every 5 s, only while the tab is
// shown and the browser tab is visible, and never overlaps two rounds.
import { api, apiAll, el, replace, showError } from "./app.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
const STATES = {
  streaming: ["ok", "Streaming"],
  starting: ["warn", "Starting"],
  reconnecting: ["warn", "Reconnecting"],
  failed: ["bad", "Failed"],
  stopped: ["idle", "Stopped"],
  not_running: ["idle", "Not running"],
};
const OUTAGE_ROWS = 20; // the API keeps up to 100; the newest are the ones an admin acts on

// 75 -> "1 min 15 s"; whole units only, at most two of them.
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const minutes = Math.floor((s % 3600) / 60);
  if (s < 86400) return `${Math.floor(s / 3600)} h${minutes ? ` ${minutes} min` : ""}`;
  const hours = Math.floor((s % 86400) / 3600);
  return `${Math.floor(s / 86400)} d${hours ? ` ${hours} h` : ""}`;
}

const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
const fps = (value) => (value === null || value === undefined ? "–" : `${value.toFixed(1)} fps`);

export class HealthPanel {
  constructor({ onCalibrate = () => {} } = {}) {
    this.onCalibrate = onCalibrate;
    this.cameras = [];
    this.siteName = (id) => `Site ${id}`;
    this.active = false;
    this.timer = null;
    this.selectedId = null;
    this.scrollPending = false;
    this.running = null; // the round in flight, so show() during a round does not start a second one
    // Back in view: refresh at once (the numbers are stale); hidden: stop polling.
    document.addEventListener("visibilitychange", () => (document.visibilityState === "visible" && this.active ? this.refresh() : this.schedule()));
  }

  setCameras(cameras, siteName) {
    this.cameras = cameras;
    this.siteName = siteName;
    if (this.active) this.refresh();
  }

  show() {
    this.active = true;
    this.refresh();
  }

  hide() {
    this.active = false;
    clearTimeout(this.timer);
  }

  // Marks one camera's card (from the camera table's "Health" button) and scrolls it into view once.
  focus(cameraId) {
    this.selectedId = cameraId;
    this.scrollPending = true;
    this.highlight();
  }

  highlight() {
    const card = document.querySelector(`#health-cards [data-camera-id="${this.selectedId}"]`);
    if (!card) return;
    card.classList.add("selected");
    if (this.scrollPending) card.scrollIntoView({ block: "nearest" });
    this.scrollPending = false;
  }

  schedule() {
    clearTimeout(this.timer);
    if (this.active && document.visibilityState === "visible") this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = null;
        this.schedule();
      });
    }
    return this.running;
  }

  // The camera list is fetched too: cameras added elsewhere (another admin, a phone) appear without a reload.
  async round() {
    const cameras = await apiAll("/api/cameras").catch((exc) => {
      showError($("health-error"), exc);
      return this.cameras;
    });
    this.cameras = cameras;
    const results = await Promise.allSettled(cameras.map((c) => api(`/api/cameras/${c.id}/health`)));
    const failed = results.find((r) => r.status === "rejected");
    showError($("health-error"), failed ? failed.reason : null);
    const cards = cameras.map((camera, i) => (results[i].status === "fulfilled" ? this.card(camera, results[i].value) : null));
    replace($("health-cards"), cameras.length ? cards : el("p", { class: "empty" }, "No cameras yet."));
    $("health-updated").textContent = `· updated ${new Date().toLocaleTimeString()}`;
    this.highlight();
  }

  card(camera, health) {
    const [tone, label] = STATES[health.state] || ["idle", health.state];
    const now = Date.now() / 1000;
    const lastFrame = health.last_frame_at ? `${formatDuration(now - health.last_frame_at)} ago` : "never";
    return el(
      "article",
      { class: `health-card tone-${tone}`, dataset: { cameraId: camera.id }, "aria-labelledby": `health-title-${camera.id}` },
      el(
        "header",
        {},
        el("h3", { id: `health-title-${camera.id}` }, `#${camera.id} ${camera.name}`, el("span", { class: "muted" }, ` · ${this.siteName(camera.site_id)}`)),
        el("span", { class: `badge health-badge health-${tone}`, dataset: { state: health.state } }, label),
      ),
      camera.enabled ? null : el("p", { class: "small muted" }, "Disabled: the worker does not watch this camera."),
      health.distance_rule_enabled
        ? null
        : el(
            "p",
            { class: "calib-note" },
            el("strong", {}, "Distance rule off: calibrate this camera."),
            " Crowding between people cannot be measured without a ground calibration. ",
            el("button", { type: "button", class: "small", onclick: () => this.onCalibrate(camera.id) }, "Calibrate"),
          ),
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, "Input"),
        el("dd", {}, fps(health.input_fps)),
        el("dt", {}, "Analysed"),
        el("dd", {}, fps(health.analysed_fps)),
        el("dt", {}, "Last frame"),
        el("dd", { class: "last-frame" }, lastFrame),
        el("dt", {}, "Reconnects"),
        el("dd", {}, health.reconnect_count ?? "–"),
        el("dt", {}, "Last error"),
        el("dd", { class: "last-error" }, health.last_error || "none"),
      ),
      this.outages(health.unmonitored),
    );
  }

  outages(intervals) {
    if (!intervals.length) return el("p", { class: "small muted outages-none" }, "No recorded outages.");
    const now = Date.now();
    const spans = intervals.map((i) => ((i.ended_at ? new Date(i.ended_at).getTime() : now) - new Date(i.started_at).getTime()) / 1000);
    const total = spans.reduce((a, b) => a + b, 0);
    const rows = intervals.slice(0, OUTAGE_ROWS).map((interval, i) =>
      el(
        "tr",
        {},
        el("td", { class: "when" }, when(interval.started_at)),
        el("td", { class: "when" }, interval.ended_at ? when(interval.ended_at) : el("span", { class: "badge health-bad" }, "ongoing")),
        el("td", {}, formatDuration(spans[i])),
        el("td", {}, interval.reason),
      ),
    );
    const more = intervals.length - rows.length;
    return el(
      "div",
      { class: "table-wrap outages" },
      el(
        "table",
        {},
        el("caption", {}, `Recorded outages: ${intervals.length}, ${formatDuration(total)} unmonitored`),
        el("thead", {}, el("tr", {}, ["Started", "Ended", "Duration", "Reason"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows),
      ),
      more > 0 ? el("p", { class: "small muted" }, `${more} older outage${more === 1 ? "" : "s"} not shown.`) : null,
    );
  }
}
