// The queue's filters survive a reload: kept in the query string (a link shares them) and in localStorage
// (a plain inspector.html opens with the last ones used). And the selection of events for a bulk verdict.
const FILTERS = ["status", "kind", "site_id", "camera_id"];
const STORED = "siteaudit.inspector.filters";

export function filters(form) {
  return Object.fromEntries(FILTERS.map((name) => [name, form[name].value]));
}

export function saveFilters(form) {
  const chosen = Object.fromEntries(Object.entries(filters(form)).filter(([, v]) => v));
  localStorage.setItem(STORED, JSON.stringify(chosen));
  const query = new URLSearchParams(chosen).toString();
  history.replaceState(null, "", `${location.pathname}${query ? `?${query}` : ""}${location.hash}`);
}

function saved() {
  const query = new URLSearchParams(location.search);
  if (FILTERS.some((name) => query.has(name))) return Object.fromEntries(FILTERS.map((n) => [n, query.get(n) ?? ""]));
  try {
    return JSON.parse(localStorage.getItem(STORED) ?? "{}") ?? {};
  } catch {
    return {};
  }
}

function setChoice(select, value) {
  if (value && [...select.options].some((o) => o.value === String(value))) select.value = String(value);
}

/** Put the saved filters back; `fillCameras()` lists the chosen site's cameras before the camera is set. */
export function restoreFilters(form, fillCameras) {
  const values = saved();
  for (const name of ["status", "kind", "site_id"]) setChoice(form[name], values[name]);
  fillCameras();
  setChoice(form.camera_id, values.camera_id);
  saveFilters(form);
}

/** The events checked for a bulk verdict: its checkboxes, the page's "select all" and the bulk button. */
export class Selection {
  constructor({ button, count, all, queue }, describe) {
    Object.assign(this, { button, count, all, queue, describe });
    this.chosen = new Set();
    this.items = [];
  }

  has(id) {
    return this.chosen.has(id);
  }

  ids() {
    return [...this.chosen];
  }

  set(id, on) {
    if (on) this.chosen.add(id);
    else this.chosen.delete(id);
    this.render(this.items);
  }

  clear() {
    this.chosen.clear();
    this.render(this.items);
  }

  /** Forget what is no longer listed (another page, another filter). */
  keepOnly(visible) {
    for (const id of this.ids()) if (!visible.has(id)) this.chosen.delete(id);
  }

  render(items) {
    this.items = items;
    const n = this.chosen.size;
    this.button.disabled = n === 0;
    this.count.textContent = this.describe(n);
    this.all.checked = n > 0 && items.every((e) => this.chosen.has(e.id));
    this.all.indeterminate = n > 0 && !this.all.checked;
    for (const box of this.queue.querySelectorAll("input.pick")) {
      box.checked = this.chosen.has(Number(box.closest("tr").dataset.eventId));
    }
  }
}
