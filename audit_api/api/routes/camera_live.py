"""Live view of a camera: a viewer token, the MJPEG stream, the newest still, the latest boxes, captures.

Why MJPEG (`multipart/x-mixed-replace`) rather than JPEG frames over a WebSocket or WebRTC: the worker's
pre-roll ring already holds each frame as a JPEG, so a viewer costs a socket write per frame (no decode,
no encode); an `<img>` plays it natively on every browser (phones included) with no script, and a stalled
viewer is just a slow TCP socket. The browser cannot send a header from `<img>`, hence the short-lived
viewer token in `?token=` (POST .../live-token; scoped to one camera, no use as an access token).

These routes need the worker that runs the camera: in this process (embedded `serve`/`demo`), or — in an
API process without a worker (deployed mode) — the worker holding the camera's lease, to which the API
forwards the same path once it has checked the viewer (`api.worker_proxy`); a capture fetches the
worker's current frame and stores it in this process. No such worker: 503 with Retry-After.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from audit_api.api import worker_proxy
from audit_api.api.deps import SessionDep, SettingsDep, StoreDep, ViewerUser, require_role
from audit_api.api.live_stream import MjpegStream
from audit_api.api.params import Id
from audit_api.api.route_docs import DocumentedRoute, error, errors
from audit_api.models import Role, User
from audit_api.schemas.bounds import MAX_TOKEN_CHARS
from audit_api.schemas.live import BoxOut, CaptureIn, CaptureOut, DetectionsOut, LiveTokenOut
from audit_api.services import live as live_service
from audit_api.services.errors import ServiceError
from audit_api.services.live import InvalidLiveToken, LiveSession, LiveSource, ViewerSlots
from audit_api.services.live_grid import GridSessions
from audit_api.services.sites import get_camera
from audit_api.settings import Settings

router = APIRouter(tags=["live"], route_class=DocumentedRoute)
_NO_WORKER = error(503, "no worker runs this camera (here, or in deployed mode none holds its lease)")
_GRIDS_LOCK = threading.Lock()
StaffUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.INSPECTOR))]


def _source(request: Request) -> LiveSource | None:
    source: LiveSource | None = getattr(request.app.state, "worker", None)
    return source


def _slots(request: Request) -> ViewerSlots:
    state = request.app.state
    if getattr(state, "live_slots", None) is None:
        state.live_slots = ViewerSlots()
    slots: ViewerSlots = state.live_slots
    return slots


def _grids(request: Request, settings: Settings) -> GridSessions:
    state = request.app.state
    with _GRIDS_LOCK:
        if getattr(state, "live_grids", None) is None:
            state.live_grids = GridSessions(state.sessionmaker, settings.live_grid_idle_s)
    grids: GridSessions = state.live_grids
    return grids


@router.post("/cameras/{camera_id}/live-token", status_code=status.HTTP_201_CREATED)
def live_token(camera_id: Id, session: SessionDep, settings: SettingsDep, user: ViewerUser) -> LiveTokenOut:
    """A token for GET /api/cameras/{id}/live (valid `live_token_seconds` to start the stream)."""
    get_camera(session, camera_id, user)
    token, expires = live_service.create_live_token(user.id, camera_id, settings)
    url = f"/api/cameras/{camera_id}/live?token={token}"
    return LiveTokenOut(token=token, expires_at=expires, url=url, max_fps=settings.live_max_fps)


def _viewer(factory: sessionmaker[Session], token: str, camera_id: int, settings: Settings) -> int:
    """The id of the active user the token was issued to, if that user may still see the camera."""
    try:
        user_id = live_service.decode_live_token(token, camera_id, settings)
    except InvalidLiveToken as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from exc
    _viewer_by_id(factory, user_id, camera_id)
    return user_id


def _viewer_by_id(factory: sessionmaker[Session], user_id: int, camera_id: int) -> None:
    """401 when the user is gone or deactivated, 404 when they can no longer see the camera."""
    with factory() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the account behind this token is deactivated")
        get_camera(session, camera_id, user)


@router.get(
    "/cameras/{camera_id}/live",
    response_class=Response,
    responses={
        200: {"content": {"multipart/x-mixed-replace": {}}, "description": "JPEG parts, newest frame first"},
    }
    | errors(401)
    | error(429, "too many viewers on this camera")
    | _NO_WORKER,
)
async def live_stream(
    camera_id: Id,
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Query(max_length=MAX_TOKEN_CHARS)] = None,
) -> Response:
    """`multipart/x-mixed-replace` JPEG stream of the camera (at most `live_max_fps` frames/s)."""
    if not token:
        detail = f"missing live-view token: pass ?token= from POST /api/cameras/{camera_id}/live-token"
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail)
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    user_id = await run_in_threadpool(_viewer, factory, token, camera_id, settings)
    if worker_proxy.forwards(request):  # the owning worker re-checks the token and audits the session
        return await worker_proxy.forward_stream(request, camera_id)
    source = live_service.require_source(_source(request), camera_id)
    slots = _slots(request)
    slots.acquire(camera_id, settings.live_max_viewers)  # 429 when full
    watch = LiveSession(user_id, camera_id, datetime.now(UTC))

    def finished(ended: LiveSession) -> None:
        slots.release(camera_id)
        with factory() as session:
            live_service.audit_session(session, ended, datetime.now(UTC))

    def still_allowed() -> bool:
        try:
            _viewer_by_id(factory, user_id, camera_id)
        except (HTTPException, ServiceError):
            return False
        return True

    return MjpegStream(source, watch, settings, on_end=finished, still_allowed=still_allowed)


@router.get(
    "/cameras/{camera_id}/live/frame",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "the newest frame"}}
    | error(409, "no live frame yet")
    | _NO_WORKER,
)
def live_frame(
    camera_id: Id, request: Request, session: SessionDep, settings: SettingsDep, user: ViewerUser
) -> Response:
    """The camera's newest frame as one JPEG (grid thumbnails); 409 before its first frame. A grid's
    fetches are audited once per viewing (`live.grid_watched`, by the process the viewer talks to), not
    per frame."""
    camera = get_camera(session, camera_id, user)
    if worker_proxy.forwards(request):
        forwarded = worker_proxy.forward(request, camera_id)
        if forwarded.status_code == status.HTTP_200_OK:
            _grids(request, settings).touch(user.id, camera.site_id, camera_id)
        return forwarded
    source = live_service.require_source(_source(request), camera_id)
    frame = source.live_frame(str(camera_id))
    if frame is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"camera {camera_id} has no live frame yet")
    _grids(request, settings).touch(user.id, camera.site_id, camera_id)
    headers = {"Cache-Control": "no-store", "X-Frame-Ts": f"{frame.ts:.3f}"}
    return Response(frame.jpeg, media_type="image/jpeg", headers=headers)


@router.get("/cameras/{camera_id}/detections", response_model=DetectionsOut, responses=_NO_WORKER)
def detections(
    camera_id: Id, request: Request, session: SessionDep, user: ViewerUser
) -> DetectionsOut | Response:
    """The detector's boxes on the camera's newest analysed frame (normalised), for the live overlay."""
    get_camera(session, camera_id, user)
    if worker_proxy.forwards(request):
        return worker_proxy.forward(request, camera_id)
    source = live_service.require_source(_source(request), camera_id)
    latest = source.live_detections(str(camera_id))
    frame = source.live_frame(str(camera_id))
    boxes = [
        BoxOut(box=(b.x1, b.y1, b.x2, b.y2), label=b.label, confidence=b.confidence, violation=b.violation)
        for b in (latest.boxes() if latest is not None else [])
    ]
    return DetectionsOut(
        camera_id=camera_id,
        ts=latest.ts if latest else None,
        frame_ts=frame.ts if frame else None,
        width=latest.frame_size[0] if latest else None,
        height=latest.frame_size[1] if latest else None,
        boxes=boxes,
    )


@router.post(
    "/cameras/{camera_id}/captures",
    status_code=status.HTTP_201_CREATED,
    response_model=CaptureOut,
    responses=_NO_WORKER,
)
def capture(
    camera_id: Id,
    request: Request,
    session: SessionDep,
    store: StoreDep,
    user: StaffUser,
    body: CaptureIn | None = None,
) -> CaptureOut:
    """Store the current frame (as held and with boxes, SHA-256 recorded); `event` also opens a manual
    event with it, which then follows review → sign-off → corrective action. In deployed mode the frame
    comes from the owning worker and is stored by this process (409 before the camera's first frame)."""
    camera = get_camera(session, camera_id, user)
    frame = worker_proxy.current_frame(request, camera_id)
    manual = body.event if body is not None else None
    return live_service.capture(session, store, frame, camera, user, manual)
