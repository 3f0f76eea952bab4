"""Head blurring: only head regions change, and a real frame's heads are covered."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import supervision as sv

from detect import Detector
from detect._classes import PPEClass
from detect.privacy import HeadBlur


def _detections(rows: list[tuple[float, float, float, float, int]]) -> sv.Detections:
    if not rows:
        return sv.Detections.empty()
    arr = np.array(rows, dtype=np.float32)
    return sv.Detections(xyxy=arr[:, :4], class_id=arr[:, 4].astype(int), confidence=np.ones(len(rows)))


def _noise(h: int = 240, w: int = 320) -> np.ndarray:
    return np.random.default_rng(7).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([(100, 50, 140, 90, PPEClass.HARDHAT)], [(90, 40, 150, 100)]),
        ([(100, 50, 140, 90, PPEClass.NO_MASK)], [(90, 40, 150, 100)]),
        # a person: the top 24 % of the box, 70 % of its width, grown by 25 %
        ([(100, 20, 200, 220, PPEClass.PERSON)], [(98, 8, 202, 80)]),
        ([(100, 50, 140, 90, PPEClass.SAFETY_VEST)], []),  # a vest is no head
        ([(300, 230, 360, 300, PPEClass.NO_HARDHAT)], [(285, 212, 320, 240)]),  # clipped to the frame
    ],
)
def test_regions(rows: list[tuple[float, float, float, float, int]], expected: list[tuple[int, ...]]) -> None:
    got = HeadBlur().regions(_detections(rows), (240, 320, 3))
    assert [tuple(int(v) for v in r) for r in got] == expected


def test_only_head_regions_change() -> None:
    image = _noise()
    dets = _detections([(100, 50, 140, 90, PPEClass.HARDHAT), (20, 100, 80, 230, PPEClass.PERSON)])
    blur = HeadBlur()
    out = blur.apply(image, dets)
    inside = np.zeros(image.shape[:2], dtype=bool)
    for x1, y1, x2, y2 in blur.regions(dets, image.shape):
        inside[y1:y2, x1:x2] = True
    changed = np.any(out != image, axis=2)
    assert changed.any()
    assert not (changed & ~inside).any(), "pixels outside head regions changed"
    assert changed[inside].mean() > 0.8, "head regions are not pixelated"
    assert np.array_equal(blur.apply(image, sv.Detections.empty()), image)


@pytest.mark.parametrize("bad", [{"cells": 1}, {"margin": -0.1}, {"person_head_fraction": 0.9}])
def test_bounds(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be in"):
        HeadBlur(**bad)  # type: ignore[arg-type]


def test_real_frame_heads_are_pixelated(videos: Path) -> None:
    detector = Detector.load()
    cap = cv2.VideoCapture(str(videos / "ppe-2.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 60)
    ok, frame = cap.read()
    cap.release()
    assert ok
    dets = detector.detect([frame])[0]
    blur = HeadBlur()
    regions = blur.regions(dets, frame.shape)
    assert len(regions) >= 1, "no head found on a frame with workers"
    out = blur.apply(frame, dets)
    for x1, y1, x2, y2 in regions:
        # pixelated = flat blocks: most pixels equal their right-hand neighbour (few in a real photo)
        before, after = frame[y1:y2, x1:x2], out[y1:y2, x1:x2]
        flat_before = np.all(before[:, 1:] == before[:, :-1], axis=2).mean()
        flat_after = np.all(after[:, 1:] == after[:, :-1], axis=2).mean()
        assert flat_before < 0.5 < flat_after, (flat_before, flat_after)
