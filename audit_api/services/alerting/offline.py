"""Camera-offline alerts, run by the sender at each poll (at most once a second).

A camera is down while its worker reports an open unmonitored interval (reconnecting, failed, invalid
configuration) or while its worker has been silent for CAMERA_STATUS_STALE_AFTER. Down longer than its
site's `offline_alert_s`, at a time inside the site's `working_hours` (always, if none), it raises a
`camera_offline` alert; streaming again, the alert is resolved.

Storm bound: per site (and kind), at most one message per `alert_storm_cooldown_s`. Alerts raised while the
site's last message is younger than that wait, and the next message covers all of them (its `count`,
`cameras`); alerts raised in the same sweep share one message from the start. The message goes to the
site's supervisors (level 0) and admins (level 2) at once; it does not escalate. Once every camera a
message covered is back, one `resolved` message follows to the same recipients.

Several senders (PostgreSQL) sweep a site one at a time: the site row is locked `FOR UPDATE SKIP LOCKED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.i18n import zone_of
from audit_api.models import (
    CAMERA_STATUS_STALE_AFTER,
    Alert,
    AlertDelivery,
    AlertKind,
    Camera,
    CameraStatus,
    DeliveryPurpose,
    EscalationLevel,
    Site,
    utcnow,
)
from audit_api.services.alerting.queue import enqueue, follow_up
from detect.rules_config import WorkingHours

OFFLINE_ACTOR = "camera-offline"
KINDS = [AlertKind.CAMERA_OFFLINE.value]
DOWN_STATES = frozenset({"reconnecting", "failed", "invalid_config"})


def down_since(status: CameraStatus | None, now: datetime) -> datetime | None:
    """When the camera stopped being monitored, per its worker's last report; None while it is watched
    (or was never run: a camera no worker ever reported on is not 'offline')."""
    if status is None:
        return None
    snapshot = status.snapshot
    open_since = next(
        (i["start"] for i in reversed(snapshot.get("unmonitored") or []) if i.get("end") is None), None
    )
    opened = datetime.fromtimestamp(float(open_since), UTC) if open_since is not None else None
    if now - status.updated_at > CAMERA_STATUS_STALE_AFTER:
        return min(opened, status.updated_at) if opened is not None else status.updated_at
    if snapshot.get("state") in DOWN_STATES:
        return opened or status.updated_at
    return None


def in_working_hours(site: Site, now: datetime) -> bool:
    if not site.working_hours:
        return True
    local = now.astimezone(zone_of(site.timezone))
    return any(WorkingHours.model_validate(w).contains(local) for w in site.working_hours)


def _open_alerts(session: Session, site_id: int) -> Sequence[Alert]:
    return session.scalars(
        select(Alert)
        .where(Alert.site_id == site_id, Alert.kind == AlertKind.CAMERA_OFFLINE, Alert.resolved_at.is_(None))
        .order_by(Alert.id)
    ).all()


def _sweep_site(session: Session, site: Site, cooldown_s: float, now: datetime) -> None:
    open_by_camera = {a.camera_id: a for a in _open_alerts(session, site.id)}
    cameras = session.scalars(select(Camera).where(Camera.site_id == site.id)).all()
    statuses = {
        s.camera_id: s
        for s in session.scalars(
            select(CameraStatus).where(CameraStatus.camera_id.in_([c.id for c in cameras]))
        )
    }
    assert site.offline_alert_s is not None
    threshold = timedelta(seconds=site.offline_alert_s)
    working = in_working_hours(site, now)
    for camera in cameras:
        since = down_since(statuses.get(camera.id), now) if camera.enabled else None
        alert = open_by_camera.get(camera.id)
        if alert is None and since is not None and working and now - since >= threshold:
            raised = Alert(site_id=site.id, kind=AlertKind.CAMERA_OFFLINE, kinds=KINDS, camera_id=camera.id,
                           started_at=since)  # fmt: skip
            session.add(raised)
            session.flush()
            payload = {"camera_id": camera.id, "since": since, "threshold_s": site.offline_alert_s}
            audit_log.append(session, OFFLINE_ACTOR, "alert.raised", f"alert:{raised.id}", payload)
        elif alert is not None and since is None:
            alert.resolved_at = now
            payload = {
                "camera_id": camera.id,
                "down_s": round((now - (alert.started_at or now)).total_seconds()),
            }
            audit_log.append(session, OFFLINE_ACTOR, "alert.resolved", f"alert:{alert.id}", payload)
            if alert.notified_at is None:
                alert.notified_at = now  # back before its message could go: nothing to tell any more
    session.flush()
    _notify(session, site, cooldown_s, now)
    _resolve_messages(session, site)


def _notify(session: Session, site: Site, cooldown_s: float, now: datetime) -> None:
    """One message for every alert still waiting, unless the site's last one is younger than the cooldown."""
    waiting = [a for a in _open_alerts(session, site.id) if a.notified_at is None]
    if not waiting:
        return
    last = session.scalar(
        select(func.max(Alert.notified_at)).where(
            Alert.site_id == site.id, Alert.kind == AlertKind.CAMERA_OFFLINE, Alert.folded_into_id.is_(None)
        )
    )
    if last is not None and now - last < timedelta(seconds=cooldown_s):
        return
    lead, *folded = waiting
    for alert in waiting:
        alert.notified_at = now
    for alert in folded:
        alert.folded_into_id = lead.id
    queued = [
        *enqueue(session, lead, KINDS, int(EscalationLevel.SUPERVISORS)),
        *enqueue(session, lead, KINDS, int(EscalationLevel.ADMINS)),
    ]
    payload = {"count": len(waiting), "folded": [a.id for a in folded], "deliveries": len(queued)}
    audit_log.append(session, OFFLINE_ACTOR, "alert.notified", f"alert:{lead.id}", payload)


def _resolve_messages(session: Session, site: Site) -> None:
    """A message whose cameras are all back gets its `resolved` follow-up (once)."""
    leads = session.scalars(
        select(Alert).where(
            Alert.site_id == site.id,
            Alert.kind == AlertKind.CAMERA_OFFLINE,
            Alert.folded_into_id.is_(None),
            Alert.resolved_at.is_not(None),
            ~select(AlertDelivery.id)
            .where(AlertDelivery.alert_id == Alert.id, AlertDelivery.purpose == DeliveryPurpose.RESOLVED)
            .exists(),
            select(AlertDelivery.id)
            .where(AlertDelivery.alert_id == Alert.id, AlertDelivery.purpose == DeliveryPurpose.ALERT)
            .exists(),
        )
    ).all()
    for lead in leads:
        still_down = session.scalar(
            select(func.count(Alert.id)).where(Alert.folded_into_id == lead.id, Alert.resolved_at.is_(None))
        )
        if still_down:
            continue
        queued = follow_up(session, lead, DeliveryPurpose.RESOLVED)
        audit_log.append(session, OFFLINE_ACTOR, "alert.resolution_sent", f"alert:{lead.id}",
                         {"deliveries": len(queued)})  # fmt: skip


def sweep(session: Session, cooldown_s: float) -> None:
    """Raise, resolve and notify camera-offline alerts for every site that has them on; commits per site."""
    now = utcnow()
    site_ids = session.scalars(
        select(Site.id).where(Site.offline_alert_s.is_not(None)).order_by(Site.id)
    ).all()
    session.rollback()
    for site_id in site_ids:
        site = session.scalars(
            select(Site).where(Site.id == site_id).with_for_update(skip_locked=True)
        ).first()
        if site is not None:  # None: another sender is sweeping it right now
            _sweep_site(session, site, cooldown_s, now)
        session.commit()
