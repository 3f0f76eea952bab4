// Web Push for the supervisor page: registers the service worker (/sw.js, whose scope — the site root —
// covers this page) and, on the user's tap, asks for permission and subscribes this browser with the
// server's VAPID key, so alerts reach a locked phone. The worker shows them with an Acknowledge action.
import { api, guarded } from "./app.js";

// Every user-visible string of the notifications switch, in one place (issue 13).
export const T = {
  enable: "Notify this phone",
  disable: "Stop notifications",
  on: "Notifications on for this browser.",
  off: "",
  unsupported: "This browser cannot receive push notifications.",
  denied: "Notifications are blocked for this site in the browser's settings.",
};

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
  if ((await Notification.requestPermission()) !== "granted") throw new Error(T.denied);
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
    status.textContent = T.unsupported;
    return;
  }
  const show = async () => {
    const on = Boolean(await current().catch(() => null));
    button.textContent = on ? T.disable : T.enable;
    button.dataset.on = String(on);
    status.textContent = on ? T.on : Notification.permission === "denied" ? T.denied : T.off;
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
