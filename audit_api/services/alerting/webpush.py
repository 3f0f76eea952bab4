"""Web Push: the VAPID key pair (created on first start, kept in the database so every process signs with
the same key), users' browser subscriptions, and sending one encrypted push (pywebpush, aes128gcm)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import PushSubscription, User, WebPushKeys
from audit_api.schemas.alerting import PushPayload, PushSubscriptionIn
from audit_api.services.errors import Invalid
from audit_api.services.users import actor_of

KEYS_ID = 1
SYSTEM = "alert-sender"
MAX_SUBSCRIPTIONS_PER_USER = 20
"""A user's browsers and phones; the oldest subscription goes when a new one would exceed it."""


class PushGone(Exception):
    """The push service says the subscription no longer exists (404/410): stop sending to it."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ensure_keys(session: Session) -> WebPushKeys:
    """The VAPID keys, created if this is the first start (two processes starting at once: one wins)."""
    keys = session.get(WebPushKeys, KEYS_ID)
    if keys is not None:
        return keys
    vapid = Vapid02()
    vapid.generate_keys()  # type: ignore[no-untyped-call]
    point = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = vapid.private_pem().decode()  # type: ignore[no-untyped-call]
    session.add(WebPushKeys(id=KEYS_ID, private_pem=pem, public_key=_b64url(point)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    keys = session.get(WebPushKeys, KEYS_ID)
    assert keys is not None
    return keys


def subscribe(session: Session, body: PushSubscriptionIn, user: User) -> PushSubscription:
    """Store (or move to this user) the browser's subscription; audit-logged without the endpoint."""
    validate_subscription(body)
    existing = session.scalars(
        select(PushSubscription).where(PushSubscription.endpoint == body.endpoint)
    ).first()
    if existing is not None:
        existing.user_id, existing.p256dh, existing.auth, existing.active = (
            user.id, body.keys.p256dh, body.keys.auth, True,
        )  # fmt: skip
        subscription = existing
    else:
        subscription = PushSubscription(
            user_id=user.id, endpoint=body.endpoint, p256dh=body.keys.p256dh, auth=body.keys.auth
        )
        session.add(subscription)
    session.flush()
    mine = session.scalars(
        select(PushSubscription.id)
        .where(PushSubscription.user_id == user.id)
        .order_by(PushSubscription.id.desc())
        .offset(MAX_SUBSCRIPTIONS_PER_USER)
    ).all()
    if mine:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(mine)))
    audit_log.append(session, actor_of(user), "push.subscribed", f"push_subscription:{subscription.id}", {})
    session.commit()
    return subscription


def unsubscribe(session: Session, endpoint: str, user: User) -> None:
    """Stop pushing to the caller's subscription with this endpoint, if any (idempotent); the row stays
    for the delivery history (subscribing again revives it)."""
    gone = session.scalars(
        select(PushSubscription).where(
            PushSubscription.endpoint == endpoint, PushSubscription.user_id == user.id
        )
    ).all()
    for subscription in gone:
        audit_log.append(
            session, actor_of(user), "push.unsubscribed", f"push_subscription:{subscription.id}", {}
        )
        subscription.active = False
    session.commit()


def subscriptions_of(session: Session, user: User) -> Sequence[PushSubscription]:
    return session.scalars(select(PushSubscription).where(PushSubscription.user_id == user.id)).all()


def validate_subscription(body: PushSubscriptionIn) -> None:
    """A p256dh key must be a P-256 point (65 bytes) and auth 16 bytes, or pushes could never decrypt."""
    for name, value, size in (("p256dh", body.keys.p256dh, 65), ("auth", body.keys.auth, 16)):
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except ValueError:
            raise Invalid(f"keys.{name} is not base64url") from None
        if len(raw) != size:
            raise Invalid(f"keys.{name} must be {size} bytes, got {len(raw)}")


def send_push(
    subscription: PushSubscription, payload: PushPayload, keys: WebPushKeys, subject: str, timeout_s: float
) -> None:
    """Encrypt and POST one push; raises PushGone (404/410), WebPushException or requests' errors."""
    vapid = Vapid02.from_pem(keys.private_pem.encode())  # type: ignore[no-untyped-call]
    try:
        webpush(
            {
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=payload.model_dump_json(),
            vapid_private_key=vapid,
            vapid_claims={"sub": subject},
            content_encoding="aes128gcm",
            timeout=timeout_s,
            ttl=3600,
            headers={"Urgency": "high"},
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise PushGone(f"push service answered {status}: subscription gone") from None
        raise


def forget(session: Session, subscription: PushSubscription | None, reason: str) -> None:
    """The push service dropped the subscription: stop sending to it (kept for the delivery history)."""
    if subscription is None:
        return
    row = session.get(PushSubscription, subscription.id)
    if row is not None:
        row.active = False
        audit_log.append(session, SYSTEM, "push.gone", f"push_subscription:{row.id}", {"reason": reason})
        session.commit()
