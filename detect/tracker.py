"""Person tracking with ByteTrack, so rules and debouncing can speak about *the same* person over time.

supervision ≥ 0.27 moved ByteTrack out into Roboflow's `trackers` package (same sv.Detections in/out).
"""

from __future__ import annotations

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from detect._classes import PPEClass
from detect._sv import class_ids, subset, tracker_ids


class PersonTracker:
    """ByteTrack over person boxes at the analysis frame rate.

    `update` returns only confirmed tracks (tracker_id ≥ 0): a box seen once is not yet "a person
    we follow", and a violation needs a stable id to be debounced against.
    """

    def __init__(self, frame_rate: float, *, lost_s: float = 2.0, activation_conf: float = 0.5):
        if frame_rate <= 0:
            raise ValueError(f"frame_rate must be positive, got {frame_rate}")
        self.frame_rate = frame_rate
        self._tracker = ByteTrackTracker(
            # `lost_track_buffer` counts 30 fps frames whatever the real rate is (trackers' convention).
            lost_track_buffer=max(1, round(lost_s * 30)),
            frame_rate=frame_rate,
            track_activation_threshold=activation_conf,
            minimum_consecutive_frames=1,
        )

    def update(self, persons: sv.Detections) -> sv.Detections:
        """Track one frame's person detections; returns them with `tracker_id`, unconfirmed ones dropped."""
        if not np.all(class_ids(persons) == PPEClass.PERSON):
            raise ValueError("PersonTracker.update takes person detections only")
        tracked: sv.Detections = self._tracker.update(persons)
        if tracked.tracker_id is None:
            return subset(tracked, np.zeros(len(tracked), dtype=bool))
        return subset(tracked, tracker_ids(tracked) >= 0)

    def reset(self) -> None:
        self._tracker.reset()
