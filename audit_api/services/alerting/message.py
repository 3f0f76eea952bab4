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


def alert_message(alert: Alert, base_url: str) -> AlertMessage:
    event = alert.event
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
