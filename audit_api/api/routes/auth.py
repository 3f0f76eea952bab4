"""Sign-in (OAuth2 password form → access + refresh token), refresh, sign-out and the caller's own profile."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer

from audit_api.api.deps import CurrentUser, SessionDep, SettingsDep
from audit_api.api.route_docs import DocumentedRoute, error
from audit_api.auth import InvalidToken, decode_access_token, user_for_token
from audit_api.login_guard import LoginGuard, LoginThrottled
from audit_api.schemas.people import LogoutRequest, RefreshRequest, Token, UserOut
from audit_api.services import sessions
from audit_api.services.users import user_out

router = APIRouter(tags=["auth"], route_class=DocumentedRoute)
_optional_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
THROTTLED = error(
    429, "too many attempts (per address or account) or too many logins being checked; see Retry-After"
)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


@router.post(
    "/auth/token",
    responses=error(401, "wrong email or password, or deactivated") | THROTTLED,
)
async def login(
    request: Request,
    username: Annotated[str, Form(min_length=1, max_length=320, description="the account's email")],
    password: Annotated[str, Form(min_length=1, max_length=256)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> Token:
    """OAuth2 password grant. Async on purpose: the password is checked on a small dedicated pool of
    threads (audit_api.login_guard), never in the threadpool that the other routes share."""
    guard: LoginGuard = request.app.state.login_guard
    address = request.client.host if request.client else "unknown"
    try:
        token = await guard.login(username, password, address)
    except LoginThrottled as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS, exc.detail, headers={"Retry-After": str(exc.retry_after)}
        ) from exc
    if token is None:
        raise _unauthorized("incorrect email or password")
    return token


@router.post("/auth/refresh", responses=error(401, "unknown, used or revoked refresh token"))
def refresh(body: RefreshRequest, session: SessionDep, settings: SettingsDep) -> Token:
    """A new access token and the next refresh token. Each refresh token works once: presenting one again
    revokes its sign-in (theft detection)."""
    try:
        return sessions.refresh_session(session, body.refresh_token, settings)
    except InvalidToken as exc:
        raise _unauthorized(str(exc)) from exc


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error(401, "neither a valid access token nor a known refresh token"),
)
def logout(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_optional_bearer)],
    body: LogoutRequest | None = None,
) -> None:
    """Sign out server-side: the sign-in's refresh token and its access tokens stop working at once."""
    ended: set[int] = set()
    if token:
        try:
            user_for_token(session, token, settings)
            ended.add(decode_access_token(token, settings).session_id)
        except InvalidToken:
            pass
    if body is not None and body.refresh_token:
        session_id = sessions.session_of_refresh_token(session, body.refresh_token)
        if session_id is not None:
            ended.add(session_id)
    if not ended:
        raise _unauthorized("nothing to sign out: no valid access token or known refresh token")
    for session_id in ended:
        sessions.end_session(session, session_id)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    return user_out(user)
