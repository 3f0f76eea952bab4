"""Sign-in sessions: short access tokens plus a long, opaque refresh token rotated on every use.

A refresh token used a second time (an old, already rotated one: a copy was stolen, or a client is confused)
revokes its whole session, so both the thief's and the owner's tokens stop working. Signing out revokes the
session too; access tokens carry the session id (`sid`) and are refused once their session is revoked.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from audit_api.auth import AccessClaims, InvalidToken, create_access_token, hash_opaque_token
from audit_api.models import AuthSession, RefreshToken, User, utcnow
from audit_api.schemas.people import Token
from audit_api.settings import Settings

log = logging.getLogger(__name__)

REUSED = "refresh token reused"
SIGNED_OUT = "signed out"
# Sessions revoked or expired this long ago are deleted (with their refresh tokens) when someone signs in.
_KEEP_ENDED = timedelta(days=30)


def _issue(db: Session, login: AuthSession, user: User, settings: Settings) -> Token:
    """A fresh refresh token for `login` (stored hashed) and an access token; the caller commits."""
    refresh = secrets.token_urlsafe(32)
    login.expires_at = utcnow() + timedelta(hours=settings.refresh_token_hours)
    db.add(RefreshToken(token_hash=hash_opaque_token(refresh), session_id=login.id))
    claims = AccessClaims(user_id=user.id, session_id=login.id, token_version=login.token_version)
    return Token(
        access_token=create_access_token(claims, settings),
        refresh_token=refresh,
        expires_in=settings.access_token_minutes * 60,
    )


def start_session(db: Session, user: User, settings: Settings, *, client_address: str = "") -> Token:
    """Open a sign-in for an authenticated user and commit; returns its first token pair."""
    db.execute(delete(AuthSession).where(AuthSession.expires_at < utcnow() - _KEEP_ENDED))
    login = AuthSession(
        user_id=user.id,
        token_version=user.token_version,
        client_address=client_address[:64],
        expires_at=utcnow(),  # set by _issue
    )
    db.add(login)
    db.flush()
    token = _issue(db, login, user, settings)
    db.commit()
    return token


def _revoke(db: Session, login: AuthSession, reason: str) -> None:
    if login.revoked_at is None:
        login.revoked_at, login.revoked_reason = utcnow(), reason


def refresh_session(db: Session, refresh_token: str, settings: Settings) -> Token:
    """Rotate a refresh token: the new pair, or InvalidToken (and, on reuse, the session revoked)."""
    token_hash = hash_opaque_token(refresh_token)
    row = db.get(RefreshToken, token_hash)
    login = db.get(AuthSession, row.session_id) if row is not None else None
    if row is None or login is None:
        raise InvalidToken("unknown refresh token: sign in again")
    # Atomic: of two requests racing with the same token only one rotates it; the other is a reuse.
    rotated = db.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=utcnow())
    )
    if rotated.rowcount != 1:  # type: ignore[attr-defined]
        if login.revoked_at is None:
            log.warning("refresh token of session %s (user %s) reused: revoked", login.id, login.user_id)
        _revoke(db, login, REUSED)
        db.commit()
        raise InvalidToken("this refresh token was already used: the session is revoked, sign in again")
    user = db.get(User, login.user_id)
    if login.revoked_at is not None or login.expires_at <= utcnow():
        db.rollback()
        raise InvalidToken("this sign-in has ended: sign in again")
    if user is None or not user.active or user.token_version != login.token_version:
        _revoke(db, login, "account changed")
        db.commit()
        raise InvalidToken("the account changed or was deactivated since this sign-in: sign in again")
    token = _issue(db, login, user, settings)
    db.commit()
    return token


def end_session(db: Session, session_id: int) -> None:
    """Sign out: revoke the session (its refresh tokens and access tokens stop working) and commit."""
    login = db.get(AuthSession, session_id)
    if login is not None:
        _revoke(db, login, SIGNED_OUT)
        db.commit()


def session_of_refresh_token(db: Session, refresh_token: str) -> int | None:
    """The session id a refresh token (current or rotated) belongs to, if any."""
    query = select(RefreshToken.session_id).where(RefreshToken.token_hash == hash_opaque_token(refresh_token))
    return db.scalars(query).first()
