"""The unit that flows from a source into the pipeline."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded video frame from one camera.

    `ts` is wall-clock time (seconds since the epoch) when the frame was captured or received;
    `pts` is the stream-relative presentation time in seconds (monotonic within one connection).
    `image` is BGR, uint8, shape (H, W, 3) — the layout OpenCV and the detector expect.
    """

    camera_id: str
    ts: float
    pts: float
    image: npt.NDArray[np.uint8]

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])
