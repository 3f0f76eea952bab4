"""Request/response bodies for alert channels and deliveries, and the alert message every channel is sent."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from audit_api.i18n import LocaleName
from audit_api.models import AlertKind, ChannelType, DeliveryPurpose, DeliveryStatus, EscalationLevel

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
    locale: LocaleName | None = Field(
        None, description="The language of this channel's messages (zh-CN, en); null: the site's locale."
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
    locale: str | None
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
    channel_id: int | None
    subscription_id: int | None = Field(description="A Web Push delivery: the user's subscription")
    level: int
    purpose: DeliveryPurpose
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


class AlertMessage(BaseModel):
    """What a channel is told about one alert (the webhook's JSON body, less delivery_id).

    `purpose` says which message of the alert this is: `alert` (a violation, sent when it opens; or a
    camera offline), `clip` (the violation's clip is stored: `clip_url`), `resolved` (the cameras are back).
    """

    alert_id: int
    alert_kind: AlertKind
    purpose: DeliveryPurpose
    event_id: int | None = Field(description="None until the violation's event is recorded")
    kinds: list[str]
    site_id: int
    site: str
    camera_id: int | None
    camera: str
    cameras: list[str] = Field(description="camera_offline: every camera of this message (folded storm)")
    count: int = Field(description="camera_offline: how many cameras this message covers (1 + folded)")
    started_at: datetime = Field(description="UTC")
    started_at_local: str = Field(description="In the site's time zone, e.g. 2025-03-04 17:30:00 CST")
    timezone: str
    event_url: str = Field(description="The event page, or the supervisor page until the event exists")
    alert_url: str = Field(description="The alert on the supervisor page")
    snapshot_url: str | None = Field(
        description="The snapshot; with blurred heads unless the site's privacy_blur is off (the signed "
        "link's snapshot when the message has an acknowledge link, else the API's `?blurred=true`)"
    )
    clip_url: str | None
    ack_url: str | None = Field(description="Signed one-time acknowledge link for this recipient")
    headline: str | None = Field(None, description="A notice's title (patrol_missed)")
    lines: list[str] = Field(default_factory=list, description="A notice's text, line by line")
    locale: LocaleName = Field(description="The language of title and text: the channel's, else the site's")
    title: str = Field(description="One line: what, where (email subject, push title)")
    text: str = Field(description="The message body, one fact a line, times in the site's zone and language")


class PatrolNotice(BaseModel):
    """A missed patrol slot's facts (Alert.detail of a `patrol_missed` alert), worded when sent."""

    plan: str
    date: str
    time: str
    state: str = Field(description="missed | incomplete")
    window_ends_at: datetime
    link: str = Field(description="A path under the web base URL")


class WebhookBody(AlertMessage):
    delivery_id: int
    attempt: int


PUSH_ENDPOINT_PATTERN = r"^https?://[\x21-\x7e]+$"
"""A push service URL: http(s), printable ASCII only (what browsers hand out)."""


class PushKeys(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p256dh: str = Field(min_length=16, max_length=200, pattern=r"^[A-Za-z0-9_-]+=*$")
    auth: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")


class PushSubscriptionIn(BaseModel):
    """The browser's `PushSubscription.toJSON()`."""

    model_config = ConfigDict(extra="ignore")  # expirationTime and future fields

    endpoint: str = Field(min_length=8, max_length=2048, pattern=PUSH_ENDPOINT_PATTERN)
    keys: PushKeys


class PushUnsubscribe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str = Field(min_length=8, max_length=2048, pattern=PUSH_ENDPOINT_PATTERN)


class PushSubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime


class VapidKeyOut(BaseModel):
    public_key: str = Field(description="base64url P-256 point: PushManager.subscribe's applicationServerKey")


class PushPayload(BaseModel):
    """What the service worker gets in a push (web/sw.js shows it with an Acknowledge action)."""

    title: str
    body: str
    alert_id: int
    url: str
    ack_url: str | None
    image: str | None = Field(None, description="The notification's image: the message's snapshot URL")
