"""Dashboard figures for a period, per site and across the viewer's sites (supervisors: their own).

The SQL is in queries.py; this module sums sites, computes rates and percentiles and names each figure's
definition (DEFINITIONS), which the page and the PDF report show next to the numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api.i18n import N_
from audit_api.models import Site, User, Verdict, utcnow
from audit_api.schemas.dashboard import (
    CameraFigures,
    DashboardOut,
    DayCount,
    SiteFigures,
    Totals,
    ZoneFigures,
)
from audit_api.services.dashboard.period import Period, hours_between, quantile
from audit_api.services.dashboard.queries import SiteRows, site_cameras, site_rows, zone_names
from audit_api.services.scope import SiteScope
from audit_api.services.sites import get_site

__all__ = ["DEFINITIONS", "Period", "dashboard"]

DEFINITIONS = {
    "period": N_(
        "Local days from start to end, both included, in each site's own time zone; days are "
        "bucketed by local midnight."
    ),
    "violations": N_(
        "Violation records (one person or zone breaking one rule, as debounced by the detector) "
        "timed inside the period, except those of events whose latest review says false positive."
    ),
    "confirmed_violations": N_("Violations of events whose latest review confirmed them."),
    "monitored_hours": N_(
        "Camera-hours watched: the period (up to now) × the site's cameras, minus the "
        "recorded unmonitored intervals clipped to the period."
    ),
    "compliance_rate": N_("Confirmed violations per 100 monitored camera-hours (lower is better)."),
    "false_positive_share": N_(
        "Of the events started in the period that were reviewed, the share whose latest "
        "review says false positive."
    ),
    "signoff_time": N_(
        "From an event's start to its sign-off (events started in the period): median and 90th "
        "percentile, linear interpolation."
    ),
    "verify_time": N_(
        "From a corrective action's opening to its verification (actions opened in the period): "
        "median and 90th percentile."
    ),
    "open_actions": N_("Corrective actions not verified yet, now; overdue: those past their due time."),
    "unmonitored_hours": N_("Recorded unmonitored intervals (camera down, overload) clipped to the period."),
}


@dataclass
class _Pool:
    """Figures that add up across sites (durations pooled, so percentiles are over every site's events)."""

    events: int = 0
    violations: int = 0
    confirmed: int = 0
    reviewed: int = 0
    false_positives: int = 0
    cameras: int = 0
    monitored_h: float = 0.0
    unmonitored_h: float = 0.0
    open_actions: int = 0
    overdue_actions: int = 0

    def __post_init__(self) -> None:
        self.signoff_s: list[float] = []
        self.verify_s: list[float] = []

    def add(self, other: _Pool) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.signoff_s += other.signoff_s
        self.verify_s += other.verify_s

    def totals(self) -> Totals:
        return Totals(
            events=self.events,
            violations=self.violations,
            confirmed_violations=self.confirmed,
            reviewed_events=self.reviewed,
            false_positive_events=self.false_positives,
            false_positive_share=self.false_positives / self.reviewed if self.reviewed else None,
            cameras=self.cameras,
            monitored_hours=round(self.monitored_h, 4),
            unmonitored_hours=round(self.unmonitored_h, 4),
            compliance_rate=rate(self.confirmed, self.monitored_h),
            signed_off_events=len(self.signoff_s),
            signoff_median_s=quantile(self.signoff_s, 0.5),
            signoff_p90_s=quantile(self.signoff_s, 0.9),
            verified_actions=len(self.verify_s),
            verify_median_s=quantile(self.verify_s, 0.5),
            verify_p90_s=quantile(self.verify_s, 0.9),
            open_actions=self.open_actions,
            overdue_actions=self.overdue_actions,
        )


def rate(confirmed: int, monitored_hours: float) -> float | None:
    """Confirmed violations per 100 monitored camera-hours; None when nothing was monitored."""
    return round(confirmed * 100 / monitored_hours, 4) if monitored_hours > 0 else None


def _unmonitored(rows: SiteRows, start: datetime, end: datetime) -> dict[int, float]:
    """Hours per camera of the recorded intervals clipped to [start, end) (open intervals: up to end)."""
    hours: dict[int, float] = defaultdict(float)
    for camera_id, began, ended in rows.outages:
        hours[camera_id] += hours_between(max(began, start), min(ended or end, end))
    return hours


def _visible_sites(session: Session, viewer: User | None, site_id: int | None) -> list[Site]:
    if site_id is not None:
        return [get_site(session, site_id, viewer)]
    query = SiteScope.of(viewer).where(select(Site).order_by(Site.id), Site.id)
    return list(session.scalars(query))


def dashboard(
    session: Session,
    viewer: User | None,
    period: Period,
    *,
    site_id: int | None = None,
    now: datetime | None = None,
) -> DashboardOut:
    """The period's figures for one site (`site_id`, NotFound outside the viewer's scope) or every site
    the viewer may see, with the totals across them (viewer None: the system, every site)."""
    now = now or utcnow()
    overall = _Pool()
    sites: list[SiteFigures] = []
    daily: dict[tuple[date, str], int] = defaultdict(int)
    cameras: list[CameraFigures] = []
    zones: list[ZoneFigures] = []
    for site in _visible_sites(session, viewer, site_id):
        boundaries = period.boundaries(site.timezone)
        start, end = boundaries[0], boundaries[-1]
        watched_until = max(min(end, now), start)
        rows = site_rows(session, site.id, boundaries, period.days, now)
        names = site_cameras(session, site.id)
        unmonitored = _unmonitored(rows, start, watched_until)
        pool = _Pool(
            events=rows.events,
            violations=sum(v for v, _ in rows.cameras.values()),
            confirmed=sum(c for _, c in rows.cameras.values()),
            reviewed=sum(rows.verdicts.values()),
            false_positives=rows.verdicts.get(Verdict.FALSE_POSITIVE, 0),
            cameras=len(names),
            open_actions=rows.open_actions,
            overdue_actions=rows.overdue_actions,
        )
        pool.signoff_s, pool.verify_s = rows.signoff_s, rows.verify_s
        camera_names = dict(names)
        for camera_id, name in names:
            count, confirmed_count = rows.cameras.get(camera_id, (0, 0))
            lost = unmonitored.get(camera_id, 0.0)
            watched = max(hours_between(start, watched_until) - lost, 0.0)
            pool.monitored_h += watched
            pool.unmonitored_h += lost
            cameras.append(
                CameraFigures(
                    camera_id=camera_id, camera_name=name, site_id=site.id, violations=count,
                    confirmed_violations=confirmed_count, monitored_hours=round(watched, 4),
                    unmonitored_hours=round(lost, 4), compliance_rate=rate(confirmed_count, watched),
                )
            )  # fmt: skip
        zone_name = zone_names(session, {z for _, z in rows.zones if z is not None})
        for (camera_id, zone_id), (count, confirmed_count) in sorted(
            rows.zones.items(), key=lambda item: (-item[1][0], item[0][0], item[0][1] or 0)
        ):
            zones.append(
                ZoneFigures(
                    zone_id=zone_id, zone_name=zone_name.get(zone_id) if zone_id is not None else None,
                    camera_id=camera_id, camera_name=camera_names.get(camera_id, str(camera_id)),
                    site_id=site.id, violations=count, confirmed_violations=confirmed_count,
                )
            )  # fmt: skip
        for key, count in rows.daily.items():
            daily[key] += count
        overall.add(pool)
        sites.append(
            SiteFigures(
                site_id=site.id, site_name=site.name, timezone=site.timezone, start_utc=start, end_utc=end,
                totals=pool.totals(),
            )
        )  # fmt: skip
    return DashboardOut(
        start=period.start,
        end=period.end,
        generated_at=now,
        definitions=DEFINITIONS,
        totals=overall.totals(),
        sites=sites,
        daily=[DayCount(day=d, kind=k, count=c) for (d, k), c in sorted(daily.items())],
        cameras=cameras,
        zones=zones,
    )
