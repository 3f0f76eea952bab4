"""The message of one alert, built from the database (site time zone, links to the event and snapshot)."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from audit_api.models import Alert
from audit_api.schemas.alerting import AlertMessage


def site_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def notice_message(alert: Alert, base_url: str) -> AlertMessage:
    """A notice (no event): its text from `alert.detail`, its time the alert's."""
    detail = alert.detail or {}
    site = alert.site
    zone = site_zone(site.timezone)
    local = alert.created_at.astimezone(zone)
    return AlertMessage(
        alert_id=alert.id,
        kind=alert.kind,
        event_id=None,
        kinds=[alert.kind],
        site_id=site.id,
        site=site.name,
        camera_id=None,
        camera=None,
        started_at=alert.created_at,
        started_at_local=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}",
        timezone=zone.key,
        event_url=f"{base_url}{detail.get('link', '/')}",
        snapshot_url=None,
        headline=str(detail.get("title", alert.kind)),
        lines=[str(line) for line in detail.get("lines", [])],
    )


def alert_message(alert: Alert, base_url: str) -> AlertMessage:
    event = alert.event
    if event is None:
        return notice_message(alert, base_url)
    camera = event.camera
    site = camera.site
    zone = site_zone(site.timezone)
    local = event.started_at.astimezone(zone)
    return AlertMessage(
        alert_id=alert.id,
        event_id=event.id,
        kinds=list(event.kinds),
        site_id=site.id,
        site=site.name,
        camera_id=camera.id,
        camera=camera.name,
        started_at=event.started_at,
        started_at_local=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}",
        timezone=zone.key,
        event_url=f"{base_url}/inspector.html#event={event.id}",
        snapshot_url=f"{base_url}/api/events/{event.id}/snapshot",
    )
