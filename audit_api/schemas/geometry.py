"""Validated geometry and rule configuration accepted at the API edge (422 on anything inconsistent)."""

from __future__ import annotations

from datetime import time
from itertools import combinations
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detect.rules_config import RuleConfig as DetectRuleConfig

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
NormPoint = tuple[Unit, Unit]
WorldPoint = tuple[float, float]
PPEItem = Literal["hardhat", "vest", "mask"]
_MAX_POINTS = 32


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: NormPoint, p2: NormPoint, q1: NormPoint, q2: NormPoint) -> bool:
    """Whether two closed segments touch or cross (collinear overlap included)."""
    d1, d2 = _cross(q1, q2, p1), _cross(q1, q2, p2)
    d3, d4 = _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True

    def on_segment(a: NormPoint, b: NormPoint, c: NormPoint, d: float) -> bool:
        within_x = min(a[0], b[0]) <= c[0] <= max(a[0], b[0])
        return d == 0 and within_x and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

    return (
        on_segment(q1, q2, p1, d1)
        or on_segment(q1, q2, p2, d2)
        or on_segment(p1, p2, q1, d3)
        or on_segment(p1, p2, q2, d4)
    )


def _check_simple_polygon(points: list[NormPoint]) -> None:
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    if abs(sum(a[0] * b[1] - b[0] * a[1] for a, b in edges)) < 1e-9:
        raise ValueError("polygon has zero area")
    for i, j in combinations(range(n), 2):
        if j == i + 1 or (i == 0 and j == n - 1):
            continue  # neighbours share a vertex by construction
        if _segments_cross(*edges[i], *edges[j]):
            raise ValueError(f"polygon is self-intersecting (edges {i} and {j} cross)")


def _has_general_quad(points: list[tuple[float, float]]) -> bool:
    """Whether some 4 points have no 3 collinear (what a homography needs), tolerance relative to spread."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    extent = max(max(xs) - min(xs), max(ys) - min(ys))
    tolerance = 1e-6 * extent * extent
    for quad in combinations(points, 4):
        if all(abs(_cross(a, b, c)) > tolerance for a, b, c in combinations(quad, 3)):
            return True
    return False


class ScheduleWindow(BaseModel):
    """A weekly window in the site's local time during which the zone is enforced."""

    model_config = ConfigDict(extra="forbid")

    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, description="0 = Monday")
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleWindow:
        if self.end <= self.start:
            raise ValueError("schedule window end must be after start (split windows that cross midnight)")
        return self


class ZoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    polygon: list[NormPoint] = Field(min_length=3, max_length=_MAX_POINTS, description="normalised [x, y]")
    required_ppe: set[PPEItem] = Field(default_factory=set)
    occupancy_cap: int | None = Field(None, ge=1, le=1000)
    schedule: list[ScheduleWindow] | None = None

    @field_validator("polygon")
    @classmethod
    def _simple(cls, polygon: list[NormPoint]) -> list[NormPoint]:
        _check_simple_polygon(polygon)
        return polygon


class CalibrationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image_points: list[NormPoint] = Field(min_length=4, max_length=_MAX_POINTS)
    world_points_m: list[WorldPoint] = Field(min_length=4, max_length=_MAX_POINTS)

    @model_validator(mode="after")
    def _usable(self) -> CalibrationIn:
        if len(self.image_points) != len(self.world_points_m):
            raise ValueError("image_points and world_points_m must have the same length")
        if not _has_general_quad(list(self.image_points)):
            raise ValueError("image_points are (nearly) collinear: need 4 points with no 3 on a line")
        if not _has_general_quad(list(self.world_points_m)):
            raise ValueError("world_points_m are (nearly) collinear: need 4 points with no 3 on a line")
        return self


class RuleConfigIn(DetectRuleConfig):
    """The detector's own rule config (detect.rules_config.RuleConfig): one schema from the API to the rules,
    so whatever is accepted here is exactly what the worker runs. `version` is managed by the server."""
