"""Debounce timelines (k-of-n, once per subject, cooldown) and review-item spans (merge, gap, max length)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
import supervision as sv

from detect.analyzer import FrameAnalysis, Violation, ViolationKind
from detect.annotate import draw_snapshot, encode_jpeg
from detect.events import Debouncer, EventBuilder, EventUpdate
from detect.rules_config import CameraRules, RuleConfig

DT = 0.2  # 5 fps


def violation(
    track: int | None, kind: ViolationKind = "no_vest", ts: float = 0.0, conf: float = 0.8
) -> Violation:
    return Violation(kind, track, None, ts, (10.0, 10.0, 50.0, 90.0), conf)


def frame(ts: float, *violations: Violation) -> FrameAnalysis:
    stamped = [
        Violation(v.kind, v.track_id, v.zone_id, ts, v.box, v.confidence, v.details) for v in violations
    ]
    return FrameAnalysis("cam", ts, sv.Detections.empty(), sv.Detections.empty(), [], {}, stamped)


def builder(**rules: Any) -> EventBuilder:
    return EventBuilder("cam", CameraRules(rules=RuleConfig(**rules)))


def run(events: EventBuilder, timeline: str, track: int = 1) -> list[tuple[int, str]]:
    """Feed one frame per character ('x' = violation of `track`, '.' = none); return (frame, update type)."""
    out: list[tuple[int, str]] = []
    for i, c in enumerate(timeline):
        for update in events.update(frame(i * DT, *([violation(track)] if c == "x" else []))):
            out.append((i, update.type))
    return out


@pytest.mark.parametrize(
    ("k", "n", "timeline", "fires_at"),
    [
        (3, 5, "xxx", [2]),
        (3, 5, "xx", []),
        (3, 5, "x.x.x", [4]),
        (3, 5, "x..x.x", []),  # never 3 within any 5 consecutive frames
        (3, 5, "xx...xx", []),
        (3, 5, "xx..x", [4]),
        (1, 1, "..x", [2]),
        (3, 3, "xx.xx.xx", []),
        (2, 4, "x..x", [3]),
        (3, 5, "xxxxxxxxxxxxxxxxxxxx", [2]),  # once per subject while it persists
    ],
)
def test_k_of_n(k: int, n: int, timeline: str, fires_at: list[int]) -> None:
    events = builder(k=k, n=n)
    got = [i for i, kind in run(events, timeline) if kind in ("opened", "updated")]
    assert got == fires_at


def test_debouncer_forgets_a_subject_after_n_clean_frames() -> None:
    debouncer = Debouncer(2, 3)
    subject = ("no_vest", 1, None, None)
    assert debouncer.update({subject}) == set()
    assert debouncer.update(set()) == set()
    assert debouncer.update({subject}) == {subject}
    for _ in range(3):
        debouncer.update(set())
    assert debouncer.update({subject}) == set()  # history gone: needs k again
    with pytest.raises(ValueError, match="k <= n"):
        Debouncer(4, 3)


@pytest.mark.parametrize(
    ("cooldown_s", "timeline", "violations"),
    [
        # violates, clears for 2 s, violates again: within a 60 s cooldown it does not fire twice
        (60.0, "xxxx" + "." * 10 + "xxxx", 1),
        # with a 1 s cooldown the second spell is a new firing (same event: within the 10 s gap)
        (1.0, "xxxx" + "." * 10 + "xxxx", 2),
        # k-of-n still satisfied through a short gap: no re-firing even with no cooldown
        (0.0, "xxxx.xxxx", 1),
    ],
)
def test_cooldown(cooldown_s: float, timeline: str, violations: int) -> None:
    events = builder(k=3, n=5, cooldown_s=cooldown_s)
    run(events, timeline)
    (closed,) = events.flush(len(timeline) * DT)
    assert len(closed.event.violations) == violations


def test_violations_within_the_gap_join_one_event_then_it_closes() -> None:
    events = builder(k=1, n=1, event_gap_s=2.0)
    updates: list[EventUpdate] = []
    script = {
        0.0: [violation(1)],
        1.0: [violation(2, "no_hardhat")],
        2.0: [violation(1)],
        8.0: [violation(3)],
    }
    for i in range(60):
        ts = round(i * DT, 3)
        updates += events.update(frame(ts, *script.get(ts, [])))
    updates += events.flush(12.0)
    assert [u.type for u in updates] == ["opened", "updated", "closed", "opened", "closed"]
    first, second = updates[2].event, updates[4].event
    assert first.kinds == ["no_hardhat", "no_vest"] and first.tracks == [1, 2]
    assert len(first.violations) == 2  # track 1 at t=2 was still latched: no second firing
    assert (first.started_at, first.last_violation_at, first.ended_at) == (0.0, 2.0, 2.0)
    assert second.tracks == [3] and second.id != first.id
    assert updates[0].event.id == first.id


def test_the_event_stays_open_while_a_fired_violation_persists() -> None:
    events = builder(k=3, n=5, event_gap_s=1.0)
    updates = run(events, "x" * 40 + "." * 10)
    assert [t for _, t in updates] == ["opened", "closed"]
    assert updates[1][0] == 45  # last violation at frame 39 (7.8 s) + gap 1 s → closes on frame 45 (9.0 s)


def test_max_length_cuts_a_long_incident_into_pieces() -> None:
    events = builder(k=1, n=1, max_event_s=2.0, cooldown_s=60.0)
    updates = run(events, "x" * 25)
    assert [(i, t) for i, t in updates] == [
        (0, "opened"),
        (10, "closed"),
        (10, "opened"),
        (20, "closed"),
        (20, "opened"),
    ]
    assert updates[1][1] == "closed"


def test_crowding_subjects_debounce_per_zone_and_pair() -> None:
    events = builder(k=2, n=2)
    occupancy = Violation("crowding_occupancy", None, "gate", 0, (0, 0, 1, 1), 0.9, {"tracks": [4, 5, 6]})
    pair = Violation("crowding_distance", 4, None, 0, (0, 0, 1, 1), 0.8, {"other_track_id": 5})
    other_pair = Violation("crowding_distance", 4, None, 0, (0, 0, 1, 1), 0.8, {"other_track_id": 6})
    events.update(frame(0.0, occupancy, pair))
    events.update(frame(0.2, occupancy, other_pair))
    events.update(frame(0.4, occupancy, other_pair))
    (closed,) = events.flush(1.0)
    assert sorted(v.kind for v in closed.event.violations) == ["crowding_distance", "crowding_occupancy"]
    assert closed.event.tracks == [4, 5, 6]


def test_best_snapshot_is_a_copy_of_the_most_confident_frame() -> None:
    events = builder(k=1, n=1)
    images = [np.full((4, 4, 3), i, dtype=np.uint8) for i in range(4)]
    for i, conf in enumerate([0.5, 0.9, 0.7, 0.6]):
        events.update(frame(i * DT, violation(1, conf=conf)), images[i])
    images[1][:] = 255  # the caller reuses its buffer
    (closed,) = events.flush(1.0)
    snapshot = closed.event.best_snapshot
    assert snapshot is not None and snapshot.image is not None
    assert (snapshot.ts, snapshot.confidence, int(snapshot.image[0, 0, 0])) == (0.2, 0.9, 1)


def test_review_item_records_the_rules_that_fired_it() -> None:
    events = EventBuilder("cam-7", CameraRules(rules=RuleConfig(k=1, n=1, version=4)))
    (opened,) = events.update(frame(0.0, violation(1)))
    assert opened.event.camera_id == "cam-7" and opened.event.rule_version == 4
    assert opened.event.rule_snapshot["rules"]["k"] == 1
    assert opened.event.ended_at is None and opened.event.is_open
    assert events.flush(5.0)[0].event.ended_at == 0.0
    assert events.flush(6.0) == []


def test_snapshot_rendering_on_a_real_photo(dataset_dir: Path) -> None:
    path = next(iter(sorted((dataset_dir / "valid" / "images").glob("*.jpg"))))
    image = np.asarray(cv2.imread(str(path)), dtype=np.uint8)
    original = image.copy()
    found = sv.Detections(
        xyxy=np.array([[20, 20, 120, 200], [40, 25, 90, 60]], dtype=np.float32),
        confidence=np.array([0.9, 0.8], dtype=np.float32),
        class_id=np.array([5, 2]),
    )
    drawn = draw_snapshot(image, found, [Violation("no_hardhat", 3, None, 0.0, (200, 200, 300, 400), 0.8)])
    assert np.array_equal(image, original)  # the caller's frame is untouched
    assert drawn.shape == image.shape and not np.array_equal(drawn, image)
    b, g, r = (int(c) for c in drawn[300, 200])  # left edge of the violation box: red (BGR)
    assert r > 200 and g < 60 and b < 60
    jpeg = encode_jpeg(drawn, quality=80)
    decoded = np.asarray(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR))
    assert decoded.shape == image.shape
    with pytest.raises(ValueError, match="quality"):
        encode_jpeg(drawn, quality=0)
    with pytest.raises(ValueError, match="BGR uint8"):
        draw_snapshot(np.zeros((4, 4), np.uint8), found, [])
