// Admins and inspectors: is the record intact? Runs GET /api/audit/integrity — the audit log's hash chain
// and every stored object re-read and hashed — and names the first broken entry and object.
import { api, el, guarded, replace, t } from "./app.js";


export function mountAuditVerify(section) {
  const button = el("button", { type: "button", id: "audit-verify-run" }, t("audit.run"));
  const result = el("div", { id: "audit-verify-result", role: "status", "aria-live": "polite" });
  const error = el("div", { class: "error", role: "alert", hidden: true });
  button.addEventListener("click", () =>
    guarded(error, button, async () => {
      replace(result, el("p", { class: "muted small" }, t("audit.running")));
      show(result, await api("/api/audit/integrity"));
    }),
  );
  section.append(el("div", { class: "actions" }, button), result, error);
}

function show(result, status) {
  result.dataset.valid = String(status.valid);
  if (status.valid) {
    replace(result, el("p", { class: "success" }, t("audit.intact", { entries: status.chain.checked, objects: status.objects_checked })));
    return;
  }
  const chain = status.chain;
  const broken = status.first_broken_object;
  replace(
    result,
    el(
      "div",
      { class: "error" },
      el("p", { dataset: { chain: chain.valid ? "ok" : "broken" } }, chain.valid
          ? t("audit.chainOk", { count: chain.checked })
          : t("audit.chainBroken", { seq: chain.first_bad_seq, reason: chain.reason })),
      el(
        "p",
        { dataset: { objects: broken ? "broken" : "ok" } },
        broken
          ? t("audit.objectsBroken", {
              bad: status.objects_broken,
              count: status.objects_checked,
              what: broken.what,
              key: broken.key,
              reason: broken.reason,
            })
          : t("audit.objectsOk", { count: status.objects_checked }),
      ),
    ),
  );
}
