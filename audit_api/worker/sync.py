"""Wiring shared by `siteaudit demo`, `serve` and `worker`: the cameras this worker leases, from the DB
into a running Worker.

The database is the source of truth for cameras, zones, calibration and rules; `CameraSync` renews the
worker's camera leases (LeaseKeeper), turns the rows of the cameras it holds into `CameraSpec`s and
re-syncs the worker every third of the lease TTL, so cameras added, changed or removed through the API —
or taken over from a dead worker — take effect without a restart. A lease lost is a camera stopped.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.models import Camera, CameraStatus
from audit_api.services.camera_runtime import CameraConfigError, camera_runtime, config_version
from audit_api.services.leases import LeaseLost, check_lease
from audit_api.storage import SpoolingStore
from audit_api.worker.lease_keeper import LeaseKeeper
from audit_api.worker.recorder import EventRecorder
from detect.model import Detector
from detect.rules_config import CameraRules
from ingest.pipeline import PipelineConfig
from ingest.rtsp import RtspSource
from ingest.segments import DEFAULT_SEGMENT_S
from ingest.urls import CameraNetworkPolicy
from ingest.worker import CameraSpec, Worker

log = logging.getLogger(__name__)


def camera_specs(
    session: Session,
    policy: CameraNetworkPolicy | None = None,
    only: Collection[int] | None = None,
    *,
    segment_s: float = DEFAULT_SEGMENT_S,
) -> list[CameraSpec]:
    """Every enabled camera (or those of `only`), built with the API's own builder (camera_runtime). A
    camera whose stored configuration cannot run is still listed, with `config_error`: the worker
    reports it as invalid_config (and unmonitored) instead of skipping it silently."""
    policy = policy or CameraNetworkPolicy()
    specs: list[CameraSpec] = []
    query = select(Camera).where(Camera.enabled.is_(True)).order_by(Camera.id)
    if only is not None:
        query = query.where(Camera.id.in_(list(only)))
    for camera in session.scalars(query):
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
        pipeline = PipelineConfig(sampling=runtime.sampling, segment_s=segment_s)
        specs.append(CameraSpec(cid, runtime.rules, factory, pipeline=pipeline, version=runtime.version))
    return specs


def publish_status(
    session: Session, health: dict[str, dict[str, Any]], leases: LeaseKeeper | None = None
) -> None:
    """Store the worker's live view of each camera, so an API process without a worker can report it;
    with `leases`, only for cameras whose lease this worker still holds (checked in this transaction)."""
    now = datetime.now(UTC)
    for camera_id, snapshot in health.items():
        if not camera_id.isdigit() or session.get(Camera, int(camera_id)) is None:
            continue
        if leases is not None:
            token = leases.token(camera_id)
            if token is None:
                continue
            try:
                check_lease(session, int(camera_id), token)
            except LeaseLost as exc:
                leases.lose(exc.camera_id, exc.token)
                continue
        session.merge(CameraStatus(camera_id=int(camera_id), snapshot=snapshot, updated_at=now))
    session.commit()


class CameraSync:
    """Keeps a Worker's cameras equal to the ones it leases (every `leases.interval_s`, or at once when a
    lease is found lost) and, every `retry_s` on a thread of its own, drains spooled evidence into the
    store and the recorder's journal into the database."""

    def __init__(
        self,
        worker: Worker,
        sessions: sessionmaker[Session],
        recorder: EventRecorder,
        leases: LeaseKeeper,
        *,
        retry_s: float = 5.0,
        policy: CameraNetworkPolicy | None = None,
        segment_s: float = DEFAULT_SEGMENT_S,
    ) -> None:
        self.worker = worker
        self._segment_s = segment_s
        self.leases = leases
        self._policy = policy or CameraNetworkPolicy()
        self._sessions = sessions
        self._recorder = recorder
        self._retry_s = retry_s
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, name="camera-sync", daemon=True),
            threading.Thread(target=self._retry, name="evidence-retry", daemon=True),
        ]

    def sync_once(self) -> None:
        held = self.leases.renew()
        with self._sessions() as session:
            specs = camera_specs(session, self._policy, only=held, segment_s=self._segment_s)
        # The epoch is part of the version: a camera lost and claimed again restarts from scratch.
        specs = [dataclasses.replace(s, version=f"{s.version}@{held[int(s.camera_id)]}") for s in specs]
        self.worker.sync(specs)
        with self._sessions() as session:
            publish_status(session, self.worker.health(), self.leases)

    def retry_once(self) -> None:
        store = self._recorder.store
        if isinstance(store, SpoolingStore) and store.pending():
            store.drain()
        self._recorder.drain()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.leases.changed.set()
        for thread in self._threads:
            thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.leases.changed.clear()
            try:
                self.sync_once()
            except SQLAlchemyError as exc:  # the database is down: the cameras run on, writes are journaled
                log.error("camera sync: database unavailable (%s); retrying in %.1f s",
                          exc.__class__.__name__, self.leases.interval_s)  # fmt: skip
            except Exception:
                log.exception("camera sync failed; retrying in %.1f s", self.leases.interval_s)
            self.leases.changed.wait(self.leases.interval_s)

    def _retry(self) -> None:
        while not self._stop.wait(self._retry_s):
            try:
                self.retry_once()
            except Exception:
                log.exception("evidence retry failed; retrying in %.0f s", self._retry_s)


def start_worker(
    detector: Detector,
    sessions: sessionmaker[Session],
    recorder: EventRecorder,
    leases: LeaseKeeper,
    *,
    policy: CameraNetworkPolicy | None = None,
    segment_s: float = DEFAULT_SEGMENT_S,
) -> tuple[Worker, Callable[[], None]]:
    """A running Worker kept in step with the cameras it leases (outages persisted); returns it and its
    stop, which stops the cameras (their last writes still fenced by the lease) and then releases the
    leases so other workers take the cameras at once.

    `policy` (Settings.camera_network_policy) says which addresses cameras may be at; `segment_s`
    (Settings.clip_segment_s) how long each stored piece of a review item's recorded span is."""
    recorder.leases = leases  # every event write from now on carries the camera's lease token
    worker = Worker(detector, recorder, on_interval=recorder.interval)
    sync = CameraSync(worker, sessions, recorder, leases, policy=policy, segment_s=segment_s)
    worker.start()
    sync.start()

    def stop() -> None:
        sync.stop()
        worker.stop()
        leases.release()

    return worker, stop
