"""Passwords (argon2 via pwdlib), signed access tokens (PyJWT, HS256), per-camera WHIP tokens and the
short-lived publish grants the API puts in its WHIP redirect to the owning worker.

Login sessions and refresh tokens are in audit_api.services.sessions; throttling in audit_api.login."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api.models import AuthSession, Camera, CameraKind, User, utcnow
from audit_api.settings import Settings

ALGORITHM = "HS256"
_passwords = PasswordHash((Argon2Hasher(),))
# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _passwords.hash(secrets.token_urlsafe(16))


class InvalidToken(Exception):
    """The access token is malformed, forged or expired."""


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _passwords.verify(password, password_hash)


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, else None."""
    user = session.scalars(select(User).where(User.email == email.strip().lower())).first()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, user.password_hash) or not user.active:
        return None
    return user


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says: whose it is, which sign-in issued it, and the user's token version then."""

    user_id: int
    session_id: int
    token_version: int


def create_access_token(claims: AccessClaims, settings: Settings) -> str:
    now = utcnow()
    payload = {
        "sub": str(claims.user_id),
        "sid": claims.session_id,
        "ver": claims.token_version,
        "iat": now,
        "exp": now + timedelta(minutes=settings.access_token_minutes),
    }
    return jwt.encode(payload, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def decode_access_token(token: str, settings: Settings) -> AccessClaims:
    """The claims of a valid token; raises InvalidToken otherwise."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "sid", "ver"]},
        )
        sid, ver = payload["sid"], payload["ver"]
        if not (isinstance(sid, int) and isinstance(ver, int)):
            raise ValueError("sid and ver must be integers")
        return AccessClaims(user_id=int(payload["sub"]), session_id=sid, token_version=ver)
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc


def user_for_token(session: Session, token: str, settings: Settings) -> User:
    """The active user a valid, unrevoked access token belongs to; InvalidToken (readable reason) otherwise.

    Revoked means: the user's token_version moved on (password, role or deactivation), or the sign-in that
    issued it was signed out, expired or killed for refresh-token reuse.
    """
    try:
        claims = decode_access_token(token, settings)
    except InvalidToken as exc:
        raise InvalidToken("invalid or expired access token") from exc
    user = session.get(User, claims.user_id)
    if user is None or not user.active:
        raise InvalidToken("the account behind this token no longer exists or is deactivated")
    login = session.get(AuthSession, claims.session_id)
    if (
        claims.token_version != user.token_version
        or login is None
        or login.user_id != user.id
        or login.revoked_at is not None
        or login.expires_at <= utcnow()
    ):
        raise InvalidToken("this sign-in was revoked (signed out, or the account changed): sign in again")
    return user


def hash_opaque_token(token: str) -> str:
    """How WHIP and refresh tokens are stored: they are 256 random bits, so a plain SHA-256 is enough (no
    slow hash needed against guessing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_camera_token() -> tuple[str, str]:
    """A fresh WHIP bearer token and the hash to store; the plaintext is shown to the admin once."""
    token = secrets.token_urlsafe(32)
    return token, hash_opaque_token(token)


def verify_camera_token(session: Session, camera_id: int, token: str) -> bool:
    """True when token is the current WHIP token of an enabled WHIP camera."""
    camera = session.get(Camera, camera_id)
    if camera is None or camera.kind != CameraKind.WHIP or not camera.enabled or not camera.whip_token_hash:
        return False
    return hmac.compare_digest(camera.whip_token_hash, hash_opaque_token(token))


PUBLISH_GRANT_TYPE = "whip"
PUBLISH_GRANT_SECONDS = 60  # it only has to carry one redirected POST from the API to the worker


def create_publish_grant(session: Session, camera_id: int, settings: Settings) -> str:
    """A grant for one redirected WHIP offer, issued by the API once it checked the camera's token.

    Browsers drop `Authorization` when fetch follows a cross-origin redirect, so the API's 307 to the
    owning worker carries this instead (`?grant=`); it is bound to the camera's current token hash, so
    rotating the token voids it too."""
    camera = session.get(Camera, camera_id)
    bound = (camera.whip_token_hash or "")[:16] if camera is not None else ""
    now = utcnow()
    claims = {
        "typ": PUBLISH_GRANT_TYPE,
        "cam": camera_id,
        "th": bound,
        "iat": now,
        "exp": now + timedelta(seconds=PUBLISH_GRANT_SECONDS),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM)


def verify_camera_credential(session: Session, camera_id: int, credential: str, settings: Settings) -> bool:
    """THE check of WHIP requests, on the API and on the worker: the camera's token, or a publish grant
    the API issued for this camera (and its current token)."""
    if verify_camera_token(session, camera_id, credential):
        return True
    try:
        claims = jwt.decode(
            credential,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "typ", "cam", "th"]},
        )
    except jwt.InvalidTokenError:
        return False
    if claims["typ"] != PUBLISH_GRANT_TYPE or claims["cam"] != camera_id:
        return False
    camera = session.get(Camera, camera_id)
    if camera is None or camera.kind != CameraKind.WHIP or not camera.enabled or not camera.whip_token_hash:
        return False
    return hmac.compare_digest(str(claims["th"]), camera.whip_token_hash[:16])
