"""Validated, JSON-serialisable rule configuration: zones, ground-plane calibration, thresholds, debounce.

These pydantic models are the contract between the API (which validates them at the edge, 422 on bad
input, and stores them as JSON), the analyzer and the event builder. All image coordinates here are
*normalised* to [0, 1] of the frame width/height, so a config survives a camera resolution change;
`Zone` and `GroundPlane` scale them to pixels for a given frame size.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from detect._classes import PPEClass

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NormPoint = tuple[Unit, Unit]
WorldPoint = tuple[
    Annotated[float, Field(ge=-1e5, le=1e5, allow_inf_nan=False)],
    Annotated[float, Field(ge=-1e5, le=1e5, allow_inf_nan=False)],
]
Score = Annotated[float, Field(ge=0.0, le=1.0)]

# 2·area / longest side² below this = the three points lie on one line (height under 1% of the base).
_COLLINEAR_TOL = 0.01


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PPEKind(StrEnum):
    HARDHAT = "hardhat"
    VEST = "vest"
    MASK = "mask"


def known_time_zone(value: str) -> str:
    """`value` if it names an IANA time zone (what ZoneInfo can load), else ValueError."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, description="IANA time zone, e.g. Europe/Paris or Asia/Shanghai"),
    AfterValidator(known_time_zone),
]


class WorkingHours(_Model):
    """One weekly window; `end` before `start` means the window runs past midnight."""

    days: set[Annotated[int, Field(ge=0, le=6)]] = Field(
        min_length=1, description="Weekdays the window starts on, 0 = Monday … 6 = Sunday"
    )
    start: time = Field(description="Local start time, e.g. 07:00")
    end: time = Field(description="Local end time, e.g. 18:00 (earlier than start = overnight)")

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.start == self.end:
            raise ValueError("working hours start and end are equal (empty window)")
        return self

    def contains(self, local: datetime) -> bool:
        now = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return local.weekday() in self.days and self.start <= now < self.end
        # Overnight: the evening part belongs to the start day, the morning part to the day after.
        if now >= self.start:
            return local.weekday() in self.days
        return now < self.end and (local.weekday() - 1) % 7 in self.days


ScheduleWindows = Annotated[
    list[WorkingHours],
    Field(
        min_length=1,
        max_length=28,
        description="Weekly working windows (an end before its start = overnight)",
    ),
]


class Schedule(_Model):
    """Weekly working hours in a named time zone; rules of a scheduled zone apply only inside them."""

    timezone: TimeZoneName = "UTC"
    windows: ScheduleWindows

    def is_active(self, ts: float) -> bool:
        local = datetime.fromtimestamp(ts, ZoneInfo(self.timezone))
        return any(window.contains(local) for window in self.windows)


def simple_polygon(polygon: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """`polygon` if it is simple (no edge crosses another) and has an area, else ValueError."""
    edges = list(itertools.pairwise([*polygon, polygon[0]]))
    for i, j in itertools.combinations(range(len(edges)), 2):
        adjacent = j == i + 1 or (i == 0 and j == len(edges) - 1)
        if not adjacent and _segments_intersect(*edges[i], *edges[j]):
            raise ValueError(f"polygon is self-intersecting (edge {i} crosses edge {j})")
    if abs(_signed_area(polygon)) < 1e-6:
        raise ValueError("polygon has no area (points are collinear or repeated)")
    return polygon


# The zone fields an admin sets, as types: the API's zone schema is built from these same definitions.
ZoneName = Annotated[str, Field(min_length=1, max_length=100, description="Human-readable zone name")]
ZonePolygon = Annotated[
    list[NormPoint],
    Field(min_length=3, max_length=64, description="Vertices (x, y) normalised to [0, 1] of the frame size"),
    AfterValidator(simple_polygon),
]
RequiredPPE = Annotated[
    set[PPEKind], Field(description="PPE every person whose feet are in the zone must wear")
]
OccupancyCap = Annotated[
    int | None, Field(ge=1, le=1000, description="Maximum people in the zone (None = no cap)")
]


def default_required_ppe() -> set[PPEKind]:
    return set(ZONE_PRESETS[ZonePreset.SITE])


class ZonePreset(StrEnum):
    """Named sets of required PPE an admin starts a zone from (the zone stores the resulting set)."""

    SITE = "site"  # hardhat + vest: the whole-site default
    MASK_REQUIRED = "mask_required"  # hardhat + vest + mask: the seed scenario's epidemic-era zones
    MASK_ONLY = "mask_only"  # mask alone: site offices, canteens, site huts


ZONE_PRESETS: dict[ZonePreset, frozenset[PPEKind]] = {
    ZonePreset.SITE: frozenset({PPEKind.HARDHAT, PPEKind.VEST}),
    ZonePreset.MASK_REQUIRED: frozenset({PPEKind.HARDHAT, PPEKind.VEST, PPEKind.MASK}),
    ZonePreset.MASK_ONLY: frozenset({PPEKind.MASK}),
}


class ZoneConfig(_Model):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="Stable zone id")
    name: ZoneName
    polygon: ZonePolygon
    required_ppe: RequiredPPE = Field(default_factory=default_required_ppe)
    occupancy_cap: OccupancyCap = None
    dwell_s: float = Field(
        default=10.0, ge=0.0, le=3600.0, description="Seconds occupancy must stay above the cap to count"
    )
    schedule: Schedule | None = Field(default=None, description="Working hours; None = always active")


def preset_zone(
    preset: ZonePreset, *, id: str, name: str, polygon: list[NormPoint], **fields: object
) -> ZoneConfig:
    """A zone requiring the preset's PPE (other ZoneConfig fields as keywords), validated like any zone."""
    return ZoneConfig.model_validate(
        {"id": id, "name": name, "polygon": polygon, "required_ppe": set(ZONE_PRESETS[preset]), **fields}
    )


class Calibration(_Model):
    """Ground-plane correspondences: image points (normalised [0, 1], like zones) ↔ world points in metres.

    Needs ≥ 4 pairs with at least four points in general position on both sides (no three on a line),
    otherwise no homography exists.
    """

    image_points: list[NormPoint] = Field(
        min_length=4, max_length=20, description="Ground points in the image, (x, y) normalised to [0, 1]"
    )
    world_points_m: list[WorldPoint] = Field(
        min_length=4, max_length=20, description="The same ground points in metres on a flat site plan"
    )

    @model_validator(mode="after")
    def _solvable(self) -> Self:
        if len(self.image_points) != len(self.world_points_m):
            raise ValueError(
                f"{len(self.image_points)} image points but {len(self.world_points_m)} world points"
            )
        for name, points in (("image_points", self.image_points), ("world_points_m", self.world_points_m)):
            if not _has_general_quad(points):
                raise ValueError(f"{name} are degenerate: need 4 points with no three collinear")
        return self


class ClassThresholds(_Model):
    """Per-class confidence floors applied by the rules (on top of the detector's own floor).

    The NO-* floors are higher than the positive ones on purpose: the model (valid mAP50 ≈ 0.58) fires
    low-confidence NO-Hardhat on lamps and turned heads (ppe-1, ppe-3 ≤ 0.40), while the true NO-Safety
    Vest in ppe-2 scores 0.74-0.83. A false MISSING costs an inspector's time, a false WORN is caught later.
    The floors are a second line: with NO-* floors at 0.35 the region geometry and the worn−missing margin
    alone still keep ppe-1/ppe-3 clear (lowest smoothed hardhat evidence +0.38 and −0.12, margin 0.3).
    """

    person: Score = Field(default=0.35, description="Person boxes below this are ignored")
    hardhat: Score = Field(default=0.35, description="Hardhat")
    no_hardhat: Score = Field(default=0.45, description="NO-Hardhat")
    vest: Score = Field(default=0.35, description="Safety Vest")
    no_vest: Score = Field(default=0.45, description="NO-Safety Vest")
    mask: Score = Field(default=0.35, description="Mask")
    no_mask: Score = Field(default=0.45, description="NO-Mask")

    def for_class(self, class_id: int) -> float:
        """Floor for a detector class id; classes the rules do not use get 1.0 (ignored)."""
        floors: dict[int, float] = {
            PPEClass.PERSON: self.person,
            PPEClass.HARDHAT: self.hardhat,
            PPEClass.NO_HARDHAT: self.no_hardhat,
            PPEClass.SAFETY_VEST: self.vest,
            PPEClass.NO_SAFETY_VEST: self.no_vest,
            PPEClass.MASK: self.mask,
            PPEClass.NO_MASK: self.no_mask,
        }
        return floors.get(class_id, 1.0)


class RuleConfig(_Model):
    """Thresholds and timing. Defaults assume the 5 fps analysis rate and were tuned on the shared footage.

    k=3 of n=5 frames (~0.6 s of the last second) on top of a 3-frame PPE average: ppe-2's vest-less man
    fires 0.6 s into the clip (his third tracked frame), while single-frame flickers never accumulate.
    A 10 s gap keeps one incident in one review item; 300 s caps an item so a clip stays reviewable.
    """

    version: int = Field(default=1, ge=1, description="Bumped on every change; events record it")
    k: int = Field(default=3, ge=1, le=100, description="Debounce: violating frames needed among the last n")
    n: int = Field(default=5, ge=1, le=100, description="Debounce window length in analysed frames")
    cooldown_s: float = Field(
        default=60.0, ge=0.0, le=86400.0, description="Quiet time before a track may fire the same kind again"
    )
    min_distance_m: float = Field(
        default=1.5, gt=0.0, le=50.0, description="People closer than this (metres) are crowding"
    )
    distance_dwell_s: float = Field(
        default=5.0, ge=0.0, le=3600.0, description="Seconds two people must stay too close to count"
    )
    thresholds: ClassThresholds = Field(default_factory=ClassThresholds, description="Per-class floors")
    event_gap_s: float = Field(
        default=10.0, gt=0.0, le=3600.0, description="An event closes after this long without violations"
    )
    max_event_s: float = Field(
        default=300.0, gt=0.0, le=86400.0, description="An event is cut (and a new one opened) at this length"
    )
    ppe_window: int = Field(
        default=3, ge=1, le=50, description="Frames of per-person PPE evidence averaged before deciding"
    )
    ppe_margin: float = Field(
        default=0.3, gt=0.0, le=1.0, description="Mean (worn − missing) confidence needed to decide a status"
    )
    min_person_height_px: int = Field(
        default=48, ge=0, le=4000, description="Smaller people are too small to judge (status UNKNOWN)"
    )
    implied_person_conf: Score = Field(
        default=0.6, description="A NO-Hardhat/NO-Safety Vest box this confident implies a person on its own"
    )
    track_lost_s: float = Field(default=2.0, gt=0.0, le=60.0, description="Seconds a lost track is kept")

    @model_validator(mode="after")
    def _k_le_n(self) -> Self:
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must not exceed n ({self.n})")
        return self


class CameraRules(_Model):
    """Everything the rules need for one camera. No zones = the whole frame requires hardhat + vest."""

    zones: list[ZoneConfig] = Field(default_factory=list, max_length=32, description="Zones (may be empty)")
    calibration: Calibration | None = Field(
        default=None, description="Ground-plane calibration; None disables the distance rule"
    )
    rules: RuleConfig = Field(default_factory=RuleConfig, description="Thresholds and timing")

    @field_validator("zones")
    @classmethod
    def _unique_ids(cls, zones: list[ZoneConfig]) -> list[ZoneConfig]:
        ids = [zone.id for zone in zones]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate zone ids: {duplicates}")
        return zones


def _signed_area(points: Sequence[tuple[float, float]]) -> float:
    closed = [*points, points[0]]
    return 0.5 * sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(closed))


def _orientation(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _segments_intersect(
    p1: tuple[float, float], p2: tuple[float, float], q1: tuple[float, float], q2: tuple[float, float]
) -> bool:
    """True when the closed segments share a point (crossing, touching or overlapping)."""
    d1, d2 = _orientation(q1, q2, p1), _orientation(q1, q2, p2)
    d3, d4 = _orientation(p1, p2, q1), _orientation(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True

    def on_segment(a: tuple[float, float], b: tuple[float, float], p: tuple[float, float]) -> bool:
        return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])

    return (
        (d1 == 0 and on_segment(q1, q2, p1))
        or (d2 == 0 and on_segment(q1, q2, p2))
        or (d3 == 0 and on_segment(p1, p2, q1))
        or (d4 == 0 and on_segment(p1, p2, q2))
    )


def _collinear(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> bool:
    longest = max((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2, (c[0] - a[0]) ** 2 + (c[1] - a[1]) ** 2)
    longest = max(longest, (c[0] - b[0]) ** 2 + (c[1] - b[1]) ** 2)
    return longest == 0 or abs(_orientation(a, b, c)) / longest < _COLLINEAR_TOL


def _has_general_quad(points: Sequence[tuple[float, float]]) -> bool:
    """Some 4 of the points have no three collinear (what a unique homography needs)."""
    return any(
        not any(_collinear(*triple) for triple in itertools.combinations(quad, 3))
        for quad in itertools.combinations(points, 4)
    )
