// One camera watched live: the MJPEG stream in an <img> (short-lived viewer token: an <img> cannot send
// a header), the detector's latest boxes on a canvas overlay (toggle), the camera's state and fps.
// Used by the live page (live.js) and the patrol round page (patrol.js).
import { api, formatNumber, hasText, t } from "./app.js";

const BOXES_MS = 300;
const HEALTH_MS = 2000;
const RETRY_MS = 2000;


export class LiveViewer {
  // parts: { img, canvas, status, fps, boxes (checkbox), onError(exc) }
  constructor(parts) {
    this.parts = parts;
    this.camera = null;
    this.timers = [];
    parts.boxes.addEventListener("change", () => this.camera && this.refreshBoxes(this.camera));
  }

  show(cameraId) {
    this.stop();
    this.camera = cameraId;
    const { img, status } = this.parts;
    img.onload = () => {
      status.dataset.state = "live";
    };
    img.onerror = () => {
      if (this.camera !== cameraId || !img.getAttribute("src")) return;
      status.dataset.state = "reconnecting";
      status.textContent = t("health.state.reconnecting");
      img.removeAttribute("src");
      setTimeout(() => this.startStream(cameraId), RETRY_MS);
    };
    this.startStream(cameraId);
    this.every(HEALTH_MS, () => this.refreshHealth(cameraId));
    this.every(BOXES_MS, () => this.refreshBoxes(cameraId));
  }

  stop() {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    this.parts.img.removeAttribute("src"); // closes the connection: the server audits the session
    this.camera = null;
  }

  every(ms, work) {
    work();
    this.timers.push(setInterval(work, ms));
  }

  async startStream(cameraId) {
    if (this.camera !== cameraId) return;
    const { img, status } = this.parts;
    try {
      const live = await api(`/api/cameras/${cameraId}/live-token`, { method: "POST" });
      if (this.camera !== cameraId) return;
      img.src = live.url;
    } catch (exc) {
      status.dataset.state = "failed";
      status.textContent = exc.message;
      if (exc.status === 404) return;
      setTimeout(() => this.startStream(cameraId), RETRY_MS);
    }
  }

  async refreshHealth(cameraId) {
    try {
      const h = await api(`/api/cameras/${cameraId}/health`);
      if (this.camera !== cameraId) return;
      const { status, fps } = this.parts;
      status.dataset.state = h.state === "streaming" ? "live" : h.state;
      status.textContent = hasText(`health.state.${h.state}`) ? t(`health.state.${h.state}`) : h.state;
      const f = (v) => (v === null || v === undefined ? "–" : formatNumber(v, { minimumFractionDigits: 1, maximumFractionDigits: 1 }));
      fps.textContent = t("health.fps", { input: f(h.input_fps), analysed: f(h.analysed_fps) });
    } catch (exc) {
      this.parts.onError?.(exc);
    }
  }

  async refreshBoxes(cameraId) {
    const { canvas, img, boxes } = this.parts;
    const ctx = canvas.getContext("2d");
    if (!boxes.checked) {
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
    if (this.camera !== cameraId) return;
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
}
