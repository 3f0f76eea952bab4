"""The periodic site report as HTML (then PDF through audit_api.services.pdf): the period's figures and
their definitions, charts, worst cameras and zones, unmonitored hours, open actions, rectification status.

Every sentence the report prints goes through the gettext catalogues (audit_api.i18n) in the site's
language; numbers, percentages and dates are formatted by Babel for it, times in the site's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from audit_api.i18n import KIND_LABELS, N_, Texts
from audit_api.schemas.dashboard import DashboardOut
from audit_api.services.dashboard.period import Period
from audit_api.services.reports.charts import horizontal_bars, stacked_days

STATUS_LABELS = {
    "open": N_("Open"),
    "answered": N_("Answered"),
    "reopened": N_("Reopened"),
    "verified": N_("Verified"),
}
TERMS = {
    "period": N_("Period"),
    "violations": N_("Violations (false positives excluded)"),
    "confirmed_violations": N_("Confirmed violations"),
    "monitored_hours": N_("Monitored camera-hours"),
    "compliance_rate": N_("Compliance rate (confirmed per 100 monitored camera-hours)"),
    "false_positive_share": N_("False-positive share of reviewed events"),
    "signoff_time": N_("Event → sign-off, median / 90th percentile"),
    "verify_time": N_("Action opened → verified, median / 90th percentile"),
    "open_actions": N_("Open corrective actions (now) / overdue"),
    "unmonitored_hours": N_("Unmonitored camera-hours"),
}
"""The figure each definition (audit_api.services.dashboard.DEFINITIONS) explains, as the report names it."""
MAX_LISTED = 40


@dataclass(frozen=True)
class OpenAction:
    id: int
    event_id: int
    camera: str
    description: str
    status: str
    opened: datetime
    due: datetime | None
    overdue: bool


@dataclass(frozen=True)
class ReportData:
    site_name: str
    timezone: str
    locale: str  # the site's: the report's language
    figures: DashboardOut  # of this one site
    rectification: dict[str, int]  # action status → count, actions opened in the period
    open_actions: list[OpenAction]
    open_total: int


def _duration(seconds: float | None, t: Texts) -> str:
    if seconds is None:
        return "–"
    hours = seconds / 3600
    if hours < 48:
        return t.gettext("%(hours)s h", hours=t.number(hours, 1))
    return t.gettext("%(days)s d", days=t.number(hours / 24, 1))


def _table(head: list[str], rows: list[list[str]], t: Texts) -> str:
    if not rows:
        return f"<p>{escape(t.gettext('None.'))}</p>"
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _open_actions(data: ReportData, t: Texts) -> str:
    def status(value: str) -> str:
        return t.gettext(STATUS_LABELS[value]) if value in STATUS_LABELS else value

    rows = [
        [f"#{a.id}", f"#{a.event_id}", a.camera, a.description[:120], status(a.status), t.day(a.opened),
         "–" if a.due is None else t.day(a.due) + (f" ({t.gettext('overdue')})" if a.overdue else "")]
        for a in data.open_actions
    ]  # fmt: skip
    head = [t.gettext(h) for h in (N_("Action"), N_("Event"), N_("Camera"))]
    head += ["", t.gettext("Status"), t.gettext("Opened"), t.gettext("Due")]
    more = data.open_total - len(data.open_actions)
    listed = t.gettext("%(n)s more not listed", n=more) if more > 0 else ""
    return _table(head, rows, t) + (f"<p>{escape(listed)}</p>" if listed else "")


def report_html(data: ReportData, generated_at: datetime) -> str:
    f, totals = data.figures, data.figures.totals
    t = Texts.of(None, data.locale, data.timezone)
    _ = t.gettext
    violations, confirmed = _("Violations (false positives excluded)"), _("Confirmed violations")
    compliance = _("Compliance rate (confirmed per 100 monitored camera-hours)")
    figures = [
        [_("Events"), t.number(totals.events)],
        [violations, t.number(totals.violations)],
        [confirmed, t.number(totals.confirmed_violations)],
        [compliance, t.number(totals.compliance_rate, 2)],
        [_("False-positive share of reviewed events"), t.percent(totals.false_positive_share)],
        [_("Monitored camera-hours"), t.number(totals.monitored_hours, 1)],
        [_("Unmonitored camera-hours"), t.number(totals.unmonitored_hours, 1)],
        [_("Event → sign-off, median / 90th percentile"),
         f"{_duration(totals.signoff_median_s, t)} / {_duration(totals.signoff_p90_s, t)}"],
        [_("Action opened → verified, median / 90th percentile"),
         f"{_duration(totals.verify_median_s, t)} / {_duration(totals.verify_p90_s, t)}"],
        [_("Open corrective actions (now) / overdue"),
         f"{t.number(totals.open_actions)} / {t.number(totals.overdue_actions)}"],
    ]  # fmt: skip
    counts = {(d.day, d.kind): d.count for d in f.daily}
    kinds = sorted({d.kind for d in f.daily})
    labels = {kind: t.kind(kind) for kind in {*kinds, *KIND_LABELS}}
    daily_svg = stacked_days(Period(f.start, f.end).days, kinds, counts, labels)
    cameras = sorted(f.cameras, key=lambda c: (-c.confirmed_violations, -c.violations, c.camera_name))[:8]
    camera_rows = [[c.camera_name, t.number(c.violations), t.number(c.confirmed_violations),
                    t.number(c.compliance_rate, 2)] for c in cameras]  # fmt: skip
    zones = sorted(f.zones, key=lambda z: (-z.confirmed_violations, -z.violations))[:8]
    zone_rows = [
        [z.zone_name or _("(outside any zone)"), z.camera_name, t.number(z.violations),
         t.number(z.confirmed_violations)]
        for z in zones
    ]  # fmt: skip
    outages = sorted(f.cameras, key=lambda c: -c.unmonitored_hours)
    definitions = "".join(
        f"<dt>{escape(_(TERMS[k]) if k in TERMS else k)}</dt><dd>{escape(_(v))}</dd>"
        for k, v in f.definitions.items()
    )
    rectification = [
        [_(STATUS_LABELS[s]) if s in STATUS_LABELS else s, t.number(n)] for s, n in data.rectification.items()
    ]
    outage_bars = horizontal_bars(
        [(c.camera_name, round(c.unmonitored_hours, 1)) for c in outages if c.unmonitored_hours], _(" h")
    )
    outage_rows = [[c.camera_name, t.number(c.unmonitored_hours, 1)] for c in outages]
    camera, zone = _("Camera"), _("Zone")
    sections = [
        (_("Figures of the period"), _table([_("Figure"), _("Value")], figures, t)),
        (_("Violations per day, by kind"), daily_svg),
        (
            _("Cameras with the most violations"),
            horizontal_bars([(c.camera_name, c.violations) for c in cameras if c.violations])
            + _table([camera, violations, confirmed, compliance], camera_rows, t),
        ),
        (_("Zones with the most violations"), _table([zone, camera, violations, confirmed], zone_rows, t)),
        (_("Unmonitored hours per camera"), outage_bars + _table([camera, _("Hours")], outage_rows, t)),
        (_("Rectification status of the actions opened in the period"),
         _table([_("Status"), _("Count")], rectification, t)),
        (_("Open corrective actions (%(n)s)", n=t.number(data.open_total)), _open_actions(data, t)),
        (_("Definitions"), f"<dl>{definitions}</dl>"),
    ]  # fmt: skip
    body = "".join(f"<h2>{escape(title)}</h2>{content}" for title, content in sections)
    title = escape(_("Site safety report · %(site)s", site=data.site_name))
    period = escape(
        _("Period: %(start)s – %(end)s · times in %(zone)s · generated %(at)s",
          start=f.start.isoformat(), end=f.end.isoformat(), zone=data.timezone, at=t.when(generated_at))
    )  # fmt: skip
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{period}</p>{body}</body></html>"
    )
