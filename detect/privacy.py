"""Head blurring for evidence that leaves the inspector's view (alert channels, supervisor page, exports).

Head regions come from the detector's own head-level boxes (Hardhat, NO-Hardhat, Mask, NO-Mask) and the top
of each Person box (a person seen from behind, or whose head the model did not box, still gets blurred).
The blur itself is supervision's `PixelateAnnotator` (irreversible at the pixel sizes used here; a Gaussian
blur can be partly undone). Inspectors keep the original; both versions are stored with their hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import supervision as sv

from detect._classes import PPEClass
from detect._sv import boxes, class_ids

HeadRegion = tuple[int, int, int, int]
"""One head region of an image: pixel x1, y1, x2, y2 (x2/y2 exclusive), as `HeadBlur.regions` returns them."""

HEAD_CLASSES: frozenset[int] = frozenset(
    {PPEClass.HARDHAT, PPEClass.NO_HARDHAT, PPEClass.MASK, PPEClass.NO_MASK}
)


@dataclass(frozen=True, slots=True)
class HeadBlur:
    """Which part of a frame counts as a head, and how coarsely it is pixelated.

    `person_head_fraction`: the top share of a Person box taken as its head; `margin`: how much each head box
    grows on every side (share of its size), so hair and chin are covered; `cells`: pixel blocks across a
    head (fewer = coarser; 6 leaves no recognisable face at any size).
    """

    person_head_fraction: float = 0.24
    person_head_width: float = 0.7
    margin: float = 0.25
    cells: int = 6

    def __post_init__(self) -> None:
        if not 0.05 <= self.person_head_fraction <= 0.5:
            raise ValueError(f"person_head_fraction must be in 0.05..0.5, got {self.person_head_fraction}")
        if not 0.2 <= self.person_head_width <= 1.0:
            raise ValueError(f"person_head_width must be in 0.2..1.0, got {self.person_head_width}")
        if not 0.0 <= self.margin <= 1.0:
            raise ValueError(f"margin must be in 0..1, got {self.margin}")
        if not 2 <= self.cells <= 32:
            raise ValueError(f"cells must be in 2..32, got {self.cells}")

    def regions(self, detections: sv.Detections, shape: tuple[int, ...]) -> npt.NDArray[np.int64]:
        """Integer (N, 4) xyxy head regions, clipped to an image of `shape` (H, W, ...)."""
        height, width = int(shape[0]), int(shape[1])
        xyxy = boxes(detections)
        ids = class_ids(detections)
        heads = [xyxy[i] for i in range(len(ids)) if int(ids[i]) in HEAD_CLASSES]
        for i in np.flatnonzero(ids == PPEClass.PERSON):
            x1, y1, x2, y2 = xyxy[i]
            cx, half = (x1 + x2) / 2, (x2 - x1) * self.person_head_width / 2
            heads.append(np.array([cx - half, y1, cx + half, y1 + (y2 - y1) * self.person_head_fraction]))
        if not heads:
            return np.zeros((0, 4), dtype=np.int64)
        out = np.array(heads, dtype=np.float64)
        grow = np.stack([out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]], axis=1) * self.margin
        out[:, [0, 1]] -= grow
        out[:, [2, 3]] += grow
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
        rounded: npt.NDArray[np.int64] = np.round(out).astype(np.int64)
        keep = (rounded[:, 2] > rounded[:, 0]) & (rounded[:, 3] > rounded[:, 1])
        return rounded[keep]

    def head_regions(self, detections: sv.Detections, shape: tuple[int, ...]) -> tuple[HeadRegion, ...]:
        """`regions` as plain tuples: what evidence records keep with a snapshot."""
        return tuple(
            (int(x1), int(y1), int(x2), int(y2))
            for x1, y1, x2, y2 in self.regions(detections, shape).tolist()
        )

    def apply(self, image: npt.NDArray[np.uint8], detections: sv.Detections) -> npt.NDArray[np.uint8]:
        """A copy of `image` (BGR) with every head region pixelated; pixels outside them are unchanged."""
        return self.pixelate(image, self.head_regions(detections, image.shape))

    def pixelate(self, image: npt.NDArray[np.uint8], regions: Sequence[HeadRegion]) -> npt.NDArray[np.uint8]:
        """A copy of `image` with the given regions (clipped to it) pixelated; nothing else changes."""
        if image.ndim != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 image (H, W, C), got {image.dtype} {image.shape}")
        scene = image.copy()
        height, width = image.shape[:2]
        for rx1, ry1, rx2, ry2 in regions:
            x1, x2 = max(0, min(int(rx1), width)), max(0, min(int(rx2), width))
            y1, y2 = max(0, min(int(ry1), height)), max(0, min(int(ry2), height))
            if x2 <= x1 or y2 <= y1:
                continue
            size = max(1, int(max(x2 - x1, y2 - y1)) // self.cells)
            region = sv.Detections(xyxy=np.array([[x1, y1, x2, y2]], dtype=np.float32))
            scene = sv.PixelateAnnotator(pixel_size=size).annotate(scene, region)
        return scene
