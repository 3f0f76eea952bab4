"""Camera health: the worker's live view (state, fps, last frame, reconnects) and persisted outages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from audit_api.api.deps import SessionDep, ViewerUser
from audit_api.models import Camera, UnmonitoredInterval
from audit_api.services.errors import NotFound

router = APIRouter(tags=["cameras"])


class IntervalOut(BaseModel):
    started_at: datetime
    ended_at: datetime | None
    reason: str


class CameraHealthOut(BaseModel):
    camera_id: int
    state: str = Field(description="starting|streaming|reconnecting|failed|stopped, or not_running")
    input_fps: float | None = None
    analysed_fps: float | None = None
    last_frame_at: float | None = Field(None, description="epoch seconds of the newest frame")
    reconnect_count: int | None = None
    last_error: str | None = None
    distance_rule_enabled: bool = Field(description="False until the camera has a ground calibration")
    unmonitored: list[IntervalOut] = Field(description="recorded outages, newest first (up to 100)")


def _live(request: Request) -> dict[str, dict[str, Any]]:
    worker = getattr(request.app.state, "worker", None)
    return worker.health() if worker is not None else {}


@router.get("/cameras/{camera_id}/health")
def camera_health(camera_id: int, request: Request, session: SessionDep, user: ViewerUser) -> CameraHealthOut:
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise NotFound(f"camera {camera_id} not found")
    live = _live(request).get(str(camera_id), {})
    intervals = session.scalars(
        select(UnmonitoredInterval)
        .where(UnmonitoredInterval.camera_id == camera_id)
        .order_by(UnmonitoredInterval.started_at.desc())
        .limit(100)
    ).all()
    return CameraHealthOut(
        camera_id=camera_id,
        state=live.get("state", "not_running"),
        input_fps=live.get("input_fps"),
        analysed_fps=live.get("analysed_fps"),
        last_frame_at=live.get("last_frame_at"),
        reconnect_count=live.get("reconnect_count"),
        last_error=live.get("last_error"),
        distance_rule_enabled=camera.calibration is not None,
        unmonitored=[
            IntervalOut(started_at=i.started_at, ended_at=i.ended_at, reason=i.reason) for i in intervals
        ],
    )
