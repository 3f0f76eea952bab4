// A patrol round (issue 15): step through the plan's cameras live (the live view's viewer component),
// mark each "checked — OK" or a finding (the current frame is captured and opens a manual event), then
// end the round. The server times each camera (from opening it to its verdict) and audits every step.
// URL: #round=ID, or #plan=ID[&slot=ISO] to start a new round (for that slot, else ad hoc).
import {
  api,
  el,
  formatNumber,
  formatTime,
  guarded,
  loadPlaces,
  mountHeader,
  replace,
  requireUser,
  showError,
  t,
} from "./app.js";
import { LiveViewer } from "./live-view.js";

const $ = (id) => document.getElementById(id);
const ONE_DIGIT = { minimumFractionDigits: 1, maximumFractionDigits: 1 };
const state = { me: null, places: null, round: null, plan: null, current: null, viewer: null };

function params() {
  return new URLSearchParams(location.hash.slice(1));
}

async function route() {
  const p = params();
  if (p.get("plan")) {
    const body = { plan_id: Number(p.get("plan")) };
    if (p.get("slot")) body.slot_at = p.get("slot");
    const round = await api("/api/patrol-rounds", { method: "POST", json: body });
    history.replaceState(null, "", `#round=${round.id}`);
    return load(round.id);
  }
  const id = Number(p.get("round"));
  if (id) return load(id);
}

async function load(roundId) {
  state.round = await api(`/api/patrol-rounds/${roundId}`);
  state.plan = await api(`/api/patrol-plans/${state.round.plan_id}`);
  render();
  const next = state.round.status === "open" ? nextStep() : null;
  if (next) openStep(next);
  else closeStep();
}

function nextStep(after = -1) {
  const steps = state.round.steps;
  return steps.find((s) => s.position > after && !s.verdict) ?? steps.find((s) => !s.verdict) ?? null;
}

function render() {
  const r = state.round;
  const zone = state.places.siteZone(state.plan.site_id);
  $("round-title").textContent = t("patrol.roundN", { id: r.id });
  $("round-facts").textContent = t(r.slot_at ? "patrol.factsSlot" : "patrol.factsAdHoc", {
    plan: state.plan.name,
    slot: formatTime(r.slot_at, zone),
    started: formatTime(r.started_at, zone),
  });
  $("steps").dataset.status = r.status;
  replace(
    $("steps"),
    r.steps.map((s) =>
      el(
        "li",
        { id: `step-${s.position}`, dataset: { verdict: s.verdict ?? "", current: String(state.current?.id === s.id) } },
        el(
          "button",
          { type: "button", class: "link", disabled: r.status !== "open" || !!s.verdict, onclick: () => openStep(s) },
          state.places.cameraName(s.camera_id),
        ),
        " ",
        el("span", { class: `badge badge-${s.verdict ?? "open"}` }, t(`patrol.verdict.${s.verdict ?? "none"}`)),
        s.seconds !== null ? el("span", { class: "muted small" }, " ", t("patrol.seconds", { value: formatNumber(s.seconds, ONE_DIGIT) })) : null,
      ),
    ),
  );
  $("end-round").hidden = r.status !== "open";
  const done = $("round-done");
  done.hidden = r.status === "open" && r.steps.some((s) => !s.verdict);
  done.dataset.status = r.status;
  done.textContent = t(r.status === "open" ? "patrol.allChecked" : `patrol.ended.${r.status}`);
}

async function openStep(step) {
  await guarded($("step-error"), null, async () => {
    const started = await api(`/api/patrol-steps/${step.id}/start`, { method: "POST" });
    replaceStep(started);
    state.current = started;
    const n = state.round.steps.findIndex((s) => s.id === step.id) + 1;
    $("step-title").textContent = t("patrol.step", { n, total: state.round.steps.length, name: state.places.cameraName(step.camera_id) });
    $("step-panel").hidden = false;
    $("step-panel").dataset.camera = String(step.camera_id);
    $("finding-note").value = "";
    state.viewer.show(step.camera_id);
    render();
  });
}

function closeStep() {
  state.viewer.stop();
  state.current = null;
  $("step-panel").hidden = true;
  render();
}

function replaceStep(step) {
  state.round.steps = state.round.steps.map((s) => (s.id === step.id ? step : s));
}

async function decide(body, button) {
  const step = state.current;
  if (!step) return;
  const done = $("step-done");
  await guarded($("step-error"), button, async () => {
    const decided = await api(`/api/patrol-steps/${step.id}/verdict`, { method: "POST", json: body });
    replaceStep(decided);
    const name = state.places.cameraName(decided.camera_id);
    done.textContent =
      decided.verdict === "finding"
        ? t("patrol.findingDone", { name, id: decided.event_id, sha: decided.still_sha256.slice(0, 16) })
        : t("patrol.okDone", { name });
    done.dataset.eventId = decided.event_id ?? "";
    done.dataset.sha256 = decided.still_sha256 ?? "";
    done.dataset.camera = String(decided.camera_id);
    done.hidden = false;
    const next = nextStep(decided.position);
    if (next) await openStep(next);
    else closeStep();
  });
}

async function endRound(ev) {
  await guarded($("page-error"), ev.currentTarget, async () => {
    state.round = await api(`/api/patrol-rounds/${state.round.id}/end`, { method: "POST" });
    closeStep();
  });
}

async function main() {
  state.me = await requireUser("inspector");
  mountHeader(state.me);
  state.places = await loadPlaces();
  state.viewer = new LiveViewer({
    img: $("stream"),
    canvas: $("overlay"),
    status: $("state"),
    fps: $("fps"),
    boxes: $("show-boxes"),
    onError: (exc) => showError($("step-error"), exc),
  });
  $("verdict-ok").addEventListener("click", (ev) => decide({ verdict: "ok" }, ev.currentTarget));
  $("finding-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const finding = { kind: $("finding-kind").value, note: $("finding-note").value.trim() };
    decide({ verdict: "finding", finding }, $("finding"));
  });
  $("end-round").addEventListener("click", endRound);
  window.addEventListener("pagehide", () => state.viewer.stop());
  await route();
}

main().catch((exc) => showError($("page-error"), exc));
