"""Patrol plans, rounds and steps, and the schedule (which slot was walked, missed or left incomplete).

One lineage per concept: PatrolPlanBase → PatrolPlanCreate (what an admin sends) → PatrolPlanPublic (what
anyone who may see the site reads, with ids and versions); rounds and steps are written by their routes.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from audit_api.models.patrols import RoundStatus, StepVerdict
from audit_api.schemas.bounds import (
    MAX_PATROL_CAMERAS,
    MAX_PATROL_GRACE_MINUTES,
    MAX_PATROL_INSPECTORS,
    MAX_PATROL_TIMES,
    MIN_PATROL_GRACE_MINUTES,
    BodyId,
    BoundedDateTime,
)
from audit_api.schemas.live import ManualEventIn

_HH_MM = re.compile(r"[0-9]{2}:[0-9]{2}")


def _time_of_day(value: str) -> str:
    if not _HH_MM.fullmatch(value):
        raise ValueError(f"{value!r} is not a time of day as HH:MM (e.g. 09:00)")
    hours, minutes = int(value[:2]), int(value[3:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{value!r} is out of range: hours 00-23, minutes 00-59")
    return value


TimeOfDay = Annotated[str, Field(max_length=5, examples=["09:00"]), AfterValidator(_time_of_day)]
"""A time of day in the site's time zone, HH:MM from 00:00 to 23:59."""


def _distinct(values: list[int]) -> list[int]:
    if len(set(values)) != len(values):
        raise ValueError("each id may appear once")
    return values


class PatrolPlanBase(BaseModel):
    """The fields an admin sets (and reads back); PUT /api/patrol-plans/{id} takes exactly these."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    camera_ids: Annotated[
        list[BodyId], Field(min_length=1, max_length=MAX_PATROL_CAMERAS), AfterValidator(_distinct)
    ] = Field(description="cameras of the plan's site, in the order a round steps through them")
    times: list[TimeOfDay] = Field(
        min_length=1, max_length=MAX_PATROL_TIMES, description="times of day (site time zone), HH:MM"
    )
    grace_minutes: int = Field(
        60,
        ge=MIN_PATROL_GRACE_MINUTES,
        le=MAX_PATROL_GRACE_MINUTES,
        description="a slot's round must be complete within this many minutes after its time",
    )
    inspector_ids: Annotated[
        list[BodyId], Field(max_length=MAX_PATROL_INSPECTORS), AfterValidator(_distinct)
    ] = Field(default_factory=list, description="the inspectors responsible for the plan's rounds")
    active: bool = Field(True, description="inactive plans are kept (with their rounds) but not scheduled")

    @model_validator(mode="after")
    def _times_distinct(self) -> PatrolPlanBase:
        if len(set(self.times)) != len(self.times):
            raise ValueError("each time of day may appear once")
        self.times = sorted(self.times)
        return self


class PatrolPlanCreate(PatrolPlanBase):
    site_id: BodyId


class PatrolPlanPublic(PatrolPlanCreate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")

    id: int
    version: int
    created_at: datetime
    updated_at: datetime


class RoundStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_id: BodyId
    slot_at: BoundedDateTime | None = Field(
        None,
        description="the slot walked (its `slot_at` from GET /api/patrols/schedule), while its window is "
        "open; omitted: an ad hoc round",
    )


class StepVerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: StepVerdict
    finding: ManualEventIn | None = Field(
        None,
        description="required for a finding: the camera's current frame is captured and opens a manual "
        "event of this kind with this note (POST /api/cameras/{id}/captures does the same)",
    )

    @model_validator(mode="after")
    def _finding_matches_verdict(self) -> StepVerdictIn:
        if self.verdict == StepVerdict.FINDING:
            if self.finding is None or not self.finding.note.strip():
                raise ValueError("a finding needs `finding` with a kind and a note")
        elif self.finding is not None:
            raise ValueError("only a finding takes `finding`")
        return self


class PatrolStepPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    round_id: int
    camera_id: int
    position: int
    started_at: datetime | None
    verdict_at: datetime | None
    verdict: StepVerdict | None
    seconds: float | None = Field(description="how long the camera was looked at (start to verdict)")
    note: str
    still_sha256: str | None
    event_id: int | None


class PatrolRoundPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    plan_id: int
    site_id: int
    inspector_id: int
    slot_at: datetime | None
    status: RoundStatus
    started_at: datetime
    ended_at: datetime | None
    steps: list[PatrolStepPublic]


SlotState = Literal["upcoming", "due", "done", "missed", "incomplete"]


class PatrolSlot(BaseModel):
    """One time of one day of a plan, and whether a complete round happened in its window."""

    plan_id: int
    plan: str
    site_id: int
    time: str = Field(description="HH:MM in the site's time zone")
    date: str = Field(description="the local date, YYYY-MM-DD")
    slot_at: datetime = Field(description="the window opens (UTC)")
    window_ends_at: datetime
    state: SlotState = Field(
        description="upcoming: before its window; due: window open, not done; done: a complete round "
        "ended in the window; incomplete: a round was started for it but not completed in time; missed: "
        "no round"
    )
    round_id: int | None = Field(description="the slot's complete round, else its latest round")
    inspector_ids: list[int]
