// A corrective action's history as both pages show it: the due date (flagged when overdue), the
// responsible supervisor, every answer with its photos and every decision (rejections with their reason).
import { el, evidenceUrl, formatTime, replace, statusBadge, t } from "./app.js";


// Times are shown in the action's site zone once the page has told which zone each site has.
let siteZone = () => undefined;
export function useSiteZones(places) {
  siteZone = places.siteZone;
}
const at = (action, iso) => formatTime(iso, siteZone(action.site_id));

// Object URLs of loaded photos, released when the page re-renders.
const urls = [];
export function releasePhotos() {
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
}

export function overdueBadge(action) {
  return action.overdue ? el("span", { class: "badge badge-overdue", dataset: { overdue: "" } }, t("actions.overdue")) : null;
}

export function actionSummary(action, siteName) {
  return el(
    "div",
    { class: "small muted" },
    [t("app.eventN", { id: action.event_id }), siteName, t("actions.opened", { time: at(action, action.created_at) })]
      .filter(Boolean)
      .join(" · "),
    " · ",
    el(
      "span",
      { class: action.overdue ? "overdue-text" : "" },
      action.due ? t("actions.due", { time: at(action, action.due) }) : t("actions.noDue"),
    ),
    " · ",
    t("actions.responsible", { name: action.supervisor_name ?? t("actions.nobody") }),
  );
}

export function actionHeader(action) {
  return el("div", { class: "actions" }, el("strong", {}, action.description), statusBadge(action.status), overdueBadge(action));
}

function photoFigure(photo, label) {
  const img = el("img", { alt: label, class: "action-photo", dataset: { sha256: photo.sha256 } });
  const caption = el("figcaption", { class: "small muted" }, t("actions.photoMeta", { label, width: photo.width, height: photo.height }), " ", el("code", { class: "mono" }, photo.sha256.slice(0, 16) + "…"));
  evidenceUrl(photo.url).then(
    (url) => {
      urls.push(url);
      img.src = url;
    },
    () => replace(caption, t("actions.photoFailed")),
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
        el("div", { class: "small" }, el("strong", {}, t("actions.answer", { n, who: r.supervisor_name, time: at(action, r.at) }))),
        el("p", { class: "notice small" }, r.note),
        el("div", { class: "photo-grid" }, r.photos.map((p) => photoFigure(p, t("actions.photo", { n: p.position + 1, answer: n })))),
      );
    }
    const d = step.decision;
    const text = t(d.accepted ? "actions.verified" : "actions.rejected", { who: d.inspector_name, time: at(action, d.at) });
    return el(
      "li",
      { class: d.accepted ? "decision accepted" : "decision rejected" },
      el("div", { class: "small" }, el("strong", {}, text)),
      d.note ? el("div", { class: "small" }, d.accepted ? d.note : t("actions.reason", { note: d.note })) : null,
    );
  });
  return items.length ? el("ul", { class: "history mt-half" }, items) : null;
}
