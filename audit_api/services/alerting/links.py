"""Signed one-time acknowledge links: one per delivery (so per recipient), sent in its message.

The token is a JWT (HS256, the app's secret) naming the link's `jti`, the alert and the recipients' level,
with an expiry. The database row of the jti is consumed on use by a conditional UPDATE, so a link
acknowledges at most once even when two taps race; retries of one delivery carry the same link. Opening the
link (GET) only shows a confirmation page; the acknowledgement is the page's POST, so a mail scanner or
link preview that fetches the URL changes nothing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import AckLink, Alert, AlertDelivery, utcnow
from audit_api.settings import Settings

TOKEN_TYPE = "alert-ack"
ALGORITHM = "HS256"
ACK_LINK_PATH = "/api/alerts/ack-link"
ACK_LINK_ACTOR = "ack-link"


class LinkRefused(Exception):
    """The link cannot acknowledge: `status` 400 (not a valid link) or 410 (expired or used)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


def _token(link: AckLink, settings: Settings) -> str:
    payload = {
        "typ": TOKEN_TYPE,
        "jti": link.jti,
        "alert": link.alert_id,
        "lvl": link.level,
        "exp": link.expires_at,
    }
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def link_url(token: str, settings: Settings) -> str:
    return f"{settings.web_base_url}{ACK_LINK_PATH}?token={quote(token)}"


def snapshot_link_url(token: str, settings: Settings) -> str:
    """The link's snapshot, as alert channels get it (blurred heads unless the site's privacy_blur is off)."""
    return f"{settings.web_base_url}{ACK_LINK_PATH}/snapshot?token={quote(token)}"


def issue(session: Session, delivery: AlertDelivery, settings: Settings) -> str:
    """The delivery's link token (created on its first attempt, the same on every retry); no commit."""
    link = session.scalars(select(AckLink).where(AckLink.delivery_id == delivery.id)).first()
    if link is None:
        link = AckLink(
            jti=secrets.token_urlsafe(24),
            delivery_id=delivery.id,
            alert_id=delivery.alert_id,
            level=delivery.level,
            recipient=delivery.recipient,
            expires_at=utcnow() + timedelta(seconds=settings.alert_ack_link_s),
        )
        session.add(link)
        session.flush()
    return _token(link, settings)


@dataclass(frozen=True)
class LinkView:
    """What the confirmation page shows about a link's alert."""

    alert: Alert
    link: AckLink
    by_this_link: bool = False  # consume(): this link acknowledged it (else someone was first)


def _decode(session: Session, token: str, settings: Settings) -> AckLink:
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "jti", "alert", "lvl", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise LinkRefused(410, "This acknowledge link has expired.") from None
    except jwt.InvalidTokenError:
        raise LinkRefused(400, "This is not a valid acknowledge link.") from None
    link = session.scalars(select(AckLink).where(AckLink.jti == str(claims["jti"]))).first()
    if claims["typ"] != TOKEN_TYPE or link is None or link.alert_id != claims["alert"]:
        raise LinkRefused(400, "This is not a valid acknowledge link.")
    return link


def view(session: Session, token: str, settings: Settings) -> LinkView:
    """The link's alert, for the confirmation page (GET: nothing changes). Raises LinkRefused."""
    link = _decode(session, token, settings)
    if link.used_at is not None:
        raise LinkRefused(410, "This acknowledge link was already used.")
    alert = session.get(Alert, link.alert_id)
    assert alert is not None  # links are deleted with their alert
    return LinkView(alert, link)


def consume(session: Session, token: str, settings: Settings) -> LinkView:
    """Use the link once: acknowledge its alert as its recipient (audit-logged) and commit."""
    link = _decode(session, token, settings)
    now = utcnow()
    won = session.execute(
        update(AckLink).where(AckLink.id == link.id, AckLink.used_at.is_(None)).values(used_at=now)
    ).rowcount  # type: ignore[attr-defined]
    if not won:
        session.rollback()
        raise LinkRefused(410, "This acknowledge link was already used.")
    acked = session.execute(
        update(Alert)
        .where(Alert.id == link.alert_id, Alert.acknowledged_at.is_(None))
        .values(
            acknowledged_at=now, acknowledged_via=link.recipient, acknowledged_by_id=_user_of(session, link)
        )
    ).rowcount  # type: ignore[attr-defined]
    if acked:
        payload = {
            "via": "link",
            "recipient": link.recipient,
            "level": link.level,
            "delivery_id": link.delivery_id,
        }
        audit_log.append(session, ACK_LINK_ACTOR, "alert.acknowledged", f"alert:{link.alert_id}", payload)
    session.commit()
    alert = session.get(Alert, link.alert_id)
    assert alert is not None
    session.refresh(alert)
    return LinkView(alert, link, by_this_link=bool(acked))


def _user_of(session: Session, link: AckLink) -> int | None:
    """A Web Push delivery reaches one user: the acknowledgement is theirs. A channel's has no user."""
    delivery = session.get(AlertDelivery, link.delivery_id)
    if delivery is None or delivery.subscription is None:
        return None
    return delivery.subscription.user_id
