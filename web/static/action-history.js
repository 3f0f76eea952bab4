// A corrective action's history as both pages show it: the due date (flagged when overdue), the
// responsible supervisor, every answer with its photos and every decision (rejections with their reason).
import { el, evidenceUrl, formatTime, replace, statusBadge } from "./app.js";

export const T = {
  overdue: "Overdue",
  due: "due",
  noDue: "no due date",
  responsible: "Responsible",
  nobody: "not assigned",
  event: "Event",
  opened: "opened",
  answer: (n, who, at) => `Answer ${n} by ${who}, ${at}`,
  rejected: (who, at) => `Rejected by ${who}, ${at}`,
  verified: (who, at) => `Verified by ${who}, ${at}`,
  reason: "Reason: ",
  photo: (n, a) => `Photo ${n} of answer ${a}`,
  photoFailed: "The photo could not be loaded.",
  sha: "SHA-256",
};

// Object URLs of loaded photos, released when the page re-renders.
const urls = [];
export function releasePhotos() {
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
}

export function overdueBadge(action) {
  return action.overdue ? el("span", { class: "badge badge-overdue", dataset: { overdue: "" } }, T.overdue) : null;
}

export function actionSummary(action, siteName) {
  return el(
    "div",
    { class: "small muted" },
    `${T.event} #${action.event_id}${siteName ? ` · ${siteName}` : ""} · ${T.opened} ${formatTime(action.created_at)} · `,
    el("span", { class: action.overdue ? "overdue-text" : "" }, action.due ? `${T.due} ${formatTime(action.due)}` : T.noDue),
    ` · ${T.responsible}: ${action.supervisor_name ?? T.nobody}`,
  );
}

export function actionHeader(action) {
  return el("div", { class: "actions" }, el("strong", {}, action.description), statusBadge(action.status), overdueBadge(action));
}

function photoFigure(photo, label) {
  const img = el("img", { alt: label, class: "action-photo", dataset: { sha256: photo.sha256 } });
  const caption = el("figcaption", { class: "small muted" }, `${label} · ${photo.width}×${photo.height} · ${T.sha} `, el("code", { class: "mono" }, photo.sha256.slice(0, 16) + "…"));
  evidenceUrl(photo.url).then(
    (url) => {
      urls.push(url);
      img.src = url;
    },
    () => replace(caption, T.photoFailed),
  );
  return el("figure", { class: "photo" }, img, caption);
}

// Answers and decisions in the order they happened.
export function actionHistory(action) {
  const steps = [
    ...action.responses.map((r) => ({ at: r.at, response: r })),
    ...action.decisions.map((d) => ({ at: d.at, decision: d })),
  ].sort((a, b) => new Date(a.at) - new Date(b.at) || (a.decision ? 1 : -1));
  let n = 0;
  const items = steps.map((step) => {
    if (step.response) {
      n += 1;
      const r = step.response;
      return el(
        "li",
        { class: "answer", dataset: { responseId: r.id } },
        el("div", { class: "small" }, el("strong", {}, T.answer(n, r.supervisor_name, formatTime(r.at)))),
        el("p", { class: "notice small" }, r.note),
        el("div", { class: "photo-grid" }, r.photos.map((p) => photoFigure(p, T.photo(p.position + 1, n)))),
      );
    }
    const d = step.decision;
    const text = (d.accepted ? T.verified : T.rejected)(d.inspector_name, formatTime(d.at));
    return el(
      "li",
      { class: d.accepted ? "decision accepted" : "decision rejected" },
      el("div", { class: "small" }, el("strong", {}, text)),
      d.note ? el("div", { class: "small" }, d.accepted ? "" : T.reason, d.note) : null,
    );
  });
  return items.length ? el("ul", { class: "history mt-half" }, items) : null;
}
