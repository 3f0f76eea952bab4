// Sign-in page: exchange email + password for a token, then go to the page for the user's role.
import { HOME, api, el, guarded, languageSwitch, login, showError, t, token } from "./app.js";

const form = document.getElementById("login");
const errorBox = document.getElementById("login-error");
const notice = document.getElementById("notice");
document.querySelector(".login").prepend(el("div", { class: "login-lang" }, languageSwitch()));

function goHome(me) {
  location.replace(HOME[me.role] || "index.html");
}

if (new URLSearchParams(location.search).has("expired")) {
  notice.textContent = t("login.expired");
  notice.hidden = false;
}

// Already signed in in this tab: skip the form.
if (token.get()) {
  api("/api/me").then(goHome, () => token.clear());
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    showError(errorBox, t("login.needBoth"));
    return;
  }
  token.clear();
  guarded(errorBox, form.querySelector("button"), async () => {
    try {
      goHome(await login(email, password));
    } catch (exc) {
      if (exc.status === 401) throw new Error(t("login.wrong"));
      throw exc;
    }
  });
});
