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
} from "./app.js";

const THUMB_MS = 1000;
const BOXES_MS = 300;
const HEALTH_MS = 2000;
const RETRY_MS = 2000;
const $ = (id) => document.getElementById(id);
const state = { me: null, places: null, camera: null, timers: [], thumbs: new Map(), boxes: null };

const STATES = {
  streaming: "Live",
  starting: "Starting…",
  reconnecting: "Reconnecting…",
  failed: "Camera unreachable",
  stopped: "Stopped",
  not_running: "Not running",
  worker_silent: "Worker silent",
  invalid_config: "Invalid configuration",
};

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
    replace($("grid"), el("li", { class: "muted" }, "No site to show."));
    return;
  }
  $("site").value = String(siteId);
  const cameras = state.places.cameras.filter((c) => c.site_id === siteId);
  $("grid-title").textContent = `Cameras · ${state.places.siteName(siteId)}`;
  replace(
    $("grid"),
    cameras.length ? null : el("li", { class: "muted" }, "This site has no cameras."),
    cameras.map((c) =>
      el(
        "li",
        {},
        el(
          "button",
          { type: "button", dataset: { camera: c.id }, onclick: () => (location.hash = `camera=${c.id}`) },
          el("img", { id: `thumb-${c.id}`, alt: `Latest picture of ${c.name}` }),
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
    img.alt = `No picture: ${exc.message}`;
  }
}

// -- one camera ----------------------------------------------------------------------------------
function stopStream() {
  const img = $("stream");
  img.removeAttribute("src"); // closes the connection: the server audits the session
  state.camera = null;
}

async function startStream(cameraId) {
  if (state.camera !== cameraId) return;
  const status = $("state");
  try {
    const live = await api(`/api/cameras/${cameraId}/live-token`, { method: "POST" });
    if (state.camera !== cameraId) return;
    $("stream").src = live.url;
    showError($("page-error"), null);
  } catch (exc) {
    status.dataset.state = "failed";
    status.textContent = exc.message;
    if (exc.status === 404) return;
    setTimeout(() => startStream(cameraId), RETRY_MS);
  }
}

function showCamera(cameraId) {
  $("grid-panel").hidden = true;
  $("viewer").hidden = false;
  const camera = state.places.cameras.find((c) => c.id === cameraId);
  $("viewer-title").textContent = camera ? camera.name : `Camera ${cameraId}`;
  if (camera) $("site").value = String(camera.site_id);
  state.camera = cameraId;
  const img = $("stream");
  img.onload = () => {
    $("state").dataset.state = "live";
  };
  img.onerror = () => {
    if (state.camera !== cameraId || !img.getAttribute("src")) return;
    $("state").dataset.state = "reconnecting";
    $("state").textContent = "Reconnecting…";
    img.removeAttribute("src");
    setTimeout(() => startStream(cameraId), RETRY_MS);
  };
  startStream(cameraId);
  every(HEALTH_MS, () => refreshHealth(cameraId));
  every(BOXES_MS, () => refreshBoxes(cameraId));
}

async function refreshHealth(cameraId) {
  try {
    const h = await api(`/api/cameras/${cameraId}/health`);
    const status = $("state");
    status.dataset.state = h.state === "streaming" ? "live" : h.state;
    status.textContent = STATES[h.state] || h.state;
    const fps = (v) => (v === null || v === undefined ? "–" : v.toFixed(1));
    $("fps").textContent = `input ${fps(h.input_fps)} fps · analysed ${fps(h.analysed_fps)} fps`;
  } catch (exc) {
    showError($("page-error"), exc);
  }
}

async function refreshBoxes(cameraId) {
  const canvas = $("overlay");
  const ctx = canvas.getContext("2d");
  const img = $("stream");
  if (!$("show-boxes").checked) {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    canvas.dataset.boxes = "0";
    return;
  }
  let det;
  try {
    det = await api(`/api/cameras/${cameraId}/detections`);
  } catch {
    return;
  }
  canvas.width = img.naturalWidth || det.width || 640;
  canvas.height = img.naturalHeight || det.height || 360;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const line = Math.max(2, Math.round(canvas.width / 320));
  ctx.lineWidth = line;
  ctx.font = `${6 * line}px sans-serif`;
  for (const b of det.boxes) {
    const [x1, y1, x2, y2] = b.box;
    const color = b.violation ? "#e62020" : "#40c840";
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.strokeRect(x1 * canvas.width, y1 * canvas.height, (x2 - x1) * canvas.width, (y2 - y1) * canvas.height);
    const label = b.confidence === null ? b.label : `${b.label} ${b.confidence.toFixed(2)}`;
    ctx.fillText(label, x1 * canvas.width + line, Math.max(6 * line, y1 * canvas.height - line));
  }
  canvas.dataset.boxes = String(det.boxes.length);
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
    const event = out.event_id ? ` Event #${out.event_id} opened for review.` : "";
    done.textContent = `Still stored (SHA-256 ${out.still.sha256.slice(0, 16)}…).${event}`;
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
  $("show-boxes").addEventListener("change", () => state.camera && refreshBoxes(state.camera));
  window.addEventListener("hashchange", route);
  window.addEventListener("pagehide", stopStream);
  route();
}

main().catch((exc) => showError($("page-error"), exc));
