// The supervisor page's service worker (scope: the site root). A pushed alert (audit_api PushPayload:
// title, body, alert_id, url, ack_url, image: the snapshot, heads blurred per the site's privacy setting) is shown as a notification with an Acknowledge action, which
// POSTs the alert's one-time link; a tap elsewhere opens the supervisor page.
// Texts: the "sw." keys of the page catalogues (web/static/i18n/<lang>.json), in the language the pages chose
// (web/static/i18n.js keeps it in Cache Storage: a worker cannot read localStorage), else the browser's.
const LANGUAGES = ["zh-CN", "en"];
const PREFS_CACHE = "siteaudit-prefs";
const PREFS_URL = "/siteaudit-prefs/lang";

async function workerLanguage() {
  try {
    const saved = await (await caches.open(PREFS_CACHE)).match(new URL(PREFS_URL, self.location.origin));
    const lang = saved ? await saved.text() : null;
    if (LANGUAGES.includes(lang)) return lang;
  } catch {
    // no Cache Storage: fall back to the browser's language
  }
  // The same rule as i18n.js pickLanguage: zh* -> zh-CN, en* -> English, in order; else English.
  for (const tag of self.navigator.languages || []) {
    if (/^zh(-|$)/i.test(tag)) return "zh-CN";
    if (/^en(-|$)/i.test(tag)) return "en";
  }
  return "en";
}

// The catalogue of the language last used; fetched again when the user has switched language since.
let loaded = { lang: null, texts: {} };
async function catalogue() {
  const lang = await workerLanguage();
  if (loaded.lang !== lang) {
    try {
      const response = await fetch(new URL(`static/i18n/${lang}.json`, self.registration.scope));
      if (response.ok) loaded = { lang, texts: await response.json() };
    } catch {
      // offline: the keys' previous texts (or the keys themselves) are shown
    }
  }
  return loaded.texts;
}

async function t(key) {
  return (await catalogue())[key] ?? key;
}

self.addEventListener("install", (event) => event.waitUntil(self.skipWaiting()));
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function tell(message) {
  for (const client of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
    client.postMessage(message);
  }
}

async function show(data) {
  await self.registration.showNotification(data.title, {
    body: data.body,
    ...(data.image ? { image: data.image } : {}),
    tag: `alert-${data.alert_id}`,
    renotify: true,
    requireInteraction: true,
    data,
    actions: data.ack_url ? [{ action: "ack", title: await t("sw.ack") }] : [],
  });
  await tell({ type: "notification-shown", alertId: data.alert_id });
}

self.addEventListener("push", (event) => {
  let data = null;
  try {
    data = event.data ? event.data.json() : null;
  } catch {
    data = null;
  }
  if (data && data.title) event.waitUntil(show(data));
});

async function acknowledge(data) {
  const token = new URL(data.ack_url).searchParams.get("token");
  const response = await fetch(new URL("api/alerts/ack-link", self.registration.scope), {
    method: "POST",
    body: new URLSearchParams({ token }),
    credentials: "omit",
  });
  await self.registration.showNotification(await t(response.ok ? "sw.acked" : "sw.ackFailed"), {
    tag: `alert-${data.alert_id}`,
    body: data.title,
    data: { url: data.url },
  });
  await tell({ type: "acknowledged", alertId: data.alert_id, ok: response.ok });
}

async function openPage(url) {
  const target = url || new URL("supervisor.html", self.registration.scope).href;
  for (const client of await self.clients.matchAll({ type: "window" })) {
    if (client.url.split("#")[0] === target.split("#")[0] && "focus" in client) {
      await client.navigate(target).catch(() => null);
      await client.focus();
      return;
    }
  }
  await self.clients.openWindow(target);
}

self.addEventListener("notificationclick", (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  if (event.action === "ack" && data.ack_url) event.waitUntil(acknowledge(data));
  else event.waitUntil(openPage(data.url));
});
