// The supervisor page's service worker (scope: the site root). A pushed alert (audit_api PushPayload:
// title, body, alert_id, url, ack_url, image: the snapshot, heads blurred per the site's privacy setting) is shown as a notification with an Acknowledge action, which
// POSTs the alert's one-time link; a tap elsewhere opens the supervisor page.
const T = {
  ack: "Acknowledge",
  acked: "Acknowledged",
  ackFailed: "Could not acknowledge: open the page",
};

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
    actions: data.ack_url ? [{ action: "ack", title: T.ack }] : [],
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
  await self.registration.showNotification(response.ok ? T.acked : T.ackFailed, {
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
