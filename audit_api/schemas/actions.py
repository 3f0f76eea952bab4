"""Request/response bodies of corrective actions: the action with its history (responses with photos,
decisions), and the inspector's decision bodies. The answer itself is a multipart form (see the route)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from audit_api.models import ActionStatus

MAX_NOTE_CHARS = 5000
"""The longest note, response or reason a corrective action accepts."""


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PhotoOut(_Orm):
    id: int
    action_id: int
    position: int
    sha256: str
    size: int
    content_type: str
    width: int
    height: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return f"/api/action-photos/{self.id}"


class ResponseOut(_Orm):
    id: int
    supervisor_id: int
    supervisor_name: str
    note: str
    at: datetime
    photos: list[PhotoOut]


class DecisionOut(_Orm):
    id: int
    inspector_id: int
    inspector_name: str
    accepted: bool
    note: str
    at: datetime


class ActionOut(_Orm):
    id: int
    event_id: int
    site_id: int
    description: str
    due: datetime | None
    overdue: bool
    status: ActionStatus
    created_at: datetime
    opened_by_id: int | None
    supervisor_id: int | None
    supervisor_name: str | None
    supervisor_response: str | None
    responded_by_id: int | None
    responded_at: datetime | None
    verification_note: str | None
    verified_by_id: int | None
    verified_at: datetime | None
    responses: list[ResponseOut]
    decisions: list[DecisionOut]


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=MAX_NOTE_CHARS)


class RejectIn(BaseModel):
    """A rejection reopens the action: the reason is required, the supervisor sees it."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=MAX_NOTE_CHARS, description="why the answer is not enough")


class SupervisorOut(_Orm):
    id: int
    name: str
    email: str
