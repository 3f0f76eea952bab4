"""What a live viewer of a camera is shown besides the picture: the newest analysed frame's boxes.

The picture itself is the newest JPEG of the pre-roll ring (`CameraPipeline.latest_frame`): live view
costs the worker no decode and no encode. `LiveDetections` is replaced (never mutated) by the inference
thread after each analysed frame, so readers on other threads see a consistent value.
"""

from __future__ import annotations

from dataclasses import dataclass

import supervision as sv

from detect._classes import CLASS_NAMES
from detect._sv import boxes, class_ids, confidences
from detect.analyzer import Violation


@dataclass(frozen=True, slots=True)
class LiveBox:
    """One box normalised to the frame (0..1), with what it is and whether it is a violation."""

    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    confidence: float | None
    violation: bool


@dataclass(frozen=True, slots=True)
class LiveDetections:
    ts: float
    frame_size: tuple[int, int]  # (width, height) in pixels
    detections: sv.Detections
    violations: tuple[Violation, ...]

    def boxes(self) -> list[LiveBox]:
        """Detections (green on the page) then violations (red), normalised to the frame size."""
        w, h = (max(1, d) for d in self.frame_size)
        out = [
            LiveBox(x1 / w, y1 / h, x2 / w, y2 / h, _name(int(c)), float(p), violation=False)
            for (x1, y1, x2, y2), c, p in zip(
                boxes(self.detections).tolist(),
                class_ids(self.detections),
                confidences(self.detections),
                strict=True,
            )
        ]
        out += [
            LiveBox(v.box[0] / w, v.box[1] / h, v.box[2] / w, v.box[3] / h, v.kind, v.confidence, True)
            for v in self.violations
        ]
        return out


def _name(class_id: int) -> str:
    return CLASS_NAMES[class_id] if 0 <= class_id < len(CLASS_NAMES) else str(class_id)
