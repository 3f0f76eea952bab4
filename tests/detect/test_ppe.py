"""PPE association geometry, conflict resolution, persistence, implied persons, tracking, real labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import supervision as sv

from detect._classes import PPEClass
from detect._sv import class_ids, tracker_ids
from detect.analyzer import SceneAnalyzer
from detect.ppe import PPEAssociator, PPEStatus, imply_persons
from detect.rules_config import CameraRules, PPEKind, RuleConfig
from detect.tracker import PersonTracker

H, V, M = PPEKind.HARDHAT, PPEKind.VEST, PPEKind.MASK
WORN, MISSING, UNKNOWN = PPEStatus.WORN, PPEStatus.MISSING, PPEStatus.UNKNOWN
C = PPEClass
# Person A stands at x 100-300, y 100-500 (head band y 60-200, torso 180-380, face 140-260); B beside him.
A = (100, 100, 300, 500)
B = (320, 100, 520, 500)
HEAD_A = (160, 90, 240, 170)
TORSO_A = (120, 200, 280, 380)
FACE_A = (175, 170, 225, 230)
TORSO_B = (340, 200, 500, 380)

Box = tuple[float, float, float, float]


def detections(*items: tuple[int, float, Box], tracked: bool = False) -> sv.Detections:
    return sv.Detections(
        xyxy=np.array([box for _, _, box in items], dtype=np.float32).reshape(-1, 4),
        confidence=np.array([conf for _, conf, _ in items], dtype=np.float32),
        class_id=np.array([cls for cls, _, _ in items], dtype=np.int64),
        tracker_id=np.arange(1, len(items) + 1) if tracked else None,
    )


def persons(*boxes: Box) -> sv.Detections:
    return detections(*[(C.PERSON, 0.9, box) for box in boxes], tracked=True)


@pytest.mark.parametrize(
    ("people", "ppe", "expected"),
    [
        # hardhat on the head vs the same hardhat carried at the torso
        ([A], [(C.HARDHAT, 0.9, HEAD_A)], [{H: WORN, V: UNKNOWN, M: UNKNOWN}]),
        ([A], [(C.HARDHAT, 0.9, (150, 300, 250, 380))], [{H: UNKNOWN}]),
        ([A], [(C.HARDHAT, 0.9, (160, 40, 240, 110))], [{H: WORN}]),  # sticking out above the box
        ([A], [(C.NO_HARDHAT, 0.8, HEAD_A)], [{H: MISSING}]),
        # conflicting boxes on one head: the confidence margin decides, a near tie stays unknown
        ([A], [(C.HARDHAT, 0.9, HEAD_A), (C.NO_HARDHAT, 0.5, HEAD_A)], [{H: WORN}]),
        ([A], [(C.HARDHAT, 0.5, HEAD_A), (C.NO_HARDHAT, 0.9, HEAD_A)], [{H: MISSING}]),
        ([A], [(C.HARDHAT, 0.6, HEAD_A), (C.NO_HARDHAT, 0.55, HEAD_A)], [{H: UNKNOWN}]),
        # a NO-Hardhat below its floor (0.45) is ignored
        ([A], [(C.NO_HARDHAT, 0.4, HEAD_A)], [{H: UNKNOWN}]),
        # ppe-1's lamp: a NO-Hardhat box up and left of the head, mostly outside the head band
        ([A], [(C.NO_HARDHAT, 0.8, (0, 0, 180, 130))], [{H: UNKNOWN}]),
        ([A], [(C.SAFETY_VEST, 0.8, TORSO_A)], [{V: WORN, H: UNKNOWN}]),
        ([A], [(C.NO_SAFETY_VEST, 0.8, TORSO_A)], [{V: MISSING}]),
        # NO-Safety Vest on the very box of a Safety Vest: the model hesitates, that is no evidence (ppe-3)
        ([A], [(C.SAFETY_VEST, 0.4, TORSO_A), (C.NO_SAFETY_VEST, 0.75, TORSO_A)], [{V: WORN}]),
        ([A], [(C.SAFETY_VEST, 0.2, TORSO_A), (C.NO_SAFETY_VEST, 0.75, TORSO_A)], [{V: UNKNOWN}]),
        # a hi-vis neck shade from the head to mid-back is not a vest (ppe-3's worker seen from behind)
        (
            [A],
            [(C.SAFETY_VEST, 0.7, (130, 105, 270, 300)), (C.NO_SAFETY_VEST, 0.5, (110, 250, 290, 500))],
            [{V: MISSING}],
        ),
        # a vest box reaching to the bottom of a waist-up shot is still the torso's
        ([A], [(C.NO_SAFETY_VEST, 0.8, (110, 230, 290, 500))], [{V: MISSING}]),
        ([A], [(C.NO_MASK, 0.7, FACE_A)], [{M: MISSING, H: UNKNOWN}]),
        ([A], [(C.MASK, 0.7, FACE_A)], [{M: WORN}]),
        # two people side by side: each box lands on its own person only
        ([A, B], [(C.NO_SAFETY_VEST, 0.8, TORSO_B)], [{V: UNKNOWN}, {V: MISSING}]),
        (
            [A, B],
            [(C.SAFETY_VEST, 0.8, TORSO_A), (C.NO_SAFETY_VEST, 0.8, TORSO_B)],
            [{V: WORN}, {V: MISSING}],
        ),
        # a vest straddling both torsos goes to the one covering most of it, never to both
        ([A, B], [(C.SAFETY_VEST, 0.8, (200, 200, 330, 380))], [{V: WORN}, {V: UNKNOWN}]),
        # too small to judge, and a head cut by the frame's top edge
        ([(100, 100, 130, 140)], [(C.NO_HARDHAT, 0.9, (105, 98, 125, 108))], [{H: UNKNOWN}]),
        ([(100, 0, 300, 400)], [(C.NO_HARDHAT, 0.9, (160, 0, 240, 80))], [{H: UNKNOWN}]),
        ([(100, 0, 300, 400)], [(C.NO_SAFETY_VEST, 0.9, (120, 100, 280, 280))], [{V: MISSING}]),
    ],
)
def test_association_geometry(
    people: list[Box], ppe: list[tuple[int, float, Box]], expected: list[dict[PPEKind, PPEStatus]]
) -> None:
    states = PPEAssociator(RuleConfig(ppe_window=1)).associate(persons(*people), detections(*ppe))
    assert [
        {kind: state.statuses[kind] for kind in want} for state, want in zip(states, expected, strict=True)
    ] == (expected)


def test_persistence_smooths_a_flicker_but_follows_a_steady_signal() -> None:
    associator = PPEAssociator(RuleConfig(ppe_window=3, ppe_margin=0.3))
    no_vest = detections((C.NO_SAFETY_VEST, 0.8, TORSO_A))
    nothing = detections()
    timeline = [nothing, nothing, no_vest, nothing, nothing, no_vest, no_vest, no_vest, nothing]
    got = [associator.associate(persons(A), frame)[0].vest for frame in timeline]
    # means: 0, 0, -.27, -.27, -.27, -.27, -.53, -.8, -.53
    assert got == [UNKNOWN] * 6 + [MISSING] * 3


def test_evidence_is_kept_per_track() -> None:
    associator = PPEAssociator(RuleConfig(ppe_window=3))
    both = sv.Detections(
        xyxy=np.array([A, B], dtype=np.float32),
        confidence=np.array([0.9, 0.9], dtype=np.float32),
        class_id=np.full(2, C.PERSON),
        tracker_id=np.array([5, 8]),
    )
    associator.associate(both, detections((C.NO_SAFETY_VEST, 0.8, TORSO_B)))
    states = associator.associate(both, detections())
    assert [(s.track_id, s.vest) for s in states] == [(5, UNKNOWN), (8, MISSING)]


@pytest.mark.parametrize(
    ("people", "ppe", "implied"),
    [
        ([], [(C.NO_SAFETY_VEST, 0.8, TORSO_A)], 1),
        ([], [(C.NO_SAFETY_VEST, 0.5, TORSO_A)], 0),  # below implied_person_conf
        ([], [(C.NO_HARDHAT, 0.8, HEAD_A), (C.NO_SAFETY_VEST, 0.7, TORSO_A)], 1),  # one person, not two
        ([], [(C.SAFETY_VEST, 0.9, TORSO_A)], 0),  # compliant PPE never implies anyone
        ([A], [(C.NO_SAFETY_VEST, 0.8, TORSO_A)], 0),  # already inside a person box
        ([A], [(C.NO_SAFETY_VEST, 0.8, TORSO_B)], 1),  # B's person box was missed
    ],
)
def test_imply_persons(people: list[Box], ppe: list[tuple[int, float, Box]], implied: int) -> None:
    found = imply_persons(persons(*people), detections(*ppe), 0.6, (1000, 1000))
    assert len(found) == implied
    assert set(class_ids(found).tolist()) <= {C.PERSON}


def test_an_orphan_no_vest_box_becomes_a_tracked_person_missing_a_vest() -> None:
    analyzer = SceneAnalyzer("cam", CameraRules(), (1000, 1000))
    frame = detections((C.NO_SAFETY_VEST, 0.8, TORSO_A))
    last = [analyzer.analyze(frame, ts=0.2 * i) for i in range(3)][-1]
    assert [(v.kind, v.details["implied_person"]) for v in last.violations] == [("no_vest", True)]
    assert analyzer.analyze(sv.Detections.empty(), ts=1.0).violations == []


def test_tracker_keeps_the_id_of_a_walking_person() -> None:
    tracker = PersonTracker(frame_rate=5)
    ids = []
    for step in range(8):
        frame = detections((C.PERSON, 0.9, (100 + 10 * step, 100, 300 + 10 * step, 500)), (C.PERSON, 0.9, B))
        ids.append(sorted(tracker_ids(tracker.update(frame)).tolist()))
    assert ids[0] == []  # a box seen once is not a track yet
    assert len({tuple(i) for i in ids[1:]}) == 1 and len(ids[1]) == 2
    assert len(tracker.update(detections())) == 0
    with pytest.raises(ValueError, match="person detections only"):
        tracker.update(detections((C.HARDHAT, 0.9, HEAD_A)))


def _labels(path: Path, size: int) -> sv.Detections:
    rows = np.loadtxt(path, ndmin=2)
    cx, cy, w, h = (rows[:, i] * size for i in range(1, 5))
    return sv.Detections(
        xyxy=np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32),
        confidence=np.full(len(rows), 0.9, dtype=np.float32),
        class_id=rows[:, 0].astype(np.int64),
    )


GROUP = "ppe_0665_jpg.rf.1dad479f7f54b2a7127cf18ef74ffd85"  # 7 people in a row, 4 left ones without PPE


def test_real_group_photo_labels(dataset_dir: Path) -> None:
    """Ground-truth boxes of a crowded valid-set photo: overlapping people get their own PPE."""
    frame = _labels(dataset_dir / "valid" / "labels" / f"{GROUP}.txt", 640)
    analyzer = SceneAnalyzer("cam", CameraRules(), (640, 640))
    analysis = [analyzer.analyze(frame, ts=0.2 * i) for i in range(4)][-1]
    by_x = sorted(analysis.states, key=lambda s: s.box[0])
    assert [(s.hardhat, s.vest) for s in by_x] == [(MISSING, MISSING)] * 4 + [(WORN, WORN)] * 3
    kinds = sorted(v.kind for v in analysis.violations)
    assert kinds == ["no_hardhat"] * 4 + ["no_vest"] * 4
