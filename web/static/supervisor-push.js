// Web Push for the supervisor page: registers the service worker (/sw.js, whose scope — the site root —
// covers this page) and, on the user's tap, asks for permission and subscribes this browser with the
// server's VAPID key, so alerts reach a locked phone. The worker shows them with an Acknowledge action.
import { api, guarded, t } from "./app.js";


let registration = null;

export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    registration = await navigator.serviceWorker.register("sw.js");
  } catch (exc) {
    console.warn("service worker not registered:", exc);
  }
  return registration;
}

function applicationServerKey(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

async function current() {
  const ready = await navigator.serviceWorker.ready;
  return ready.pushManager.getSubscription();
}

async function subscribe() {
  if ((await Notification.requestPermission()) !== "granted") throw new Error(t("push.denied"));
  const ready = await navigator.serviceWorker.ready;
  const { public_key: key } = await api("/api/push/vapid-key");
  const subscription = await ready.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: applicationServerKey(key) });
  await api("/api/push/subscriptions", { method: "POST", json: subscription.toJSON() });
}

async function unsubscribe() {
  const subscription = await current();
  if (!subscription) return;
  await api("/api/push/unsubscribe", { method: "POST", json: { endpoint: subscription.endpoint } });
  await subscription.unsubscribe();
}

// `button` toggles this browser's subscription; `status` says what is on (or why it cannot be); a failed
// toggle is shown in `errorBox`.
export async function setUpPush(button, status, errorBox) {
  if (!registration || !("PushManager" in window) || !("Notification" in window)) {
    status.textContent = t("push.unsupported");
    return;
  }
  const show = async () => {
    const on = Boolean(await current().catch(() => null));
    button.textContent = on ? t("push.disable") : t("supervisor.notifyThisPhone");
    button.dataset.on = String(on);
    status.textContent = on ? t("push.on") : Notification.permission === "denied" ? t("push.denied") : "";
  };
  button.addEventListener("click", (ev) =>
    guarded(errorBox, ev.currentTarget, async () => {
      if (button.dataset.on === "true") await unsubscribe();
      else await subscribe();
      await show();
    }),
  );
  button.hidden = false;
  await show();
}
