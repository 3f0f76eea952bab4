"""What a camera runs, built from its database rows: ONE builder for the API and the worker.

The worker builds every camera's runtime config with `camera_runtime` when it syncs; the API builds
the same thing inside the transaction of every write that changes what a camera runs and answers 422
with the reason when it fails (`require_runnable`), so what the API accepts is what the worker runs.
This module holds no worker wiring (threads, sources): audit_api.worker.sync does that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api.models import Calibration, Camera, RuleConfig, Zone
from audit_api.services.errors import Invalid
from detect.rules_config import Calibration as CalibrationConfig
from detect.rules_config import CameraRules, Schedule, ZoneConfig
from detect.rules_config import RuleConfig as RuleSettings
from ingest.sampler import SamplingConfig
from ingest.urls import CameraNetworkPolicy, InvalidCameraURL, validate_camera_url

_M = TypeVar("_M", bound=BaseModel)


class CameraConfigError(ValueError):
    """The camera's stored configuration cannot run; the message says why (readable, redacted)."""


@dataclass(frozen=True)
class CameraRuntime:
    """Everything the worker needs from the database to run one camera (all of it validated)."""

    camera_id: int
    rules: CameraRules
    sampling: SamplingConfig
    url: str | None  # validated, network policy applied to an IP literal; None = pushed (WHIP)
    version: str  # changes whenever any input changes; the worker restarts the camera on a new one


@dataclass(frozen=True)
class _Rows:
    zones: Sequence[Zone]
    calibration: Calibration | None
    rules: RuleConfig | None


def _rows(session: Session, camera: Camera) -> _Rows:
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
    return _Rows(zones, calibration, rule_row)


def config_version(session: Session, camera: Camera) -> str:
    """A version string of every input of the camera's runtime config (valid or not)."""
    rows = _rows(session, camera)
    return _version(camera, rows)


def _version(camera: Camera, rows: _Rows) -> str:
    url_digest = hashlib.sha256((camera.url or "").encode()).hexdigest()[:12]  # the URL may hold a password
    return ":".join(
        [
            f"c{camera.config_version}",
            "z" + ",".join(f"{z.id}.{z.version}" for z in rows.zones),
            f"k{rows.calibration.version if rows.calibration else 0}",
            f"r{rows.rules.id}.{rows.rules.version}" if rows.rules else "r0",
            f"t{camera.site.timezone}",  # zone schedules are read in the site's time zone
            f"u{url_digest}",
        ]
    )


def camera_rules(session: Session, camera: Camera) -> tuple[CameraRules, str]:
    """The camera's rules as the detect package runs them, plus the version string of all inputs.

    Raises CameraConfigError when the stored zones, calibration, rules or site time zone cannot run.
    """
    rows = _rows(session, camera)
    return _rules(camera, rows), _version(camera, rows)


def _rules(camera: Camera, rows: _Rows) -> CameraRules:
    zones = [_zone(zone, camera.site.timezone) for zone in rows.zones]
    calibration = None
    if rows.calibration is not None:
        points = {
            "image_points": rows.calibration.image_points,
            "world_points_m": rows.calibration.world_points_m,
        }
        calibration = _validated(CalibrationConfig, points, "calibration")
    settings = RuleSettings()
    if rows.rules is not None:
        body = dict(rows.rules.config) | {"version": rows.rules.version}
        settings = _validated(RuleSettings, body, "rules")
    return _validated(CameraRules, {"zones": zones, "calibration": calibration, "rules": settings}, "rules")


def _validated(model: type[_M], data: object, what: str) -> _M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CameraConfigError(f"{what}: {_describe(exc)}") from None


def _zone(zone: Zone, timezone: str) -> ZoneConfig:
    label = f"zone {zone.id} ({zone.name[:40]!r})"
    schedule = None
    if zone.schedule:  # stored as weekly windows in the site's local time
        try:
            schedule = Schedule(timezone=timezone, windows=zone.schedule)  # type: ignore[arg-type]
        except ValidationError as exc:
            bad_zone = any(e["loc"][:1] == ("timezone",) for e in exc.errors())
            where = f"site time zone {timezone!r}" if bad_zone else f"{label} schedule"
            raise CameraConfigError(f"{where}: {_describe(exc)}") from None
    body = {
        "id": str(zone.id),
        "name": zone.name,
        "polygon": zone.polygon,
        "required_ppe": zone.required_ppe,
        "occupancy_cap": zone.occupancy_cap,
        "schedule": schedule,
    }
    return _validated(ZoneConfig, body, label)


def camera_runtime(
    session: Session, camera: Camera, policy: CameraNetworkPolicy | None = None
) -> CameraRuntime:
    """The camera's validated runtime config; CameraConfigError says why it cannot run.

    `policy` (the settings' camera network policy) is applied to an IP literal host; None checks the
    URL's syntax only (for writes that do not touch the URL). The worker always passes its policy, and
    checks resolved host names again before each connection.
    """
    rows = _rows(session, camera)
    rules = _rules(camera, rows)
    try:
        sampling = SamplingConfig.model_validate(camera.config or {})
    except ValidationError as exc:
        raise CameraConfigError(f"sampling config: {_describe(exc)}") from None
    url = None
    if camera.url is not None:
        try:
            url = validate_camera_url(camera.url, policy)
        except InvalidCameraURL as exc:
            raise CameraConfigError(str(exc)) from None
    return CameraRuntime(camera.id, rules, sampling, url, _version(camera, rows))


def require_runnable(
    session: Session, cameras: Iterable[Camera], policy: CameraNetworkPolicy | None = None
) -> None:
    """Build each camera's runtime config as the worker will; 422 (Invalid, rolled back) if one fails.

    Call after flushing a change and before committing it; pass the settings' network policy when the
    change touches a camera URL (None: the URL's syntax only).
    """
    for camera in cameras:
        try:
            camera_runtime(session, camera, policy)
        except CameraConfigError as exc:
            message = f"camera {camera.id} ({camera.name!r}) could not run this: {exc}"
            session.rollback()
            raise Invalid(message) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else str(error["msg"]))
    return "; ".join(parts)
