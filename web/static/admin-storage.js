// Admins: evidence stored per site (GET /api/storage): objects and bytes by kind, what the retention job
// deleted, and the retention in force (short for unconfirmed evidence, long once confirmed or signed off).
import { api, el, hasText, replace, showError, t } from "./app.js";

const UNITS = ["B", "KB", "MB", "GB", "TB"];

function formatBytes(n) {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

export class StoragePanel {
  constructor(root) {
    this.root = root;
    this.error = el("div", { class: "error", role: "alert", hidden: true });
    this.body = el("div", { id: "storage-table" });
    root.append(this.body, this.error);
  }

  async load() {
    try {
      this.render(await api("/api/storage"));
      showError(this.error, null);
    } catch (exc) {
      showError(this.error, exc);
    }
  }

  render(usage) {
    const rows = [];
    for (const site of usage.sites) {
      for (const k of site.kinds) {
        rows.push(
          el(
            "tr",
            { dataset: { siteId: site.site_id, kind: k.kind } },
            el("td", {}, site.site),
            el("td", {}, hasText(`storage.kind.${k.kind}`) ? t(`storage.kind.${k.kind}`) : k.kind),
            el("td", { class: "num" }, String(k.objects)),
            el("td", { class: "num" }, formatBytes(k.bytes)),
            el("td", { class: "num" }, String(k.deleted)),
          ),
        );
      }
      if (site.kinds.length) {
        rows.push(
          el(
            "tr",
            { dataset: { siteId: site.site_id, kind: "total" } },
            el("td", {}, site.site),
            el("th", { scope: "row" }, t("storage.total")),
            el("td", { class: "num" }, String(site.objects)),
            el("td", { class: "num" }, formatBytes(site.bytes)),
            el("td", {}, ""),
          ),
        );
      }
    }
    const head = el(
      "thead",
      {},
      el(
        "tr",
        {},
        ...[t("storage.site"), t("storage.kind"), t("storage.objects"), t("storage.size"), t("storage.deleted")].map(
          (label) => el("th", { scope: "col" }, label),
        ),
      ),
    );
    const body = el("tbody", {}, ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, class: "empty" }, t("storage.none")))]));
    replace(
      this.body,
      el("p", { class: "muted small" }, t("storage.retention", { short: usage.short_retention_days, long: usage.long_retention_days })),
      el("div", { class: "table-wrap" }, el("table", {}, head, body)),
    );
  }
}
