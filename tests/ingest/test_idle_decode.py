"""Idle cameras decode keyframes only; motion resumes full decode from the GOP that showed it."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from detect.rules_config import CameraRules
from ingest.files import VideoFileSource
from ingest.pipeline import CameraPipeline, PipelineConfig
from ingest.source import KeyframeSkipping

FPS = 25
GOP = 25  # one keyframe a second
STILL_S, MOTION_AT_S, TOTAL_S = 0.0, 8.5, 11.0


class NullSink:
    def publish(self, evidence: object) -> None: ...

    def close(self, camera_id: str, item: object) -> None: ...


def keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(
            float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe and p.pts is not None
        )


def still_then_moving(path: Path, videos: Path) -> Path:
    """A real site frame, still until MOTION_AT_S, then a dark box crossing it; H.264 with B-frames."""
    capture = cv2.VideoCapture(str(videos / "ppe-1.mp4"))
    ok, first = capture.read()
    capture.release()
    assert ok
    base = np.asarray(cv2.resize(first, (320, 180)), np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(
            "libx264", rate=FPS, options={"g": str(GOP), "keyint_min": str(GOP), "bf": "2"}
        )
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for index in range(int(TOTAL_S * FPS)):
            image = base.copy()
            t = index / FPS
            if t >= MOTION_AT_S:
                x = int((t - MOTION_AT_S) * 120) % 300
                cv2.rectangle(image, (x, 60), (x + 40, 140), (20, 20, 20), -1)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:, :, ::-1]), format="rgb24")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, videos: Path) -> Path:
    return still_then_moving(tmp_path_factory.mktemp("idle") / "still-then-moving.mp4", videos)


def test_file_source_decodes_keyframes_only_then_resumes_without_a_gap(videos: Path) -> None:
    path = videos / "ppe-1.mp4"  # 29.97 fps, a keyframe every ~3 s, B-frames
    keys = keyframe_times(path)
    source = VideoFileSource("c", path)
    assert isinstance(source, KeyframeSkipping)
    source.keyframes_only = True
    seen: list[float] = []
    for frame in source.frames():
        seen.append(frame.pts)
        # full decode from the third keyframe to the fourth (the last), keyframes only otherwise
        source.keyframes_only = not keys[2] <= frame.pts < keys[3]
    step = 1001 / 30000
    # The first GOP is decoded in full: the GOP length is unknown until the second keyframe arrives.
    assert seen[0] == 0.0 and len([t for t in seen if t < keys[1]]) > 0.8 * keys[1] / step
    assert [t for t in seen if keys[1] <= t < keys[2]] == pytest.approx([keys[1]])  # idle: one frame
    full = [t for t in seen if keys[2] <= t <= keys[3]]
    assert np.diff(full) == pytest.approx(np.full(len(full) - 1, step), abs=1e-3)  # no gap, no repeat
    assert full[0] == pytest.approx(keys[2]) and full[-1] == pytest.approx(keys[3])
    assert [t for t in seen if t > keys[3]] == []  # idle again after the last keyframe


def test_pipeline_idles_on_a_still_scene_and_wakes_within_one_gop(clip: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    pipeline = CameraPipeline(
        "c", CameraRules(), sink=NullSink(), clip_pool=pool, model_version="test", config=PipelineConfig()
    )
    source = VideoFileSource("c", clip)
    delivered: list[tuple[float, bool]] = []  # (pts, decoded while the source was in keyframe mode)
    for frame in source.frames():
        delivered.append((frame.pts, source.keyframes_only))
        pipeline.offer(frame)
        source.keyframes_only = pipeline.keyframes_only()  # what the watchdog does after every frame
    pool.shutdown()
    pts = np.array([p for p, _ in delivered])
    idle_after = PipelineConfig().idle_keyframes_after_s or 0
    # Still: every frame until the gate has seen idle_after_s without motion, then keyframes only.
    still_idle = pts[(pts > idle_after + 1.5) & (pts < MOTION_AT_S)]
    assert len(still_idle) <= MOTION_AT_S - idle_after, still_idle
    assert np.allclose(still_idle * FPS % GOP, 0), still_idle
    # Motion from 8.5 s: seen on the 9.0 s keyframe, every frame from there on.
    first_key_after = np.ceil(MOTION_AT_S * FPS / GOP) * GOP / FPS
    resumed = pts[pts >= first_key_after]
    assert resumed[0] == pytest.approx(first_key_after)
    assert np.diff(resumed) == pytest.approx(np.full(len(resumed) - 1, 1 / FPS), abs=1e-3)
    assert first_key_after - MOTION_AT_S <= GOP / FPS  # within one GOP of the motion starting
    frames_decoded = len(pts)
    assert frames_decoded < 0.8 * TOTAL_S * FPS  # the idle stretch cost a keyframe a second


def test_a_watched_camera_is_decoded_in_full(clip: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(1)
    pipeline = CameraPipeline("c", CameraRules(), sink=NullSink(), clip_pool=pool, model_version="test")
    idle_at = None
    for frame in VideoFileSource("c", clip).frames():
        pipeline.offer(frame)
        if pipeline.keyframes_only():
            idle_at = frame.pts
            break
    assert idle_at is not None and idle_at < MOTION_AT_S
    assert pipeline.latest_frame() is not None  # a live viewer asks for the picture
    assert not pipeline.keyframes_only()
    pool.shutdown()
