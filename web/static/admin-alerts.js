// Alert routing (issue 14): a site's channels (Apprise URL or signed webhook), which violation kinds each
// gets and its escalation level; failed deliveries with their (redacted) error. Channel URLs are never
// shown again after creation; a webhook's signing secret is shown once, right after it is created.
import { api, apiAll, el, fillSelect, formatTime, guarded, hasText, replace, t } from "./app.js";

const $ = (id) => document.getElementById(id);

export class AlertsPanel {
  constructor() {
    this.sites = [];
    $("channel-site").addEventListener("change", () => this.refresh());
    $("channel-form").addEventListener("submit", (ev) => this.create(ev));
    $("deliveries-reload").addEventListener("click", () => this.refresh());
  }

  setSites(sites) {
    this.sites = sites;
    fillSelect($("channel-site"), sites.map((s) => [String(s.id), s.name]));
  }

  show() {
    this.refresh();
  }

  async refresh() {
    const siteId = $("channel-site").value;
    await guarded($("channel-error"), null, async () => {
      const channels = siteId ? await api(`/api/sites/${siteId}/alert-channels`) : [];
      replace(
        $("channel-rows"),
        channels.length
          ? channels.map((c) => this.row(c))
          : el("tr", {}, el("td", { colspan: 6, class: "muted" }, t("admin.noChannels"))),
      );
      const failed = await apiAll("/api/alert-deliveries", { query: { status: "failed" } });
      replace(
        $("delivery-rows"),
        failed.length
          ? failed.map((d) =>
              el("tr", {}, el("td", {}, String(d.alert_id)), el("td", {}, String(d.channel_id)),
                el("td", {}, String(d.attempts)), el("td", {}, formatTime(d.created_at)),
                el("td", {}, el("code", { class: "mono" }, d.last_error || ""))))
          : el("tr", {}, el("td", { colspan: 5, class: "muted" }, t("admin.noFailedDeliveries"))),
      );
    });
  }

  row(c) {
    return el(
      "tr",
      {},
      el("td", {}, c.name),
      el("td", {}, t(`admin.channelType.${c.type}`)),
      el("td", {}, el("code", { class: "mono" }, c.url_redacted)),
      el("td", {}, c.kinds.length ? c.kinds.join(", ") : t("admin.allKinds")),
      el("td", {}, hasText(`admin.level${c.level}`) ? t(`admin.level${c.level}`) : String(c.level)),
      el("td", { class: "actions" }, el("button", { type: "button", class: "small", onclick: async (ev) => {
        if (!confirm(t("admin.confirmDeleteChannel", { name: c.name }))) return;
        await guarded($("channel-error"), ev.target, async () => {
          await api(`/api/alert-channels/${c.id}`, { method: "DELETE" });
          await this.refresh();
        });
      } }, t("admin.delete"))),
    );
  }

  async create(ev) {
    ev.preventDefault();
    const form = ev.target;
    const body = {
      name: form.name.value.trim(),
      type: form.type.value,
      url: form.url.value.trim(),
      kinds: form.kinds.value.split(",").map((k) => k.trim()).filter(Boolean),
      level: Number(form.level.value),
    };
    await guarded($("channel-error"), ev.submitter, async () => {
      const created = await api(`/api/sites/${$("channel-site").value}/alert-channels`, { method: "POST", json: body });
      form.reset();
      $("channel-secret").hidden = !created.signing_secret;
      replace($("channel-secret-value"), created.signing_secret || "");
      await this.refresh();
    });
  }
}
