// A zone's optional weekly working hours: windows of {days 0 = Mon … 6 = Sun, start "HH:MM", end "HH:MM"}
// in the site's local time, as the API's ZoneIn.schedule expects. No windows = enforced around the clock.
// An end before its start runs past midnight (a night shift); the API refuses an empty window (end = start).
// Here only what the API cannot word for a person (blank times, no day).
import { ApiError, el, replace } from "./app.js";

export const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const NEW_WINDOW = { days: [0, 1, 2, 3, 4], start: "08:00", end: "17:00" };

const hhmm = (time) => String(time).slice(0, 5); // the API answers "07:00:00"

// [0, 1, 2, 3, 4, 6] -> "Mon–Fri, Sun"
export function describeDays(days) {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  if (sorted.length === 7) return "Every day";
  const runs = [];
  for (const day of sorted) {
    const last = runs.at(-1);
    if (last && day === last[1] + 1) last[1] = day;
    else runs.push([day, day]);
  }
  return runs
    .map(([a, b]) => (a === b ? DAYS[a] : b === a + 1 ? `${DAYS[a]}, ${DAYS[b]}` : `${DAYS[a]}–${DAYS[b]}`))
    .join(", ");
}

export function describeSchedule(schedule) {
  if (!schedule || !schedule.length) return "always";
  const overnight = (w) => (hhmm(w.end) < hhmm(w.start) ? " (next day)" : "");
  return schedule.map((w) => `${describeDays(w.days)} ${hhmm(w.start)}–${hhmm(w.end)}${overnight(w)}`).join("; ");
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
      if (!days.length) throw new Error(`Working hours ${i + 1}: tick at least one day.`);
      if (!row.start.value || !row.end.value) throw new Error(`Working hours ${i + 1}: set both the start and end time.`);
      return { days, start: row.start.value, end: row.end.value };
    });
  }

  // An API error about `schedule.N` reworded as "Working hours N+1", the name the form shows.
  explain(exc) {
    if (!(exc instanceof ApiError) || !/\bschedule\.\d+/.test(exc.message)) return exc;
    const message = exc.message.replace(/\bschedule\.(\d+)/g, (_, i) => `Working hours ${Number(i) + 1}`);
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
    const remove = el("button", { type: "button", class: "small danger" }, "Remove");
    const node = el(
      "fieldset",
      { class: "schedule-window" },
      legend,
      el("div", { class: "days", role: "group", "aria-label": "Days" }, days.map((box, d) => el("label", { class: "check" }, box, DAYS[d]))),
      el(
        "div",
        { class: "times" },
        el("div", { class: "field" }, el("label", { for: start.id }, "Start"), start),
        el("div", { class: "field" }, el("label", { for: end.id }, "End"), end),
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
      row.legend.textContent = `Working hours ${i + 1}`;
      row.remove.setAttribute("aria-label", `Remove working hours ${i + 1}`);
    });
    this.help.textContent = this.rows.length
      ? `The zone is enforced only inside these windows, in the site's local time${this.timezone ? ` (${this.timezone})` : ""}. An end before the start runs past midnight (night shift).`
      : "None: the zone is enforced around the clock.";
  }
}
