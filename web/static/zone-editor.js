// A <canvas> over a camera image where clicks place points in normalised [0, 1] coordinates:
// as a closed polygon (zones) or as numbered markers (distance calibration). Saved zones are drawn
// underneath as read-only overlays.
import { t } from "./app.js";

const BLANK = { width: 1280, height: 720 }; // 16:9 when the camera has no snapshot yet
const COLORS = ["#f2b705", "#38bdf8", "#f472b6", "#a3e635", "#fb923c", "#c084fc"];

export class PointCanvas {
  constructor(canvas, { onChange = () => {} } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onChange = onChange;
    this.image = null;
    this.points = [];
    this.overlays = [];
    this.mode = "polygon"; // or "markers"
    canvas.addEventListener("click", (event) => this.addAt(event));
    this.resize(BLANK.width, BLANK.height);
  }

  resize(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
    this.draw();
  }

  // Shows `url` (an object URL of the latest snapshot) or a blank 16:9 frame when null.
  async setBackground(url) {
    if (!url) {
      this.image = null;
      this.resize(BLANK.width, BLANK.height);
      return;
    }
    const image = new Image();
    image.src = url;
    await image.decode();
    this.image = image;
    this.resize(image.naturalWidth, image.naturalHeight);
  }

  setMode(mode) {
    this.mode = mode;
    this.draw();
  }

  setOverlays(overlays) {
    this.overlays = overlays;
    this.draw();
  }

  setPoints(points) {
    this.points = points.map(([x, y]) => [x, y]);
    this.changed();
  }

  undo() {
    this.points.pop();
    this.changed();
  }

  clear() {
    this.points = [];
    this.changed();
  }

  changed() {
    this.draw();
    this.onChange(this.points);
  }

  addAt(event) {
    const box = this.canvas.getBoundingClientRect();
    const clamp = (v) => Math.min(1, Math.max(0, Math.round(v * 10000) / 10000));
    this.points.push([clamp((event.clientX - box.left) / box.width), clamp((event.clientY - box.top) / box.height)]);
    this.changed();
  }

  draw() {
    const { ctx, canvas } = this;
    const { width: w, height: h } = canvas;
    ctx.clearRect(0, 0, w, h);
    if (this.image) {
      ctx.drawImage(this.image, 0, 0, w, h);
    } else {
      ctx.fillStyle = "#1c2128";
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = "#9aa4b2";
      ctx.font = `${Math.round(h / 24)}px system-ui, sans-serif`;
      ctx.textAlign = "center";
      ctx.fillText(t("zones.noSnapshot"), w / 2, h / 2);
    }
    const unit = Math.max(w, h) / 640; // line widths and markers scale with the image
    this.overlays.forEach((overlay, i) => this.polygon(overlay.points, COLORS[(i + 1) % COLORS.length], unit, overlay.label, 0.18));
    if (this.mode === "polygon") this.polygon(this.points, COLORS[0], unit, null, 0.3, true);
    else this.markers(this.points, unit);
  }

  polygon(points, color, unit, label, alpha, editing = false) {
    if (!points.length) return;
    const { ctx, canvas } = this;
    const px = points.map(([x, y]) => [x * canvas.width, y * canvas.height]);
    ctx.beginPath();
    px.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (px.length > 2) {
      ctx.closePath();
      ctx.globalAlpha = alpha;
      ctx.fillStyle = color;
      ctx.fill();
      ctx.globalAlpha = 1;
    }
    ctx.lineWidth = 2 * unit;
    ctx.strokeStyle = color;
    ctx.setLineDash(editing ? [6 * unit, 4 * unit] : []);
    ctx.stroke();
    ctx.setLineDash([]);
    if (editing) for (const [x, y] of px) this.dot(x, y, 4 * unit, color);
    if (label) this.tag(label, px[0][0], px[0][1], color, unit);
  }

  markers(points, unit) {
    const { canvas } = this;
    points.forEach(([x, y], i) => {
      const cx = x * canvas.width;
      const cy = y * canvas.height;
      this.dot(cx, cy, 5 * unit, "#38bdf8");
      this.tag(String(i + 1), cx + 6 * unit, cy - 6 * unit, "#38bdf8", unit);
    });
  }

  dot(x, y, r, color) {
    const { ctx } = this;
    ctx.beginPath();
    ctx.arc(x, y, r, 0, Math.PI * 2);
    ctx.fillStyle = color;
    ctx.fill();
    ctx.lineWidth = r / 2;
    ctx.strokeStyle = "#111";
    ctx.stroke();
  }

  tag(text, x, y, color, unit) {
    const { ctx } = this;
    ctx.font = `bold ${Math.round(12 * unit)}px system-ui, sans-serif`;
    ctx.textAlign = "left";
    const width = ctx.measureText(text).width + 8 * unit;
    const height = 16 * unit;
    ctx.fillStyle = "rgba(17, 20, 24, 0.8)";
    ctx.fillRect(x, y - height, width, height);
    ctx.fillStyle = color;
    ctx.fillText(text, x + 4 * unit, y - 4 * unit);
  }
}
