"""Request/response bodies for alert channels and deliveries, and the alert message every channel is sent."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from audit_api.models import ChannelType, DeliveryStatus, EscalationLevel

MAX_CHANNEL_URL = 2048
MAX_KINDS = 32


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: ChannelType = Field(
        ChannelType.APPRISE,
        description="apprise: an Apprise URL (mailto://, wecombot://, dingtalk://, feishu://, slack://, "
        "ntfy://, json:// ...); webhook: an http(s) URL we POST signed JSON to.",
    )
    url: str = Field(min_length=1, max_length=MAX_CHANNEL_URL, description="Holds secrets; never returned.")
    kinds: list[str] = Field(
        default_factory=list,
        max_length=MAX_KINDS,
        description="Violation kinds this channel gets (e.g. no_hardhat); empty means every kind.",
    )
    level: EscalationLevel = Field(
        EscalationLevel.SUPERVISORS,
        description="0: the site's supervisors (at once); 1: inspectors and 2: admins, reached when the "
        "alert "
        "is still unacknowledged after 1 or 2 ack deadlines of the site.",
    )


class ChannelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    site_id: int
    name: str
    type: ChannelType
    url_redacted: str
    kinds: list[str]
    level: int
    active: bool
    created_at: datetime


class ChannelCreated(ChannelOut):
    signing_secret: str | None = Field(
        description="Webhooks only: the HMAC key receivers verify with. Shown once, here."
    )


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: int
    channel_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class AlertMessage(BaseModel):
    """What a channel is told about one alert (the webhook's JSON body, less delivery_id). An event's alert
    has kind `violation`; a notice (e.g. `patrol_missed`) has no event, camera or snapshot."""

    alert_id: int
    kind: str = "violation"
    event_id: int | None
    kinds: list[str]
    site_id: int
    site: str
    camera_id: int | None
    camera: str | None
    started_at: datetime = Field(description="UTC")
    started_at_local: str = Field(description="In the site's time zone, e.g. 2025-03-04 17:30:00 CST")
    timezone: str
    event_url: str = Field(description="the event's page; a notice's page")
    snapshot_url: str | None
    headline: str | None = Field(None, description="a notice's title")
    lines: list[str] = Field(default_factory=list, description="a notice's text, line by line")

    @property
    def title(self) -> str:
        if self.headline is not None:
            return self.headline
        return f"[siteaudit] {', '.join(self.kinds)} · {self.site} / {self.camera}"

    @property
    def text(self) -> str:
        if self.event_id is None:
            return "\n".join([*self.lines, f"工地 Site: {self.site}", f"链接 Link: {self.event_url}"])
        return "\n".join(
            [
                f"违规 Violation: {', '.join(self.kinds)}",
                f"工地 Site: {self.site}",
                f"摄像头 Camera: {self.camera}",
                f"时间 Time: {self.started_at_local}",
                f"事件 Event: {self.event_url}",
                f"截图 Snapshot: {self.snapshot_url}",
            ]
        )


class WebhookBody(AlertMessage):
    delivery_id: int
    attempt: int
