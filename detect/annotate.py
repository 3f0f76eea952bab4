"""Evidence snapshot rendering: the detections with labels, violators boxed in red, as JPEG bytes."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv

from detect._classes import CLASS_NAMES
from detect._sv import boxes, class_ids, confidences
from detect.analyzer import Violation

_NEUTRAL = sv.Color(r=64, g=200, b=64)
_VIOLATION = sv.Color(r=230, g=32, b=32)
_INDEX = sv.ColorLookup.INDEX


def draw_snapshot(
    image: npt.NDArray[np.uint8], detections: sv.Detections, violations: Sequence[Violation]
) -> npt.NDArray[np.uint8]:
    """A copy of `image` (BGR) with every detection in green and each violation's box in red.

    Violation labels read e.g. "#3 no_vest 0.81"; supervision draws text with cv2's built-in font.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a BGR uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    scene = image.copy()
    thickness = max(1, round(min(scene.shape[:2]) / 360))
    scale = max(0.4, min(scene.shape[:2]) / 1200)
    if len(detections):
        labels = [
            f"{_class_name(c)} {p:.2f}"
            for c, p in zip(class_ids(detections), confidences(detections), strict=True)
        ]
        neutral = sv.Detections(xyxy=boxes(detections).astype(np.float32))
        scene = sv.BoxAnnotator(color=_NEUTRAL, thickness=thickness, color_lookup=_INDEX).annotate(
            scene, neutral
        )
        scene = sv.LabelAnnotator(
            color=_NEUTRAL, text_scale=scale, text_thickness=thickness, color_lookup=_INDEX
        ).annotate(scene, neutral, labels)
    if violations:
        red = sv.Detections(xyxy=np.array([v.box for v in violations], dtype=np.float32).reshape(-1, 4))
        labels = [_violation_label(v) for v in violations]
        scene = sv.BoxAnnotator(color=_VIOLATION, thickness=2 * thickness, color_lookup=_INDEX).annotate(
            scene, red
        )
        scene = sv.LabelAnnotator(
            color=_VIOLATION,
            text_scale=scale,
            text_thickness=thickness,
            text_position=sv.Position.TOP_RIGHT,
            smart_position=True,
            color_lookup=_INDEX,
        ).annotate(scene, red, labels)
    return scene


def encode_jpeg(image: npt.NDArray[np.uint8], quality: int = 85) -> bytes:
    """BGR image → JPEG bytes."""
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be in 1..100, got {quality}")
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"cv2 could not encode an image of shape {image.shape} as JPEG")
    return bytes(buffer.tobytes())


def _class_name(class_id: int) -> str:
    return CLASS_NAMES[class_id] if 0 <= class_id < len(CLASS_NAMES) else str(class_id)


def _violation_label(violation: Violation) -> str:
    who = f"#{violation.track_id} " if violation.track_id is not None else ""
    if violation.kind == "crowding_distance":
        who = f"#{violation.track_id}-#{violation.details.get('other_track_id')} "
        return f"{who}{violation.kind} {violation.details.get('distance_m', '?')} m"
    return f"{who}{violation.kind} {violation.confidence:.2f}"
