"""Crowding in metres: a ground-plane homography and the two dwell rules (occupancy cap, min distance)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from detect.rules_config import Calibration

FrameSize = tuple[int, int]


class CalibrationError(ValueError):
    """The calibration points do not define a usable image → ground homography."""


class GroundPlane:
    """Maps image pixels of points on the ground (foot points) to metres on a flat site plan."""

    def __init__(self, homography: npt.NDArray[np.float64]):
        if homography.shape != (3, 3) or not np.all(np.isfinite(homography)):
            raise CalibrationError("homography must be a finite 3x3 matrix")
        if abs(np.linalg.det(homography)) < 1e-12:
            raise CalibrationError("homography is singular")
        self.homography = homography

    @classmethod
    def from_calibration(cls, calibration: Calibration, frame_size: FrameSize) -> GroundPlane:
        """Least-squares homography from the calibration's normalised image points scaled to `frame_size`."""
        width, height = frame_size
        image = np.array(calibration.image_points, dtype=np.float64) * np.array([width, height], np.float64)
        world = np.array(calibration.world_points_m, dtype=np.float64)
        homography, _ = cv2.findHomography(image, world, 0)
        if homography is None:
            raise CalibrationError("cv2.findHomography found no solution for these points")
        return cls(np.asarray(homography, dtype=np.float64))

    def to_metres(self, points: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """(N, 2) pixels → (N, 2) metres."""
        array = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
        if len(array) == 0:
            return np.zeros((0, 2), dtype=np.float64)
        return np.asarray(cv2.perspectiveTransform(array, self.homography), dtype=np.float64).reshape(-1, 2)

    def pairwise_distances(self, points: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """(N, N) ground distances in metres between pixel points."""
        metres = self.to_metres(points)
        diff = metres[:, None, :] - metres[None, :, :]
        return np.asarray(np.linalg.norm(diff, axis=2), dtype=np.float64)


class OccupancyMonitor:
    """Rule A: a zone's head count above its cap for longer than its dwell time."""

    def __init__(self) -> None:
        self._since: dict[str, float] = {}

    def update(self, zone_key: str, count: int, cap: int | None, dwell_s: float, ts: float) -> float | None:
        """Returns the time the over-cap spell started once it has lasted `dwell_s`, else None."""
        if cap is None or count <= cap:
            self._since.pop(zone_key, None)
            return None
        since = self._since.setdefault(zone_key, ts)
        return since if ts - since >= dwell_s else None


@dataclass(frozen=True, slots=True)
class ClosePair:
    track_a: int
    track_b: int
    distance_m: float
    since: float


class ProximityMonitor:
    """Rule B: two tracked people closer than `min_distance_m` on the ground for longer than `dwell_s`."""

    def __init__(self, ground: GroundPlane, min_distance_m: float, dwell_s: float):
        self.ground = ground
        self.min_distance_m = min_distance_m
        self.dwell_s = dwell_s
        self._since: dict[tuple[int, int], float] = {}

    def update(
        self, track_ids: npt.NDArray[np.integer], foot_points_px: npt.NDArray[np.floating], ts: float
    ) -> list[ClosePair]:
        """Pairs that have been too close for at least the dwell time (a pair resets when it separates)."""
        distances = self.ground.pairwise_distances(foot_points_px)
        close: dict[tuple[int, int], float] = {}
        ids = [int(t) for t in track_ids]
        for i in range(len(ids)):
            for j in range(i + 1, len(ids)):
                if distances[i, j] < self.min_distance_m:
                    a, b = sorted((ids[i], ids[j]))
                    close[(a, b)] = float(distances[i, j])
        self._since = {pair: self._since.get(pair, ts) for pair in close}
        return [
            ClosePair(a, b, close[(a, b)], since)
            for (a, b), since in sorted(self._since.items())
            if ts - since >= self.dwell_s
        ]
