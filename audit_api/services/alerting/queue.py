"""The persistent delivery queue: one row per alert × channel, claimed with a lease, retried with backoff.

Claiming is safe with several senders: on PostgreSQL `FOR UPDATE SKIP LOCKED` hands each due row to one
sender, and on every backend the claim is a conditional UPDATE (still unleased, or lease expired) whose row
count says whether this sender won. A claim counts as an attempt, so a sender that dies mid-send cannot
retry a row forever; a row whose lease expires (its sender died) is due again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from audit_api.models import (
    Alert,
    AlertDelivery,
    DeliveryPurpose,
    DeliveryStatus,
    EscalationLevel,
    PushSubscription,
    Role,
    Site,
    User,
    utcnow,
)
from audit_api.services.alerting.channels import channels_for
from audit_api.services.listing import Page, paginate


def _push_subscriptions(session: Session, site_id: int, level: int) -> Sequence[PushSubscription]:
    """The active Web Push subscriptions of the people at `level`: the site's supervisors, inspectors, or
    admins."""
    query = (
        select(PushSubscription)
        .join(PushSubscription.user)
        .where(PushSubscription.active.is_(True), User.active.is_(True))
    )
    if level == EscalationLevel.SUPERVISORS:
        query = query.where(User.role == Role.SUPERVISOR, User.sites.any(Site.id == site_id))
    else:
        query = query.where(
            User.role == (Role.INSPECTOR if level == EscalationLevel.INSPECTORS else Role.ADMIN)
        )
    return session.scalars(query.order_by(PushSubscription.id)).all()


def enqueue(
    session: Session,
    alert: Alert,
    kinds: Sequence[str],
    level: int = 0,
    purpose: DeliveryPurpose = DeliveryPurpose.ALERT,
) -> list[AlertDelivery]:
    """Queue the alert for every channel of its site at `level` that wants its kinds, and for the Web Push
    subscriptions of that level's people (in the caller's transaction, so an alert and its deliveries are
    committed together or not at all)."""
    wanted = channels_for(session, alert.site_id, kinds, level)
    rows = [AlertDelivery(alert_id=alert.id, channel_id=c.id, level=level, purpose=purpose) for c in wanted]
    rows += [
        AlertDelivery(alert_id=alert.id, subscription_id=s.id, level=level, purpose=purpose)
        for s in _push_subscriptions(session, alert.site_id, level)
    ]
    session.add_all(rows)
    return rows


def follow_up(session: Session, alert: Alert, purpose: DeliveryPurpose) -> list[AlertDelivery]:
    """Queue a follow-up message (the clip, a resolution) to everyone the alert's first message reached."""
    first = session.scalars(
        select(AlertDelivery).where(
            AlertDelivery.alert_id == alert.id, AlertDelivery.purpose == DeliveryPurpose.ALERT
        )
    ).all()
    rows = [
        AlertDelivery(
            alert_id=alert.id, channel_id=d.channel_id, subscription_id=d.subscription_id, level=d.level,
            purpose=purpose,
        )
        for d in first
    ]  # fmt: skip
    session.add_all(rows)
    return rows


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    token: str
    attempt: int


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        AlertDelivery.status == DeliveryStatus.PENDING,
        AlertDelivery.next_attempt_at <= now,
        or_(AlertDelivery.lease_until.is_(None), AlertDelivery.lease_until < now),
    )


def claim(session: Session, limit: int, lease_s: float) -> list[Claim]:
    """Lease up to `limit` due deliveries to the caller (committed); oldest due first."""
    now = utcnow()
    candidates = session.scalars(
        select(AlertDelivery.id)
        .where(_due(now))
        .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claims = []
    for delivery_id in candidates:
        token = secrets.token_hex(16)
        won = session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, _due(now))
            .values(
                lease_until=now + timedelta(seconds=lease_s),
                lease_token=token,
                attempts=AlertDelivery.attempts + 1,
            )
            .returning(AlertDelivery.attempts)
        ).scalar_one_or_none()
        if won is not None:
            claims.append(Claim(delivery_id, token, won))
    session.commit()
    return claims


def backoff_s(attempt: int, base_s: float, max_s: float) -> float:
    """Delay after failed attempt number `attempt` (1-based): base, 2·base, 4·base ... at most max_s."""
    return float(min(max_s, base_s * 2 ** min(attempt - 1, 60)))


def finish(
    session: Session, claimed: Claim, error: str | None, *, max_attempts: int, base_s: float, max_s: float
) -> DeliveryStatus | None:
    """Record the attempt's outcome if the caller still holds the lease (None otherwise); commits."""
    now = utcnow()
    values: dict[str, object] = {"lease_until": None, "lease_token": None}
    if error is None:
        values |= {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "last_error": None}
    elif claimed.attempt >= max_attempts:
        values |= {"status": DeliveryStatus.FAILED, "last_error": error}
    else:
        retry_at = now + timedelta(seconds=backoff_s(claimed.attempt, base_s, max_s))
        values |= {"next_attempt_at": retry_at, "last_error": error}
    done = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == claimed.delivery_id, AlertDelivery.lease_token == claimed.token)
        .values(**values)
        .returning(AlertDelivery.status)
    ).scalar_one_or_none()
    session.commit()
    return done


def give_up(session: Session, claimed: Claim, reason: str) -> None:
    """End a delivery that can never be sent (its channel was deleted), keeping the reason."""
    session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id == claimed.delivery_id, AlertDelivery.lease_token == claimed.token)
        .values(status=DeliveryStatus.FAILED, last_error=reason, lease_until=None, lease_token=None)
    )
    session.commit()


def list_deliveries(
    session: Session, page: Page, *, status: DeliveryStatus | None = None, alert_id: int | None = None
) -> tuple[Sequence[AlertDelivery], int]:
    query = select(AlertDelivery)
    if status is not None:
        query = query.where(AlertDelivery.status == status)
    if alert_id is not None:
        query = query.where(AlertDelivery.alert_id == alert_id)
    return paginate(session, query.order_by(AlertDelivery.id.desc()), page)
