// Inspector: corrective actions — the due date and responsible supervisor set at sign-off, each action's
// history with verify / reject (with a reason), the rectification report of a closed action, and the list
// of overdue actions by site.
import { api, apiAll, el, fillSelect, guarded, replace, t } from "./app.js";
import { actionHeader, actionHistory, actionSummary, overdueBadge, releasePhotos } from "./action-history.js";

const DEFAULT_DUE_DAYS = 7;
const $ = (id) => document.getElementById(id);

// ---- sign-off: due date and responsible supervisor ----

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

let supervisorsLoaded = Promise.resolve(); // the sign-off waits for the list it validates against

// Fills the sign-off form's supervisor list (the event's site; preselected when there is only one) and a
// default due date.
export function fillSignoffFields(event) {
  const select = $("action-supervisor");
  const due = $("action-due");
  const now = new Date();
  due.min = localInputValue(now);
  if (!due.value) due.value = localInputValue(new Date(now.getTime() + DEFAULT_DUE_DAYS * 86_400_000));
  if (select.dataset.siteId === String(event.site_id)) return supervisorsLoaded;
  select.dataset.siteId = String(event.site_id);
  supervisorsLoaded = api(`/api/sites/${event.site_id}/supervisors`).then((people) => {
    fillSelect(select, people.map((p) => [p.id, p.name ? `${p.name} (${p.email})` : p.email]), { placeholder: t("inspector.chooseSupervisor") });
    if (people.length === 1) select.value = String(people[0].id);
    $("action-supervisor-none").hidden = people.length > 0;
  });
  supervisorsLoaded.catch(() => delete select.dataset.siteId); // retried on the next render
  return supervisorsLoaded;
}

// The corrective-action part of the sign-off body (for a confirmed event): a supervisor must be chosen
// when the site has any.
export async function signoffFields(event) {
  if (event.verdict !== "confirmed") return {};
  await supervisorsLoaded;
  const select = $("action-supervisor");
  const supervisor = select.value;
  if (!supervisor && select.options.length > 1) throw new Error(t("inspector.chooseSupervisor"));
  const due = $("action-due").value;
  return {
    ...(supervisor ? { action_supervisor_id: Number(supervisor) } : {}),
    ...(due ? { action_due: new Date(due).toISOString() } : {}),
  };
}

export function resetSignoffFields() {
  if ($("action-due")) $("action-due").value = "";
}

// ---- an event's actions ----

export function renderActionCards(box, event, reload) {
  releasePhotos();
  const cards = event.actions.map((a) => actionCard(a, reload));
  replace(box, cards.length ? cards : el("p", { class: "muted small" }, t("inspector.noActions")));
}

function actionCard(action, reload) {
  const error = el("div", { class: "error", role: "alert", hidden: true });
  const noteId = `decision-${action.id}`;
  const note = el("textarea", { id: noteId, maxlength: 5000, rows: 2 });
  const decide = (verb) => (ev) =>
    guarded(error, ev.currentTarget, async () => {
      const text = note.value.trim();
      if (verb === "reopen" && !text) throw new Error(t("inspector.needReason"));
      await api(`/api/actions/${action.id}/${verb}`, { method: "POST", json: { note: text } });
      await reload();
    });
  const report = (ev) =>
    guarded(error, ev.currentTarget, async () => {
      const blob = await api(`/api/actions/${action.id}/report.pdf`, { as: "blob" });
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: `rectification-action-${action.id}.pdf` });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    });
  return el(
    "div",
    { class: `action-card${action.overdue ? " overdue" : ""}`, dataset: { actionId: action.id } },
    actionHeader(action),
    actionSummary(action),
    actionHistory(action) ?? el("p", { class: "small muted" }, t("inspector.waitingAnswer")),
    action.status === "answered"
      ? el(
          "div",
          { class: "decision-form" },
          el("div", { class: "field" }, el("label", { for: noteId }, t("inspector.decisionNote")), note),
          el(
            "div",
            { class: "actions" },
            el("button", { type: "button", class: "good", onclick: decide("verify") }, t("inspector.verifyClose")),
            el("button", { type: "button", class: "danger", onclick: decide("reopen") }, t("inspector.rejectReopen")),
          ),
        )
      : null,
    action.status === "verified" ? el("button", { type: "button", class: "small", onclick: report, dataset: { report: "" } }, t("inspector.rectificationReport")) : null,
    error,
  );
}

// ---- overdue actions by site ----

export async function loadOverdue(box, places) {
  const late = await apiAll("/api/actions", { query: { overdue: true } });
  const bySite = new Map();
  for (const a of late) bySite.set(a.site_id, [...(bySite.get(a.site_id) ?? []), a]);
  const groups = [...bySite.entries()].map(([siteId, actions]) =>
    el(
      "li",
      { dataset: { siteId } },
      el("strong", {}, t("inspector.overdueSite", { site: places.siteName(siteId), count: actions.length })),
      el(
        "ul",
        {},
        actions.map((a) =>
          el("li", { dataset: { actionId: a.id } }, el("a", { href: `#event=${a.event_id}` }, t("app.eventN", { id: a.event_id })), " — ", a.description, " ", overdueBadge(a), actionSummary(a)),
        ),
      ),
    ),
  );
  replace(box, groups.length ? el("ul", { class: "history" }, groups) : el("p", { class: "muted small" }, t("inspector.noOverdue")));
}
