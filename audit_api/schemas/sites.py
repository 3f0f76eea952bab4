"""Request/response bodies for sites, cameras and their per-camera configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit_api.models import CameraKind
from audit_api.schemas.bounds import BodyId
from audit_api.schemas.geometry import PPEItem, ScheduleWindow

RTSP_SCHEMES = ("rtsp", "rtsps")


def check_rtsp_url(url: str) -> str:
    """Accept only rtsp:// and rtsps:// URLs with a host: FFmpeg-style protocols (file:, concat:, subfile:,
    http: ...) would let a camera URL read local files or reach internal services."""
    if any(ord(c) < 33 or c == "\x7f" for c in url):
        raise ValueError("camera URL contains whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in RTSP_SCHEMES:
        raise ValueError(f"camera URL scheme must be one of {', '.join(RTSP_SCHEMES)}, not {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("camera URL has no host")
    return url


def redact_url(url: str | None) -> str | None:
    """The URL with any password replaced by ***."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=500)
    timezone: str = Field("UTC", min_length=1, max_length=64)


class SiteOut(SiteIn):
    model_config = ConfigDict(from_attributes=True)

    id: int


class SamplingConfig(BaseModel):
    """How a worker samples a camera for analysis and how much video surrounds an event."""

    model_config = ConfigDict(extra="forbid")

    analysis_fps: float = Field(2.0, gt=0, le=30)
    motion_gate: bool = True
    preroll_s: float = Field(5.0, ge=0, le=60)
    postroll_s: float = Field(5.0, ge=0, le=60)


class CameraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: BodyId
    name: str = Field(min_length=1, max_length=200)
    kind: CameraKind
    url: str | None = Field(None, max_length=2048)
    enabled: bool = True
    config: SamplingConfig = Field(default_factory=SamplingConfig)

    @model_validator(mode="after")
    def _url_matches_kind(self) -> CameraIn:
        if self.kind == CameraKind.RTSP:
            if not self.url:
                raise ValueError("an rtsp camera needs a url")
            check_rtsp_url(self.url)
        elif self.url is not None:
            raise ValueError("a whip camera pushes its stream and takes no url")
        return self


class CameraUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, max_length=2048)
    enabled: bool | None = None
    config: SamplingConfig | None = None

    @model_validator(mode="after")
    def _url_is_rtsp(self) -> CameraUpdate:
        if self.url is not None:
            check_rtsp_url(self.url)
        return self


class CameraOut(BaseModel):
    id: int
    site_id: int
    name: str
    kind: CameraKind
    url: str | None = Field(description="admins only, password redacted; null for every other role")
    enabled: bool
    config: dict[str, Any]
    config_version: int


class CameraCreated(CameraOut):
    whip_token: str | None = Field(None, description="shown once; only its hash is stored")
    enrol_url: str | None = Field(
        None, description="phone camera page for this camera, token in the fragment"
    )
    enrol_qr: str | None = Field(None, description="QR code of enrol_url as a data:image/png URL")


class ZoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: int
    name: str
    polygon: list[tuple[float, float]]
    required_ppe: set[PPEItem]
    occupancy_cap: int | None
    schedule: list[ScheduleWindow] | None
    version: int


class CalibrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    camera_id: int
    image_points: list[tuple[float, float]]
    world_points_m: list[tuple[float, float]]
    version: int
    updated_at: datetime


class RuleConfigOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    camera_id: int | None
    config: dict[str, Any]
    version: int
    updated_at: datetime
