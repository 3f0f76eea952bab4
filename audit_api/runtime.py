"""Wiring shared by `siteaudit demo`, `serve` and `worker`: cameras from the DB into a running Worker.

The database is the source of truth for cameras, zones, calibration and rules; `CameraSync` turns its
rows into `CameraSpec`s and re-syncs the worker periodically, so cameras added, changed or removed
through the API take effect without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.models import Camera, CameraStatus
from audit_api.models import UnmonitoredInterval as UnmonitoredIntervalRow
from audit_api.recorder import EventRecorder
from audit_api.services.camera_runtime import CameraConfigError, camera_runtime, config_version
from audit_api.storage import SpoolingStore
from detect.model import Detector
from detect.rules_config import CameraRules
from ingest.health import UnmonitoredInterval
from ingest.pipeline import PipelineConfig
from ingest.rtsp import RtspSource
from ingest.urls import CameraNetworkPolicy
from ingest.worker import CameraSpec, Worker

log = logging.getLogger(__name__)


def persist_interval(sessions: sessionmaker[Session]) -> Callable[[UnmonitoredInterval], None]:
    """The worker's outage callback: each closed unmonitored interval becomes a row for reports."""

    def persist(interval: UnmonitoredInterval) -> None:
        if not interval.camera_id.isdigit():
            return
        try:
            with sessions() as session:
                session.add(
                    UnmonitoredIntervalRow(
                        camera_id=int(interval.camera_id),
                        started_at=datetime.fromtimestamp(interval.start, UTC),
                        ended_at=datetime.fromtimestamp(interval.end, UTC) if interval.end else None,
                        reason=interval.reason[:500],
                    )
                )
                session.commit()
        except SQLAlchemyError:
            log.exception("camera %s: unmonitored interval not stored: %s", interval.camera_id, interval)

    return persist


def camera_specs(session: Session, policy: CameraNetworkPolicy | None = None) -> list[CameraSpec]:
    """Every enabled camera, built with the API's own builder (camera_runtime). A camera whose stored
    configuration cannot run is still listed, with `config_error`: the worker reports it as
    invalid_config (and unmonitored) instead of skipping it silently."""
    policy = policy or CameraNetworkPolicy()
    specs: list[CameraSpec] = []
    for camera in session.scalars(select(Camera).where(Camera.enabled.is_(True)).order_by(Camera.id)):
        cid = str(camera.id)
        try:
            runtime = camera_runtime(session, camera, policy)
        except CameraConfigError as exc:  # the worker logs it once, when it takes the camera
            version = f"{config_version(session, camera)}:invalid"
            specs.append(CameraSpec(cid, CameraRules(), version=version, config_error=str(exc)))
            continue
        factory: Callable[[], RtspSource] | None = None
        if runtime.url:
            url = runtime.url
            factory = lambda url=url, cid=cid: RtspSource(cid, url, policy=policy)  # noqa: E731
        pipeline = PipelineConfig(sampling=runtime.sampling)
        specs.append(CameraSpec(cid, runtime.rules, factory, pipeline=pipeline, version=runtime.version))
    return specs


def publish_status(session: Session, health: dict[str, dict[str, Any]]) -> None:
    """Store the worker's live view of each camera, so an API process without a worker can report it."""
    now = datetime.now(UTC)
    for camera_id, snapshot in health.items():
        if camera_id.isdigit() and session.get(Camera, int(camera_id)) is not None:
            session.merge(CameraStatus(camera_id=int(camera_id), snapshot=snapshot, updated_at=now))
    session.commit()


class CameraSync:
    """Keeps a Worker's cameras equal to the database and drains spooled evidence, every `interval_s`."""

    def __init__(
        self,
        worker: Worker,
        sessions: sessionmaker[Session],
        recorder: EventRecorder,
        *,
        interval_s: float = 5.0,
        on_interval: Callable[[UnmonitoredInterval], None] | None = None,
        policy: CameraNetworkPolicy | None = None,
    ) -> None:
        self.worker = worker
        self._policy = policy or CameraNetworkPolicy()
        self._sessions = sessions
        self._recorder = recorder
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-sync", daemon=True)

    def sync_once(self) -> None:
        with self._sessions() as session:
            self.worker.sync(camera_specs(session, self._policy))
            publish_status(session, self.worker.health())
        store = self._recorder.store
        if isinstance(store, SpoolingStore) and store.pending():
            store.drain()
        self._recorder.retry_unstored()
        self._recorder.retry_outbox()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync_once()
            except Exception:
                log.exception("camera sync failed; retrying in %.0f s", self._interval_s)
            self._stop.wait(self._interval_s)


def start_worker(
    detector: Detector,
    sessions: sessionmaker[Session],
    recorder: EventRecorder,
    *,
    policy: CameraNetworkPolicy | None = None,
) -> tuple[Worker, Callable[[], None]]:
    """A running Worker kept in step with the database (outages persisted); returns it and its stop.

    `policy` (Settings.camera_network_policy) says which addresses cameras may be at."""
    worker = Worker(detector, recorder, on_interval=persist_interval(sessions))
    sync = CameraSync(worker, sessions, recorder, policy=policy)
    worker.start()
    sync.start()

    def stop() -> None:
        sync.stop()
        worker.stop()

    return worker, stop
