"""Camera health: the worker's live view (state, fps, last frame, reconnects) and persisted outages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit_api.api.deps import SessionDep, ViewerUser
from audit_api.api.params import Id
from audit_api.api.route_docs import DocumentedRoute
from audit_api.models import CAMERA_STATUS_STALE_AFTER, CameraStatus, Role, UnmonitoredInterval
from audit_api.services.sites import get_camera

router = APIRouter(tags=["cameras"], route_class=DocumentedRoute)


class IntervalOut(BaseModel):
    started_at: datetime
    ended_at: datetime | None
    reason: str


class CameraHealthOut(BaseModel):
    camera_id: int
    state: str = Field(
        description="starting|streaming|reconnecting|failed|stopped; invalid_config (the worker cannot run "
        "its stored configuration: last_error says why); not_running (no worker runs it) or "
        "worker_silent (its worker has not reported for 30 s)"
    )
    reported_at: datetime | None = Field(None, description="when the worker reported this state")
    input_fps: float | None = None
    analysed_fps: float | None = None
    last_frame_at: float | None = Field(None, description="epoch seconds of the newest frame")
    reconnect_count: int | None = None
    last_error: str | None = Field(None, description="admins only (it can tell open ports from closed ones)")
    distance_rule_enabled: bool = Field(description="False until the camera has a ground calibration")
    unmonitored: list[IntervalOut] = Field(description="recorded outages, newest first (up to 100)")


STALE_AFTER = CAMERA_STATUS_STALE_AFTER


def _shown(reason: str | None, *, admin: bool) -> str | None:
    """Admins see a failure reason in full; other roles a coarse one, without addresses or ports (which
    would tell an open port from a closed one)."""
    if admin or not reason:
        return reason
    if reason.startswith("invalid configuration"):
        return "invalid configuration (an admin sees why)"
    if reason.startswith(("stalled", "no data", "no frames")):
        return "no video from the camera"
    return "camera unreachable (an admin sees why)"


def _live(request: Request, session: Session, camera_id: int) -> tuple[dict[str, Any], datetime | None]:
    """This process's worker if it runs one; else what the worker process last stored in the database."""
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        return worker.health().get(str(camera_id), {}), datetime.now(UTC)
    row = session.get(CameraStatus, camera_id)
    if row is None:
        return {}, None
    if datetime.now(UTC) - row.updated_at > STALE_AFTER:
        return {"state": "worker_silent"}, row.updated_at
    return row.snapshot, row.updated_at


@router.get("/cameras/{camera_id}/health")
def camera_health(camera_id: Id, request: Request, session: SessionDep, user: ViewerUser) -> CameraHealthOut:
    camera = get_camera(session, camera_id, user)
    live, reported_at = _live(request, session, camera_id)
    admin = user.role == Role.ADMIN
    intervals = session.scalars(
        select(UnmonitoredInterval)
        .where(UnmonitoredInterval.camera_id == camera_id)
        .order_by(UnmonitoredInterval.started_at.desc())
        .limit(100)
    ).all()
    return CameraHealthOut(
        camera_id=camera_id,
        state=live.get("state", "not_running"),
        reported_at=reported_at,
        input_fps=live.get("input_fps"),
        analysed_fps=live.get("analysed_fps"),
        last_frame_at=live.get("last_frame_at"),
        reconnect_count=live.get("reconnect_count"),
        last_error=_shown(live.get("last_error"), admin=admin),
        distance_rule_enabled=camera.calibration is not None,
        unmonitored=[
            IntervalOut(
                started_at=i.started_at, ended_at=i.ended_at, reason=_shown(i.reason, admin=admin) or ""
            )
            for i in intervals
        ],
    )
