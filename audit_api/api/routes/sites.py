"""Sites and cameras: admins manage them, every signed-in role may read them."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response, status
from sqlalchemy import select

from audit_api.api.deps import AdminUser, SessionDep, SettingsDep, ViewerUser
from audit_api.api.routes import whip
from audit_api.models import Camera, Site
from audit_api.schemas.sites import (
    CameraCreated,
    CameraIn,
    CameraOut,
    CameraUpdate,
    SiteIn,
    SiteOut,
)
from audit_api.services import sites as service
from ingest.sampler import SamplingConfig
from ingest.urls import redact

router = APIRouter(tags=["sites"])


def camera_out(camera: Camera) -> CameraOut:
    return CameraOut(
        id=camera.id,
        site_id=camera.site_id,
        name=camera.name,
        kind=camera.kind,
        url=redact(camera.url) if camera.url else None,
        enabled=camera.enabled,
        config=SamplingConfig.model_validate(camera.config or {}),
        config_version=camera.config_version,
    )


def camera_created(camera: Camera, token: str | None, base_url: str) -> CameraCreated:
    """With a WHIP token: the phone page link (token in its fragment) and a QR code of it, shown once."""
    if token is None:
        return CameraCreated(**camera_out(camera).model_dump())
    link = whip.enrolment_link(base_url, camera.id, token)
    qr = "data:image/png;base64," + base64.b64encode(whip.qr_png(link)).decode()
    return CameraCreated(**camera_out(camera).model_dump(), whip_token=token, enrol_url=link, enrol_qr=qr)


@router.post("/sites", status_code=status.HTTP_201_CREATED)
def create_site(body: SiteIn, session: SessionDep, admin: AdminUser) -> SiteOut:
    return SiteOut.model_validate(service.create_site(session, body, admin))


@router.get("/sites")
def list_sites(session: SessionDep, user: ViewerUser) -> list[SiteOut]:
    return [SiteOut.model_validate(s) for s in session.scalars(select(Site).order_by(Site.id))]


@router.get("/sites/{site_id}")
def get_site(site_id: int, session: SessionDep, user: ViewerUser) -> SiteOut:
    return SiteOut.model_validate(service.get_site(session, site_id))


@router.put("/sites/{site_id}")
def update_site(site_id: int, body: SiteIn, session: SessionDep, admin: AdminUser) -> SiteOut:
    return SiteOut.model_validate(service.update_site(session, site_id, body, admin))


@router.delete("/sites/{site_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_site(site_id: int, session: SessionDep, admin: AdminUser) -> Response:
    service.delete_site(session, site_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/cameras", status_code=status.HTTP_201_CREATED, response_model_exclude_none=True)
def create_camera(
    body: CameraIn, request: Request, session: SessionDep, admin: AdminUser, settings: SettingsDep
) -> CameraCreated:
    camera, token = service.create_camera(session, body, admin, settings.camera_network_policy)
    return camera_created(camera, token, str(request.base_url))


@router.get("/cameras")
def list_cameras(session: SessionDep, user: ViewerUser, site_id: int | None = None) -> list[CameraOut]:
    query = select(Camera).order_by(Camera.id)
    if site_id is not None:
        query = query.where(Camera.site_id == site_id)
    return [camera_out(c) for c in session.scalars(query)]


@router.get("/cameras/{camera_id}")
def get_camera(camera_id: int, session: SessionDep, user: ViewerUser) -> CameraOut:
    return camera_out(service.get_camera(session, camera_id))


@router.patch("/cameras/{camera_id}")
def update_camera(
    camera_id: int, body: CameraUpdate, session: SessionDep, admin: AdminUser, settings: SettingsDep
) -> CameraOut:
    camera = service.update_camera(session, camera_id, body, admin, settings.camera_network_policy)
    return camera_out(camera)


@router.post("/cameras/{camera_id}/token")
def rotate_camera_token(
    camera_id: int, request: Request, session: SessionDep, admin: AdminUser
) -> CameraCreated:
    """Issue a new WHIP token (the old one stops working); shown once, with its enrolment link and QR."""
    camera, token = service.rotate_camera_token(session, camera_id, admin)
    return camera_created(camera, token, str(request.base_url))


@router.delete("/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_camera(camera_id: int, session: SessionDep, admin: AdminUser) -> Response:
    service.delete_camera(session, camera_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
