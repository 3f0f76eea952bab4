"""Sites and cameras: admin CRUD, WHIP token issue/rotation. Each change commits with an audit row."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.auth import new_camera_token
from audit_api.models import Camera, CameraKind, Event, Site, User
from audit_api.schemas.sites import CameraIn, CameraUpdate, SiteIn
from audit_api.services.camera_runtime import require_runnable
from audit_api.services.errors import Conflict, Invalid
from audit_api.services.listing import Page, paginate
from audit_api.services.scope import SiteScope
from audit_api.services.users import actor_of
from ingest.urls import CameraNetworkPolicy, redact


def flush_or_conflict(session: Session, what: str) -> None:
    """Flush pending changes, turning a unique-constraint clash into a readable Conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict(f"{what} conflicts with existing data (duplicate name?)") from exc


def get_site(session: Session, site_id: int, viewer: User | None) -> Site:
    """The site if the viewer may see it; NotFound otherwise (None: the system, sees every site)."""
    return SiteScope.of(viewer).found(session.get(Site, site_id), lambda s: s.id, f"site {site_id}")


def list_sites(session: Session, viewer: User, page: Page) -> tuple[Sequence[Site], int]:
    query = SiteScope.of(viewer).where(select(Site).order_by(Site.id), Site.id)
    return paginate(session, query, page)


def create_site(session: Session, body: SiteIn, actor: User | None) -> Site:
    site = Site(**body.model_dump(mode="json"))
    session.add(site)
    flush_or_conflict(session, f"site {body.name!r}")
    audit_log.append(
        session, actor_of(actor), "site.created", f"site:{site.id}", body.model_dump(mode="json")
    )
    session.commit()
    return site


def update_site(session: Session, site_id: int, body: SiteIn, actor: User) -> Site:
    site = get_site(session, site_id, actor)
    for field, value in body.model_dump(mode="json").items():
        setattr(site, field, value)
    flush_or_conflict(session, f"site {body.name!r}")
    require_runnable(session, [c for c in site.cameras if c.enabled])  # zone schedules use its time zone
    audit_log.append(
        session, actor_of(actor), "site.updated", f"site:{site.id}", body.model_dump(mode="json")
    )
    session.commit()
    return site


def delete_site(session: Session, site_id: int, actor: User) -> None:
    site = get_site(session, site_id, actor)
    has_events = select(Event.id).join(Event.camera).where(Camera.site_id == site_id).limit(1)
    if session.scalars(has_events).first() is not None:
        raise Conflict(f"site {site_id} has recorded events; evidence is kept, so it cannot be deleted")
    session.delete(site)
    audit_log.append(session, actor_of(actor), "site.deleted", f"site:{site_id}", {"name": site.name})
    session.commit()


def get_camera(session: Session, camera_id: int, viewer: User | None) -> Camera:
    """The camera if the viewer may see its site; NotFound otherwise (None: the system)."""
    camera = session.get(Camera, camera_id)
    return SiteScope.of(viewer).found(camera, lambda c: c.site_id, f"camera {camera_id}")


def list_cameras(
    session: Session, viewer: User, page: Page, site_id: int | None = None
) -> tuple[Sequence[Camera], int]:
    query = SiteScope.of(viewer).where(select(Camera).order_by(Camera.id), Camera.site_id)
    if site_id is not None:
        query = query.where(Camera.site_id == site_id)
    return paginate(session, query, page)


def _camera_audit(camera: Camera) -> dict[str, Any]:
    return {
        "site_id": camera.site_id,
        "name": camera.name,
        "kind": camera.kind,
        "url": redact(camera.url) if camera.url else None,
        "enabled": camera.enabled,
        "config": camera.config,
        "config_version": camera.config_version,
    }


def create_camera(
    session: Session, body: CameraIn, actor: User | None, policy: CameraNetworkPolicy | None = None
) -> tuple[Camera, str | None]:
    """The new camera and, for WHIP cameras, the plaintext token (returned once, stored only hashed).

    `policy`: the settings' camera network policy (422 for a URL at a denied address)."""
    if session.get(Site, body.site_id) is None:
        raise Invalid(f"site {body.site_id} does not exist")
    token, token_hash = new_camera_token() if body.kind == CameraKind.WHIP else (None, None)
    camera = Camera(
        site_id=body.site_id,
        name=body.name,
        kind=body.kind,
        url=body.url,
        whip_token_hash=token_hash,
        enabled=body.enabled,
        config=body.config.model_dump(),
    )
    session.add(camera)
    flush_or_conflict(session, f"camera {body.name!r}")
    require_runnable(session, [camera], policy or CameraNetworkPolicy())
    audit_log.append(session, actor_of(actor), "camera.created", f"camera:{camera.id}", _camera_audit(camera))
    session.commit()
    return camera, token


def update_camera(
    session: Session,
    camera_id: int,
    body: CameraUpdate,
    actor: User,
    policy: CameraNetworkPolicy | None = None,
) -> Camera:
    camera = get_camera(session, camera_id, actor)
    if body.url is not None and camera.kind != CameraKind.RTSP:
        raise Invalid("only rtsp cameras have a url")
    changes = body.model_dump(exclude_none=True)
    for field, value in changes.items():
        setattr(camera, field, value)
    if changes:
        camera.config_version += 1  # workers reload on a new version; events record which one fired
    flush_or_conflict(session, f"camera {camera.name!r}")
    require_runnable(session, [camera], policy or CameraNetworkPolicy())
    audit_log.append(session, actor_of(actor), "camera.updated", f"camera:{camera.id}", _camera_audit(camera))
    session.commit()
    return camera


def rotate_camera_token(session: Session, camera_id: int, actor: User) -> tuple[Camera, str]:
    camera = get_camera(session, camera_id, actor)
    if camera.kind != CameraKind.WHIP:
        raise Conflict(f"camera {camera_id} is not a whip camera and has no token")
    token, camera.whip_token_hash = new_camera_token()
    audit_log.append(session, actor_of(actor), "camera.token_rotated", f"camera:{camera.id}", {})
    session.commit()
    return camera, token


def delete_camera(session: Session, camera_id: int, actor: User) -> None:
    camera = get_camera(session, camera_id, actor)
    if session.scalars(select(Event.id).where(Event.camera_id == camera_id).limit(1)).first() is not None:
        raise Conflict(f"camera {camera_id} has recorded events; disable it instead of deleting")
    session.delete(camera)
    audit_log.append(session, actor_of(actor), "camera.deleted", f"camera:{camera_id}", {"name": camera.name})
    session.commit()
