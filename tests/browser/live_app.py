"""The real siteaudit app (migrated SQLite, local evidence store, web/ pages) under uvicorn on loopback,
seeded with a site, a camera, one user per role, and events whose clip is real H.264 cut from site footage."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import httpx
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from audit_api.db import upgrade_to_head
from audit_api.main import build_store, create_app
from audit_api.models import Camera, CameraKind, Event, Role, Site
from audit_api.services.events import record_event
from audit_api.services.users import create_user
from audit_api.settings import Settings
from audit_api.storage import LocalStore, ObjectStore
from tests.fixtures.net import serve_app

WEB = Path(__file__).resolve().parents[2] / "web"
PASSWORD = "correct horse battery"
USERS = {
    "admin": "admin@example.com",
    "inspector": "inspector@example.com",
    "supervisor": "boss@example.com",
    "other_supervisor": "other-boss@example.com",
}
CLIP_SIZE = (640, 360)


@dataclass(frozen=True)
class Evidence:
    """An H.264 MP4 clip and a JPEG snapshot (its middle frame), encoded in memory."""

    clip: bytes
    snapshot: bytes
    duration_s: float


def encode_evidence(video: Path, seconds: float = 2.0) -> Evidence:
    """The first `seconds` of `video` as a 640x360 yuv420p H.264 MP4 (faststart), plus a snapshot."""
    frames: list[av.VideoFrame] = []
    with av.open(str(video)) as source:
        stream = source.streams.video[0]
        rate = stream.average_rate or Fraction(25)
        for frame in source.decode(stream):
            if len(frames) >= round(seconds * rate):
                break
            frames.append(frame.reformat(*CLIP_SIZE, format="yuv420p"))
    # faststart rewrites the file to move the index up front, so it needs a real path, not a BytesIO.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        _write_h264(path, frames, rate)
        clip = path.read_bytes()
    ok, jpeg = cv2.imencode(".jpg", frames[len(frames) // 2].to_ndarray(format="bgr24"))
    assert ok, "OpenCV could not encode the snapshot"
    return Evidence(clip, jpeg.tobytes(), len(frames) / float(rate))


def _write_h264(path: Path, frames: list[av.VideoFrame], rate: Fraction) -> None:
    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as sink:
        encoder = sink.add_stream("libx264", rate=rate)
        encoder.width, encoder.height = CLIP_SIZE
        encoder.pix_fmt = "yuv420p"
        encoder.options = {"preset": "ultrafast", "crf": "30"}
        for i, frame in enumerate(frames):
            frame.pts, frame.time_base = i, Fraction(1) / rate
            sink.mux(encoder.encode(frame))
        sink.mux(encoder.encode(None))


@dataclass
class AuditServer:
    base_url: str
    app: FastAPI
    store: ObjectStore
    evidence: Evidence
    site_id: int
    other_site_id: int
    camera_id: int
    other_camera_id: int
    _counter: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))

    @property
    def sessions(self) -> sessionmaker[Session]:
        factory: sessionmaker[Session] = self.app.state.sessionmaker
        return factory

    def request(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An API request as one of the seeded users (`role` is a key of USERS), whatever its status."""
        form = {"username": USERS[role], "password": PASSWORD}
        token = httpx.post(f"{self.base_url}/api/auth/token", data=form).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)

    def record(self, camera_id: int | None = None, kinds: tuple[str, ...] = ("no_vest",)) -> Event:
        """Record an event the way the worker does: evidence into the store, then record_event."""
        n = next(self._counter)
        clip = self.store.put(f"events/test-{n}/clip.mp4", self.evidence.clip, "video/mp4")
        snapshot = self.store.put(f"events/test-{n}/snapshot.jpg", self.evidence.snapshot, "image/jpeg")
        started = datetime.now(UTC) - timedelta(seconds=30) + timedelta(milliseconds=n)
        violations: list[dict[str, Any]] = [
            {"kind": k, "track_id": 4, "ts": started + timedelta(seconds=1), "confidence": 0.77, "box": None}
            for k in kinds
        ]
        with self.sessions() as session:
            return record_event(
                session,
                camera_id=camera_id or self.camera_id,
                kinds=list(kinds),
                started_at=started,
                ended_at=started + timedelta(seconds=self.evidence.duration_s),
                violations=violations,
                snapshot=snapshot,
                clip=clip,
                clip_duration_s=self.evidence.duration_s,
                model_version="css10-yolov8n-416",
                rule_snapshot={"rule_version": "test-rules-1", "k": 3, "n": 5},
            )


def _seed(factory: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with factory() as session:
        site, other = Site(name="North yard", locale="en"), Site(name="South yard", locale="en")
        session.add_all([site, other])
        session.flush()
        camera = Camera(site_id=site.id, name="Gate", kind=CameraKind.RTSP, url="rtsp://cam.local/gate")
        other_camera = Camera(site_id=other.id, name="Crane", kind=CameraKind.RTSP, url="rtsp://cam.local/c")
        session.add_all([camera, other_camera])
        session.commit()
        create_user(session, USERS["admin"], PASSWORD, Role.ADMIN, name="Ada Admin")
        create_user(session, USERS["inspector"], PASSWORD, Role.INSPECTOR, name="Ivo Inspector")
        create_user(session, USERS["supervisor"], PASSWORD, Role.SUPERVISOR, name="Sam", site_ids=[site.id])
        create_user(session, USERS["other_supervisor"], PASSWORD, Role.SUPERVISOR, site_ids=[other.id])
        return site.id, other.id, camera.id, other_camera.id


@contextmanager
def serve_audit(
    data_dir: Path, evidence: Evidence, *, settings: Settings | None = None
) -> Iterator[AuditServer]:
    """With `settings`, evidence goes where they say (e.g. S3); else to a LocalStore in `data_dir`."""
    settings = settings or Settings(dev_mode=True, data_dir=data_dir, web_dir=WEB)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.effective_database_url)
    store: ObjectStore = LocalStore(data_dir / "evidence")
    if settings.storage_backend != "local":
        store = build_store(settings)
        store.check()
    app = create_app(settings, store=store)
    ids = _seed(app.state.sessionmaker)
    with serve_app(app, name="audit-test-server") as base_url:
        yield AuditServer(base_url, app, store, evidence, *ids)
