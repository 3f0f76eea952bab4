// Shared by every signed-in page: the API client (access and refresh token in sessionStorage), error text,
// safe DOM building (text is always set as textContent, never parsed as HTML) and formatting. Texts come from
// the catalogues through t() (./i18n.js, loaded before any page module runs).
import { hasText, lang, languageSwitch, t } from "./i18n.js";

export { formatNumber, hasText, lang, languageSwitch, t } from "./i18n.js";

const TOKEN_KEY = "siteaudit.token";
const REFRESH_KEY = "siteaudit.refresh";
export const HOME = { admin: "admin.html", inspector: "inspector.html", supervisor: "supervisor.html" };

export class ApiError extends Error {
  constructor(status, message, detail) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  refresh: () => sessionStorage.getItem(REFRESH_KEY),
  // `body` is the token response of /api/auth/token or /api/auth/refresh.
  set: (body) => {
    sessionStorage.setItem(TOKEN_KEY, body.access_token);
    sessionStorage.setItem(REFRESH_KEY, body.refresh_token);
  },
  clear: () => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(REFRESH_KEY);
  },
};

// One refresh at a time: a refresh token works once, so parallel 401s must share the same exchange
// (a second use of the old token would make the server revoke the whole sign-in).
let refreshing = null;
function refreshTokens() {
  refreshing ??= (async () => {
    const refresh = token.refresh();
    if (!refresh) return false;
    try {
      const response = await fetch("/api/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refresh }),
      });
      if (!response.ok) return false;
      token.set(await response.json());
      return true;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

// FastAPI's 422 body is a list of {loc, msg}; model-level errors carry loc ["body"] and a "Value error, " prefix.
export function describeDetail(detail) {
  if (typeof detail === "string") return detail;
  if (!Array.isArray(detail)) return JSON.stringify(detail);
  return detail
    .map((item) => {
      const where = (item.loc || []).filter((part) => part !== "body" && part !== "query").join(".");
      const msg = String(item.msg || "").replace(/^Value error, /, "");
      return where ? `${where}: ${msg}` : msg;
    })
    .join("\n");
}

async function failure(response) {
  let detail = response.statusText || `HTTP ${response.status}`;
  try {
    const body = await response.json();
    if (body && body.detail !== undefined) detail = body.detail;
  } catch {
    // not JSON (e.g. a proxy error page): keep the status text
  }
  return new ApiError(response.status, describeDetail(detail), detail);
}

// Sends the bearer token; JSON in and out by default. On a 401 the tokens are refreshed once and the
// request is sent again; a second 401 (or a failed refresh) means the session is over: back to login.
export async function api(path, { method = "GET", json, form, query, as = "json" } = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  let body;
  const headers = {};
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form instanceof FormData ? form : new URLSearchParams(form); // FormData: multipart (files)
  }
  const send = async () => {
    const current = token.get();
    if (current) headers.Authorization = `Bearer ${current}`;
    try {
      return { current, response: await fetch(url, { method, headers, body }) };
    } catch (exc) {
      throw new ApiError(0, t("app.unreachable", { reason: exc.message }));
    }
  };
  let { current, response } = await send();
  if (response.status === 401 && current) {
    if (token.get() !== current || (await refreshTokens())) ({ current, response } = await send());
    if (response.status === 401) {
      token.clear();
      location.replace(`index.html?expired=1`);
    }
  }
  if (!response.ok) throw await failure(response);
  if (as === "blob") return response.blob();
  if (response.status === 204 || as === "none") return null;
  return response.json();
}

export async function login(email, password) {
  const body = await api("/api/auth/token", { method: "POST", form: { username: email, password } });
  token.set(body);
  return api("/api/me");
}

// Signs out on the server too (the refresh token and the access tokens of this sign-in stop working),
// then forgets the tokens; an unreachable server does not keep the user signed in here.
export async function logout() {
  const access = token.get();
  const refresh = token.refresh();
  token.clear();
  try {
    await fetch("/api/auth/logout", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(access ? { Authorization: `Bearer ${access}` } : {}) },
      body: JSON.stringify(refresh ? { refresh_token: refresh } : {}),
    });
  } catch {
    // offline: the tokens are gone from this tab and expire on their own
  }
  location.replace("index.html");
}

// The signed-in user, or a redirect: to login without a session, to the user's own page for another role.
export async function requireUser(role) {
  if (!token.get()) {
    location.replace("index.html");
    return new Promise(() => {});
  }
  const me = await api("/api/me");
  if (role && me.role !== role) {
    location.replace(HOME[me.role] || "index.html");
    return new Promise(() => {});
  }
  return me;
}

// el("p", {class: "x", onclick: fn}, "text", child) — text children become text nodes.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

// Shows an error (or clears it with null) in a role="alert" element next to the form that caused it.
export function showError(target, error) {
  if (!target) return;
  if (!error) {
    target.hidden = true;
    target.textContent = "";
    return;
  }
  target.textContent = error instanceof ApiError || error instanceof Error ? error.message : String(error);
  target.hidden = false;
}

// Runs an async handler for a button/form, disabling the button meanwhile and routing errors to `errorBox`.
export async function guarded(errorBox, button, work) {
  showError(errorBox, null);
  if (button) button.disabled = true;
  try {
    return await work();
  } catch (exc) {
    showError(errorBox, exc);
    if (!(exc instanceof ApiError)) console.error(exc);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// Dates and times are shown in the site's time zone when the page knows the site (`timeZone`, an IANA name
// from GET /api/sites), labelled with it; without one, in the browser's zone (also labelled).
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
const DATE_TIME = {
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
};
const formatters = new Map();
function dateTimeFormat(timeZone) {
  if (!formatters.has(timeZone)) {
    let format;
    try {
      format = new Intl.DateTimeFormat(lang, { ...DATE_TIME, timeZone });
    } catch {
      format = new Intl.DateTimeFormat(lang, { ...DATE_TIME, timeZone: "UTC" }); // unknown zone name
    }
    formatters.set(timeZone, format);
  }
  return formatters.get(timeZone);
}

// English shows Intl's fields in ISO 8601 order (2026-12-01 17:30:05, as audit records read), not en-US's
// 12/01/2026; Chinese keeps Intl's zh-CN form (2026/12/01 17:30:05).
function dateTimeText(format, date) {
  if (lang !== "en") return format.format(date);
  const part = Object.fromEntries(format.formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute}:${part.second}`;
}

export function formatTime(iso, timeZone) {
  if (!iso) return "–";
  const format = dateTimeFormat(timeZone || BROWSER_ZONE);
  return t("app.timeInZone", { time: dateTimeText(format, new Date(iso)), zone: format.resolvedOptions().timeZone });
}

const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
export function relativeTime(iso, timeZone) {
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return relative.format(0, "second");
  if (seconds < 3600) return relative.format(-Math.floor(seconds / 60), "minute");
  if (seconds < 86400) return relative.format(-Math.floor(seconds / 3600), "hour");
  return formatTime(iso, timeZone);
}

// Enumerated values (violation kinds, statuses, roles, verdicts) have their text under "term.<value>";
// a value the catalogue does not know yet is shown humanised.
export function formatKind(kind) {
  if (hasText(`term.${kind}`)) return t(`term.${kind}`);
  const text = String(kind).replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function formatPercent(value) {
  return value === null || value === undefined ? "–" : `${Math.round(value * 100)}%`;
}

export function statusBadge(status) {
  return el("span", { class: `badge badge-${status}` }, formatKind(status));
}

// Evidence needs the bearer header, so it is fetched as a blob and shown through an object URL
// (which also makes <video> seeking work: the whole clip is local). Revoke the URL when done.
export async function evidenceUrl(path) {
  const blob = await api(path, { as: "blob" });
  return URL.createObjectURL(blob);
}

// Lists answer one page (limit/offset, at most MAX_PAGE items, audit_api/schemas/bounds.py MAX_LIMIT):
// this reads every page of a list whose whole content the page needs (sites, cameras, users, zones).
export const MAX_PAGE = 500;
export async function apiAll(path, { query } = {}) {
  const items = [];
  for (;;) {
    const page = await api(path, { query: { ...query, limit: MAX_PAGE, offset: items.length } });
    items.push(...page);
    if (page.length < MAX_PAGE) return items;
  }
}

// Fills the page header (user name, sign-out) that every signed-in page has.
export function mountHeader(me) {
  const who = document.getElementById("who");
  if (who) who.textContent = `${me.name || me.email} · ${formatKind(me.role)}`;
  const button = document.getElementById("logout");
  if (button) button.addEventListener("click", logout);
  if (!document.getElementById("lang")) (button || who)?.before(languageSwitch());
}

// Lookup tables for site and camera names (every role may read them).
export async function loadPlaces() {
  const [sites, cameras] = await Promise.all([apiAll("/api/sites"), apiAll("/api/cameras")]);
  return {
    sites,
    cameras,
    siteName: (id) => sites.find((s) => s.id === id)?.name ?? t("app.siteN", { id }),
    cameraName: (id) => cameras.find((c) => c.id === id)?.name ?? t("app.cameraN", { id }),
    siteZone: (id) => sites.find((s) => s.id === id)?.timezone,
    cameraZone: (id) => sites.find((s) => s.id === cameras.find((c) => c.id === id)?.site_id)?.timezone,
  };
}

export function fillSelect(select, options, { placeholder } = {}) {
  const current = select.value;
  replace(
    select,
    placeholder !== undefined ? el("option", { value: "" }, placeholder) : null,
    options.map(([value, label]) => el("option", { value }, label)),
  );
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}
