"""`siteaudit demo`: the whole path on one video or RTSP camera, on the embedded default.

A file is analysed once, start to end, at full speed (timestamps come from the video, so sampling and
clip timing are the same as live); an RTSP camera is run by the worker for as long as the server runs.
The demo seeds a site, a camera and one user per role so the pages can be tried at once.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.models import Camera, CameraKind, Role, Site, User
from audit_api.services.camera_runtime import camera_runtime
from audit_api.services.users import create_user
from audit_api.worker.recorder import EventRecorder
from detect.model import Detector
from ingest.files import VideoFileSource
from ingest.pipeline import CameraPipeline, PipelineConfig
from ingest.source import FrameSource

log = logging.getLogger(__name__)

DEMO_SITE = "Demo site"
DEMO_PASSWORD = "siteaudit-demo"  # dev mode only: the demo refuses to seed users outside it
DEMO_USERS = (
    ("admin@demo.local", Role.ADMIN),
    ("inspector@demo.local", Role.INSPECTOR),
    ("supervisor@demo.local", Role.SUPERVISOR),
)


@dataclass(frozen=True)
class DemoResult:
    camera_id: int
    frames: int
    analysed: int
    event_ids: list[int]
    seconds: float


def seed(session: Session, camera_name: str, url: str | None) -> Camera:
    """Idempotent: the demo site, its camera for this source, and one user per role."""
    site = session.scalars(select(Site).where(Site.name == DEMO_SITE)).first()
    if site is None:
        site = Site(name=DEMO_SITE, address="Sample footage")
        session.add(site)
        session.flush()
    camera = session.scalars(
        select(Camera).where(Camera.site_id == site.id, Camera.name == camera_name)
    ).first()
    if camera is None:
        # A file is pushed frame by frame like a WHIP camera; an RTSP URL is pulled.
        kind = CameraKind.RTSP if url else CameraKind.WHIP
        camera = Camera(site_id=site.id, name=camera_name, kind=kind, url=url, enabled=url is not None)
        session.add(camera)
    session.commit()
    for email, role in DEMO_USERS:
        if session.scalars(select(User).where(User.email == email)).first() is None:
            create_user(session, email, DEMO_PASSWORD, role, name=role.value.title(), site_ids=[site.id])
    return camera


def analyse_file(
    path: Path,
    camera: Camera,
    sessions: sessionmaker[Session],
    detector: Detector,
    recorder: EventRecorder,
) -> DemoResult:
    """Run one video through sampling → detector → rules → events → clips → storage and DB."""
    with sessions() as session:
        runtime = camera_runtime(session, session.get(Camera, camera.id) or camera)
    started = time.monotonic()
    before = len(recorder.recorded)
    source: FrameSource = VideoFileSource(str(camera.id), path)
    frames = analysed = 0
    last_ts = 0.0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="clips") as pool:
        pipeline = CameraPipeline(
            str(camera.id),
            runtime.rules,
            sink=recorder,
            clip_pool=pool,
            model_version=detector.model_version,
            config=PipelineConfig(sampling=runtime.sampling),
        )
        try:
            for frame in source.frames():
                frames += 1
                last_ts = frame.ts
                if pipeline.offer(frame):
                    analysed += 1
                    pipeline.detect_and_analyze(frame, detector)
        finally:
            source.close()
        pipeline.finish(last_ts)
        wait(pipeline.published)
        for future in pipeline.published:
            future.result()  # surface a storage/DB failure instead of a silent empty demo
    return DemoResult(camera.id, frames, analysed, recorder.recorded[before:], time.monotonic() - started)
