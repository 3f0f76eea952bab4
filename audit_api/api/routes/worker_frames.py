"""The worker's frame hand-over for captures, served only by `siteaudit worker` (audit_api.worker.http).

In deployed mode the API stores captures itself (the live view's capture, a patrol finding) and needs the
camera's current frame from the worker that runs it: `GET /api/cameras/{id}/live/current` answers the
`CurrentFrame` (the JPEG as the ring holds it and with the detector's latest boxes drawn). The API passes
on the caller's bearer token, as for the forwarded live view; this route checks it again with the same
code and roles as the capture route (admin or inspector, the camera's site in scope: else 404).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from audit_api.api.deps import SessionDep
from audit_api.api.params import Id
from audit_api.api.route_docs import DocumentedRoute, error, errors
from audit_api.api.routes.camera_live import StaffUser
from audit_api.api.worker_proxy import CURRENT_FRAME_PATH
from audit_api.services import live as live_service
from audit_api.services.sites import get_camera

router = APIRouter(tags=["worker"], route_class=DocumentedRoute)


@router.get(
    CURRENT_FRAME_PATH.removeprefix("/api"),
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "a CurrentFrame"}}
    | errors(409)
    | error(503, "this worker does not run the camera"),
)
def current_frame(camera_id: Id, request: Request, session: SessionDep, user: StaffUser) -> Response:
    """The camera's current frame, as held and with boxes (JPEGs in base64), for the API to store."""
    get_camera(session, camera_id, user)
    frame = live_service.current_frame(getattr(request.app.state, "worker", None), camera_id)
    return Response(
        frame.model_dump_json(), media_type="application/json", headers={"Cache-Control": "no-store"}
    )
