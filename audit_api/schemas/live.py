"""Live view bodies: viewer tokens, the latest boxes, captures and the manual events opened from them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detect.analyzer import ViolationKind

ManualKind = ViolationKind | Literal["other"]


class LiveTokenOut(BaseModel):
    token: str = Field(description="pass as ?token= to GET /api/cameras/{id}/live (an <img> sends no header)")
    expires_at: datetime
    url: str = Field(description="the stream URL with the token")
    max_fps: float = Field(description="frames per second this server sends each viewer")


class BoxOut(BaseModel):
    box: tuple[float, float, float, float] = Field(description="[x1, y1, x2, y2] normalised to the frame")
    label: str
    confidence: float | None
    violation: bool


class DetectionsOut(BaseModel):
    camera_id: int
    ts: float | None = Field(description="epoch seconds of the analysed frame; None before the first")
    frame_ts: float | None = Field(description="epoch seconds of the newest frame a viewer is sent")
    width: int | None
    height: int | None
    boxes: list[BoxOut]


class ManualEventIn(BaseModel):
    """A violation the inspector saw that the detector missed (or did not judge)."""

    model_config = ConfigDict(extra="forbid")

    kind: ManualKind
    note: str = Field("", max_length=5000)


class CaptureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: ManualEventIn | None = Field(
        None, description="also open a manual event with the still as evidence"
    )


class CurrentFrame(BaseModel):
    """A camera's current frame as its worker holds it, and the same frame with the detector's latest boxes:
    what a capture stores. In deployed mode the owning worker sends it to the API as JSON (the JPEGs in
    base64) from `GET /api/cameras/{id}/live/current` on its own endpoint."""

    model_config = ConfigDict(extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    camera_id: int
    frame_ts: float = Field(description="epoch seconds when the frame was decoded")
    still: bytes = Field(description="the JPEG exactly as the camera's ring holds it (no boxes)")
    annotated: bytes = Field(description="the same frame with the detector's latest boxes drawn (JPEG)")


class StillOut(BaseModel):
    key: str
    sha256: str
    size: int


class CaptureOut(BaseModel):
    camera_id: int
    frame_ts: float = Field(description="epoch seconds when the captured frame was decoded")
    still: StillOut = Field(description="the frame exactly as the camera's ring holds it (no boxes)")
    annotated: StillOut = Field(description="the same frame with the detector's latest boxes drawn")
    event_id: int | None = Field(None, description="the manual event opened with it, if asked")
