"""The message of one delivery, built from the database (site time zone, links to the event, snapshot, clip
and the recipient's acknowledge link), worded in the channel's or the site's language (alerting.texts)."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api.i18n import Texts
from audit_api.models import Alert, AlertKind, ClipKind, DeliveryPurpose, PrivacyBlur, Site
from audit_api.schemas.alerting import AlertMessage, PatrolNotice
from audit_api.services.alerting import texts


def folded_cameras(session: Session, alert: Alert) -> list[str]:
    """A camera-offline message's cameras: its own and those of the alerts folded into it."""
    folded = session.scalars(select(Alert).where(Alert.folded_into_id == alert.id).order_by(Alert.id)).all()
    return [a.camera.name for a in (alert, *folded) if a.camera is not None]


def alert_message(
    session: Session,
    alert: Alert,
    base_url: str,
    *,
    purpose: DeliveryPurpose = DeliveryPurpose.ALERT,
    ack_url: str | None = None,
    snapshot_link: str | None = None,
    lang: str | None = None,
) -> AlertMessage:
    """`lang`: the channel's language, if it has one (else the site's `locale`; unknown: English).
    `snapshot_link`: the recipient's signed snapshot link (links.snapshot_link_url), named instead of
    the API's snapshot URL when the site blurs heads for alert channels."""
    site = session.get(Site, alert.site_id)
    assert site is not None
    t = Texts.of(lang, site.locale, site.timezone)
    zone = t.zone
    event = alert.event
    started = alert.started_at or (event.started_at if event is not None else alert.created_at)
    local = started.astimezone(zone)
    offline = alert.kind == AlertKind.CAMERA_OFFLINE
    cameras = folded_cameras(session, alert) if offline else []
    camera = alert.camera or (event.camera if event is not None else None)
    snapshot: str | None
    notice = alert.detail if alert.kind == AlertKind.PATROL_MISSED else None
    headline, lines = _notice_words(notice, t)
    if notice is not None:
        event_url = f"{base_url}{notice.get('link', '/')}"
        snapshot, clip = None, None
    elif event is not None:
        event_url = f"{base_url}/inspector.html#event={event.id}"
        snapshot = f"{base_url}/api/events/{event.id}/snapshot"
        clip = f"{base_url}/api/events/{event.id}/clip" if event.clip_of(ClipKind.CLIP) is not None else None
    else:
        event_url = f"{base_url}/supervisor.html#alert={alert.id}"
        snapshot = f"{base_url}/api/alerts/{alert.id}/snapshot" if alert.snapshot_key else None
        clip = None
    if snapshot is not None and site.privacy_blur != PrivacyBlur.OFF:
        snapshot = snapshot_link or f"{snapshot}?blurred=true"
    message = AlertMessage(
        alert_id=alert.id,
        alert_kind=AlertKind(alert.kind),
        purpose=purpose,
        event_id=event.id if event is not None else None,
        kinds=list(alert.kinds or (event.kinds if event is not None else [])),
        site_id=site.id,
        site=site.name,
        camera_id=camera.id if camera is not None else None,
        camera=camera.name if camera is not None else "",
        cameras=cameras,
        count=max(1, len(cameras)),
        started_at=started,
        started_at_local=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}",
        timezone=zone.key,
        event_url=event_url,
        alert_url=f"{base_url}/supervisor.html#alert={alert.id}",
        snapshot_url=snapshot,
        clip_url=clip,
        ack_url=None if alert.acknowledged_at is not None or purpose == DeliveryPurpose.RESOLVED else ack_url,
        headline=headline,
        lines=lines,
        locale=t.locale,
        title="",
        text="",
    )
    return message.model_copy(update={"title": texts.title(message, t), "text": texts.text(message, t)})


def _notice_words(notice: dict[str, object] | None, t: Texts) -> tuple[str | None, list[str]]:
    """A notice's headline and lines: worded now from its facts; a notice queued before notices kept
    facts (its `title` and `lines` already worded) as it was."""
    if notice is None:
        return None, []
    try:
        return texts.patrol_notice(PatrolNotice.model_validate(notice), t)
    except ValidationError:
        lines = notice.get("lines")
        return str(notice.get("title", "")), [str(line) for line in lines] if isinstance(lines, list) else []
