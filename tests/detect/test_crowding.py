"""Ground-plane homography in metres, calibration validation, and the two crowding dwell rules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import supervision as sv
from pydantic import ValidationError

from detect._classes import PPEClass
from detect.analyzer import SceneAnalyzer
from detect.crowding import GroundPlane, OccupancyMonitor, ProximityMonitor
from detect.rules_config import Calibration, CameraRules, RuleConfig, ZoneConfig

FRAME = (1000, 1000)
# A 10 m square on the ground seen straight from above in the lower half of the frame.
SQUARE = Calibration(
    image_points=[(0.25, 0.5), (0.75, 0.5), (0.75, 1.0), (0.25, 1.0)],
    world_points_m=[(0, 0), (10, 0), (10, 10), (0, 10)],
)
# The same 10 m square seen in perspective: its far edge is foreshortened to half the width.
TRAPEZOID = Calibration(
    image_points=[(0.375, 0.5), (0.625, 0.5), (0.75, 1.0), (0.25, 1.0)],
    world_points_m=[(0, 0), (10, 0), (10, 10), (0, 10)],
)


@pytest.mark.parametrize(
    ("calibration", "a", "b", "metres"),
    [
        (SQUARE, (250, 500), (750, 500), 10.0),
        (SQUARE, (250, 500), (750, 1000), 200**0.5),
        (SQUARE, (500, 750), (525, 750), 0.5),
        (TRAPEZOID, (375, 500), (625, 500), 10.0),  # the far edge: 250 px = 10 m
        (TRAPEZOID, (250, 1000), (750, 1000), 10.0),  # the near edge: 500 px = 10 m
        (TRAPEZOID, (375, 500), (250, 1000), 10.0),  # along a side
        (TRAPEZOID, (375, 500), (750, 1000), 200**0.5),  # a diagonal
    ],
)
def test_distances_in_metres(
    calibration: Calibration, a: tuple[float, float], b: tuple[float, float], metres: float
) -> None:
    ground = GroundPlane.from_calibration(calibration, FRAME)
    distances = ground.pairwise_distances(np.array([a, b], dtype=np.float64))
    assert distances[0, 1] == pytest.approx(metres, abs=0.01)
    assert distances[0, 0] == 0


def test_calibration_points_map_onto_their_world_points() -> None:
    ground = GroundPlane.from_calibration(TRAPEZOID, FRAME)
    pixels = np.array(TRAPEZOID.image_points) * np.array(FRAME)
    np.testing.assert_allclose(ground.to_metres(pixels), TRAPEZOID.world_points_m, atol=0.01)
    assert ground.to_metres(np.zeros((0, 2))).shape == (0, 2)


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ({"image_points": [(0.1, 0.1), (0.2, 0.2), (0.3, 0.3), (0.4, 0.4)]}, "image_points are degenerate"),
        ({"image_points": [(0.1, 0.1), (0.5, 0.1), (0.9, 0.1), (0.5, 0.9)]}, "image_points are degenerate"),
        ({"image_points": [(0.1, 0.1), (0.1, 0.1), (0.9, 0.1), (0.5, 0.9)]}, "image_points are degenerate"),
        ({"world_points_m": [(0, 0), (1, 0), (2, 0), (3, 0)]}, "world_points_m are degenerate"),
        ({"world_points_m": [(0, 0), (1, 0), (1, 1), (0, 1), (2, 2)]}, "4 image points but 5 world points"),
        ({"image_points": [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9)]}, "at least 4"),
        ({"image_points": [(0.1, 0.1), (1.9, 0.1), (0.9, 0.9), (0.1, 0.9)]}, "less than or equal to 1"),
    ],
)
def test_degenerate_calibrations_are_rejected(points: dict[str, Any], message: str) -> None:
    data: dict[str, Any] = {
        "image_points": [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)],
        "world_points_m": [(0, 0), (5, 0), (5, 5), (0, 5)],
    } | points
    with pytest.raises(ValidationError, match=message):
        Calibration.model_validate(data)


def test_extra_collinear_points_are_fine_beside_a_general_quad() -> None:
    cal = Calibration(
        image_points=[(0.1, 0.1), (0.5, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9)],
        world_points_m=[(0, 0), (2, 0), (4, 0), (4, 4), (0, 4)],
    )
    assert GroundPlane.from_calibration(cal, FRAME).to_metres(np.array([[500.0, 100.0]]))[0] == pytest.approx(
        (2, 0), abs=0.01
    )


@pytest.mark.parametrize(
    ("counts", "cap", "dwell", "expected"),
    [
        ([3, 3, 3, 3], 2, 1.0, [None, None, 0.0, 0.0]),  # frames 0.5 s apart: over cap from t=0, 1 s dwell
        ([3, 2, 3, 3, 3], 2, 1.0, [None, None, None, None, 1.0]),  # a dip resets the spell
        ([5, 5], None, 0.0, [None, None]),  # no cap, no rule
        ([3, 3], 2, 0.0, [0.0, 0.0]),
    ],
)
def test_occupancy_monitor(
    counts: list[int], cap: int | None, dwell: float, expected: list[float | None]
) -> None:
    monitor = OccupancyMonitor()
    got = [monitor.update("z", count, cap, dwell, ts=0.5 * i) for i, count in enumerate(counts)]
    assert got == expected


def test_proximity_monitor_needs_the_pair_close_for_the_dwell() -> None:
    ground = GroundPlane.from_calibration(SQUARE, FRAME)  # 50 px = 1 m
    monitor = ProximityMonitor(ground, min_distance_m=1.5, dwell_s=1.0)
    ids = np.array([7, 3, 9])
    close = np.array([[500.0, 800.0], [550.0, 800.0], [900.0, 800.0]])  # 7–3 at 1 m, 9 far away
    apart = np.array([[500.0, 800.0], [600.0, 800.0], [900.0, 800.0]])  # 7–3 at 2 m
    timeline = [close, close, close, apart, close, close, close]
    fired = [monitor.update(ids, points, ts=0.5 * i) for i, points in enumerate(timeline)]
    assert [[(p.track_a, p.track_b) for p in f] for f in fired] == [[], [], [(3, 7)], [], [], [], [(3, 7)]]
    assert fired[2][0].distance_m == pytest.approx(1.0, abs=0.01)
    assert fired[6][0].since == 2.0


def _persons(*boxes: tuple[float, float, float, float]) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array(boxes, dtype=np.float32).reshape(-1, 4),
        confidence=np.full(len(boxes), 0.9, dtype=np.float32),
        class_id=np.full(len(boxes), PPEClass.PERSON, dtype=np.int64),
    )


def test_distance_rule_is_off_without_calibration() -> None:
    assert not SceneAnalyzer("cam", CameraRules(), FRAME).distance_rule_enabled
    assert SceneAnalyzer("cam", CameraRules(calibration=SQUARE), FRAME).distance_rule_enabled


def test_analyzer_raises_occupancy_only_for_people_inside_the_capped_zone() -> None:
    left = ZoneConfig(
        id="left", name="Left", polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)], occupancy_cap=1, dwell_s=0.4
    )
    analyzer = SceneAnalyzer("cam", CameraRules(zones=[left], rules=RuleConfig()), FRAME)
    frame = _persons((100, 500, 200, 900), (300, 500, 400, 900), (700, 500, 800, 900))
    kinds = [[v.kind for v in analyzer.analyze(frame, ts=0.2 * i).violations] for i in range(6)]
    # Frame 0: tracks not yet confirmed; spell starts at frame 1, dwell 0.4 s → frames 3, 4, 5.
    assert kinds == [[], [], [], ["crowding_occupancy"], ["crowding_occupancy"], ["crowding_occupancy"]]
    violation = analyzer.analyze(frame, ts=1.2).violations[0]
    assert violation.zone_id == "left"
    assert violation.details["count"] == 2
    assert violation.details["cap"] == 1
    assert violation.box == (100, 500, 400, 900)
