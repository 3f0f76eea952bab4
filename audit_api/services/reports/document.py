"""The periodic site report as HTML (then PDF through audit_api.services.pdf): the period's figures and
their definitions, charts, worst cameras and zones, unmonitored hours, open actions, rectification status.

Every sentence the report prints is in TEXT (English today; the zh-CN catalogue of issue 13 replaces it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from audit_api.schemas.dashboard import DashboardOut
from audit_api.services.dashboard.period import Period
from audit_api.services.reports.charts import horizontal_bars, stacked_days

TEXT = {
    "title": "Site safety report",
    "period": "Period",
    "timezone": "Times in",
    "generated": "Generated",
    "figures": "Figures of the period",
    "figure": "Figure",
    "value": "Value",
    "events": "Events",
    "violations": "Violations (false positives excluded)",
    "confirmed": "Confirmed violations",
    "compliance": "Compliance rate (confirmed per 100 monitored camera-hours)",
    "fp_share": "False-positive share of reviewed events",
    "monitored": "Monitored camera-hours",
    "unmonitored": "Unmonitored camera-hours",
    "signoff": "Event → sign-off, median / 90th percentile",
    "verify": "Action opened → verified, median / 90th percentile",
    "open_actions": "Open corrective actions (now) / overdue",
    "daily": "Violations per day, by kind",
    "worst_cameras": "Cameras with the most violations",
    "worst_zones": "Zones with the most violations",
    "camera": "Camera",
    "zone": "Zone",
    "whole_frame": "(outside any zone)",
    "unmonitored_per_camera": "Unmonitored hours per camera",
    "hours": "Hours",
    "rectification": "Rectification status of the actions opened in the period",
    "status": "Status",
    "count": "Count",
    "open_list": "Open corrective actions",
    "action": "Action",
    "event": "Event",
    "opened": "Opened",
    "due": "Due",
    "overdue": "overdue",
    "none": "None.",
    "definitions": "Definitions",
    "more": "more not listed",
}
KIND_LABELS = {
    "no_hardhat": "No hardhat",
    "no_vest": "No vest",
    "no_mask": "No mask",
    "crowding_occupancy": "Zone over capacity",
    "crowding_distance": "People too close",
}
STATUS_LABELS = {"open": "Open", "answered": "Answered", "reopened": "Reopened", "verified": "Verified"}
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
    figures: DashboardOut  # of this one site
    rectification: dict[str, int]  # action status → count, actions opened in the period
    open_actions: list[OpenAction]
    open_total: int


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    hours = seconds / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(head: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"<p>{escape(TEXT['none'])}</p>"
    th = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def report_html(data: ReportData, generated_at: datetime) -> str:
    f, t = data.figures, data.figures.totals
    tz = ZoneInfo(data.timezone)
    local = generated_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    fp = "–" if t.false_positive_share is None else f"{t.false_positive_share * 100:.1f} %"
    figures = [
        [TEXT["events"], str(t.events)],
        [TEXT["violations"], str(t.violations)],
        [TEXT["confirmed"], str(t.confirmed_violations)],
        [TEXT["compliance"], _number(t.compliance_rate)],
        [TEXT["fp_share"], fp],
        [TEXT["monitored"], _number(t.monitored_hours, 1)],
        [TEXT["unmonitored"], _number(t.unmonitored_hours, 1)],
        [TEXT["signoff"], f"{_duration(t.signoff_median_s)} / {_duration(t.signoff_p90_s)}"],
        [TEXT["verify"], f"{_duration(t.verify_median_s)} / {_duration(t.verify_p90_s)}"],
        [TEXT["open_actions"], f"{t.open_actions} / {t.overdue_actions}"],
    ]
    counts = {(d.day, d.kind): d.count for d in f.daily}
    kinds = sorted({d.kind for d in f.daily})
    daily_svg = stacked_days(Period(f.start, f.end).days, kinds, counts, KIND_LABELS)
    cameras = sorted(f.cameras, key=lambda c: (-c.confirmed_violations, -c.violations, c.camera_name))[:8]
    camera_rows = [[c.camera_name, str(c.violations), str(c.confirmed_violations), _number(c.compliance_rate)]
                   for c in cameras]  # fmt: skip
    zones = sorted(f.zones, key=lambda z: (-z.confirmed_violations, -z.violations))[:8]
    zone_rows = [
        [z.zone_name or TEXT["whole_frame"], z.camera_name, str(z.violations), str(z.confirmed_violations)]
        for z in zones
    ]
    outages = sorted(f.cameras, key=lambda c: -c.unmonitored_hours)
    actions = [
        [f"#{a.id}", f"#{a.event_id}", a.camera, a.description[:120], STATUS_LABELS.get(a.status, a.status),
         a.opened.astimezone(tz).strftime("%Y-%m-%d"),
         "–" if a.due is None else a.due.astimezone(tz).strftime("%Y-%m-%d") + (f" ({TEXT['overdue']})"
                                                                                if a.overdue else "")]
        for a in data.open_actions
    ]  # fmt: skip
    more = data.open_total - len(data.open_actions)
    definitions = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in f.definitions.items())
    rectification = [[STATUS_LABELS.get(s, s), str(n)] for s, n in data.rectification.items()]
    outage_bars = horizontal_bars(
        [(c.camera_name, round(c.unmonitored_hours, 1)) for c in outages if c.unmonitored_hours], " h"
    )
    outage_rows = [[c.camera_name, _number(c.unmonitored_hours, 1)] for c in outages]
    action_head = [
        TEXT["action"],
        TEXT["event"],
        TEXT["camera"],
        "",
        TEXT["status"],
        TEXT["opened"],
        TEXT["due"],
    ]
    sections = [
        (TEXT["figures"], _table([TEXT["figure"], TEXT["value"]], figures)),
        (TEXT["daily"], daily_svg),
        (
            TEXT["worst_cameras"],
            horizontal_bars([(c.camera_name, c.violations) for c in cameras if c.violations])
            + _table(
                [TEXT["camera"], TEXT["violations"], TEXT["confirmed"], TEXT["compliance"]], camera_rows
            ),
        ),
        (
            TEXT["worst_zones"],
            _table([TEXT["zone"], TEXT["camera"], TEXT["violations"], TEXT["confirmed"]], zone_rows),
        ),
        (TEXT["unmonitored_per_camera"], outage_bars + _table([TEXT["camera"], TEXT["hours"]], outage_rows)),
        (TEXT["rectification"], _table([TEXT["status"], TEXT["count"]], rectification)),
        (
            f"{TEXT['open_list']} ({data.open_total})",
            _table(action_head, actions) + (f"<p>{more} {escape(TEXT['more'])}</p>" if more > 0 else ""),
        ),
        (TEXT["definitions"], f"<dl>{definitions}</dl>"),
    ]
    body = "".join(f"<h2>{escape(title)}</h2>{content}" for title, content in sections)
    title = f"{escape(TEXT['title'])} · {escape(data.site_name)}"
    period = (
        f"{escape(TEXT['period'])}: {f.start.isoformat()} – {f.end.isoformat()} · {escape(TEXT['timezone'])} "
        f"{escape(data.timezone)} · {escape(TEXT['generated'])} {local}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>'
        f"<body><h1>{title}</h1><p>{period}</p>{body}</body></html>"
    )
