// The event's evidence player: the whole recorded span (pre-roll + span + post-roll), stored as MP4
// segments, played as one timeline. Each violation is a marker on the timeline: choosing it loads the
// segment holding its time, seeks there, draws the violator's box over the video and shows the violation's
// own still beside the player. Playback moves on to the next segment at the end of one. Events recorded
// before segments existed (or manual ones) fall back to their single opening clip.
import { el, evidenceUrl, formatKind, formatNumber, formatPercent, formatTime, replace, t } from "./app.js";


const ms = (iso) => new Date(iso).getTime();
const seconds = (s) => formatNumber(s, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export class EvidencePlayer {
  /** `nodes`: {video, caption, image, imageCaption, timeline, box}; `announce(text)` speaks to screen readers. */
  constructor(nodes, announce) {
    this.n = nodes;
    this.announce = announce;
    this.urls = new Map(); // evidence path → blob URL (kept while the event is shown)
    this.event = null;
    this.current = -1; // index into segments of what the video holds
    this.pending = null; // {offset, play} to apply once the loaded segment's metadata is known
    this.selected = null; // index of the chosen violation
    nodes.video.addEventListener("loadedmetadata", () => this.#applyPending());
    nodes.video.addEventListener("ended", () => this.#advance());
    nodes.video.addEventListener("timeupdate", () => this.#playhead());
    nodes.video.addEventListener("seeking", () => this.#hideBoxUnlessAt());
  }

  release() {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
  }

  async #url(path) {
    if (!this.urls.has(path)) this.urls.set(path, await evidenceUrl(path));
    return this.urls.get(path);
  }

  get segments() {
    return this.event?.segments ?? [];
  }

  /** The span the timeline shows: first segment's start to last segment's end. */
  get span() {
    const s = this.segments;
    return s.length ? [ms(s[0].started_at), ms(s[s.length - 1].ended_at)] : null;
  }

  /** `timeZone`: the event's site zone, for the times the markers name. */
  async show(event, timeZone) {
    this.timeZone = timeZone;
    this.release();
    this.event = event;
    this.current = -1;
    this.selected = null;
    this.pending = null;
    const { video, image } = this.n;
    video.removeAttribute("src");
    image.removeAttribute("src");
    this.n.box.hidden = true;
    this.#renderTimeline();
    const snapshot = event.clips.find((c) => c.kind === "snapshot");
    const jobs = [];
    if (this.segments.length) {
      const [start, end] = this.span;
      this.n.caption.textContent = t("player.span", { seconds: seconds((end - start) / 1000), count: this.segments.length });
      jobs.push(this.#load(0, 0, false));
    } else {
      const clip = event.clips.find((c) => c.kind === "clip");
      if (clip) {
        jobs.push(this.#url(clip.url).then((url) => (video.src = url)));
        const mb = formatNumber(clip.size / 1e6, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        this.n.caption.textContent = clip.duration_s
          ? t("player.clip", { seconds: seconds(clip.duration_s), mb })
          : t("player.clipNoLength", { mb });
      } else {
        this.n.caption.textContent = t("player.noClip");
      }
    }
    if (snapshot) {
      jobs.push(this.#url(snapshot.url).then((url) => (image.src = url)));
      image.alt = t("inspector.snapshotOfTheViolation");
      this.n.imageCaption.textContent = t("inspector.snapshot");
    }
    await Promise.all(jobs);
  }

  /** Load segment `index` (if not loaded) and seek to `offset` seconds in it. */
  async #load(index, offset, play) {
    const segment = this.segments[index];
    if (!segment) return;
    this.pending = { offset, play };
    if (index === this.current) {
      this.#applyPending();
      return;
    }
    this.current = index;
    this.n.video.src = await this.#url(segment.url);
    this.n.video.dataset.segment = String(index);
  }

  #applyPending() {
    const pending = this.pending;
    const video = this.n.video;
    if (!pending || video.readyState < 1) return;
    this.pending = null;
    video.currentTime = Math.min(pending.offset, Math.max(0, (video.duration || pending.offset) - 0.05));
    if (pending.play) video.play().catch(() => {});
    this.#playhead();
  }

  #advance() {
    if (this.current >= 0 && this.current + 1 < this.segments.length) this.#load(this.current + 1, 0, true);
  }

  /** Where a wall-clock time lies: [segment index, offset s], or null outside the recording. */
  locate(time) {
    const index = this.segments.findIndex((s) => ms(s.started_at) <= time && time <= ms(s.ended_at));
    return index < 0 ? null : [index, (time - ms(this.segments[index].started_at)) / 1000];
  }

  /** Jump to violation `i` (0-based): its segment and time, its box on the video, its still. */
  async jumpTo(i) {
    const violation = this.event?.violations[i];
    if (!violation) return;
    this.selected = i;
    for (const marker of this.n.timeline.querySelectorAll("button[data-violation]")) {
      marker.setAttribute("aria-pressed", Number(marker.dataset.violation) === i ? "true" : "false");
    }
    const where = this.locate(ms(violation.ts));
    this.n.video.pause();
    this.boxAt = where; // the box belongs to this moment only
    if (where) await this.#load(where[0], where[1], false);
    this.#drawBox(violation);
    const { image, imageCaption } = this.n;
    if (violation.snapshot) {
      image.src = await this.#url(violation.snapshot.url);
      image.alt = t("player.still", { n: i + 1, kind: formatKind(violation.kind), confidence: formatPercent(violation.confidence) });
      imageCaption.textContent = t("player.stillCaption", { n: i + 1 });
    } else {
      imageCaption.textContent = t("player.noStill");
    }
    const place = where ? t("player.segmentOf", { n: where[0] + 1, count: this.segments.length }) : null;
    this.announce(place ? `${this.#marker(i, violation)} · ${place}` : this.#marker(i, violation));
  }

  /** "Violation 2: No vest, person #4, <time>" (marker label and announcement). */
  #marker(i, v) {
    const params = { n: i + 1, kind: formatKind(v.kind), person: v.track_id, time: formatTime(v.ts, this.timeZone) };
    return t(v.track_id != null ? "player.markerPerson" : "player.marker", params);
  }

  #drawBox(violation) {
    const box = this.n.box;
    if (!violation.box) {
      box.hidden = true;
      return;
    }
    const [x1, y1, x2, y2] = violation.box;
    // CSSOM (not a style attribute), so the page's strict style-src CSP allows it.
    box.style.setProperty("left", `${x1 * 100}%`);
    box.style.setProperty("top", `${y1 * 100}%`);
    box.style.setProperty("width", `${(x2 - x1) * 100}%`);
    box.style.setProperty("height", `${(y2 - y1) * 100}%`);
    box.dataset.violation = String(this.selected);
    box.hidden = !this.boxAt;
  }

  #hideBoxUnlessAt() {
    // The box belongs to one moment: seeking elsewhere (or playing on) hides it.
    if (this.pending) return;
    const at = this.boxAt;
    if (!at || at[0] !== this.current || Math.abs(this.n.video.currentTime - at[1]) > 0.3) this.n.box.hidden = true;
  }

  #playhead() {
    const span = this.span;
    const head = this.n.timeline.querySelector(".playhead");
    if (!span || !head || this.current < 0) return;
    const now = ms(this.segments[this.current].started_at) + this.n.video.currentTime * 1000;
    head.style.setProperty("left", `${((now - span[0]) / (span[1] - span[0])) * 100}%`);
    if (!this.n.video.paused) this.#hideBoxUnlessAt();
  }

  #renderTimeline() {
    const span = this.span;
    const timeline = this.n.timeline;
    if (!span) {
      replace(timeline);
      timeline.hidden = true;
      return;
    }
    timeline.hidden = false;
    const track = el("div", {
      class: "track",
      onclick: (ev) => {
        if (ev.target !== track) return;
        const rect = track.getBoundingClientRect();
        const where = this.locate(span[0] + ((ev.clientX - rect.left) / rect.width) * (span[1] - span[0]));
        if (where) this.#load(where[0], where[1], !this.n.video.paused);
      },
    });
    for (const s of this.segments.slice(1)) {
      const tick = el("span", { class: "segment-tick", "aria-hidden": "true" });
      tick.style.setProperty("left", `${((ms(s.started_at) - span[0]) / (span[1] - span[0])) * 100}%`);
      track.append(tick);
    }
    this.event.violations.forEach((v, i) => {
      const marker = el(
        "button",
        {
          type: "button",
          class: "marker",
          dataset: { violation: i },
          "aria-pressed": "false",
          "aria-label": this.#marker(i, v),
          title: this.#marker(i, v),
          onclick: () => this.jumpTo(i),
        },
        String(i + 1),
      );
      marker.style.setProperty("left", `${((ms(v.ts) - span[0]) / (span[1] - span[0])) * 100}%`);
      track.append(marker);
    });
    const head = el("span", { class: "playhead", "aria-hidden": "true" });
    track.append(head);
    replace(timeline, el("div", { class: "sr-only" }, t("player.timeline")), track);
  }
}
