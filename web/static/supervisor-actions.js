// Supervisor: the corrective actions of the user's sites. An open or reopened action is answered from the
// phone: what was done, and one or more photos (the camera opens directly on phones).
import { api, apiAll, el, guarded, replace, t } from "./app.js";
import { actionHeader, actionHistory, actionSummary, releasePhotos } from "./action-history.js";

const WAITING = new Set(["open", "reopened"]);

let state = { box: null, places: null, badge: null };

export async function mountActions(box, places, badge) {
  state = { box, places, badge };
  await loadActions();
}

/** Whether the supervisor is writing an answer (a note typed or a photo chosen): a periodic refresh waits. */
function composing(box) {
  return [...box.querySelectorAll("form.answer-form")].some(
    (form) => form.note.value.trim() !== "" || form.photos.files.length > 0,
  );
}

export async function loadActions({ keepAnswers = false } = {}) {
  const { box, places, badge } = state;
  if (keepAnswers && composing(box)) return;
  try {
    const actions = await apiAll("/api/actions");
    const rank = (a) => (a.overdue ? 2 : 0) + Number(WAITING.has(a.status));
    const sorted = actions.sort((a, b) => rank(b) - rank(a) || b.id - a.id);
    releasePhotos();
    replace(box, sorted.length ? sorted.map((a) => actionCard(a, places)) : el("p", { class: "empty" }, t("supervisor.noActions")));
    const late = actions.filter((a) => a.overdue).length;
    if (badge) {
      badge.hidden = late === 0;
      badge.textContent = t("supervisor.overdueCount", { count: late });
    }
  } catch (exc) {
    replace(box, el("div", { class: "error", role: "alert" }, exc.message));
  }
}

function actionCard(action, places) {
  const error = el("div", { class: "error", role: "alert", hidden: true });
  const noteId = `answer-${action.id}`;
  const photosId = `photos-${action.id}`;
  const respond = async (ev) => {
    ev.preventDefault();
    const form = ev.currentTarget;
    await guarded(error, form.querySelector("button"), async () => {
      const files = [...form.photos.files];
      if (!files.length) throw new Error(t("supervisor.needPhoto"));
      const body = new FormData();
      body.append("note", form.note.value.trim());
      for (const file of files) body.append("photos", file, file.name);
      await api(`/api/actions/${action.id}/respond`, { method: "POST", form: body });
      await loadActions();
    });
  };
  return el(
    "div",
    { class: `action-card${action.overdue ? " overdue" : ""}`, dataset: { actionId: action.id } },
    actionHeader(action),
    actionSummary(action, places.siteName(action.site_id)),
    actionHistory(action),
    WAITING.has(action.status)
      ? el(
          "form",
          { onsubmit: respond, class: "answer-form" },
          el("div", { class: "field" }, el("label", { for: noteId }, t("supervisor.whatDone")), el("textarea", { id: noteId, name: "note", required: true, maxlength: 5000 })),
          el(
            "div",
            { class: "field" },
            el("label", { for: photosId }, t("supervisor.photos")),
            el("input", { id: photosId, name: "photos", type: "file", accept: "image/jpeg,image/png", capture: "environment", multiple: true, required: true }),
          ),
          el("button", { type: "submit", class: "primary" }, t("supervisor.send")),
          error,
        )
      : null,
  );
}
