"""Typed accessors for `sv.Detections` (its `__getitem__` and optional arrays are loosely typed)."""

from __future__ import annotations

from typing import cast

import numpy as np
import numpy.typing as npt
import supervision as sv


def subset(detections: sv.Detections, mask: npt.NDArray[np.bool_]) -> sv.Detections:
    """The detections where `mask` is true (an empty mask on empty detections is fine)."""
    return cast(sv.Detections, detections[np.asarray(mask, dtype=bool)])


def boxes(detections: sv.Detections) -> npt.NDArray[np.float64]:
    return np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)


def confidences(detections: sv.Detections) -> npt.NDArray[np.float64]:
    """Confidence per box; 1.0 when the producer gave none (e.g. ground-truth labels)."""
    if detections.confidence is None:
        return np.ones(len(detections), dtype=np.float64)
    return np.asarray(detections.confidence, dtype=np.float64).reshape(-1)


def class_ids(detections: sv.Detections) -> npt.NDArray[np.int64]:
    if detections.class_id is None:
        if len(detections):
            raise ValueError("detections need class_id (detect._classes order)")
        return np.zeros(0, dtype=np.int64)
    return np.asarray(detections.class_id, dtype=np.int64).reshape(-1)


def tracker_ids(detections: sv.Detections) -> npt.NDArray[np.int64]:
    if detections.tracker_id is None:
        if len(detections):
            raise ValueError("detections are not tracked (tracker_id missing)")
        return np.zeros(0, dtype=np.int64)
    return np.asarray(detections.tracker_id, dtype=np.int64).reshape(-1)
