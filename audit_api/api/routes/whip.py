"""WHIP endpoints (RFC 9725): phones and other WebRTC senders publish a camera's video here.

The app provides two things on `app.state`:
- `whip_hub`: an `ingest.whip.WhipHub` living on the server's event loop;
- `camera_token_verifier`: `(camera_id: str, token: str) -> bool` — True when the token belongs
  to the camera, False when it does not (→ 401); raise `LookupError` for an unknown camera (→ 404).
  It is called in a worker thread, so it may query the database synchronously.

Authentication is a per-camera bearer token (`Authorization: Bearer <token>`), the token printed
in the camera's enrolment link/QR code. The STUN/TURN servers (`SITEAUDIT_ICE_SERVERS`, TURN credentials
minted per request) travel as RFC 9725 §4.6 `Link: <url>; rel="ice-server"` headers on the 201 answer
and on an *authenticated* `OPTIONS /whip/{camera}`, which a publisher sends before building its offer
(a CORS preflight carries no Authorization header and gets no servers). CORS is open (`*`): no cookies
are involved, and a cross-origin publisher still needs the token.

Deployed mode (an API process without a worker, `app.state.routes_to_workers`): the API checks the
token, then answers `POST` (and `DELETE`) with a **307** to the owning worker's own WHIP endpoint
(`services.worker_routing`), which RFC 9725 §4.1 allows; the media then flows between the publisher and
that worker. Browsers drop `Authorization` on a cross-origin redirect, so the Location carries a
60-second publish grant (`?grant=`) that the worker accepts through the same check
(`auth.verify_camera_credential`). No live worker for the camera: 503 with `Retry-After`. A worker only
accepts publishers for the cameras it runs (`app.state.worker`).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Annotated, NoReturn
from urllib.parse import quote, urlencode

import qrcode
from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from audit_api import ice
from audit_api.api.params import parse_id
from audit_api.api.route_docs import DocumentedRoute, error, errors, raises
from audit_api.auth import create_publish_grant
from audit_api.schemas.bounds import MAX_TOKEN_CHARS
from audit_api.services.worker_routing import NoLiveWorker, owner_url, retry_after_s
from ingest.whip import BadOffer, WhipError, WhipHub

router = APIRouter(tags=["whip"], route_class=DocumentedRoute)

CameraTokenVerifier = Callable[[str, str], bool]
MAX_OFFER_BYTES = 64 * 1024  # real offers are a few kB; this bounds what an unauthenticated client costs
PHONE_PAGE = "camera.html"

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, Link",
}
_PREFLIGHT = {
    **_CORS,
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
    "Access-Control-Max-Age": "600",
}


@raises(503)
def get_whip_hub(request: Request) -> WhipHub:
    """The app's WHIP hub; 503 when the app was started without one."""
    hub = getattr(request.app.state, "whip_hub", None)
    if not isinstance(hub, WhipHub):
        _fail(status.HTTP_503_SERVICE_UNAVAILABLE, "WHIP ingest is not enabled on this server")
    return hub


def _token_matches(request: Request, camera_id: int | str, token: str) -> bool:
    """Ask the app's verifier whether `token` is `camera_id`'s; LookupError if no such camera."""
    verifier: CameraTokenVerifier | None = getattr(request.app.state, "camera_token_verifier", None)
    if verifier is None:
        _fail(status.HTTP_503_SERVICE_UNAVAILABLE, "camera authentication is not configured")
    return verifier(str(camera_id), token)


@raises(401, 404, 503)
async def authorize_camera(
    request: Request,
    camera_id: str,
    authorization: Annotated[str | None, Header()] = None,
    grant: Annotated[
        str | None, Query(max_length=MAX_TOKEN_CHARS, description="the publish grant of the API's redirect")
    ] = None,
) -> str:
    """Dependency: the path's camera id, once its bearer token (or the API's publish grant) was checked."""
    scheme, _, token = (authorization or "").partition(" ")
    if (scheme.lower() != "bearer" or not token.strip()) and grant:
        scheme, token = "bearer", grant  # the redirected request from the API (Authorization dropped)
    if scheme.lower() != "bearer" or not token.strip():
        _fail(status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    try:
        valid = await run_in_threadpool(_token_matches, request, camera_id, token.strip())
    except LookupError:
        _fail(status.HTTP_404_NOT_FOUND, f"unknown camera {camera_id!r}")
    if not valid:
        _fail(
            status.HTTP_401_UNAUTHORIZED,
            f"invalid token for camera {camera_id!r}",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return camera_id


Camera = Annotated[str, Depends(authorize_camera)]
_NO_WORKER = error(503, "no worker runs the camera (no live lease); `Retry-After` says when to retry")


def _routes_to_workers(request: Request) -> bool:
    """Deployed mode: this API process runs no worker and sends publishers to the one that owns the camera."""
    return not isinstance(getattr(request.app.state, "whip_hub", None), WhipHub) and bool(
        getattr(request.app.state, "routes_to_workers", False)
    )


async def _owner_url(request: Request, camera_id: str, path: str) -> str:
    """`{owning worker}{path}?grant=…`; 503 with Retry-After when no worker holds the camera."""
    settings = request.app.state.settings
    factory = request.app.state.sessionmaker
    number = parse_id(camera_id)
    assert number is not None  # authorize_camera found the camera

    def target() -> str:
        with factory() as session:
            base = owner_url(session, number, settings.lease_ttl_s)
            return f"{base}{path}?{urlencode({'grant': create_publish_grant(session, number, settings)})}"

    try:
        return await run_in_threadpool(target)
    except NoLiveWorker as exc:
        _fail(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), exc.headers)


def _redirect(location: str) -> Response:
    return Response(status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers={**_CORS, "Location": location})


def _require_runs(request: Request, camera_id: str) -> None:
    """A process with a worker takes publishers only for the cameras that worker runs now."""
    worker = getattr(request.app.state, "worker", None)
    if worker is not None and not worker.runs(camera_id):
        wait = retry_after_s(request.app.state.settings.lease_ttl_s)
        _fail(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"camera {camera_id!r} is not run by the worker of this process (yet); publish to the API's "
            f"/whip/{camera_id}, which sends you to the worker that runs it",
            {"Retry-After": str(wait)},
        )


@router.post(
    "/whip/{camera_id}",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses={
        201: {
            "description": "The SDP answer; `Location` names the session (DELETE it to stop)",
            "content": {"application/sdp": {"schema": {"type": "string"}}},
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        307: {
            "description": "Deployed mode: publish to the worker that runs the camera (`Location`)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **errors(400, 413, 415),
        **_NO_WORKER,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/sdp": {"schema": {"type": "string", "maxLength": MAX_OFFER_BYTES}}},
        }
    },
)
async def publish(request: Request, camera_id: Camera) -> Response:
    """Answer the publisher's SDP offer; the answer carries every ICE candidate (no trickle). Deployed
    mode: 307 to the worker that runs the camera."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/sdp":
        _fail(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"the offer must be sent as application/sdp, not {content_type or 'no content type'!r}",
        )
    if _routes_to_workers(request):
        return _redirect(await _owner_url(request, camera_id, f"/whip/{quote(camera_id, safe='')}"))
    hub = get_whip_hub(request)
    _require_runs(request, camera_id)
    offer = await _read_bounded(request)
    try:
        session = await hub.publish(camera_id, offer)
    except BadOffer as exc:
        _fail(status.HTTP_400_BAD_REQUEST, f"bad SDP offer: {exc}")
    except WhipError as exc:
        _fail(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))
    # A worker names its public URL: the publisher reached it through the API's redirect.
    base = getattr(request.app.state, "public_url", None) or request.scope.get("root_path", "")
    location = f"{base}/whip/{quote(camera_id, safe='')}/{session.id}"
    response = Response(
        session.answer_sdp,
        status_code=status.HTTP_201_CREATED,
        media_type="application/sdp",
        headers={**_CORS, "Location": location},
    )
    _add_ice_links(request, response, camera_id)
    return response


@router.delete(
    "/whip/{camera_id}/{session_id}",
    response_class=Response,
    responses={
        200: {"description": "The session has ended", "content": {}},
        307: {"description": "Deployed mode: the session is on the worker that runs the camera"},
        **_NO_WORKER,
    },
)
async def unpublish(request: Request, camera_id: Camera, session_id: str) -> Response:
    """End a publication (the phone's Stop button, or cleanup before a reconnect)."""
    if _routes_to_workers(request):
        path = f"/whip/{quote(camera_id, safe='')}/{quote(session_id, safe='')}"
        return _redirect(await _owner_url(request, camera_id, path))
    hub = get_whip_hub(request)
    if not any(s.id == session_id for s in hub.sessions(camera_id)) or not await hub.end(session_id):
        _fail(status.HTTP_404_NOT_FOUND, f"no WHIP session {session_id!r} for camera {camera_id!r}")
    return Response(status_code=status.HTTP_200_OK, headers=_CORS)


@router.options(
    "/whip/{camera_id}",
    response_class=Response,
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 404),  # only with an Authorization header, which asks for the ICE servers
)
async def preflight_publish(
    request: Request, camera_id: str, authorization: Annotated[str | None, Header()] = None
) -> Response:
    """CORS preflight; with the camera's bearer token, also the ICE servers to use (Link headers). The API
    answers it itself in deployed mode too: every process hands out the same servers (a preflight cannot
    follow a redirect anyway)."""
    headers = {**_PREFLIGHT, "Allow": "POST, OPTIONS", "Access-Control-Allow-Methods": "POST, OPTIONS"}
    response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)
    if authorization is not None:
        _add_ice_links(request, response, await authorize_camera(request, camera_id, authorization, None))
    return response


def _add_ice_links(request: Request, response: Response, camera_id: str) -> None:
    settings = getattr(request.app.state, "settings", None)
    if settings is None:  # an app without settings (WHIP-only test servers) offers no ICE servers
        return
    for value in ice.link_headers(ice.servers_for(settings, f"camera-{camera_id}")):
        response.headers.append("Link", value)


@router.options(
    "/whip/{camera_id}/{session_id}", response_class=Response, status_code=status.HTTP_204_NO_CONTENT
)
async def preflight_session(camera_id: str, session_id: str) -> Response:
    headers = {**_PREFLIGHT, "Allow": "DELETE, OPTIONS", "Access-Control-Allow-Methods": "DELETE, OPTIONS"}
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=headers)


def enrolment_link(base_url: str, camera_id: int | str, token: str) -> str:
    """URL of the phone camera page for one camera.

    `base_url` is where the `web/` folder is served. Camera id and token travel in the URL
    fragment, which browsers never send to a server, so the token stays out of access logs.
    """
    fragment = urlencode({"cam": str(camera_id), "token": token}, quote_via=quote)
    return f"{base_url.rstrip('/')}/{PHONE_PAGE}#{fragment}"


def qr_png(url: str) -> bytes:
    """A PNG QR code of `url`, for a phone to scan off the enrolment screen."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(url)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


async def _read_bounded(request: Request) -> str:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_OFFER_BYTES:
            _fail(status.HTTP_413_CONTENT_TOO_LARGE, f"offer larger than {MAX_OFFER_BYTES} bytes")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        _fail(status.HTTP_400_BAD_REQUEST, "bad SDP offer: body is not UTF-8 text")


def _fail(code: int, detail: str, headers: dict[str, str] | None = None) -> NoReturn:
    raise HTTPException(code, detail, headers={**_CORS, **(headers or {})})
