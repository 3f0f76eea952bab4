"""Deployed mode: the API forwards a camera's live-view requests to the worker process that runs it.

Why forward rather than redirect the browser: the pages' CSP names only the API's own origin for images
and fetches, the grid's stills are fetched with the bearer token (which a cross-origin redirect drops),
and a phone or laptop outside the cluster need not reach the workers at all. The API checks the viewer
(token, site scope → 404) first; the worker checks again with the same code (it has the same database
and secret), counts the viewer slots and writes the `live.watched` audit entry when the stream ends.
The MJPEG body is relayed chunk by chunk (no buffering): a stalled viewer stalls the relay, the worker's
send blocks and its stall timeout drops the viewer, as in the embedded mode.

Captures (the live view's button, a patrol finding) are not forwarded: the API asks the owning worker for
the `CurrentFrame` (`GET /api/cameras/{id}/live/current` on the worker, the viewer's bearer token passed
on as for every forwarded request, so the worker checks it again) and stores it itself with the same
`services.live.capture` as the embedded mode, in the API's own transaction (a finding's step and event).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from audit_api.schemas.live import CurrentFrame
from audit_api.services import live as live_service
from audit_api.services.errors import ServiceError
from audit_api.services.worker_routing import NoLiveWorker, owner_url, retry_after_s

REQUEST_HEADERS = ("authorization", "content-type", "accept")
RESPONSE_HEADERS = (
    "content-type",
    "cache-control",
    "retry-after",
    "x-frame-ts",
    "x-accel-buffering",
    "x-content-type-options",
)
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CURRENT_FRAME_PATH = "/api/cameras/{camera_id}/live/current"  # the worker only serves it (worker_frames)
STREAM_TIMEOUT = httpx.Timeout(None, connect=5.0)  # frames come when the camera has them; the viewer ends it


def forwards(request: Request) -> bool:
    """True in an API process without a worker (deployed mode): live view goes to the owning worker."""
    state = request.app.state
    return getattr(state, "worker", None) is None and bool(getattr(state, "routes_to_workers", False))


class WorkerRefused(ServiceError):
    """The owning worker answered a frame request with an error (e.g. 409: no frame yet): passed on as is."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def _owner(request: Request, camera_id: int) -> str:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    with factory() as session:
        return owner_url(session, camera_id, request.app.state.settings.lease_ttl_s)


def _target(request: Request, camera_id: int) -> str:
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{_owner(request, camera_id)}{request.url.path}{query}"


def _unreachable(request: Request, camera_id: int, exc: httpx.HTTPError) -> NoLiveWorker:
    wait = retry_after_s(request.app.state.settings.lease_ttl_s)
    reason = type(exc).__name__
    message = f"the worker that runs camera {camera_id} did not answer ({reason}); retry shortly"
    return NoLiveWorker(message, wait)


def _headers(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.headers.items() if k in REQUEST_HEADERS}


def _kept(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in RESPONSE_HEADERS}


def forward(request: Request, camera_id: int, body: bytes | None = None) -> Response:
    """One request to the owning worker (blocking: call from a sync route), its answer returned as is;
    503 with Retry-After when no worker holds the camera or it does not answer."""
    url = _target(request, camera_id)
    try:
        answer = httpx.request(request.method, url, headers=_headers(request), content=body, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise _unreachable(request, camera_id, exc) from None
    return Response(answer.content, status_code=answer.status_code, headers=_kept(answer.headers))


def current_frame(request: Request, camera_id: int) -> CurrentFrame:
    """The camera's current frame (as held and with boxes) from this process's worker, or in deployed mode
    from the worker that owns it (blocking: call from a sync route). 503 with Retry-After when no worker
    holds the camera or it does not answer; the worker's own refusal (409 before the first frame) as is."""
    if not forwards(request):
        return live_service.current_frame(getattr(request.app.state, "worker", None), camera_id)
    url = f"{_owner(request, camera_id)}{CURRENT_FRAME_PATH.format(camera_id=camera_id)}"
    headers = {k: v for k, v in _headers(request).items() if k == "authorization"}
    try:
        answer = httpx.get(url, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise _unreachable(request, camera_id, exc) from None
    if answer.status_code == 200:
        try:
            return CurrentFrame.model_validate_json(answer.content)
        except ValidationError:
            unreadable = f"the worker that runs camera {camera_id} sent no readable frame"
            raise WorkerRefused(502, unreadable) from None
    try:
        detail = str(answer.json()["detail"])
    except (ValueError, KeyError, TypeError):
        detail = f"the worker that runs camera {camera_id} answered {answer.status_code}"
    if answer.status_code == 503:  # it let the camera go since the lease was read: ask again shortly
        given = answer.headers.get("retry-after", "")
        wait = int(given) if given.isdigit() else retry_after_s(request.app.state.settings.lease_ttl_s)
        raise NoLiveWorker(detail, wait)
    raise WorkerRefused(answer.status_code, detail)


async def forward_stream(request: Request, camera_id: int) -> Response:
    """The owning worker's MJPEG stream, relayed as it arrives."""
    url = await run_in_threadpool(_target, request, camera_id)
    client = httpx.AsyncClient(timeout=STREAM_TIMEOUT)
    try:
        upstream = await client.send(client.build_request("GET", url, headers=_headers(request)), stream=True)
    except httpx.HTTPError as exc:
        await client.aclose()
        raise _unreachable(request, camera_id, exc) from None

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        except httpx.HTTPError:
            return  # the worker went away mid-stream: the viewer's stream ends (the page asks again)
        finally:
            with anyio.CancelScope(shield=True):
                await upstream.aclose()
                await client.aclose()

    return StreamingResponse(relay(), status_code=upstream.status_code, headers=_kept(upstream.headers))
