"""The dashboard's figures for a period, per site and across sites (one lineage: service, API, PDF)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class Totals(BaseModel):
    """One site's (or every selected site's) figures for the period; the definitions say how each is
    computed (DashboardOut.definitions)."""

    events: int = Field(description="events that started in the period")
    violations: int = Field(description="violations in the period, false positives excluded")
    confirmed_violations: int
    reviewed_events: int
    false_positive_events: int
    false_positive_share: float | None = Field(description="0..1; None without reviewed events")
    cameras: int
    monitored_hours: float
    unmonitored_hours: float
    compliance_rate: float | None = Field(description="confirmed violations per 100 monitored camera-hours")
    signed_off_events: int
    signoff_median_s: float | None
    signoff_p90_s: float | None
    verified_actions: int
    verify_median_s: float | None
    verify_p90_s: float | None
    open_actions: int = Field(description="not verified yet, now")
    overdue_actions: int = Field(description="not verified and past their due time, now")


class DayCount(BaseModel):
    day: date = Field(description="the local day, in the site's time zone")
    kind: str
    count: int


class CameraFigures(BaseModel):
    camera_id: int
    camera_name: str
    site_id: int
    violations: int
    confirmed_violations: int
    monitored_hours: float
    unmonitored_hours: float
    compliance_rate: float | None


class ZoneFigures(BaseModel):
    zone_id: int | None = Field(description="None: violations outside any zone (the whole frame)")
    zone_name: str | None
    camera_id: int
    camera_name: str
    site_id: int
    violations: int
    confirmed_violations: int


class SiteFigures(BaseModel):
    site_id: int
    site_name: str
    timezone: str
    start_utc: datetime = Field(description="local midnight of the first day, in UTC")
    end_utc: datetime = Field(description="local midnight after the last day, in UTC")
    totals: Totals


class DashboardOut(BaseModel):
    start: date
    end: date
    generated_at: datetime
    definitions: dict[str, str] = Field(description="how each figure is computed, by figure name")
    totals: Totals
    sites: list[SiteFigures]
    daily: list[DayCount] = Field(description="violations per local day and kind (false positives excluded)")
    cameras: list[CameraFigures]
    zones: list[ZoneFigures]
