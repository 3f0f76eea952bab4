// Inspector: the event queue (filters, newest first, pages), and one event's evidence, review,
// sign-off and corrective actions. The selected event lives in the URL hash (#event=ID).
import {
  api,
  el,
  evidenceUrl,
  fillSelect,
  formatKind,
  formatPercent,
  formatTime,
  guarded,
  loadPlaces,
  mountHeader,
  replace,
  requireUser,
  showError,
  statusBadge,
} from "./app.js";
import { PatrolsPanel } from "./inspector-patrols.js";
import { fillSignoffFields, loadOverdue, renderActionCards, resetSignoffFields, signoffFields } from "./inspector-actions.js";
import { mountAuditVerify } from "./audit-verify.js";

const PAGE = 20;
const $ = (id) => document.getElementById(id);

const state = { me: null, places: null, offset: 0, total: 0, event: null, urls: [] };

function filters() {
  const form = $("filters");
  return {
    status: form.status.value,
    kind: form.kind.value,
    site_id: form.site_id.value,
    camera_id: form.camera_id.value,
  };
}

function selectedId() {
  const id = Number(new URLSearchParams(location.hash.slice(1)).get("event"));
  return Number.isInteger(id) && id > 0 ? id : null;
}

function fillCameraFilter() {
  const site = $("f-site").value;
  const cameras = state.places.cameras.filter((c) => !site || String(c.site_id) === site);
  fillSelect($("f-camera"), cameras.map((c) => [c.id, `${c.name} (${state.places.siteName(c.site_id)})`]), {
    placeholder: "Any",
  });
}

async function loadQueue() {
  await guarded($("queue-error"), null, async () => {
    const page = await api("/api/events", { query: { ...filters(), limit: PAGE, offset: state.offset } });
    state.total = page.total;
    renderQueue(page);
  });
}

function renderQueue(page) {
  const current = selectedId();
  const rows = page.items.map((e) =>
    el(
      "tr",
      {
        class: e.id === current ? "selected" : "",
        tabindex: "0",
        dataset: { eventId: e.id },
        "aria-selected": e.id === current ? "true" : "false",
        onclick: () => openEvent(e.id),
        onkeydown: (ev) => (ev.key === "Enter" || ev.key === " ") && (ev.preventDefault(), openEvent(e.id)),
      },
      el("td", {}, e.id),
      el("td", {}, formatTime(e.started_at)),
      el("td", {}, e.kinds.map(formatKind).join(", ")),
      el("td", {}, state.places.cameraName(e.camera_id)),
      el("td", {}, statusBadge(e.status)),
    ),
  );
  replace($("queue"), rows.length ? rows : el("tr", {}, el("td", { colspan: 5, class: "empty" }, "No events match.")));
  $("queue-total").textContent = String(page.total);
  const last = Math.min(state.offset + page.items.length, page.total);
  $("page-info").textContent = page.total ? `${state.offset + 1}–${last} of ${page.total}` : "";
  $("prev").disabled = state.offset === 0;
  $("next").disabled = state.offset + PAGE >= page.total;
}

function openEvent(id) {
  location.hash = `event=${id}`;
}

function releaseEvidence() {
  for (const url of state.urls) URL.revokeObjectURL(url);
  state.urls = [];
}

async function loadDetail() {
  const id = selectedId();
  for (const row of $("queue").querySelectorAll("tr[data-event-id]")) {
    const on = Number(row.dataset.eventId) === id;
    row.classList.toggle("selected", on);
    row.setAttribute("aria-selected", on ? "true" : "false");
  }
  $("detail-empty").hidden = id !== null;
  $("detail-body").hidden = true;
  if (id === null) return;
  await guarded($("detail-error"), null, async () => {
    const event = await api(`/api/events/${id}`);
    const changed = state.event?.id !== event.id;
    state.event = event;
    renderDetail(event);
    $("detail-body").hidden = false;
    if (changed) await loadEvidence(event);
  });
}

async function loadEvidence(event) {
  releaseEvidence();
  const video = $("clip");
  const image = $("snapshot");
  video.removeAttribute("src");
  image.removeAttribute("src");
  const clip = event.clips.find((c) => c.kind === "clip");
  const snapshot = event.clips.find((c) => c.kind === "snapshot");
  const jobs = [];
  if (clip) {
    jobs.push(
      evidenceUrl(clip.url).then((url) => {
        state.urls.push(url);
        video.src = url;
        const seconds = clip.duration_s ? `${clip.duration_s.toFixed(1)} s` : "";
        $("clip-caption").textContent = `Evidence clip ${seconds} · ${(clip.size / 1e6).toFixed(2)} MB`;
      }),
    );
  } else {
    $("clip-caption").textContent = "No clip stored for this event.";
  }
  if (snapshot) {
    jobs.push(
      evidenceUrl(snapshot.url).then((url) => {
        state.urls.push(url);
        image.src = url;
      }),
    );
  }
  await Promise.all(jobs);
}

function fact(term, ...value) {
  return [el("dt", {}, term), el("dd", {}, ...value)];
}

function who(userId, name) {
  return userId === state.me.id ? `you (${state.me.name || state.me.email})` : name || `user #${userId}`;
}

function renderDetail(event) {
  replace($("detail-title"), `Event #${event.id} — ${event.kinds.map(formatKind).join(", ")} `, statusBadge(event.status));
  replace(
    $("facts"),
    fact("Site", state.places.siteName(event.site_id)),
    fact("Camera", state.places.cameraName(event.camera_id)),
    fact("Started", formatTime(event.started_at)),
    fact("Ended", formatTime(event.ended_at)),
    fact("Best confidence", formatPercent(event.best_confidence)),
  );
  const violations = event.violations.map((v) =>
    el(
      "tr",
      {},
      el("td", {}, formatKind(v.kind)),
      el("td", {}, v.track_id ?? "–"),
      el("td", {}, v.zone_id ?? "–"),
      el("td", {}, formatPercent(v.confidence)),
      el("td", {}, formatTime(v.ts)),
    ),
  );
  replace($("violations"), violations.length ? violations : el("tr", {}, el("td", { colspan: 5, class: "empty" }, "None recorded.")));
  replace(
    $("why-facts"),
    fact("Model version", el("code", {}, event.model_version)),
    fact("Rule version", el("code", {}, event.rule_version)),
  );
  $("rule-snapshot").textContent = JSON.stringify(event.rule_snapshot, null, 2);
  renderReviews(event);
  renderSignoff(event);
  renderActionCards($("actions"), event, refresh);
}

async function refresh() {
  await Promise.all([loadDetail(), loadOverdue($("overdue"), state.places)]);
}

function renderReviews(event) {
  const items = event.reviews.map((r) =>
    el(
      "li",
      {},
      statusBadge(r.verdict),
      ` by ${who(r.inspector_id, r.inspector_name)}, ${formatTime(r.at)}`,
      r.comment ? el("div", { class: "small" }, `“${r.comment}”`) : null,
    ),
  );
  replace($("reviews"), items.length ? items : el("li", { class: "muted" }, "Not reviewed yet."));
  $("review-form").hidden = event.signoff !== null;
}

function renderSignoff(event) {
  const done = $("signoff-done");
  if (event.signoff) {
    const s = event.signoff;
    replace(
      done,
      el("strong", {}, `Signed off by ${who(s.inspector_id, s.inspector_name)} on ${formatTime(s.at)}.`),
      el("div", { class: "small mt-half" }, "Clip SHA-256:"),
      el("code", { class: "sha mono", id: "signoff-sha" }, s.clip_sha256 ?? "no clip"),
    );
  }
  done.hidden = !event.signoff;
  $("signoff-form").hidden = Boolean(event.signoff) || !event.verdict;
  $("signoff-blocked").hidden = Boolean(event.signoff) || Boolean(event.verdict);
  const opensAction = event.verdict === "confirmed";
  $("action-fields").hidden = !opensAction;
  for (const id of ["action-supervisor", "action-due"]) $(id).disabled = !opensAction; // not validated when hidden
  if (!event.signoff && event.verdict === "confirmed") fillSignoffFields(event).catch((exc) => showError($("signoff-error"), exc));
}

async function review(verdict, button) {
  await guarded($("review-error"), button, async () => {
    await api(`/api/events/${state.event.id}/review`, {
      method: "POST",
      json: { verdict, comment: $("review-comment").value },
    });
    $("review-comment").value = "";
    await Promise.all([loadDetail(), loadQueue()]);
  });
}

async function signOff(event) {
  event.preventDefault();
  const description = $("action-description").value.trim();
  await guarded($("signoff-error"), event.submitter, async () => {
    await api(`/api/events/${state.event.id}/signoff`, {
      method: "POST",
      json: { ...(description ? { action_description: description } : {}), ...(await signoffFields(state.event)) },
    });
    $("action-description").value = "";
    resetSignoffFields();
    await Promise.all([refresh(), loadQueue()]);
  });
}

async function main() {
  state.me = await requireUser("inspector");
  mountHeader(state.me);
  state.places = await loadPlaces();
  new PatrolsPanel(state.places).refresh();
  fillSelect($("f-site"), state.places.sites.map((s) => [s.id, s.name]), { placeholder: "Any" });
  fillCameraFilter();
  $("filters").addEventListener("change", (ev) => {
    if (ev.target.name === "site_id") fillCameraFilter();
    state.offset = 0;
    loadQueue();
  });
  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE);
    loadQueue();
  });
  $("next").addEventListener("click", () => {
    state.offset += PAGE;
    loadQueue();
  });
  for (const button of document.querySelectorAll("#review-form [data-verdict]")) {
    button.addEventListener("click", () => review(button.dataset.verdict, button));
  }
  $("signoff-form").addEventListener("submit", signOff);
  window.addEventListener("hashchange", () => loadDetail());
  window.addEventListener("pagehide", releaseEvidence);
  mountAuditVerify($("audit-verify"));
  await loadQueue();
  await loadDetail();
  await loadOverdue($("overdue"), state.places).catch((exc) => showError($("overdue-error"), exc));
}

main().catch((exc) => showError($("queue-error"), exc));
