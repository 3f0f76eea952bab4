"""One camera's pipeline on real footage: evidence timing, and a stream that changes resolution mid-way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import cv2
import numpy as np
import pytest

from detect.model import Detector
from detect.rules_config import CameraRules
from ingest._frame import Frame
from ingest.files import VideoFileSource
from ingest.pipeline import CameraPipeline
from tests.ingest.test_worker import CollectingSink

pytestmark = pytest.mark.slow


# The right half of the frame requires vests; the man without one stands there in ppe-2.
RIGHT_HALF = CameraRules.model_validate(
    {"zones": [{"id": "7", "name": "right", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]}]}
)


def run(frames: list[Frame], detector: Detector) -> CollectingSink:
    sink = CollectingSink()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pipeline = CameraPipeline("9", RIGHT_HALF, sink=sink, clip_pool=pool, model_version="m")
        for frame in frames:
            if pipeline.offer(frame):
                pipeline.analyze(frame, detector.detect([frame.image])[0])
        pipeline.finish(frames[-1].ts)
        wait(pipeline.published)
    return sink


def test_resolution_change_mid_stream_keeps_working(videos: Path) -> None:
    """A phone that turns or a camera reconfigured: frames shrink to 640x360 after 2 s."""
    frames = list(VideoFileSource("9", videos / "ppe-2.mp4").frames())
    start = frames[0].ts
    resized = [
        f
        if f.ts - start < 2.0
        else Frame(f.camera_id, f.ts, f.pts, np.asarray(cv2.resize(f.image, (640, 360))))
        for f in frames
    ]
    sink = run(resized, Detector.load())
    (evidence,) = sink.published
    assert evidence.event.kinds == ["no_vest"]
    (closed,) = sink.closed
    # Zones follow the new size: the man is still seen violating in the right half until the video ends
    # (scaled for 1280x720, his feet at x≈440 px of 640 would fall outside the zone after 2 s).
    assert [v.zone_id for v in closed.violations] == ["7"]
    assert closed.last_violation_at - start > 5.0, closed.last_violation_at - start  # 1.8 s if not rebuilt
