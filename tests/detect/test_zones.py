"""Zone membership by foot point, polygon and schedule validation, rule-config bounds."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import supervision as sv
from pydantic import ValidationError

from detect.rules_config import CameraRules, RuleConfig, Schedule, ZoneConfig
from detect.zones import Zone

FRAME = (1000, 500)
SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.8), (0.2, 0.8)]
# An L: the notch (upper right quarter of its bounding box) is outside.
CONCAVE = [(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)]


def zone(polygon: list[tuple[float, float]], **extra: Any) -> Zone:
    return Zone(ZoneConfig(id="z", name="Z", polygon=polygon, **extra), FRAME)


@pytest.mark.parametrize(
    ("polygon", "point", "inside"),
    [
        (SQUARE, (400, 250), True),  # centre (pixels: x·1000, y·500)
        (SQUARE, (100, 250), False),  # left of it
        (SQUARE, (400, 450), False),  # below it
        (SQUARE, (200, 250), True),  # on the left edge
        (SQUARE, (600, 400), True),  # on a vertex
        (CONCAVE, (250, 100), True),  # upper-left arm
        (CONCAVE, (750, 100), False),  # in the notch
        (CONCAVE, (750, 400), True),  # lower-right arm
        (CONCAVE, (500, 250), True),  # the reflex vertex itself
    ],
)
def test_contains(polygon: list[tuple[float, float]], point: tuple[float, float], inside: bool) -> None:
    assert zone(polygon).contains(np.array([point])).tolist() == [inside]


def test_trigger_uses_the_foot_point() -> None:
    square = zone(SQUARE)
    detections = sv.Detections(
        xyxy=np.array(
            [
                [350, 150, 450, 300],  # feet at (400, 300): inside
                [350, 50, 450, 450],  # head inside but feet at (400, 450): outside
                [550, 300, 700, 400],  # box mostly outside but feet at (625, 400): outside
                [150, 300, 300, 380],  # feet at (225, 380): inside
            ],
            dtype=np.float32,
        )
    )
    assert square.trigger(detections).tolist() == [True, False, False, True]
    assert square.occupancy(detections) == 2
    assert square.trigger(sv.Detections.empty()).tolist() == []


def test_cameras_without_zones_get_the_whole_frame_requiring_hardhat_and_vest() -> None:
    (implicit,) = Zone.from_rules(CameraRules(), FRAME)
    assert implicit.id is None
    assert {k.value for k in implicit.required_ppe} == {"hardhat", "vest"}
    assert implicit.contains(np.array([[0, 0], [999, 499], [1000, 500]])).all()
    assert implicit.config.occupancy_cap is None


@pytest.mark.parametrize(
    ("polygon", "message"),
    [
        ([(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)], "self-intersecting"),  # bow tie
        ([(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.5, 0.0), (0.1, 0.9)], "self-intersecting"),
        ([(0.1, 0.1), (1.2, 0.1), (0.5, 0.9)], "less than or equal to 1"),
        ([(-0.1, 0.1), (0.9, 0.1), (0.5, 0.9)], "greater than or equal to 0"),
        ([(0.1, 0.1), (0.9, 0.1)], "at least 3"),
        ([(0.1, 0.1), (0.5, 0.5), (0.9, 0.9)], "no area"),
        ([(0.1, 0.1), (0.1, 0.1), (0.1, 0.1)], "no area"),
    ],
)
def test_bad_polygons_are_rejected(polygon: list[tuple[float, float]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ZoneConfig(id="z", name="Z", polygon=polygon)


def test_concave_polygon_is_valid() -> None:
    assert len(ZoneConfig(id="z", name="Z", polygon=CONCAVE).polygon) == 6


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"k": 6, "n": 5}, "must not exceed n"),
        ({"k": 0}, "greater than or equal to 1"),
        ({"min_distance_m": 0}, "greater than 0"),
        ({"thresholds": {"no_vest": 1.5}}, "less than or equal to 1"),
        ({"bogus": 1}, "Extra inputs"),
    ],
)
def test_rule_config_bounds(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        RuleConfig.model_validate(config)


def test_duplicate_zone_ids_are_rejected() -> None:
    z = {"id": "a", "name": "A", "polygon": SQUARE}
    with pytest.raises(ValidationError, match="duplicate zone ids"):
        CameraRules.model_validate({"zones": [z, z]})


def test_camera_rules_round_trip_through_json() -> None:
    rules = CameraRules(zones=[ZoneConfig(id="a", name="A", polygon=SQUARE, occupancy_cap=3)])
    assert CameraRules.model_validate_json(rules.model_dump_json()) == rules


def _ts(day: int, hour: int, minute: int = 0) -> float:
    """2024-01-01 is a Monday: day 0 = Monday."""
    return datetime(2024, 1, 1 + day, hour, minute, tzinfo=UTC).timestamp()


WEEKDAYS = {"timezone": "UTC", "windows": [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "18:00"}]}
NIGHTS = {"timezone": "UTC", "windows": [{"days": [0], "start": "22:00", "end": "06:00"}]}
PARIS = {"timezone": "Europe/Paris", "windows": [{"days": [0], "start": "07:00", "end": "08:00"}]}


@pytest.mark.parametrize(
    ("schedule", "ts", "active"),
    [
        (WEEKDAYS, _ts(0, 10), True),
        (WEEKDAYS, _ts(0, 6, 59), False),
        (WEEKDAYS, _ts(0, 18), False),  # end is exclusive
        (WEEKDAYS, _ts(5, 10), False),  # Saturday
        (NIGHTS, _ts(0, 23), True),  # Monday evening
        (NIGHTS, _ts(1, 3), True),  # Tuesday morning belongs to Monday's night shift
        (NIGHTS, _ts(0, 3), False),  # Monday morning would be Sunday's shift
        (PARIS, _ts(0, 6, 30), True),  # 07:30 in Paris (UTC+1 in January)
        (PARIS, _ts(0, 7, 30), False),
    ],
)
def test_schedule(schedule: dict[str, Any], ts: float, active: bool) -> None:
    config = ZoneConfig(id="z", name="Z", polygon=SQUARE, schedule=Schedule.model_validate(schedule))
    assert Zone(config, FRAME).is_active(ts) is active


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"timezone": "Mars/Olympus", "windows": WEEKDAYS["windows"]}, "unknown time zone"),
        ({"windows": []}, "at least 1"),
        ({"windows": [{"days": [7], "start": "07:00", "end": "08:00"}]}, "less than or equal to 6"),
        ({"windows": [{"days": [1], "start": "07:00", "end": "07:00"}]}, "empty window"),
    ],
)
def test_bad_schedules_are_rejected(schedule: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schedule.model_validate(schedule)
