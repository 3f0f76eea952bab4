// The pages' texts in zh-CN and English (docs/architecture.md, "Texts and languages"). The catalogue of the
// chosen language (web/static/i18n/<lang>.json: key -> text, or key -> {one, other} plural forms) is loaded
// once, before any page module runs (top-level await), so t() is synchronous. Static HTML text carries
// data-i18n="key" (its text) and data-i18n-attr="attr:key;attr:key" (placeholder, title, aria-label, alt…),
// filled by applyTexts() when this module loads.

export const LANGUAGES = { "zh-CN": "中文", en: "English" };
export const DEFAULT_LANGUAGE = "en";
const STORE_KEY = "siteaudit.lang";
// The service worker (web/sw.js) cannot read localStorage: the choice is also kept in Cache Storage.
const PREFS_CACHE = "siteaudit-prefs";
const PREFS_URL = "/siteaudit-prefs/lang";

// zh and every zh-* tag (zh-CN, zh-Hans, zh-TW…) → zh-CN, en-* → English, in the user's order of
// preference; anything else (or nothing) → English.
export function pickLanguage(saved, preferred) {
  if (saved && Object.hasOwn(LANGUAGES, saved)) return saved;
  for (const tag of preferred || []) {
    const lower = String(tag).toLowerCase();
    if (lower === "zh" || lower.startsWith("zh-")) return "zh-CN";
    if (lower === "en" || lower.startsWith("en-")) return "en";
  }
  return DEFAULT_LANGUAGE;
}

function savedLanguage() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null; // storage disabled
  }
}

export const lang = pickLanguage(savedLanguage(), navigator.languages || [navigator.language]);

async function loadCatalogue(language) {
  const response = await fetch(new URL(`./i18n/${language}.json`, import.meta.url));
  if (!response.ok) throw new Error(`${response.url}: ${response.status}`);
  return response.json();
}

// A catalogue that cannot be loaded (a flaky connection mid-deploy) falls back to English, then to the keys:
// the page still works.
async function loadCatalogueOrFallback(language) {
  for (const candidate of new Set([language, DEFAULT_LANGUAGE])) {
    try {
      return await loadCatalogue(candidate);
    } catch (exc) {
      console.warn("i18n: catalogue not loaded:", exc);
    }
  }
  return {};
}

const catalogue = await loadCatalogueOrFallback(lang);
const plurals = new Intl.PluralRules(lang);

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

export function hasText(key) {
  return Object.hasOwn(catalogue, key);
}

// t("dashboard.title"), t("inspector.bulkDone", { count: 3 }): `count` picks the plural form.
export function t(key, params = {}) {
  let entry = catalogue[key];
  if (entry === undefined) {
    console.warn(`i18n: no text for ${key}`);
    return key;
  }
  if (typeof entry === "object") entry = entry[plurals.select(Number(params.count))] ?? entry.other;
  return fill(entry, params);
}

export function formatNumber(value, options = {}) {
  return new Intl.NumberFormat(lang, options).format(value);
}

// Whole-page texts: <title data-i18n>, every [data-i18n] and [data-i18n-attr] under `root`.
export function applyTexts(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":").map((part) => part.trim());
      if (attr && key) node.setAttribute(attr, t(key));
    }
  }
}

async function rememberForWorker(language) {
  if (!globalThis.caches) return; // not a secure context
  try {
    const cache = await caches.open(PREFS_CACHE);
    await cache.put(new Request(new URL(PREFS_URL, location.origin)), new Response(language));
  } catch {
    // Cache Storage unavailable (private mode): notifications follow the browser's language
  }
}

export function setLanguage(language) {
  try {
    localStorage.setItem(STORE_KEY, language);
  } catch {
    // storage disabled: the choice lasts for this page only
  }
  location.reload();
}

// The language switch of the page header (and of the sign-in page).
export function languageSwitch() {
  const select = document.createElement("select");
  select.id = "lang";
  select.className = "lang-switch small";
  select.setAttribute("aria-label", t("app.language"));
  for (const [value, label] of Object.entries(LANGUAGES)) {
    const option = document.createElement("option");
    option.value = value;
    option.lang = value;
    option.textContent = label;
    select.append(option);
  }
  select.value = lang;
  select.addEventListener("change", () => setLanguage(select.value));
  return select;
}

document.documentElement.lang = lang;
applyTexts();
rememberForWorker(lang);
