"""Zones, calibration and rule thresholds per camera (admins write; every role reads its sites' cameras)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from audit_api.api.deps import AdminUser, SessionDep, ViewerUser
from audit_api.api.params import Id, PageDep, set_total
from audit_api.api.route_docs import CONFLICT, DocumentedRoute, errors
from audit_api.schemas.geometry import CalibrationIn, RuleConfigIn, ZoneIn
from audit_api.schemas.sites import CalibrationOut, RuleConfigOut, ZoneOut
from audit_api.services import camera_config as service

router = APIRouter(tags=["camera config"], route_class=DocumentedRoute)


@router.get("/cameras/{camera_id}/zones")
def list_zones(
    camera_id: Id, session: SessionDep, user: ViewerUser, page: PageDep, response: Response
) -> list[ZoneOut]:
    zones, total = service.list_zones(session, camera_id, user, page)
    set_total(response, total)
    return [ZoneOut.model_validate(z) for z in zones]


@router.post("/cameras/{camera_id}/zones", status_code=status.HTTP_201_CREATED, responses=CONFLICT)
def create_zone(camera_id: Id, body: ZoneIn, session: SessionDep, admin: AdminUser) -> ZoneOut:
    return ZoneOut.model_validate(service.create_zone(session, camera_id, body, admin))


@router.get("/zones/{zone_id}")
def get_zone(zone_id: Id, session: SessionDep, user: ViewerUser) -> ZoneOut:
    return ZoneOut.model_validate(service.get_zone(session, zone_id, user))


@router.put("/zones/{zone_id}", responses=CONFLICT)
def replace_zone(zone_id: Id, body: ZoneIn, session: SessionDep, admin: AdminUser) -> ZoneOut:
    return ZoneOut.model_validate(service.replace_zone(session, zone_id, body, admin))


@router.delete("/zones/{zone_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_zone(zone_id: Id, session: SessionDep, admin: AdminUser) -> Response:
    service.delete_zone(session, zone_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/cameras/{camera_id}/calibration")
def get_calibration(camera_id: Id, session: SessionDep, user: ViewerUser) -> CalibrationOut:
    return CalibrationOut.model_validate(service.get_calibration(session, camera_id, user))


@router.put("/cameras/{camera_id}/calibration")
def set_calibration(
    camera_id: Id, body: CalibrationIn, session: SessionDep, admin: AdminUser
) -> CalibrationOut:
    return CalibrationOut.model_validate(service.set_calibration(session, camera_id, body, admin))


@router.get("/cameras/{camera_id}/rules")
def get_camera_rules(camera_id: Id, session: SessionDep, user: ViewerUser) -> RuleConfigOut:
    return RuleConfigOut.model_validate(service.get_rules(session, camera_id, user))


@router.put("/cameras/{camera_id}/rules")
def set_camera_rules(
    camera_id: Id, body: RuleConfigIn, session: SessionDep, admin: AdminUser
) -> RuleConfigOut:
    return RuleConfigOut.model_validate(service.set_rules(session, camera_id, body, admin))


@router.delete("/cameras/{camera_id}/rules", status_code=status.HTTP_204_NO_CONTENT)
def clear_camera_rules(camera_id: Id, session: SessionDep, admin: AdminUser) -> Response:
    """Drop the camera's own rules: it runs the global ones (or the defaults) again."""
    service.clear_rules(session, camera_id, admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/rules", responses=errors(404))  # 404 until rules are first set
def get_global_rules(session: SessionDep, user: ViewerUser) -> RuleConfigOut:
    return RuleConfigOut.model_validate(service.get_rules(session, None, user))


@router.put("/rules")
def set_global_rules(body: RuleConfigIn, session: SessionDep, admin: AdminUser) -> RuleConfigOut:
    return RuleConfigOut.model_validate(service.set_rules(session, None, body, admin))
