"""The whole rules path on real data: Detector → SceneAnalyzer → EventBuilder over the shared footage,
and crowding on a real crowded valid-set photo (its label boxes) with a ground-plane calibration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from detect.analyzer import SceneAnalyzer
from detect.annotate import draw_snapshot, encode_jpeg
from detect.events import EventBuilder, ReviewItem
from detect.model import Detector
from detect.rules_config import Calibration, CameraRules, RuleConfig, ZoneConfig

ANALYSIS_FPS = 5.0


def sampled_frames(path: Path, fps: float = ANALYSIS_FPS) -> Iterator[tuple[float, npt.NDArray[np.uint8]]]:
    """(stream time, BGR image) at about `fps`, keeping every Nth decoded frame."""
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    source_fps = capture.get(cv2.CAP_PROP_FPS)
    step = max(1, round(source_fps / fps))
    index = 0
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                return
            if index % step == 0:
                yield index / source_fps, np.asarray(image, dtype=np.uint8)
            index += 1
    finally:
        capture.release()


def review_items(path: Path, detector: Detector, rules: CameraRules) -> list[ReviewItem]:
    analyzer: SceneAnalyzer | None = None
    events = EventBuilder(path.stem, rules)
    closed: list[ReviewItem] = []
    ts = 0.0
    for ts, image in sampled_frames(path):
        if analyzer is None:
            analyzer = SceneAnalyzer(path.stem, rules, (image.shape[1], image.shape[0]), fps=ANALYSIS_FPS)
        (found,) = detector.detect([image])
        closed += [u.event for u in events.update(analyzer.analyze(found, ts), image) if u.type == "closed"]
    closed += [u.event for u in events.flush(ts)]
    return closed


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.mark.slow
def test_ppe2_yields_one_no_vest_event_for_the_man_without_a_vest(videos: Path, detector: Detector) -> None:
    items = review_items(videos / "ppe-2.mp4", detector, CameraRules())
    assert len(items) == 1
    (item,) = items
    assert item.kinds == ["no_vest"]
    assert len(item.violations) == 1 and len(item.tracks) == 1
    (violation,) = item.violations
    x1, _, x2, _ = violation.box
    assert (x1 + x2) / 2 > 640  # he stands on the right; the woman on the left wears her vest
    assert item.ended_at is not None and item.ended_at - item.started_at > 5  # he is vest-less throughout
    snapshot = item.best_snapshot
    assert snapshot is not None and snapshot.image is not None
    jpeg = encode_jpeg(draw_snapshot(snapshot.image, snapshot.detections, snapshot.violations))
    assert jpeg[:2] == b"\xff\xd8" and len(jpeg) > 10_000


@pytest.mark.slow
def test_vest_wearers_raise_nothing_and_the_worker_from_behind_one_no_vest(
    videos: Path, detector: Detector
) -> None:
    """ppe-1's man and ppe-3's two women wear vests; ppe-3's worker on the right, from behind, has none."""
    assert review_items(videos / "ppe-1.mp4", detector, CameraRules()) == []
    items = review_items(videos / "ppe-3.mp4", detector, CameraRules())
    violations = [v for item in items for v in item.violations]
    assert [v.kind for v in violations] == ["no_vest"], violations
    x1, _, x2, _ = violations[0].box
    assert (x1 + x2) / 2 > 800  # the women squat left and centre (box centres ≈ 230 and 530 px)


@pytest.mark.slow
@pytest.mark.parametrize("video", ["ppe-1.mp4", "ppe-3.mp4"])
def test_hardhats_worn_throughout_raise_no_hardhat_event(
    video: str, videos: Path, detector: Detector
) -> None:
    items = review_items(videos / video, detector, CameraRules())
    assert [v for item in items for v in item.violations if v.kind == "no_hardhat"] == []


GROUP = "ppe_0665_jpg.rf.1dad479f7f54b2a7127cf18ef74ffd85"  # 7 people standing shoulder to shoulder


def group_photo(dataset_dir: Path) -> tuple[npt.NDArray[np.uint8], sv.Detections]:
    """The photo and its Person label boxes (ground truth, so the test is about the rules, not the model)."""
    image = np.asarray(cv2.imread(str(dataset_dir / "valid" / "images" / f"{GROUP}.jpg")), dtype=np.uint8)
    rows = np.loadtxt(dataset_dir / "valid" / "labels" / f"{GROUP}.txt", ndmin=2)
    rows = rows[rows[:, 0] == 5]
    height, width = image.shape[:2]
    cx, cy, w, h = rows[:, 1] * width, rows[:, 2] * height, rows[:, 3] * width, rows[:, 4] * height
    persons = sv.Detections(
        xyxy=np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32),
        confidence=np.full(len(rows), 0.9, dtype=np.float32),
        class_id=np.full(len(rows), 5, dtype=np.int64),
    )
    return image, persons


# The bottom strip of the photo (where all 7 stand) spans 5 m of ground left to right and 2 m in depth:
# neighbours (~0.12 of the width apart) are ~0.6 m apart, the ends of the row ~3.4 m.
# The same map written out by hand, to check the homography-based distances against.
ROW_CALIBRATION = Calibration(
    image_points=[(0.0, 0.8), (1.0, 0.8), (1.0, 1.0), (0.0, 1.0)],
    world_points_m=[(0.0, 2.0), (5.0, 2.0), (5.0, 0.0), (0.0, 0.0)],
)


def row_metres(x: float, y: float, frame: int = 640) -> tuple[float, float]:
    return 5.0 * x / frame, 10.0 * (1.0 - y / frame)


def test_crowding_on_a_real_group_photo(dataset_dir: Path) -> None:
    image, persons = group_photo(dataset_dir)
    assert len(persons) == 7
    site = ZoneConfig(
        id="site", name="Site", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)], occupancy_cap=5, dwell_s=2.0
    )
    rules = CameraRules(
        zones=[site], calibration=ROW_CALIBRATION, rules=RuleConfig(distance_dwell_s=3.0, k=3, n=5)
    )
    analyzer = SceneAnalyzer("gate", rules, (image.shape[1], image.shape[0]))
    events = EventBuilder("gate", rules)
    assert analyzer.distance_rule_enabled
    first_seen: dict[str, float] = {}
    updates = []
    for i in range(40):  # 8 s of the same scene at 5 fps
        ts = i / ANALYSIS_FPS
        analysis = analyzer.analyze(persons, ts)
        for v in analysis.violations:
            first_seen.setdefault(v.kind, ts)
        updates += events.update(analysis, image)
    updates += events.flush(8.0)

    # Tracks are confirmed on frame 1 (0.2 s); the rules then wait out their dwell times.
    assert first_seen == {"crowding_occupancy": pytest.approx(2.2), "crowding_distance": pytest.approx(3.2)}
    (item,) = [u.event for u in updates if u.type == "closed"]
    occupancy = [v for v in item.violations if v.kind == "crowding_occupancy"]
    distance = [v for v in item.violations if v.kind == "crowding_distance"]
    assert len(occupancy) == 1 and occupancy[0].details["count"] == 7 and occupancy[0].zone_id == "site"
    # Each pair of people under 1.5 m apart (by the hand-written map) is reported exactly once.
    feet = [row_metres((x1 + x2) / 2, y2) for x1, _, x2, y2 in persons.xyxy]
    close = sorted(
        round(float(np.hypot(a[0] - b[0], a[1] - b[1])), 2)
        for i, a in enumerate(feet)
        for b in feet[i + 1 :]
        if np.hypot(a[0] - b[0], a[1] - b[1]) < 1.5
    )
    assert len(close) >= 6  # at least every side-by-side pair
    assert sorted(round(v.details["distance_m"], 2) for v in distance) == pytest.approx(close, abs=0.011)
    assert len({(v.track_id, v.details["other_track_id"]) for v in distance}) == len(distance)
    assert len(item.tracks) == 7
