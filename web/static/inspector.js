// Inspector: the event queue (filters, newest first, pages), and one event's evidence, review,
// sign-off and corrective actions. The selected event lives in the URL hash (#event=ID), the filters in
// the query string (and localStorage, for a plain reload of inspector.html). The whole queue can be worked
// with the keyboard (inspector-keys.js: j/k, c, f, n, s, x, ?); a verdict opens the next unreviewed event.
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
  t,
} from "./app.js";
import { PatrolsPanel } from "./inspector-patrols.js";
import { fillSignoffFields, loadOverdue, renderActionCards, resetSignoffFields, signoffFields } from "./inspector-actions.js";
import { mountAuditVerify } from "./audit-verify.js";
import { announce, bindKeys } from "./inspector-keys.js";
import { Selection, filters, restoreFilters, saveFilters } from "./inspector-queue.js";
import { EvidencePlayer } from "./inspector-player.js";
import { useSiteZones } from "./action-history.js";

const PAGE = 20;
const $ = (id) => document.getElementById(id);

const kinds = (e) => e.kinds.map(formatKind).join(t("app.listSeparator"));

const state = { me: null, places: null, offset: 0, total: 0, event: null, items: [], checked: null, player: null };

function selectedId() {
  const id = Number(new URLSearchParams(location.hash.slice(1)).get("event"));
  return Number.isInteger(id) && id > 0 ? id : null;
}

function fillCameraFilter() {
  const site = $("f-site").value;
  const cameras = state.places.cameras.filter((c) => !site || String(c.site_id) === site);
  fillSelect($("f-camera"), cameras.map((c) => [c.id, `${c.name} (${state.places.siteName(c.site_id)})`]), {
    placeholder: t("app.any"),
  });
}

async function loadQueue() {
  await guarded($("queue-error"), null, async () => {
    const page = await api("/api/events", { query: { ...filters($("filters")), limit: PAGE, offset: state.offset } });
    state.total = page.total;
    renderQueue(page);
  });
}

function renderQueue(page) {
  const current = selectedId();
  state.items = page.items;
  const visible = new Set(page.items.map((e) => e.id));
  state.checked.keepOnly(visible);
  const rows = page.items.map((e) =>
    el(
      "tr",
      {
        class: e.id === current ? "selected" : "",
        tabindex: "0",
        dataset: { eventId: e.id, status: e.status },
        "aria-selected": e.id === current ? "true" : "false",
        onclick: () => openEvent(e.id),
        onkeydown: (ev) =>
          ev.target === ev.currentTarget && (ev.key === "Enter" || ev.key === " ") && (ev.preventDefault(), openEvent(e.id)),
      },
      el(
        "td",
        { onclick: (ev) => ev.stopPropagation() },
        el("input", {
          type: "checkbox",
          class: "pick",
          "aria-label": t("inspector.rowSelect", { id: e.id }),
          checked: state.checked.has(e.id),
          onchange: (ev) => state.checked.set(e.id, ev.target.checked),
        }),
      ),
      el("td", {}, e.id),
      el("td", {}, formatTime(e.started_at, state.places.cameraZone(e.camera_id))),
      el("td", {}, kinds(e)),
      el("td", {}, state.places.cameraName(e.camera_id)),
      el("td", {}, statusBadge(e.status)),
    ),
  );
  replace($("queue"), rows.length ? rows : el("tr", {}, el("td", { colspan: 6, class: "empty" }, t("inspector.noEvents"))));
  state.checked.render(state.items);
  $("queue-total").textContent = String(page.total);
  const last = Math.min(state.offset + page.items.length, page.total);
  $("page-info").textContent = page.total ? t("inspector.pageInfo", { first: state.offset + 1, last, total: page.total }) : "";
  $("prev").disabled = state.offset === 0;
  $("next").disabled = state.offset + PAGE >= page.total;
}

function openEvent(id) {
  if (selectedId() === id) return loadDetail();
  location.hash = `event=${id}`;
  return null;
}

async function bulkFalsePositive(button) {
  const ids = state.checked.ids();
  if (!ids.length) return;
  await guarded($("bulk-error"), button, async () => {
    await api("/api/events/review", { method: "POST", json: { event_ids: ids, verdict: "false_positive" } });
    state.checked.clear();
    announce(t("inspector.bulkDone", { count: ids.length }));
    await Promise.all([loadQueue(), loadDetail()]);
  });
  state.checked.render(state.items); // guarded() re-enabled the button; the selection decides
}

function row(id) {
  return $("queue").querySelector(`tr[data-event-id="${id}"]`);
}

/** j/k: the next (+1) or previous (-1) event of the queue, across pages; focus follows. */
async function step(delta) {
  const ids = state.items.map((e) => e.id);
  const at = ids.indexOf(selectedId());
  let target = at < 0 ? (delta > 0 ? 0 : ids.length - 1) : at + delta;
  if (target >= ids.length || target < 0) {
    const offset = state.offset + (target < 0 ? -PAGE : PAGE);
    if (offset < 0 || offset >= state.total) return announce(t(target < 0 ? "inspector.startOfQueue" : "inspector.endOfQueue"));
    state.offset = offset;
    await loadQueue();
    target = target < 0 ? state.items.length - 1 : 0;
  }
  const next = state.items[target];
  if (next) await show(next.id);
}

async function show(id) {
  openEvent(id);
  if (await waitForDetail(id)) row(id)?.focus();
}

/** Resolves true once event `id` is shown, false if another was chosen meanwhile (keys pressed quickly). */
function waitForDetail(id) {
  return new Promise((resolve) => {
    const check = () => {
      if (selectedId() !== id) resolve(false);
      else if (state.event?.id === id && !$("detail-body").hidden) resolve(true);
      else setTimeout(check, 30);
    };
    check();
  });
}

/** After a verdict: the first unreviewed event after `fromId` in the queue (else from its top). */
async function openNextUnreviewed(fromId, before) {
  await loadQueue();
  const open = state.items.filter((e) => e.status === "open" && e.id !== fromId);
  const after = before.slice(before.indexOf(fromId) + 1);
  const next = open.find((e) => after.includes(e.id)) ?? open[0];
  if (!next) {
    announce(t("inspector.noneLeft"));
    return null;
  }
  await show(next.id);
  return next;
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
    if (selectedId() !== id) return; // another event was chosen while this one loaded
    const changed = state.event?.id !== event.id;
    state.event = event;
    renderDetail(event);
    $("detail-body").hidden = false;
    if (changed) {
      announce(opened(event));
      await state.player.show(event, zone(event));
    }
  });
}

const zone = (event) => state.places.siteZone(event.site_id);

// "Event #12: No vest, open." (announced for screen readers when an event opens)
function opened(e) {
  return t("inspector.opened", { id: e.id, kinds: kinds(e), status: formatKind(e.status) });
}

function fact(term, ...value) {
  return [el("dt", {}, term), el("dd", {}, ...value)];
}

function who(userId, name) {
  if (userId === state.me.id) return t("inspector.you", { name: state.me.name || state.me.email });
  return name || t("inspector.userN", { id: userId });
}

function renderDetail(event) {
  const tz = zone(event);
  replace($("detail-title"), t("inspector.detailTitle", { id: event.id, kinds: kinds(event) }), " ", statusBadge(event.status));
  const deleted = $("evidence-deleted");
  deleted.hidden = !event.evidence_deleted_at;
  deleted.textContent = event.evidence_deleted_at
    ? t("inspector.evidenceDeleted", { time: formatTime(event.evidence_deleted_at, tz) })
    : "";
  replace(
    $("facts"),
    fact(t("app.site"), state.places.siteName(event.site_id)),
    fact(t("app.camera"), state.places.cameraName(event.camera_id)),
    fact(t("inspector.started"), formatTime(event.started_at, tz)),
    fact(t("inspector.ended"), formatTime(event.ended_at, tz)),
    fact(t("inspector.bestConfidence"), formatPercent(event.best_confidence)),
  );
  const violations = event.violations.map((v, i) =>
    el(
      "tr",
      {},
      el("td", {}, el("button", { type: "button", class: "small", "aria-label": t("inspector.jump", { n: i + 1 }), onclick: () => state.player.jumpTo(i) }, String(i + 1))),
      el("td", {}, formatKind(v.kind)),
      el("td", {}, v.track_id ?? "–"),
      el("td", {}, v.zone_id ?? "–"),
      el("td", {}, formatPercent(v.confidence)),
      el("td", {}, formatTime(v.ts, tz)),
    ),
  );
  replace($("violations"), violations.length ? violations : el("tr", {}, el("td", { colspan: 6, class: "empty" }, t("inspector.noneRecorded"))));
  replace(
    $("why-facts"),
    fact(t("inspector.modelVersion"), el("code", {}, event.model_version)),
    fact(t("inspector.ruleVersion"), el("code", {}, event.rule_version)),
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
      " ",
      t("inspector.reviewBy", { who: who(r.inspector_id, r.inspector_name), time: formatTime(r.at, zone(event)) }),
      r.comment ? el("div", { class: "small" }, t("inspector.quoted", { text: r.comment })) : null,
    ),
  );
  replace($("reviews"), items.length ? items : el("li", { class: "muted" }, t("inspector.notReviewed")));
  $("review-form").hidden = event.signoff !== null;
}

function renderSignoff(event) {
  const done = $("signoff-done");
  if (event.signoff) {
    const s = event.signoff;
    replace(
      done,
      el("strong", {}, t("inspector.signedOffBy", { who: who(s.inspector_id, s.inspector_name), time: formatTime(s.at, zone(event)) })),
      el("div", { class: "small mt-half" }, t("inspector.clipSha")),
      el("code", { class: "sha mono", id: "signoff-sha" }, s.clip_sha256 ?? t("inspector.noClip")),
    );
  } else {
    replace(done);
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
  const id = selectedId();
  if (id === null || !(await waitForDetail(id))) return announce(t("inspector.noEvent"));
  const event = state.event;
  if (event.signoff) return announce(t("inspector.cannotReview", { id: event.id }));
  const before = state.items.map((e) => e.id);
  await guarded($("review-error"), button, async () => {
    await api(`/api/events/${event.id}/review`, {
      method: "POST",
      json: { verdict, comment: $("review-comment").value },
    });
    $("review-comment").value = "";
    const next = await openNextUnreviewed(event.id, before);
    announce(`${t(`inspector.reviewed.${verdict}`, { id: event.id })} ${next ? opened(next) : t("inspector.noneLeft")}`);
    if (!next) await loadDetail();
  });
}

async function signOff(event) {
  event.preventDefault();
  const description = $("action-description").value.trim();
  const id = state.event.id;
  await guarded($("signoff-error"), event.submitter, async () => {
    await api(`/api/events/${id}/signoff`, {
      method: "POST",
      json: { ...(description ? { action_description: description } : {}), ...(await signoffFields(state.event)) },
    });
    $("action-description").value = "";
    resetSignoffFields();
    await Promise.all([refresh(), loadQueue()]);
    announce(t("inspector.signedOff", { id }));
    row(id)?.focus();
  });
}

async function signOffByKey() {
  const id = selectedId();
  if (id === null || !(await waitForDetail(id))) return announce(t("inspector.noEvent"));
  const event = state.event;
  if ($("signoff-form").hidden) {
    return announce(event.signoff ? t("inspector.alreadySigned", { id: event.id }) : t("inspector.reviewTheEventBefore"));
  }
  $("signoff-form").requestSubmit();
  return null;
}

function toggleChecked() {
  const id = selectedId();
  if (id !== null && row(id)) state.checked.set(id, !state.checked.has(id));
}

async function main() {
  state.me = await requireUser("inspector");
  mountHeader(state.me);
  state.places = await loadPlaces();
  useSiteZones(state.places);
  new PatrolsPanel(state.places).refresh();
  const bulk = { button: $("bulk-fp"), count: $("bulk-count"), all: $("select-page"), queue: $("queue") };
  state.checked = new Selection(bulk, (n) => (n ? t("inspector.selected", { count: n }) : ""));
  state.player = new EvidencePlayer(
    {
      video: $("clip"),
      caption: $("clip-caption"),
      image: $("snapshot"),
      imageCaption: $("snapshot-caption"),
      timeline: $("timeline"),
      box: $("violation-box"),
    },
    announce,
  );
  fillSelect($("f-site"), state.places.sites.map((s) => [s.id, s.name]), { placeholder: t("app.any") });
  restoreFilters($("filters"), fillCameraFilter);
  $("filters").addEventListener("change", (ev) => {
    if (ev.target.name === "site_id") fillCameraFilter();
    saveFilters($("filters"));
    state.offset = 0;
    loadQueue();
  });
  $("select-page").addEventListener("change", (ev) => {
    for (const e of state.items) state.checked.set(e.id, ev.target.checked);
  });
  $("bulk-fp").addEventListener("click", (ev) => bulkFalsePositive(ev.currentTarget));
  bindKeys(
    {
      j: () => step(1),
      k: () => step(-1),
      c: () => review("confirmed", null),
      f: () => review("false_positive", null),
      n: () => $("review-form").hidden ? announce(t("inspector.cannotReview", { id: state.event?.id })) : $("review-comment").focus(),
      s: signOffByKey,
      x: toggleChecked,
    },
    $("keys-dialog"),
    $("keys-help"),
  );
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
  window.addEventListener("pagehide", () => state.player.release());
  mountAuditVerify($("audit-verify"));
  await loadQueue();
  await loadDetail();
  await loadOverdue($("overdue"), state.places).catch((exc) => showError($("overdue-error"), exc));
}

main().catch((exc) => showError($("queue-error"), exc));
