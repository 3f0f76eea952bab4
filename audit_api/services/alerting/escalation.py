"""Acknowledgement deadlines: an alert not acknowledged within its site's `ack_deadline_s` climbs one level
(site supervisors → inspectors → admins) and is queued for that level's channels; each step is audit-logged
and shown on the alert (`escalation_level`, `escalated_at`). Run by every sender at each poll; the level
change is a conditional UPDATE, so two senders never escalate the same step twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import Alert, AlertKind, EscalationLevel, Site, utcnow
from audit_api.services.alerting.queue import enqueue

ESCALATION_ACTOR = "alert-escalation"
BATCH = 200


def escalate_due(session: Session) -> int:
    """Escalate every alert whose current level's deadline has passed; returns how many steps were taken."""
    now = utcnow()
    rows = session.execute(
        select(Alert, Site.ack_deadline_s)
        .join(Site, Alert.site_id == Site.id)
        .where(
            Alert.acknowledged_at.is_(None),
            Alert.escalation_level < int(EscalationLevel.ADMINS),
            Alert.kind == AlertKind.VIOLATION,  # camera-offline alerts reach supervisors and admins at once
        )
        .order_by(Alert.created_at)
        .limit(BATCH)
    ).all()
    due = [
        (alert.id, alert.escalation_level, deadline_s)
        for alert, deadline_s in rows
        if (alert.escalated_at or alert.created_at) + timedelta(seconds=deadline_s) <= now
    ]
    session.rollback()
    steps = 0
    for alert_id, level, deadline_s in due:
        won = session.execute(
            update(Alert)
            .where(Alert.id == alert_id, Alert.escalation_level == level, Alert.acknowledged_at.is_(None))
            .values(escalation_level=level + 1, escalated_at=now)
            .returning(Alert.id)
        ).scalar_one_or_none()
        if won is None:
            session.rollback()
            continue
        alert = session.get(Alert, alert_id)
        assert alert is not None
        queued = enqueue(session, alert, alert.kinds, level + 1)
        payload = {
            "level": EscalationLevel(level + 1).name.lower(),
            "deadline_s": deadline_s,
            "deliveries": len(queued),
        }
        step = {"level": payload["level"], "at": now.isoformat(), "deliveries": len(queued)}
        alert.steps = [*alert.steps, step]  # shown on the alert (supervisor page)
        audit_log.append(session, ESCALATION_ACTOR, "alert.escalated", f"alert:{alert_id}", payload)
        session.commit()
        steps += 1
    return steps
