// Live view: a grid of a site's cameras (thumbnails about once a second) and one camera's MJPEG stream
// with the detector's latest boxes drawn on a canvas overlay. The stream is an <img> (it cannot send a
// header), so it carries a short-lived viewer token; thumbnails and boxes use the normal bearer token.
import {
  HOME,
  api,
  el,
  guarded,
  loadPlaces,
  fillSelect,
  mountHeader,
  replace,
  requireUser,
  showError,
  t,
} from "./app.js";

import { LiveViewer } from "./live-view.js";

const THUMB_MS = 1000;
const $ = (id) => document.getElementById(id);
const state = { me: null, places: null, camera: null, timers: [], thumbs: new Map(), viewer: null };

function stopTimers() {
  for (const timer of state.timers) clearInterval(timer);
  state.timers = [];
}

function every(ms, work) {
  work();
  state.timers.push(setInterval(work, ms));
}

function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const camera = Number(params.get("camera"));
  const site = Number(params.get("site"));
  stopTimers();
  stopStream();
  if (camera) return showCamera(camera);
  return showGrid(site || Number($("site").value) || state.places.sites[0]?.id);
}

// -- grid ----------------------------------------------------------------------------------------
function showGrid(siteId) {
  $("viewer").hidden = true;
  $("grid-panel").hidden = false;
  if (!siteId) {
    replace($("grid"), el("li", { class: "muted" }, t("live.noSite")));
    return;
  }
  $("site").value = String(siteId);
  const cameras = state.places.cameras.filter((c) => c.site_id === siteId);
  $("grid-title").textContent = t("live.gridTitle", { site: state.places.siteName(siteId) });
  replace(
    $("grid"),
    cameras.length ? null : el("li", { class: "muted" }, t("app.noCameras")),
    cameras.map((c) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", dataset: { camera: c.id }, onclick: () => (location.hash = `camera=${c.id}`) },
          el("img", { id: `thumb-${c.id}`, alt: t("live.latestPicture", { name: c.name }) }),
          el("span", { class: "name" }, c.name),
        ),
      ),
    ),
  );
  every(THUMB_MS, () => cameras.forEach((c) => refreshThumb(c.id)));
}

async function refreshThumb(cameraId) {
  const img = $(`thumb-${cameraId}`);
  if (!img) return;
  try {
    const blob = await api(`/api/cameras/${cameraId}/live/frame`, { as: "blob" });
    const url = URL.createObjectURL(blob);
    const old = state.thumbs.get(cameraId);
    img.src = url;
    img.dataset.state = "live";
    state.thumbs.set(cameraId, url);
    if (old) URL.revokeObjectURL(old);
  } catch (exc) {
    img.dataset.state = "offline";
    img.alt = t("live.noPicture", { reason: exc.message });
  }
}

// -- one camera ----------------------------------------------------------------------------------
function stopStream() {
  state.viewer?.stop();
  state.camera = null;
}

function showCamera(cameraId) {
  $("grid-panel").hidden = true;
  $("viewer").hidden = false;
  const camera = state.places.cameras.find((c) => c.id === cameraId);
  $("viewer-title").textContent = camera ? camera.name : t("app.cameraN", { id: cameraId });
  if (camera) $("site").value = String(camera.site_id);
  state.camera = cameraId;
  state.viewer.show(cameraId);
}

async function capture(ev) {
  ev.preventDefault();
  const cameraId = state.camera;
  const kind = $("capture-kind").value;
  const note = $("capture-note").value.trim();
  const done = $("capture-done");
  done.hidden = true;
  await guarded($("capture-error"), $("capture"), async () => {
    const body = kind ? { event: { kind, note } } : {};
    const out = await api(`/api/cameras/${cameraId}/captures`, { method: "POST", json: body });
    const sha = out.still.sha256.slice(0, 16);
    done.textContent = out.event_id ? t("live.storedWithEvent", { sha, id: out.event_id }) : t("live.stored", { sha });
    done.dataset.eventId = out.event_id ?? "";
    done.dataset.sha256 = out.still.sha256;
    done.hidden = false;
    $("capture-note").value = "";
  });
}

async function main() {
  state.me = await requireUser();
  mountHeader(state.me);
  $("home").href = HOME[state.me.role] || "index.html";
  state.places = await loadPlaces();
  fillSelect($("site"), state.places.sites.map((s) => [s.id, s.name]));
  $("site").addEventListener("change", () => (location.hash = `site=${$("site").value}`));
  $("back").addEventListener("click", () => (location.hash = `site=${$("site").value}`));
  $("capture-form").hidden = !["admin", "inspector"].includes(state.me.role);
  $("capture-form").addEventListener("submit", capture);
  state.viewer = new LiveViewer({
    img: $("stream"),
    canvas: $("overlay"),
    status: $("state"),
    fps: $("fps"),
    boxes: $("show-boxes"),
    onError: (exc) => showError($("page-error"), exc),
  });
  window.addEventListener("hashchange", route);
  window.addEventListener("pagehide", stopStream);
  route();
}

main().catch((exc) => showError($("page-error"), exc));
