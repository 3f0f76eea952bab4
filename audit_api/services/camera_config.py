"""Versioned per-camera configuration: zones, calibration and rule thresholds (plus global rules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.models import Calibration, Camera, RuleConfig, User, Zone
from audit_api.schemas.geometry import CalibrationIn, RuleConfigIn, ZoneIn
from audit_api.services.camera_runtime import require_runnable
from audit_api.services.errors import NotFound
from audit_api.services.listing import Page, paginate
from audit_api.services.scope import SiteScope
from audit_api.services.sites import flush_or_conflict, get_camera
from audit_api.services.users import actor_of


def _zone_values(body: ZoneIn) -> dict[str, Any]:
    """The zone's columns; schedule windows stored as the worker reads them (detect's WorkingHours)."""
    data = body.model_dump(mode="json")
    data["required_ppe"] = sorted(data["required_ppe"])
    data["polygon"] = [list(p) for p in body.polygon]
    if data["schedule"] is not None:
        data["schedule"] = [window | {"days": sorted(window["days"])} for window in data["schedule"]]
    return data


def list_zones(session: Session, camera_id: int, viewer: User, page: Page) -> tuple[Sequence[Zone], int]:
    get_camera(session, camera_id, viewer)
    return paginate(session, select(Zone).where(Zone.camera_id == camera_id).order_by(Zone.id), page)


def get_zone(session: Session, zone_id: int, viewer: User | None) -> Zone:
    """The zone if the viewer may see its camera's site; NotFound otherwise."""
    zone = session.get(Zone, zone_id)
    return SiteScope.of(viewer).found(zone, lambda z: z.camera.site_id, f"zone {zone_id}")


def create_zone(session: Session, camera_id: int, body: ZoneIn, actor: User) -> Zone:
    camera = get_camera(session, camera_id, actor)
    values = _zone_values(body)
    zone = Zone(camera_id=camera_id, **values)
    session.add(zone)
    flush_or_conflict(session, f"zone {zone.name!r} of camera {camera_id}")
    require_runnable(session, [camera])
    audit_log.append(session, actor_of(actor), "zone.created", f"zone:{zone.id}", {**values, "version": 1})
    session.commit()
    return zone


def replace_zone(session: Session, zone_id: int, body: ZoneIn, actor: User) -> Zone:
    zone = get_zone(session, zone_id, actor)
    values = _zone_values(body)
    for field, value in values.items():
        setattr(zone, field, value)
    zone.version += 1
    flush_or_conflict(session, f"zone {zone.name!r} of camera {zone.camera_id}")
    require_runnable(session, [zone.camera])
    payload = {**values, "version": zone.version}
    audit_log.append(session, actor_of(actor), "zone.updated", f"zone:{zone.id}", payload)
    session.commit()
    return zone


def delete_zone(session: Session, zone_id: int, actor: User) -> None:
    zone = get_zone(session, zone_id, actor)
    camera, name = zone.camera, zone.name
    session.delete(zone)
    session.flush()
    require_runnable(session, [camera])
    audit_log.append(session, actor_of(actor), "zone.deleted", f"zone:{zone_id}", {"name": name})
    session.commit()


def get_calibration(session: Session, camera_id: int, viewer: User) -> Calibration:
    camera = get_camera(session, camera_id, viewer)
    if camera.calibration is None:
        raise NotFound(f"camera {camera_id} has no calibration")
    return camera.calibration


def set_calibration(session: Session, camera_id: int, body: CalibrationIn, actor: User) -> Calibration:
    camera = get_camera(session, camera_id, actor)
    image = [list(p) for p in body.image_points]
    world = [list(p) for p in body.world_points_m]
    calibration = camera.calibration
    if calibration is None:
        calibration = Calibration(camera=camera, image_points=image, world_points_m=world)
        session.add(calibration)
    else:
        calibration.image_points, calibration.world_points_m = image, world
        calibration.version += 1
    session.flush()
    require_runnable(session, [camera])
    payload = {"image_points": image, "world_points_m": world, "version": calibration.version}
    audit_log.append(session, actor_of(actor), "calibration.set", f"camera:{camera_id}", payload)
    session.commit()
    return calibration


def _cameras_running(session: Session, camera_id: int | None) -> Sequence[Camera]:
    """The cameras whose runtime config a rules change for `camera_id` (None = global) affects."""
    if camera_id is not None:
        return [get_camera(session, camera_id, None)]
    own = select(RuleConfig.camera_id).where(RuleConfig.camera_id.is_not(None))
    query = select(Camera).where(Camera.enabled.is_(True), Camera.id.not_in(own)).order_by(Camera.id)
    return session.scalars(query).all()


def _rule_row(session: Session, camera_id: int | None) -> RuleConfig | None:
    query = select(RuleConfig).where(
        RuleConfig.camera_id.is_(None) if camera_id is None else RuleConfig.camera_id == camera_id
    )
    return session.scalars(query).first()


def get_rules(session: Session, camera_id: int | None, viewer: User) -> RuleConfig:
    """The camera's own rules (or the global ones for camera_id=None); 404 when never set."""
    if camera_id is not None:
        get_camera(session, camera_id, viewer)
    row = _rule_row(session, camera_id)
    if row is None:
        raise NotFound("no rules configured" + (f" for camera {camera_id}" if camera_id else ""))
    return row


def set_rules(session: Session, camera_id: int | None, body: RuleConfigIn, actor: User) -> RuleConfig:
    if camera_id is not None:
        get_camera(session, camera_id, actor)
    config = body.model_dump(mode="json", exclude={"version"})  # the row's version is the one that counts
    row = _rule_row(session, camera_id)
    if row is None:
        row = RuleConfig(camera_id=camera_id, config=config)
        session.add(row)
    else:
        row.config = config
        row.version += 1
    session.flush()
    require_runnable(session, _cameras_running(session, camera_id))
    entity = f"camera:{camera_id}" if camera_id is not None else "rules:global"
    audit_log.append(session, actor_of(actor), "rules.set", entity, {**config, "version": row.version})
    session.commit()
    return row


def clear_rules(session: Session, camera_id: int, actor: User) -> None:
    """Remove a camera's own rules (404 when it has none); the audit log keeps what they were."""
    get_camera(session, camera_id, actor)
    row = _rule_row(session, camera_id)
    if row is None:
        raise NotFound(f"camera {camera_id} has no rules of its own")
    audit_log.append(
        session, actor_of(actor), "rules.cleared", f"camera:{camera_id}", {"version": row.version}
    )
    session.delete(row)
    session.flush()
    require_runnable(session, _cameras_running(session, camera_id))  # back on the global rules
    session.commit()
