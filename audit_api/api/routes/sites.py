"""Sites and cameras: admins manage them; inspectors read all, supervisors only their own sites."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request, Response, status

from audit_api.api.deps import AdminUser, SessionDep, SettingsDep, ViewerUser
from audit_api.api.params import Id, IdFilter, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute
from audit_api.api.routes import whip
from audit_api.models import Camera, Role, User
from audit_api.schemas.actions import SupervisorOut
from audit_api.schemas.sites import (
    CameraCreated,
    CameraIn,
    CameraOut,
    CameraUpdate,
    SiteIn,
    SiteOut,
)
from audit_api.services import actions as actions_service
from audit_api.services import sites as service
from ingest.sampler import SamplingConfig
from ingest.urls import redact

router = APIRouter(tags=["sites"], route_class=DocumentedRoute)


def camera_out(camera: Camera, viewer: User) -> CameraOut:
    """The camera as the viewer may see it: only admins get its URL (redacted)."""
    return CameraOut(
        id=camera.id,
        site_id=camera.site_id,
        name=camera.name,
        kind=camera.kind,
        url=redact(camera.url) if camera.url and viewer.role == Role.ADMIN else None,
        enabled=camera.enabled,
        config=SamplingConfig.model_validate(camera.config or {}),
        config_version=camera.config_version,
    )


def camera_created(camera: Camera, admin: User, token: str | None, base_url: str) -> CameraCreated:
    """With a WHIP token: the phone page link (token in its fragment) and a QR code of it, shown once."""
    if token is None:
        return CameraCreated(**camera_out(camera, admin).model_dump())
    link = whip.enrolment_link(base_url, camera.id, token)
    qr = "data:image/png;base64," + base64.b64encode(whip.qr_png(link)).decode()
    return CameraCreated(
        **camera_out(camera, admin).model_dump(), whip_token=token, enrol_url=link, enrol_qr=qr
    )


@router.post("/sites", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_site(body: SiteIn, session: SessionDep, admin: AdminUser) -> SiteOut:
    return SiteOut.model_validate(service.create_site(session, body, admin))


@router.get("/sites")
def list_sites(session: SessionDep, user: ViewerUser, page: PageDep, response: Response) -> list[SiteOut]:
    sites, total = service.list_sites(session, user, page)
    set_total(response, total)
    return [SiteOut.model_validate(s) for s in sites]


@router.get("/sites/{site_id}")
def get_site(site_id: Id, session: SessionDep, user: ViewerUser) -> SiteOut:
    return SiteOut.model_validate(service.get_site(session, site_id, user))


@router.get("/sites/{site_id}/supervisors")
def list_site_supervisors(site_id: Id, session: SessionDep, user: ViewerUser) -> list[SupervisorOut]:
    """The site's active supervisors: who a corrective action of this site may be assigned to."""
    site = service.get_site(session, site_id, user)
    return [SupervisorOut.model_validate(u) for u in actions_service.site_supervisors(session, site.id)]


@router.put("/sites/{site_id}", responses=CONFLICT)
def update_site(site_id: Id, body: SiteIn, session: SessionDep, admin: AdminUser) -> SiteOut:
    return SiteOut.model_validate(service.update_site(session, site_id, body, admin))


@router.delete("/sites/{site_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_site(site_id: Id, session: SessionDep, admin: AdminUser) -> Response:
    service.delete_site(session, site_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/cameras", status_code=status.HTTP_201_CREATED, response_model_exclude_none=True, responses=CONFLICT
)
def create_camera(
    body: CameraIn, request: Request, session: SessionDep, admin: AdminUser, settings: SettingsDep
) -> CameraCreated:
    camera, token = service.create_camera(session, body, admin, settings.camera_network_policy)
    return camera_created(camera, admin, token, str(request.base_url))


@router.get("/cameras")
def list_cameras(
    session: SessionDep, user: ViewerUser, page: PageDep, response: Response, site_id: IdFilter = None
) -> list[CameraOut]:
    cameras, total = service.list_cameras(session, user, page, site_id)
    set_total(response, total)
    return [camera_out(c, user) for c in cameras]


@router.get("/cameras/{camera_id}")
def get_camera(camera_id: Id, session: SessionDep, user: ViewerUser) -> CameraOut:
    return camera_out(service.get_camera(session, camera_id, user), user)


@router.patch("/cameras/{camera_id}", responses=CONFLICT)
def update_camera(
    camera_id: Id, body: CameraUpdate, session: SessionDep, admin: AdminUser, settings: SettingsDep
) -> CameraOut:
    camera = service.update_camera(session, camera_id, body, admin, settings.camera_network_policy)
    return camera_out(camera, admin)


@router.post("/cameras/{camera_id}/token", responses=CONFLICT)
def rotate_camera_token(
    camera_id: Id, request: Request, session: SessionDep, admin: AdminUser
) -> CameraCreated:
    """Issue a new WHIP token (the old one stops working); shown once, with its enrolment link and QR."""
    camera, token = service.rotate_camera_token(session, camera_id, admin)
    return camera_created(camera, admin, token, str(request.base_url))


@router.delete("/cameras/{camera_id}", status_code=status.HTTP_204_NO_CONTENT, responses=CONFLICT)
def delete_camera(camera_id: Id, session: SessionDep, admin: AdminUser) -> Response:
    service.delete_camera(session, camera_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
