"""A video file as a camera: demos, tests, and replaying recorded footage through the pipeline."""

from __future__ import annotations

import time
from pathlib import Path

import av
import av.container
import numpy as np
import numpy.typing as npt

from ingest._av import AvVideoSource, describe_av_error
from ingest._frame import Frame
from ingest.source import SourceUnavailable


class VideoFileSource(AvVideoSource):
    """Decode a video file; `ts` = wall time when decoding started + stream pts.

    realtime: pace frames at the file's own speed, like a live camera (otherwise as fast as decoding).
    loop: start over at the end, with pts (and so ts) still increasing.
    """

    def __init__(
        self, camera_id: str, path: str | Path, *, realtime: bool = False, loop: bool = False
    ) -> None:
        super().__init__(camera_id)
        self.path = Path(path)
        self.realtime = realtime
        self.loop = loop
        self._start_wall: float | None = None
        self._offset = 0.0  # added to pts on later passes when looping
        self._last_pts = 0.0
        self._frame_step = 0.04

    def _open(self) -> av.container.InputContainer:
        if not self.path.is_file():
            raise SourceUnavailable(f"cannot open video {self.path}: no such file")
        try:
            container = av.open(str(self.path), mode="r")
        except av.FFmpegError as exc:
            raise SourceUnavailable(f"cannot open video {self.path}: {describe_av_error(exc)}") from None
        if container.streams.video:
            self._frame_step = 1.0 / float(container.streams.video[0].average_rate or 25)
        if self._start_wall is None:
            self._start_wall = time.time()
        return container

    def _play_again(self) -> bool:
        if self.loop:
            self._offset = self._last_pts + self._frame_step
        return self.loop

    def _make_frame(self, pts: float, image: npt.NDArray[np.uint8]) -> Frame:
        assert self._start_wall is not None
        pts += self._offset
        self._last_pts = pts
        ts = self._start_wall + pts
        if self.realtime:
            delay = ts - time.time()
            if delay > 0:
                self._stopping.wait(delay)
        return Frame(self.camera_id, ts, pts, image)
