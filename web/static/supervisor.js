// Supervisor: live alerts for the user's sites (Server-Sent Events, with a polling fallback when the
// stream is down), a visual + optional audible new-alert signal, acknowledgement; corrective actions are
// supervisor-actions.js.
import {
  api,
  el,
  evidenceUrl,
  formatKind,
  formatPercent,
  formatTime,
  guarded,
  hasText,
  loadPlaces,
  mountHeader,
  relativeTime,
  replace,
  requireUser,
  showError,
  statusBadge,
  t,
  token,
} from "./app.js";
import { useSiteZones } from "./action-history.js";
import { loadActions, mountActions } from "./supervisor-actions.js";

import { registerWorker, setUpPush } from "./supervisor-push.js";


const POLL_MS = 10_000; // only while the live stream is not open
const RECONNECT_MS = 30_000; // a closed stream (e.g. server restart) is retried this often
const ACTIONS_MS = 30_000;
const $ = (id) => document.getElementById(id);
const TITLE = document.title;

const state = { places: null, alerts: new Map(), fresh: new Set(), unseen: 0, stream: null, audio: null, lastPoll: 0 };
// Rendered cards by alert object: an unchanged alert keeps its node, so open evidence survives new arrivals.
const cards = new WeakMap();

function setLive(mode, text) {
  $("live").dataset.state = mode;
  $("live").textContent = text;
}

// Adds alerts; `announce` marks those not seen before as new (banner, title, sound).
function addAlerts(alerts, announce) {
  let added = 0;
  for (const alert of alerts) {
    const known = state.alerts.get(alert.id);
    if (!known && announce) {
      state.fresh.add(alert.id);
      added += 1;
    }
    if (!known || JSON.stringify(known) !== JSON.stringify(alert)) state.alerts.set(alert.id, alert);
  }
  if (added) announceNew(added);
  renderAlerts();
}

function announceNew(count) {
  state.unseen += count;
  $("new-alerts-text").textContent = t("supervisor.newAlerts", { count: state.unseen });
  $("new-alerts").hidden = false;
  document.title = `(${state.unseen}) ${TITLE}`;
  if ($("sound").checked) beep();
  if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
}

function clearNew() {
  state.unseen = 0;
  $("new-alerts").hidden = true;
  document.title = TITLE;
}

// Two short tones; the AudioContext is created on the user's click on "Sound" (autoplay rules).
function beep() {
  const ctx = state.audio;
  if (!ctx) return;
  for (const [offset, freq] of [[0, 880], [0.25, 660]]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.2, ctx.currentTime + offset);
    gain.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + offset + 0.2);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + offset);
    osc.stop(ctx.currentTime + offset + 0.22);
  }
}

function renderAlerts() {
  const onlyOpen = $("only-open").checked;
  const alerts = [...state.alerts.values()]
    .filter((a) => !onlyOpen || !a.acknowledged_at)
    .sort((a, b) => b.id - a.id);
  const open = [...state.alerts.values()].filter((a) => !a.acknowledged_at).length;
  $("unacked").hidden = open === 0;
  $("unacked").textContent = t("supervisor.openCount", { count: open });
  const nodes = alerts.map((a) => cards.get(a) ?? cards.set(a, alertCard(a)).get(a));
  replace($("alerts"), nodes.length ? nodes : el("li", { class: "empty" }, t(onlyOpen ? "supervisor.allClear" : "supervisor.noAlerts")));
}

function alertCard(alert) {
  const event = alert.event;
  const offline = alert.kind === "camera_offline";
  const error = el("div", { class: "error", role: "alert", hidden: true });
  const evidence = el("div", { class: "evidence", hidden: true });
  const fresh = state.fresh.has(alert.id);
  state.fresh.delete(alert.id);
  const ack = async (ev) =>
    guarded(error, ev.currentTarget, async () => {
      state.alerts.set(alert.id, await api(`/api/alerts/${alert.id}/ack`, { method: "POST" }));
      renderAlerts();
    });
  const show = async (ev) => {
    const button = ev.currentTarget;
    if (!evidence.hidden) {
      evidence.hidden = true;
      button.textContent = t("supervisor.showEvidence");
      button.setAttribute("aria-expanded", "false");
      return;
    }
    await guarded(error, button, async () => {
      if (!evidence.childElementCount) await fillEvidence(evidence, alert);
      evidence.hidden = false;
      button.textContent = t("supervisor.hideEvidence");
      button.setAttribute("aria-expanded", "true");
    });
  };
  const cameraId = alert.camera_id ?? event?.camera_id;
  const kinds = alert.kinds?.length ? alert.kinds : event?.kinds ?? [];
  const what = offline ? t("supervisor.offline") : kinds.map(formatKind).join(t("app.listSeparator"));
  const details = [state.places.siteName(alert.site_id), state.places.cameraName(cameraId)];
  if (event) details.push(t("supervisor.confidence", { value: formatPercent(event.best_confidence) }), t("supervisor.eventN", { id: event.id }));
  else if (!offline) details.push(t("supervisor.waitingClip"));
  if (alert.folded_into_id) details.push(t("supervisor.folded", { id: alert.folded_into_id }));
  const zone = state.places.siteZone(alert.site_id);
  const steps = (alert.steps || []).map((step) =>
    el("li", {}, t("supervisor.escalated", {
        level: hasText(`supervisor.level.${step.level}`) ? t(`supervisor.level.${step.level}`) : step.level,
        time: formatTime(step.at, zone),
        count: step.deliveries,
      })),
  );
  return el(
    "li",
    {
      class: `alert-card${alert.acknowledged_at || alert.resolved_at ? " acked" : ""}${fresh ? " fresh" : ""}`,
      dataset: { alertId: alert.id, kind: alert.kind },
    },
    el(
      "header",
      {},
      el("span", { class: "kinds" }, what),
      el("time", { datetime: alert.created_at, dataset: { relative: "", zone }, title: formatTime(alert.created_at, zone), class: "small muted" }, relativeTime(alert.created_at, zone)),
    ),
    el("div", { class: "small" }, details.join(" · ")),
    alert.resolved_at ? el("div", { class: "small" }, statusBadge("verified"), " ", t("supervisor.resolved", { time: formatTime(alert.resolved_at, zone) })) : null,
    alert.acknowledged_at
      ? el(
          "div",
          { class: "small" },
          statusBadge("acknowledged"),
          ` ${formatTime(alert.acknowledged_at, zone)}`,
          alert.acknowledged_via ? ` · ${t("supervisor.ackedVia", { via: alert.acknowledged_via })}` : "",
        )
      : null,
    steps.length ? el("ol", { class: "steps small", "aria-label": t("supervisor.steps") }, ...steps) : null,
    el(
      "div",
      { class: "actions mt-half" },
      alert.acknowledged_at ? null : el("button", { type: "button", class: "primary", onclick: ack }, t("supervisor.acknowledge")),
      offline ? null : el("button", { type: "button", onclick: show, "aria-expanded": "false" }, t("supervisor.showEvidence")),
    ),
    error,
    evidence,
  );
}

async function fillEvidence(target, alert) {
  const eventId = alert.event_id;
  const [snapshot, clip] = await Promise.all([
    evidenceUrl(eventId ? `/api/events/${eventId}/snapshot` : `/api/alerts/${alert.id}/snapshot`).catch(() => null),
    eventId ? evidenceUrl(`/api/events/${eventId}/clip`).catch(() => null) : null,
  ]);
  if (!snapshot && !clip) throw new Error(t("supervisor.evidenceFailed"));
  const alt = eventId ? t("supervisor.snapshotOfEvent", { id: eventId }) : t("supervisor.snapshotOfAlert", { id: alert.id });
  replace(
    target,
    snapshot ? el("img", { src: snapshot, alt }) : null,
    clip
      ? el("video", {
          src: clip,
          controls: true,
          playsinline: true,
          preload: "metadata",
          "aria-label": t("supervisor.clipOfEvent", { id: eventId }),
        })
      : null,
  );
}

async function poll() {
  state.lastPoll = Date.now();
  try {
    addAlerts(await api("/api/alerts"), true);
    if (state.stream?.readyState !== EventSource.OPEN) setLive("polling", t("supervisor.polling", { seconds: POLL_MS / 1000 }));
  } catch (exc) {
    setLive("offline", t("supervisor.offlineRetrying"));
    if (exc.status) showError($("page-error"), exc);
  }
}

function connect() {
  state.stream?.close();
  const url = `/api/alerts/stream?access_token=${encodeURIComponent(token.get() || "")}`;
  const stream = new EventSource(url);
  state.stream = stream;
  stream.addEventListener("open", () => {
    setLive("live", t("supervisor.live"));
    showError($("page-error"), null);
  });
  stream.addEventListener("alert", (ev) => addAlerts([JSON.parse(ev.data)], true));
  stream.addEventListener("unauthorized", () => {
    stream.close();
    poll(); // a 401 there sends the user back to sign in
  });
  stream.addEventListener("error", () => {
    // CONNECTING: the browser retries by itself (resuming after the last alert id); CLOSED: it gave up.
    if (stream.readyState === EventSource.CLOSED) setLive("polling", t("supervisor.feedDown"));
    else if ($("live").dataset.state !== "polling") setLive("connecting", t("supervisor.reconnecting"));
    // Catch up at once rather than waiting for the next poll tick (at most once per poll interval).
    if (Date.now() - state.lastPoll >= POLL_MS) poll();
  });
}

// Keeps the "n min ago" labels current without rebuilding the cards.
function refreshTimes() {
  for (const time of document.querySelectorAll("time[data-relative]")) {
    time.textContent = relativeTime(time.getAttribute("datetime"), time.dataset.zone);
  }
}

async function main() {
  const me = await requireUser("supervisor");
  mountHeader(me);
  state.places = await loadPlaces();
  useSiteZones(state.places);
  $("only-open").addEventListener("change", renderAlerts);
  $("seen").addEventListener("click", clearNew);
  $("sound").addEventListener("change", () => {
    if ($("sound").checked && !state.audio) state.audio = new AudioContext();
    if ($("sound").checked) beep();
  });
  addAlerts(await api("/api/alerts"), false);
  connect();
  await mountActions($("actions"), state.places, $("overdue-count"));
  await registerWorker();
  setUpPush($("push"), $("push-status"), $("page-error"));
  setInterval(() => state.stream?.readyState !== EventSource.OPEN && poll(), POLL_MS);
  setInterval(() => state.stream?.readyState === EventSource.CLOSED && connect(), RECONNECT_MS);
  setInterval(() => loadActions({ keepAnswers: true }), ACTIONS_MS);
  setInterval(refreshTimes, 60_000);
}

main().catch((exc) => showError($("page-error"), exc));
