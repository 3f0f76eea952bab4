"""Live alerts as Server-Sent Events: `GET /api/alerts/stream` pushes each new Alert row the caller may see.

EventSource cannot send an Authorization header, so this endpoint (and only this one) also accepts the
access token as `?access_token=`. The stream polls the database rather than an in-process bus, so alerts
recorded by a worker in another process arrive too. Each message carries the alert id as its SSE id, so a
reconnecting EventSource resumes after the last alert it saw (`Last-Event-ID`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from audit_api.api.deps import SettingsDep
from audit_api.api.route_docs import DocumentedRoute, errors
from audit_api.auth import InvalidToken, user_for_token
from audit_api.models import Alert, Role, User
from audit_api.schemas.bounds import MAX_INT, MAX_TOKEN_CHARS
from audit_api.schemas.events import AlertOut
from audit_api.services.alerting.notices import SUPERVISOR_ALERTS
from audit_api.services.scope import SiteScope
from audit_api.settings import Settings

router = APIRouter(prefix="/alerts", tags=["alerts"], route_class=DocumentedRoute)

POLL_S = 1.0
KEEPALIVE_S = 15.0  # a comment line now and then keeps proxies from closing an idle stream
# Streams end after this long and the browser reconnects on its own (resuming by Last-Event-ID): this
# bounds how long a graceful server shutdown waits for open streams and re-checks the token regularly.
MAX_STREAM_S = 60.0
RETRY_MS = 1500
BATCH = 100
_VIEWERS = (Role.ADMIN, Role.INSPECTOR, Role.SUPERVISOR)


# One event of the stream, as OpenAPI 3.1 describes an event stream's `schema` (3.2 calls it `itemSchema`).
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["alert", "unauthorized"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "description": "`alert`: an AlertOut; `unauthorized`: why the stream ended (reconnect: 401)",
        },
        "id": {"type": "string", "description": "the alert id; a reconnect resumes after it (Last-Event-ID)"},
        "retry": {"type": "integer", "description": "reconnect delay, ms (the first message)"},
    },
}


class StreamAuthError(Exception):
    """The token is missing, invalid or expired, or its user cannot see alerts."""


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _viewer(session: Session, token: str, settings: Settings) -> User:
    """The active user the token belongs to; StreamAuthError otherwise."""
    try:
        user = user_for_token(session, token, settings)
    except InvalidToken as exc:
        raise StreamAuthError(str(exc)) from exc
    if user.role not in _VIEWERS:
        raise StreamAuthError(f"role {user.role!r} cannot watch alerts")
    return user


class AlertFeed:
    """Reads the alerts newer than a cursor that one user may see, re-authenticating on every read."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings, token: str) -> None:
        self._factory = factory
        self._settings = settings
        self._token = token

    def latest_id(self) -> int:
        """The newest visible alert id now (a fresh stream only pushes what comes after it)."""
        with self._factory() as session:
            scope = SiteScope.of(_viewer(session, self._token, self._settings))
            return session.scalar(scope.where(select(func.max(Alert.id)), Alert.site_id)) or 0

    def newer_than(self, cursor: int) -> list[AlertOut]:
        with self._factory() as session:
            scope = SiteScope.of(_viewer(session, self._token, self._settings))
            query = select(Alert).where(Alert.id > cursor, SUPERVISOR_ALERTS)
            query = query.order_by(Alert.id).limit(BATCH)
            query = scope.where(query, Alert.site_id)
            return [AlertOut.model_validate(a) for a in session.scalars(query)]


def format_event(name: str, data: str, event_id: int | None = None) -> str:
    """One SSE message; `data` must be a single line (JSON is)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {data}\n\n"


async def _messages(request: Request, feed: AlertFeed, cursor: int) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    started = last_sent = loop.time()
    yield f"retry: {RETRY_MS}\n: connected\n\n"
    while loop.time() - started < MAX_STREAM_S:
        if await request.is_disconnected():
            return
        try:
            alerts = await run_in_threadpool(feed.newer_than, cursor)
        except StreamAuthError as exc:
            # Token expired or user deactivated mid-stream: say so and end; the reconnect then gets a 401.
            yield format_event("unauthorized", json.dumps(str(exc)))
            return
        for alert in alerts:
            yield format_event("alert", alert.model_dump_json(), alert.id)
            cursor = alert.id
        now = loop.time()
        if alerts:
            last_sent = now
        elif now - last_sent >= KEEPALIVE_S:
            yield ": keepalive\n\n"
            last_sent = now
        await asyncio.sleep(POLL_S)


def _token_from(access_token: str | None, authorization: str | None) -> str:
    scheme, _, bearer = (authorization or "").partition(" ")
    token = access_token or (bearer.strip() if scheme.lower() == "bearer" else "")
    if not token:
        raise _unauthorized("missing access token (pass ?access_token=)")
    return token


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `event: alert` with an AlertOut as data; ends after a minute",
            "content": {"text/event-stream": {"schema": SSE_EVENT}},
        },
        **errors(401),
    },
)
async def stream_alerts(
    request: Request,
    settings: SettingsDep,
    access_token: Annotated[str | None, Query(max_length=MAX_TOKEN_CHARS)] = None,
    authorization: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=MAX_INT)] = None,
) -> StreamingResponse:
    """`event: alert` messages (data: an AlertOut JSON) for each new alert visible to the caller."""
    token = _token_from(access_token, authorization)
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    feed = AlertFeed(factory, settings, token)
    try:
        latest = await run_in_threadpool(feed.latest_id)  # also proves the token before a 200 goes out
    except StreamAuthError as exc:
        raise _unauthorized(str(exc)) from exc
    cursor = latest if last_event_id is None else last_event_id
    return StreamingResponse(
        _messages(request, feed, cursor),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
