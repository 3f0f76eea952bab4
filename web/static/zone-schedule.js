// A zone's optional weekly working hours: windows of {days 0 = Mon … 6 = Sun, start "HH:MM", end "HH:MM"}
// in the site's local time, as the API's ZoneIn.schedule expects. No windows = enforced around the clock.
// An end before its start runs past midnight (a night shift); the API refuses an empty window (end = start).
// Here only what the API cannot word for a person (blank times, no day).
import { ApiError, el, lang, replace, t } from "./app.js";

// Day names from Intl in the page's language (2024-01-01 was a Monday).
const dayNames = (weekday) => {
  const format = new Intl.DateTimeFormat(lang, { weekday, timeZone: "UTC" });
  return [0, 1, 2, 3, 4, 5, 6].map((d) => format.format(Date.UTC(2024, 0, 1 + d)));
};
const DAYS = dayNames("short");
const DAY_NAMES = dayNames("long");
const NEW_WINDOW = { days: [0, 1, 2, 3, 4], start: "08:00", end: "17:00" };

const hhmm = (time) => String(time).slice(0, 5); // the API answers "07:00:00"

// [0, 1, 2, 3, 4, 6] -> "Mon–Fri, Sun"
export function describeDays(days) {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return t("schedule.everyDay");
  const runs = [];
  for (const day of sorted) {
    const last = runs.at(-1);
    if (last && day === last[1] + 1) last[1] = day;
    else runs.push([day, day]);
  }
  return runs
    .map(([a, b]) => (a === b ? DAYS[a] : b === a + 1 ? `${DAYS[a]}${t("app.listSeparator")}${DAYS[b]}` : `${DAYS[a]}–${DAYS[b]}`))
    .join(t("app.listSeparator"));
}

export function describeSchedule(schedule) {
  if (!schedule || !schedule.length) return t("schedule.always");
  const window = (w) => {
    const params = { days: describeDays(w.days), start: hhmm(w.start), end: hhmm(w.end) };
    return t(hhmm(w.end) < hhmm(w.start) ? "schedule.windowOvernight" : "schedule.window", params);
  };
  return schedule.map(window).join(t("schedule.windowSeparator"));
}

export class ScheduleEditor {
  constructor(container, addButton, help) {
    this.container = container;
    this.help = help;
    this.rows = [];
    this.timezone = "";
    this.serial = 0; // unique ids for the inputs' labels across re-renders
    addButton.addEventListener("click", () => {
      this.add(NEW_WINDOW);
      this.rows.at(-1).start.focus();
    });
  }

  // The site's IANA zone, named in the help text: windows are local times there, not the browser's.
  setTimezone(timezone) {
    this.timezone = timezone || "";
    this.renumber();
  }

  set(schedule) {
    this.rows = [];
    replace(this.container);
    for (const window of schedule || []) this.add(window);
    this.renumber();
  }

  // The windows for the API, or null for "always"; throws an Error a person can act on.
  value() {
    if (!this.rows.length) return null;
    return this.rows.map((row, i) => {
      const days = row.days.filter((box) => box.checked).map((box) => Number(box.value));
      if (!days.length) throw new Error(t("schedule.needDay", { n: i + 1 }));
      if (!row.start.value || !row.end.value) throw new Error(t("schedule.needTimes", { n: i + 1 }));
      return { days, start: row.start.value, end: row.end.value };
    });
  }

  // An API error about `schedule.N` reworded as "Working hours N+1", the name the form shows.
  explain(exc) {
    if (!(exc instanceof ApiError) || !/\bschedule\.\d+/.test(exc.message)) return exc;
    const message = exc.message.replace(/\bschedule\.(\d+)/g, (_, i) => t("schedule.windowN", { n: Number(i) + 1 }));
    return new ApiError(exc.status, message, exc.detail);
  }

  add(window) {
    const id = `schedule-${++this.serial}`;
    const days = DAYS.map((day, d) =>
      el("input", { type: "checkbox", value: d, checked: window.days.includes(d), "aria-label": DAY_NAMES[d] }),
    );
    const time = (name, value) => el("input", { id: `${id}-${name}`, type: "time", value: hhmm(value), required: true });
    const start = time("start", window.start);
    const end = time("end", window.end);
    const legend = el("legend", {});
    const remove = el("button", { type: "button", class: "small danger" }, t("schedule.remove"));
    const node = el(
      "fieldset",
      { class: "schedule-window" },
      legend,
      el("div", { class: "days", role: "group", "aria-label": t("schedule.days") }, days.map((box, d) => el("label", { class: "check" }, box, DAYS[d]))),
      el(
        "div",
        { class: "times" },
        el("div", { class: "field" }, el("label", { for: start.id }, t("schedule.start")), start),
        el("div", { class: "field" }, el("label", { for: end.id }, t("schedule.end")), end),
        remove,
      ),
    );
    const row = { node, legend, remove, days, start, end };
    remove.addEventListener("click", () => {
      this.rows = this.rows.filter((r) => r !== row);
      node.remove();
      this.renumber();
    });
    this.rows.push(row);
    this.container.append(node);
    this.renumber();
  }

  renumber() {
    this.rows.forEach((row, i) => {
      row.legend.textContent = t("schedule.windowN", { n: i + 1 });
      row.remove.setAttribute("aria-label", t("schedule.removeN", { n: i + 1 }));
    });
    if (!this.rows.length) this.help.textContent = t("admin.noneTheZoneIs");
    else if (this.timezone) this.help.textContent = t("schedule.helpZone", { zone: this.timezone });
    else this.help.textContent = t("schedule.help");
  }
}
