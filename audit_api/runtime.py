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

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.models import Calibration, Camera, CameraStatus, RuleConfig, Zone
from audit_api.models import UnmonitoredInterval as UnmonitoredIntervalRow
from audit_api.recorder import EventRecorder
from audit_api.storage import SpoolingStore
from detect.model import Detector
from detect.rules_config import CameraRules
from ingest.health import UnmonitoredInterval
from ingest.rtsp import RtspSource
from ingest.worker import CameraSpec, Worker

log = logging.getLogger(__name__)


def camera_rules(session: Session, camera: Camera) -> tuple[CameraRules, str]:
    """The camera's rules as the detect package expects them, plus a version string of all inputs."""
    zones = session.scalars(select(Zone).where(Zone.camera_id == camera.id).order_by(Zone.id)).all()
    calibration = session.scalars(select(Calibration).where(Calibration.camera_id == camera.id)).first()
    rule_row = (
        session.scalars(
            select(RuleConfig).where(RuleConfig.camera_id == camera.id).order_by(RuleConfig.id.desc())
        ).first()
        or session.scalars(
            select(RuleConfig).where(RuleConfig.camera_id.is_(None)).order_by(RuleConfig.id.desc())
        ).first()
    )
    body: dict[str, Any] = {
        "zones": [_zone_dict(z, camera.site.timezone) for z in zones],
        "calibration": (
            {"image_points": calibration.image_points, "world_points_m": calibration.world_points_m}
            if calibration
            else None
        ),
    }
    if rule_row is not None:
        body["rules"] = dict(rule_row.config) | {"version": rule_row.version}
    rules = CameraRules.model_validate(body)
    version = ":".join(
        [
            f"c{camera.config_version}",
            "z" + ",".join(f"{z.id}.{z.version}" for z in zones),
            f"k{calibration.version if calibration else 0}",
            f"r{rule_row.id}.{rule_row.version}" if rule_row else "r0",
            camera.url or "",
        ]
    )
    return rules, version


def _zone_dict(zone: Zone, timezone: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(zone.id),
        "name": zone.name,
        "polygon": zone.polygon,
        "required_ppe": zone.required_ppe,
        "occupancy_cap": zone.occupancy_cap,
    }
    if zone.schedule:  # stored as weekly windows in the site's local time
        out["schedule"] = {"timezone": timezone, "windows": zone.schedule}
    return out


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


def camera_specs(session: Session) -> list[CameraSpec]:
    """Every enabled camera whose configuration is valid; invalid ones are logged and skipped."""
    specs: list[CameraSpec] = []
    for camera in session.scalars(select(Camera).where(Camera.enabled.is_(True)).order_by(Camera.id)):
        try:
            rules, version = camera_rules(session, camera)
        except ValidationError as exc:
            log.error("camera %s skipped: invalid configuration: %s", camera.id, exc.errors()[0]["msg"])
            continue
        factory: Callable[[], RtspSource] | None = None
        if camera.url:
            url, cid = camera.url, str(camera.id)
            factory = lambda url=url, cid=cid: RtspSource(cid, url)  # noqa: E731
        specs.append(CameraSpec(str(camera.id), rules, source_factory=factory, version=version))
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
    ) -> None:
        self.worker = worker
        self._sessions = sessions
        self._recorder = recorder
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="camera-sync", daemon=True)

    def sync_once(self) -> None:
        with self._sessions() as session:
            self.worker.sync(camera_specs(session))
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
    detector: Detector, sessions: sessionmaker[Session], recorder: EventRecorder
) -> tuple[Worker, Callable[[], None]]:
    """A running Worker kept in step with the database (outages persisted); returns it and its stop."""
    worker = Worker(detector, recorder, on_interval=persist_interval(sessions))
    sync = CameraSync(worker, sessions, recorder)
    worker.start()
    sync.start()

    def stop() -> None:
        sync.stop()
        worker.stop()

    return worker, stop
