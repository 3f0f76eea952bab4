// A site's camera-offline alerting (issue 14), part of the site form: how long a camera may go unmonitored
// before the site's supervisors and admins are alerted (`offline_alert_s`, seconds; empty = no offline
// alerts) and the weekly working hours outside which an offline camera does not alert (`working_hours`,
// in the site's time zone; the zone schedule editor of zone-schedule.js, reused). The site's PUT replaces
// the whole site, so these fields (and the acknowledgement deadline, which the form does not show) are
// always sent: editing a site's name keeps its alerting. Bounds are the API's: its 422 is shown as is.
import { ApiError, t } from "./app.js";
import { ScheduleEditor, describeSchedule } from "./zone-schedule.js";

const DEFAULT_OFFLINE_S = 600; // the API's default for a new site

// "after 300 s, Mon–Fri 07:00–18:00" for the sites table.
export function describeAlerting(site) {
  if (site.offline_alert_s == null) return t("siteAlerts.off");
  return t("siteAlerts.summary", { seconds: site.offline_alert_s, hours: describeSchedule(site.working_hours) });
}

class WorkingHoursEditor extends ScheduleEditor {
  renumber() {
    super.renumber();
    this.help.textContent = !this.rows.length
      ? t("siteAlerts.helpNone")
      : this.timezone
        ? t("siteAlerts.helpWindowsZone", { zone: this.timezone })
        : t("siteAlerts.helpWindows");
  }

  // An API error about `working_hours.N` reworded as "Working hours N+1", the name the form shows.
  explain(exc) {
    if (!(exc instanceof ApiError) || !/\bworking_hours\.\d+/.test(exc.message)) return exc;
    const message = exc.message.replace(/\bworking_hours\.(\d+)/g, (_, i) => t("schedule.windowN", { n: Number(i) + 1 }));
    return new ApiError(exc.status, message, exc.detail);
  }
}

export class SiteAlertFields {
  constructor(form) {
    this.threshold = form.elements.offline_alert_s;
    const $ = (id) => document.getElementById(id);
    this.hours = new WorkingHoursEditor($("site-hours-windows"), $("site-hours-add"), $("site-hours-help"));
    form.elements.timezone.addEventListener("input", () => this.hours.setTimezone(form.elements.timezone.value.trim()));
    this.reset();
  }

  reset() {
    this.kept = {};
    this.threshold.value = String(DEFAULT_OFFLINE_S);
    this.hours.setTimezone("UTC");
    this.hours.set(null);
  }

  edit(site) {
    this.kept = { ack_deadline_s: site.ack_deadline_s };
    this.threshold.value = site.offline_alert_s == null ? "" : String(site.offline_alert_s);
    this.hours.setTimezone(site.timezone);
    this.hours.set(site.working_hours);
  }

  // The fields for the site's POST/PUT body; throws an Error a person can act on.
  value() {
    if (this.threshold.validity.badInput) throw new Error(t("siteAlerts.notANumber"));
    const raw = this.threshold.value.trim();
    return { ...this.kept, offline_alert_s: raw === "" ? null : Number(raw), working_hours: this.hours.value() };
  }

  explain(exc) {
    return this.hours.explain(exc);
  }
}
