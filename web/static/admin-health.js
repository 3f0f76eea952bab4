// Camera health: one card per camera from GET /api/cameras/{id}/health (the worker's live state, fps,
// last frame, reconnects, last error) plus its recorded outages. Polls every 5 s, only while the tab is
// shown and the browser tab is visible, and never overlaps two rounds.
import { api, apiAll, el, formatNumber, formatTime, hasText, replace, showError, t } from "./app.js";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 5000;
const TONES = { streaming: "ok", starting: "warn", reconnecting: "warn", failed: "bad", stopped: "idle", not_running: "idle" };
const OUTAGE_COLUMNS = ["started", "ended", "duration", "reason"];
const OUTAGE_ROWS = 20; // the API keeps up to 100; the newest are the ones an admin acts on

// 75 -> "1 min 15 s" (zh-CN "1 分钟 15 秒"); whole units only, at most two of them.
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const unit = (name, n) => t(`app.unit.${name}`, { n });
  const two = (big, bigName, small, smallName) => (small ? `${unit(bigName, big)} ${unit(smallName, small)}` : unit(bigName, big));
  if (s < 60) return unit("s", s);
  if (s < 3600) return two(Math.floor(s / 60), "min", s % 60, "s");
  if (s < 86400) return two(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "min");
  return two(Math.floor(s / 86400), "d", Math.floor((s % 86400) / 3600), "h");
}

const ONE_DIGIT = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
const fps = (value) => (value === null || value === undefined ? "–" : t("admin.fps", { value: formatNumber(value, ONE_DIGIT) }));

export class HealthPanel {
  constructor({ onCalibrate = () => {} } = {}) {
    this.onCalibrate = onCalibrate;
    this.cameras = [];
    this.siteName = (id) => t("app.siteN", { id });
    this.active = false;
    this.timer = null;
    this.selectedId = null;
    this.scrollPending = false;
    this.running = null; // the round in flight, so show() during a round does not start a second one
    // Back in view: refresh at once (the numbers are stale); hidden: stop polling.
    document.addEventListener("visibilitychange", () => (document.visibilityState === "visible" && this.active ? this.refresh() : this.schedule()));
  }

  // Outage times in the camera's site zone (the admin page passes it with the site names).
  when(camera, iso) {
    return formatTime(iso, this.siteZone(camera.site_id));
  }

  setCameras(cameras, siteName, siteZone = () => undefined) {
    this.siteZone = siteZone;
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
    replace($("health-cards"), cameras.length ? cards : el("p", { class: "empty" }, t("admin.noCameras")));
    $("health-updated").textContent = t("admin.healthUpdated", { time: formatTime(new Date().toISOString()) });
    this.highlight();
  }

  card(camera, health) {
    const tone = TONES[health.state] || "idle";
    const label = hasText(`admin.healthState.${health.state}`) ? t(`admin.healthState.${health.state}`) : health.state;
    const now = Date.now() / 1000;
    const lastFrame = health.last_frame_at ? t("admin.ago", { duration: formatDuration(now - health.last_frame_at) }) : t("admin.never");
    return el(
      "article",
      { class: `health-card tone-${tone}`, dataset: { cameraId: camera.id }, "aria-labelledby": `health-title-${camera.id}` },
      el(
        "header",
        {},
        el("h3", { id: `health-title-${camera.id}` }, `#${camera.id} ${camera.name}`, el("span", { class: "muted" }, " · ", this.siteName(camera.site_id))),
        el("span", { class: `badge health-badge health-${tone}`, dataset: { state: health.state } }, label),
      ),
      camera.enabled ? null : el("p", { class: "small muted" }, t("admin.cameraDisabled")),
      health.distance_rule_enabled
        ? null
        : el(
            "p",
            { class: "calib-note" },
            el("strong", {}, t("admin.distanceOff")),
            " ",
            t("admin.distanceOffWhy"),
            " ",
            el("button", { type: "button", class: "small", onclick: () => this.onCalibrate(camera.id) }, t("admin.calibrate")),
          ),
      el(
        "dl",
        { class: "facts" },
        el("dt", {}, t("admin.input")),
        el("dd", {}, fps(health.input_fps)),
        el("dt", {}, t("admin.analysed")),
        el("dd", {}, fps(health.analysed_fps)),
        el("dt", {}, t("admin.lastFrame")),
        el("dd", { class: "last-frame" }, lastFrame),
        el("dt", {}, t("admin.reconnects")),
        el("dd", {}, health.reconnect_count ?? "–"),
        el("dt", {}, t("admin.lastError")),
        el("dd", { class: "last-error" }, health.last_error || t("admin.noError")),
      ),
      this.outages(camera, health.unmonitored),
    );
  }

  outages(camera, intervals) {
    if (!intervals.length) return el("p", { class: "small muted outages-none" }, t("admin.noOutages"));
    const when = (iso) => this.when(camera, iso);
    const now = Date.now();
    const spans = intervals.map((i) => ((i.ended_at ? new Date(i.ended_at).getTime() : now) - new Date(i.started_at).getTime()) / 1000);
    const total = spans.reduce((a, b) => a + b, 0);
    const rows = intervals.slice(0, OUTAGE_ROWS).map((interval, i) =>
      el(
        "tr",
        {},
        el("td", { class: "when" }, when(interval.started_at)),
        el("td", { class: "when" }, interval.ended_at ? when(interval.ended_at) : el("span", { class: "badge health-bad" }, t("admin.ongoing"))),
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
        el("caption", {}, t("admin.outagesCaption", { count: intervals.length, duration: formatDuration(total) })),
        el("thead", {}, el("tr", {}, OUTAGE_COLUMNS.map((h) => el("th", { scope: "col" }, t(`admin.outage.${h}`))))),
        el("tbody", {}, rows),
      ),
      more > 0 ? el("p", { class: "small muted" }, t("admin.olderOutages", { count: more })) : null,
    );
  }
}
