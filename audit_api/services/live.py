"""Live view of a camera run by this process's worker: viewer tokens, bounded viewer slots, the session
audit entry, and captures (a still on demand, optionally opening a manual event).

The worker is reached through `LiveSource` (ingest.worker.Worker implements it). In deployed mode the
API process runs no worker: it forwards the live view to the owning worker, and for a capture it fetches
the `CurrentFrame` from that worker and stores it here with the same `capture` (api.worker_proxy).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.auth import ALGORITHM
from audit_api.models import Camera, Event, User, utcnow
from audit_api.schemas.live import CaptureOut, CurrentFrame, ManualEventIn, StillOut
from audit_api.services.errors import Conflict, ServiceError
from audit_api.services.events import record_event
from audit_api.services.users import actor_of
from audit_api.settings import Settings
from audit_api.storage import ObjectStore, StoredObject
from detect.annotate import draw_snapshot, encode_jpeg
from ingest.live import LiveDetections
from ingest.preroll import StoredFrame

TOKEN_TYPE = "live"
AUDIT_ATTEMPTS = 5
_audit_lock = threading.Lock()
MANUAL_MODEL = "manual"


class LiveSource(Protocol):
    """What the live view needs from a worker (ingest.worker.Worker)."""

    def runs(self, camera_id: str) -> bool: ...
    def live_frame(self, camera_id: str) -> StoredFrame | None: ...
    def live_detections(self, camera_id: str) -> LiveDetections | None: ...


class NoWorker(ServiceError):
    """This process runs no worker for the camera (deployed mode: the worker's own API serves it)."""

    status_code = 503


class TooManyViewers(ServiceError):
    status_code = 429


class InvalidLiveToken(Exception):
    """The viewer token is malformed, forged, expired or for another camera."""


def require_source(source: LiveSource | None, camera_id: int) -> LiveSource:
    if source is None or not source.runs(str(camera_id)):
        raise NoWorker(f"camera {camera_id} is not run by a worker in this process; live view unavailable")
    return source


# -- viewer tokens -------------------------------------------------------------------------------
def create_live_token(user_id: int, camera_id: int, settings: Settings) -> tuple[str, datetime]:
    """A short-lived token for one camera's stream. It has no `sub`, so it is no access token."""
    now = utcnow()
    expires = now + timedelta(seconds=settings.live_token_seconds)
    claims = {"typ": TOKEN_TYPE, "uid": user_id, "cam": camera_id, "iat": now, "exp": expires}
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=ALGORITHM), expires


def decode_live_token(token: str, camera_id: int, settings: Settings) -> int:
    """The user id in a valid viewer token for this camera; InvalidLiveToken otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[ALGORITHM],
            options={"require": ["exp", "uid", "cam", "typ"]},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidLiveToken("invalid or expired live-view token") from exc
    if claims["typ"] != TOKEN_TYPE or claims["cam"] != camera_id or not isinstance(claims["uid"], int):
        raise InvalidLiveToken(f"this live-view token is not for camera {camera_id}")
    return int(claims["uid"])


# -- viewer slots --------------------------------------------------------------------------------
class ViewerSlots:
    """How many streams each camera has open in this process, bounded by Settings.live_max_viewers."""

    def __init__(self) -> None:
        self._open: dict[int, int] = {}
        self._lock = threading.Lock()

    def acquire(self, camera_id: int, limit: int) -> None:
        with self._lock:
            current = self._open.get(camera_id, 0)
            if current >= limit:
                raise TooManyViewers(
                    f"camera {camera_id} already has {current} live viewers (the limit is {limit}); "
                    "close another live view of it and retry"
                )
            self._open[camera_id] = current + 1

    def release(self, camera_id: int) -> None:
        with self._lock:
            left = self._open.get(camera_id, 0) - 1
            if left > 0:
                self._open[camera_id] = left
            else:
                self._open.pop(camera_id, None)

    def count(self, camera_id: int) -> int:
        with self._lock:
            return self._open.get(camera_id, 0)


@dataclass
class LiveSession:
    """One viewer's stream, audited when it ends."""

    user_id: int
    camera_id: int
    started_at: datetime
    frames: int = 0
    ended_because: str = "viewer closed the stream"


def audit_session(session: Session, live: LiveSession, ended_at: datetime) -> None:
    """The `live.watched` entry of one stream."""
    user = session.get(User, live.user_id)
    payload = {
        "started_at": live.started_at,
        "ended_at": ended_at,
        "seconds": round((ended_at - live.started_at).total_seconds(), 1),
        "frames": live.frames,
        "ended_because": live.ended_because,
    }
    append_retrying(session, actor_of(user), "live.watched", f"camera:{live.camera_id}", payload)


def append_retrying(session: Session, actor: str, action: str, entity: str, payload: dict[str, Any]) -> None:
    """Append and commit one audit entry. Streams often end together (a page closing several), and on
    SQLite two appends can race for the next seq: the entry is then retried rather than lost."""
    for attempt in range(AUDIT_ATTEMPTS):
        try:
            with _audit_lock:
                audit_log.append(session, actor, action, entity, payload)
                session.commit()
            return
        except IntegrityError:
            session.rollback()
            if attempt == AUDIT_ATTEMPTS - 1:
                raise


# -- captures ------------------------------------------------------------------------------------
def _annotated(frame: StoredFrame, detections: LiveDetections | None) -> bytes:
    """The frame with the latest boxes drawn (one decode and one encode, on demand only)."""
    try:
        image = frame.decode().image
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    if detections is None or detections.frame_size != (image.shape[1], image.shape[0]):
        return encode_jpeg(image)
    return encode_jpeg(draw_snapshot(image, detections.detections, list(detections.violations)))


def _still(obj: StoredObject) -> StillOut:
    return StillOut(key=obj.key, sha256=obj.sha256, size=obj.size)


def current_frame(source: LiveSource | None, camera_id: int) -> CurrentFrame:
    """The current frame of a camera this process's worker runs, as held and with boxes (503 when it runs
    no such camera, 409 before its first frame)."""
    running = require_source(source, camera_id)
    frame = running.live_frame(str(camera_id))
    if frame is None:
        raise Conflict(f"camera {camera_id} has no live frame yet (is it streaming?)")
    annotated = _annotated(frame, running.live_detections(str(camera_id)))
    return CurrentFrame(camera_id=camera_id, frame_ts=frame.ts, still=frame.jpeg, annotated=annotated)


def capture(
    session: Session,
    store: ObjectStore,
    frame: CurrentFrame,
    camera: Camera,
    user: User,
    manual: ManualEventIn | None,
) -> CaptureOut:
    """Store a camera's current frame (as held, and with boxes) like any evidence; optionally open a manual
    event whose snapshot is that still. Objects first, then one DB transaction (audit included). The frame
    comes from this process's worker or, in deployed mode, from the owning worker (`api.worker_proxy`)."""
    taken = datetime.fromtimestamp(frame.frame_ts, UTC)
    base = f"cameras/{camera.id}/{taken:%Y/%m/%d}/capture-{uuid.uuid4().hex}"
    still = store.put(f"{base}/frame.jpg", frame.still, "image/jpeg")
    annotated = store.put(f"{base}/frame-boxes.jpg", frame.annotated, "image/jpeg")
    out = CaptureOut(
        camera_id=camera.id, frame_ts=frame.frame_ts, still=_still(still), annotated=_still(annotated)
    )
    payload = out.model_dump(mode="json", exclude={"event_id"})
    audit_log.append(session, actor_of(user), "live.captured", f"camera:{camera.id}", payload)
    session.commit()
    if manual is not None:
        event = open_manual_event(session, camera, user, manual, taken, still, annotated)
        report = {"kind": manual.kind, "note": manual.note, "still_sha256": still.sha256}
        audit_log.append(session, actor_of(user), "event.reported", f"event:{event.id}", report)
        session.commit()
        out.event_id = event.id
    return out


def open_manual_event(
    session: Session,
    camera: Camera,
    user: User,
    manual: ManualEventIn,
    at: datetime,
    still: StoredObject,
    annotated: StoredObject,
) -> Event:
    """An event opened by hand: no clip, the still as its snapshot; then the normal review path."""
    rule_snapshot = {
        "rule_version": MANUAL_MODEL,
        "manual": True,
        "reported_by": actor_of(user),
        "note": manual.note,
        "annotated_still": {"key": annotated.key, "sha256": annotated.sha256},
    }
    violation = {"kind": manual.kind, "ts": at, "track_id": None, "box": None, "confidence": None}
    return record_event(
        session,
        camera_id=camera.id,
        kinds=[manual.kind],
        started_at=at,
        ended_at=at,
        violations=[violation],
        snapshot=still,
        clip=None,
        clip_duration_s=None,
        model_version=MANUAL_MODEL,
        rule_snapshot=rule_snapshot,
    )
