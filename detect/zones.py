"""A zone of one camera in pixels: membership by foot point, schedule, occupancy."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
import supervision as sv

from detect.rules_config import CameraRules, PPEKind, ZoneConfig

FrameSize = tuple[int, int]  # (width, height) in pixels, supervision's resolution_wh order

# The implicit zone of a camera without zones: the whole frame, hardhat + vest, no cap, always active.
IMPLICIT_ZONE = ZoneConfig(
    id="frame", name="Whole frame", polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
)


class Zone:
    """A `ZoneConfig` scaled to a frame size.

    Membership uses the person's foot point (bottom-centre of the box): that is where the person
    stands, so a worker leaning over a zone edge is not "in" it. Points on the edge count as inside.
    """

    def __init__(self, config: ZoneConfig, frame_size: FrameSize, *, implicit: bool = False):
        width, height = frame_size
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {frame_size}")
        self.config = config
        self.implicit = implicit
        self.polygon = np.array(config.polygon, dtype=np.float64) * np.array(
            [width, height], dtype=np.float64
        )
        self._contour = self.polygon.astype(np.float32).reshape(-1, 1, 2)

    @classmethod
    def from_rules(cls, rules: CameraRules, frame_size: FrameSize) -> list[Zone]:
        """The camera's zones, or the single implicit whole-frame zone when it has none."""
        if not rules.zones:
            return [cls(IMPLICIT_ZONE, frame_size, implicit=True)]
        return [cls(config, frame_size) for config in rules.zones]

    @property
    def id(self) -> str | None:
        """None for the implicit zone, so violations do not name a zone nobody drew."""
        return None if self.implicit else self.config.id

    @property
    def required_ppe(self) -> frozenset[PPEKind]:
        return frozenset(self.config.required_ppe)

    def contains(
        self, points: npt.NDArray[np.floating] | Sequence[tuple[float, float]]
    ) -> npt.NDArray[np.bool_]:
        """Which pixel points (N, 2) lie inside the polygon or on its edge."""
        array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if self.implicit:
            return np.ones(len(array), dtype=bool)
        return np.array(
            [cv2.pointPolygonTest(self._contour, (float(x), float(y)), False) >= 0 for x, y in array],
            dtype=bool,
        )

    def trigger(self, detections: sv.Detections) -> npt.NDArray[np.bool_]:
        """Mask of detections whose foot point is in the zone."""
        if len(detections) == 0:
            return np.zeros(0, dtype=bool)
        return self.contains(foot_points(detections))

    def is_active(self, ts: float) -> bool:
        """Rules of a scheduled zone apply only within its working hours."""
        schedule = self.config.schedule
        return schedule is None or schedule.is_active(ts)

    def occupancy(self, detections: sv.Detections) -> int:
        return int(self.trigger(detections).sum())

    def over_capacity(self, detections: sv.Detections) -> bool:
        cap = self.config.occupancy_cap
        return cap is not None and self.occupancy(detections) > cap


def foot_points(detections: sv.Detections) -> npt.NDArray[np.float64]:
    """Bottom-centre of each box, (N, 2) pixels."""
    xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
    return np.stack([(xyxy[:, 0] + xyxy[:, 2]) / 2.0, xyxy[:, 3]], axis=1)
