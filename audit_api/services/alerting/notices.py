"""Alerts that are no event (e.g. `patrol_missed`): the same Alert row and delivery queue as events, with
the notice's facts kept in `Alert.detail` (worded when each message is sent, in its language). They reach
channels only (the supervisor page lists event alerts, which supervisors acknowledge) and do not escalate."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audit_api.models import Alert, AlertKind, EscalationLevel
from audit_api.schemas.alerting import PatrolNotice
from audit_api.services.alerting import queue

# The alerts a supervisor sees (listed, fetched, streamed, acknowledged): every alert but the notices.
# One clause for every query that serves supervisors (services.workflow, the SSE in api.routes.live).
SUPERVISOR_ALERTS = Alert.kind != AlertKind.PATROL_MISSED


def queue_notice(session: Session, *, site_id: int, kind: str, notice: PatrolNotice) -> Alert:
    """Queue a notice of `kind` for every channel of the site that wants that kind, at every escalation
    level (in the caller's transaction)."""
    alert = Alert(site_id=site_id, kind=kind, kinds=[kind], detail=notice.model_dump(mode="json"))
    session.add(alert)
    session.flush()
    for level in EscalationLevel:
        queue.enqueue(session, alert, [kind], int(level))
    return alert
