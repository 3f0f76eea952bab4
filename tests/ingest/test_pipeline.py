"""One camera's pipeline on real footage: evidence timing, and a stream that changes resolution mid-way."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench._footage import wide_shot
from detect._classes import PPEClass
from detect._sv import class_ids
from detect.model import Detector
from detect.rules_config import CameraRules
from detect.tiling import TilingConfig, TilingMode
from ingest._frame import Frame
from ingest.files import VideoFileSource
from ingest.pipeline import CameraPipeline, PipelineConfig
from ingest.sampler import SamplingConfig
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


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.fixture(scope="module")
def ppe2_wide(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Frame]:
    """The first 2 s of ppe-2 as a pole camera sees it: people ≈ 62-76 px tall in a 1920×1080 frame."""
    out = wide_shot(videos / "ppe-2.mp4", tmp_path_factory.mktemp("wide") / "ppe-2-wide.mp4", scale=0.12,
                    size=(1920, 1080))  # fmt: skip
    frames = list(VideoFileSource("9", out).frames())
    return [f for f in frames if f.ts - frames[0].ts < 2.0]


@pytest.mark.parametrize(
    ("mode", "all_tiled"), [(TilingMode.OFF, False), (TilingMode.ON, True), (TilingMode.AUTO, True)]
)
def test_a_camera_with_tiling_sees_its_distant_workers(
    ppe2_wide: list[Frame], detector: Detector, mode: TilingMode, all_tiled: bool
) -> None:
    """Off, the detector sees the two men at ~23 px and finds none; on (or auto, which probes the first
    frame, finds small people and keeps going) every analysed frame gets the native pass and finds both."""
    config = PipelineConfig(sampling=SamplingConfig(motion_gate=False, tiling=TilingConfig(mode=mode)))
    found = []
    with ThreadPoolExecutor(max_workers=1) as pool:
        pipeline = CameraPipeline("9", RIGHT_HALF, sink=CollectingSink(), clip_pool=pool, model_version="m",
                                  config=config)  # fmt: skip
        for frame in ppe2_wide:
            if pipeline.offer(frame):
                pipeline.detect_and_analyze(frame, detector)
                assert pipeline.latest_detections is not None
                found.append(int((class_ids(pipeline.latest_detections.detections) == PPEClass.PERSON).sum()))
        pipeline.finish(ppe2_wide[-1].ts)
    assert pipeline.analysed == len(found) >= 8
    assert pipeline.tiling.tiled == (pipeline.analysed if all_tiled else 0)
    persons = float(np.mean(found))
    assert (persons >= 1.5) if all_tiled else (persons <= 0.5), found  # measured: 2 (of 2 people), 0
