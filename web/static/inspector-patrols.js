// The inspector page's patrols panel (issue 15): each slot of today and yesterday (due, done, missed,
// incomplete, upcoming) from GET /api/patrols/schedule, a round to start for a due slot, and ad hoc
// rounds of any plan. Rounds are walked on patrol.html.
import { api, apiAll, el, fillSelect, formatTime, guarded, replace, t } from "./app.js";

const REFRESH_MS = 30_000;
const $ = (id) => document.getElementById(id);

export class PatrolsPanel {
  constructor(places) {
    this.places = places;
    $("adhoc-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      if ($("adhoc-plan").value) location.href = `patrol.html#plan=${$("adhoc-plan").value}`;
    });
    setInterval(() => this.refresh(), REFRESH_MS);
  }

  async refresh() {
    await guarded($("patrols-error"), null, async () => {
      const [slots, plans] = await Promise.all([
        api("/api/patrols/schedule", { query: { days: 2 } }),
        apiAll("/api/patrol-plans"),
      ]);
      const active = plans.filter((p) => p.active);
      fillSelect($("adhoc-plan"), active.map((p) => [p.id, t("inspector.planOfSite", { plan: p.name, site: this.places.siteName(p.site_id) })]));
      $("adhoc-form").hidden = active.length === 0;
      const counts = { due: 0, done: 0, missed: 0, incomplete: 0 };
      for (const s of slots) if (s.state in counts) counts[s.state] += 1;
      $("patrol-counts").textContent = slots.length ? t("inspector.patrolCounts", counts) : "";
      replace(
        $("patrol-slots"),
        slots.length ? slots.map((s) => this.row(s)) : el("tr", {}, el("td", { colspan: 4, class: "muted" }, t("inspector.noPatrols"))),
      );
    });
  }

  row(slot) {
    let action = null;
    if (slot.state === "due") {
      const href = `patrol.html#plan=${slot.plan_id}&slot=${encodeURIComponent(slot.slot_at)}`;
      action = el("a", { class: "button small primary", href, dataset: { start: `${slot.plan_id}@${slot.slot_at}` } }, t("inspector.startRound"));
    } else if (slot.round_id) {
      action = el("a", { class: "small", href: `patrol.html#round=${slot.round_id}` }, t("inspector.openRound"));
    }
    return el(
      "tr",
      { dataset: { state: slot.state, plan: slot.plan_id } },
      el("td", {}, `${slot.date} ${slot.time}`, el("div", { class: "muted small" }, formatTime(slot.slot_at, this.places.siteZone(slot.site_id)))),
      el("td", {}, slot.plan, el("div", { class: "muted small" }, this.places.siteName(slot.site_id))),
      el("td", {}, el("span", { class: `badge badge-${slot.state}` }, t(`inspector.slot.${slot.state}`))),
      el("td", {}, action),
    );
  }
}
