// Admins and inspectors: is the record intact? Runs GET /api/audit/integrity — the audit log's hash chain
// and every stored object re-read and hashed — and names the first broken entry and object.
import { api, el, guarded, replace } from "./app.js";

const T = {
  run: "Verify now",
  running: "Checking the chain and every stored object…",
  intact: (entries, objects) => `Intact: ${entries} audit-log entries and ${objects} stored objects verified.`,
  chainOk: (n) => `Audit chain intact (${n} entries).`,
  chainBroken: (seq, reason) => `Audit chain BROKEN at entry ${seq}: ${reason}.`,
  objectsOk: (n) => `Stored objects intact (${n} checked).`,
  objectsBroken: (bad, n, what, key, reason) => `${bad} of ${n} stored objects BROKEN; first: ${what} (${key}): ${reason}.`,
};

export function mountAuditVerify(section) {
  const button = el("button", { type: "button", id: "audit-verify-run" }, T.run);
  const result = el("div", { id: "audit-verify-result", role: "status", "aria-live": "polite" });
  const error = el("div", { class: "error", role: "alert", hidden: true });
  button.addEventListener("click", () =>
    guarded(error, button, async () => {
      replace(result, el("p", { class: "muted small" }, T.running));
      show(result, await api("/api/audit/integrity"));
    }),
  );
  section.append(el("div", { class: "actions" }, button), result, error);
}

function show(result, status) {
  result.dataset.valid = String(status.valid);
  if (status.valid) {
    replace(result, el("p", { class: "success" }, T.intact(status.chain.checked, status.objects_checked)));
    return;
  }
  const chain = status.chain;
  const broken = status.first_broken_object;
  replace(
    result,
    el(
      "div",
      { class: "error" },
      el("p", { dataset: { chain: chain.valid ? "ok" : "broken" } }, chain.valid ? T.chainOk(chain.checked) : T.chainBroken(chain.first_bad_seq, chain.reason)),
      el(
        "p",
        { dataset: { objects: broken ? "broken" : "ok" } },
        broken ? T.objectsBroken(status.objects_broken, status.objects_checked, broken.what, broken.key, broken.reason) : T.objectsOk(status.objects_checked),
      ),
    ),
  );
}
