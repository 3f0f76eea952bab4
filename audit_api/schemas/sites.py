"""Request/response bodies for sites, cameras and their per-camera configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from audit_api.i18n import DEFAULT_SITE_LOCALE, LocaleName
from audit_api.models import CameraKind, PrivacyBlur
from audit_api.schemas.bounds import BodyId
from detect.rules_config import PPEKind, ScheduleWindows, TimeZoneName, WorkingHours
from ingest.sampler import SamplingConfig
from ingest.urls import MAX_URL_LENGTH, validate_camera_url

# Camera URLs: ingest.urls.validate_camera_url is the one validator. Its syntax checks run here; the
# network policy (denied addresses) needs the settings and runs in the service, with the worker's builder.


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=500)
    timezone: TimeZoneName = "UTC"
    locale: LocaleName = Field(
        DEFAULT_SITE_LOCALE, description="The language of the site's alerts and PDF reports: zh-CN or en."
    )
    ack_deadline_s: int = Field(
        600, ge=30, le=86400, description="An alert not acknowledged in this time escalates one level."
    )
    offline_alert_s: int | None = Field(
        600, ge=1, le=86400, description="A camera unmonitored this long alerts the site's supervisors "
        "and admins (only inside working_hours, if set); null: no camera-offline alerts.",
    )  # fmt: skip
    working_hours: ScheduleWindows | None = Field(
        None, description="Weekly windows in the site's time zone when offline cameras alert; null: always."
    )
    privacy_blur: PrivacyBlur = Field(
        PrivacyBlur.EXTERNAL,
        description="Where this site's snapshots show blurred heads: `external` (default: alert channels "
        "and exported reports), `also_supervisors` (those and the supervisor page), `off`. Inspectors "
        "always see the original.",
    )


class SiteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    address: str
    timezone: str
    locale: str
    ack_deadline_s: int
    offline_alert_s: int | None
    working_hours: list[WorkingHours] | None
    privacy_blur: PrivacyBlur


class CameraIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: BodyId
    name: str = Field(min_length=1, max_length=200)
    kind: CameraKind
    url: str | None = Field(None, max_length=MAX_URL_LENGTH)
    enabled: bool = True
    config: SamplingConfig = Field(default_factory=SamplingConfig)

    @model_validator(mode="after")
    def _url_matches_kind(self) -> CameraIn:
        if self.kind == CameraKind.RTSP:
            if not self.url:
                raise ValueError("an rtsp camera needs a url")
            validate_camera_url(self.url)
        elif self.url is not None:
            raise ValueError("a whip camera pushes its stream and takes no url")
        return self


class CameraUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200)
    url: str | None = Field(None, max_length=MAX_URL_LENGTH)
    enabled: bool | None = None
    config: SamplingConfig | None = None

    @model_validator(mode="after")
    def _url_is_rtsp(self) -> CameraUpdate:
        if self.url is not None:
            validate_camera_url(self.url)
        return self


class CameraOut(BaseModel):
    id: int
    site_id: int
    name: str
    kind: CameraKind
    url: str | None = Field(
        description="admins only, credentials redacted (password, secret query parameters); null for others"
    )
    enabled: bool
    config: SamplingConfig
    config_version: int


class CameraCreated(CameraOut):
    whip_token: str | None = Field(None, description="shown once; only its hash is stored")
    enrol_url: str | None = Field(
        None, description="phone camera page for this camera, token in the fragment"
    )
    enrol_qr: str | None = Field(None, description="QR code of enrol_url as a data:image/png URL")


# A point as JSON carries it: [x, y]. (A tuple would be `prefixItems` in the OpenAPI document, which
# much of the OpenAPI tooling, schemathesis' response validation included, mishandles.)
PointOut = Annotated[list[float], Field(min_length=2, max_length=2)]


class ZoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    camera_id: int
    name: str
    polygon: list[PointOut]
    required_ppe: set[PPEKind]
    occupancy_cap: int | None
    schedule: list[WorkingHours] | None
    version: int


class CalibrationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    camera_id: int
    image_points: list[PointOut]
    world_points_m: list[PointOut]
    version: int
    updated_at: datetime


class RuleConfigOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    camera_id: int | None
    config: dict[str, Any]
    version: int
    updated_at: datetime
