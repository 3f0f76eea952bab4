// Keyboard shortcuts of the review queue: one key per action, ignored while typing in a text field (where
// Escape leaves the field) and while a dialog is open; `?` opens the list of keys (a modal <dialog>, which
// returns focus to where it was opened from).

const TYPING = new Set(["text", "search", "email", "number", "password", "url", "tel", "date", "datetime-local"]);

function typing(target) {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && TYPING.has(target.type);
}

/** `actions`: key → handler (async allowed); `dialog`: the <dialog> listing the keys; `opener`: its button. */
export function bindKeys(actions, dialog, opener) {
  let returnTo = null;
  const showHelp = () => {
    if (dialog.open) return;
    returnTo = document.activeElement;
    dialog.showModal();
    dialog.querySelector("button")?.focus();
  };
  dialog.addEventListener("close", () => {
    if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
    else opener.focus();
  });
  opener.addEventListener("click", showHelp);
  document.addEventListener("keydown", (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey || ev.isComposing) return;
    if (document.querySelector("dialog[open]")) return; // the dialog handles its own keys (Esc closes)
    if (typing(ev.target)) {
      if (ev.key === "Escape") ev.target.blur();
      return;
    }
    if (ev.key === "?") {
      ev.preventDefault();
      showHelp();
      return;
    }
    const action = actions[ev.key];
    if (!action) return;
    ev.preventDefault();
    action(ev);
  });
}

/** Say `text` through the page's polite live region (#announce), even when it equals the last message. */
export function announce(text) {
  const region = document.getElementById("announce");
  region.textContent = "";
  setTimeout(() => (region.textContent = text), 50);
}
