"""Request/response bodies for events, evidence, the inspector workflow, corrective actions and alerts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from audit_api.models import ClipKind, EventStatus, Verdict
from audit_api.schemas.actions import ActionOut
from audit_api.schemas.bounds import MAX_BULK_REVIEW, BodyId, DueDateTime


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class EventSummary(_Orm):
    id: int
    camera_id: int
    site_id: int
    kinds: list[str]
    started_at: datetime
    ended_at: datetime
    status: EventStatus
    verdict: Verdict | None
    best_confidence: float | None
    model_version: str
    rule_version: str
    evidence_deleted_at: datetime | None = Field(
        None,
        description="Its unconfirmed evidence expired and was deleted by the retention job (the event, "
        "its rows and hashes stay)",
    )


class EventPage(BaseModel):
    items: list[EventSummary]
    total: int
    limit: int
    offset: int


class ViolationStillOut(_Orm):
    """A violation's own still: the frame it fired on with the violator's box in red."""

    event_id: int
    violation_id: int
    sha256: str
    size: int
    content_type: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/api/violations/{self.violation_id}/snapshot"


class ViolationOut(_Orm):
    id: int
    snapshot: ViolationStillOut | None
    kind: str
    track_id: int | None
    zone_id: int | None
    ts: datetime
    box: list[float] | None
    confidence: float | None


class ClipOut(_Orm):
    event_id: int
    kind: ClipKind
    sha256: str
    size: int
    duration_s: float | None
    content_type: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/api/events/{self.event_id}/{self.kind.value}"


class SegmentOut(_Orm):
    """One piece of the event's whole recorded span; a time t plays at offset t - started_at."""

    id: int
    event_id: int
    index: int
    started_at: datetime
    ended_at: datetime
    duration_s: float
    sha256: str
    size: int
    content_type: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/api/segments/{self.id}"


class ReviewOut(_Orm):
    id: int
    event_id: int
    inspector_id: int
    inspector_name: str
    verdict: Verdict
    comment: str
    at: datetime


class SignOffOut(_Orm):
    inspector_id: int
    inspector_name: str
    at: datetime
    clip_sha256: str | None


class EventDetail(EventSummary):
    rule_snapshot: dict[str, Any]
    violations: list[ViolationOut]
    clips: list[ClipOut]
    segments: list[SegmentOut]
    reviews: list[ReviewOut]
    signoff: SignOffOut | None
    actions: list[ActionOut]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    comment: str = Field("", max_length=5000)


class BulkReviewIn(ReviewIn):
    """The same verdict for many events at once: all are reviewed, or none (404/409 name the first)."""

    event_ids: list[BodyId] = Field(min_length=1, max_length=MAX_BULK_REVIEW)


class SignOffIn(BaseModel):
    """Optional details for the corrective action a confirmed event opens."""

    model_config = ConfigDict(extra="forbid")

    action_description: str | None = Field(None, min_length=1, max_length=5000)
    action_due: DueDateTime | None = None
    action_supervisor_id: BodyId | None = Field(
        None, description="the supervisor responsible for the action: one of the event's site's supervisors"
    )


class EscalationStep(BaseModel):
    level: str = Field(description="inspectors or admins")
    at: datetime
    deliveries: int = Field(description="messages queued for that level")


class AlertOut(_Orm):
    id: int
    kind: str = Field(description="violation or camera_offline")
    kinds: list[str]
    event_id: int | None = Field(description="None while a violation alert waits for its event (clip)")
    site_id: int
    camera_id: int | None
    started_at: datetime | None
    created_at: datetime
    acknowledged_by_id: int | None
    acknowledged_at: datetime | None
    acknowledged_via: str | None = Field(description="Acknowledged with a message's link: whose link")
    escalation_level: int
    escalated_at: datetime | None
    steps: list[EscalationStep] = Field(description="Escalation steps taken, oldest first")
    resolved_at: datetime | None = Field(description="camera_offline: when the camera came back")
    folded_into_id: int | None = Field(description="camera_offline: the alert whose message covered this one")
    event: EventSummary | None
