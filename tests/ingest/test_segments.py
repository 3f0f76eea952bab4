"""Recording a review item's whole span: incremental H.264 segments from the pre-roll buffer's frames, with
memory that does not grow with the span's length (measured in a subprocess: peak RSS, long vs short span)."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from ingest._frame import Frame
from ingest.preroll import PreRollBuffer
from ingest.segments import EncodedSegment, SpanRecorder

pytestmark = pytest.mark.slow


def decoded_times(data: bytes) -> list[float]:
    with av.open(io.BytesIO(data)) as container:
        return [float(f.time) for f in container.decode(video=0) if f.time is not None]


def test_span_is_recorded_from_the_pre_roll_in_ordered_segments(ppe2_frames: list[Frame]) -> None:
    buffer = PreRollBuffer(6.0, fps_cap=10.0)
    segments: list[EncodedSegment] = []
    done = threading.Event()

    def keep(segment: EncodedSegment) -> None:
        segments.append(segment)
        if segment.final:
            done.set()

    spans = SpanRecorder(buffer, pre_roll_s=2.0, post_roll_s=1.0, segment_s=2.5)
    t0 = ppe2_frames[0].ts
    started = False
    for frame in ppe2_frames:  # 8.2 s; the item runs from 3 s to 6 s
        stored = buffer.push(frame)
        if not started and frame.ts - t0 >= 3.0:
            spans.open("item", frame.ts, keep).close(t0 + 6.0)
            started = True
        if stored is not None:
            spans.push(stored)
    assert done.wait(120)
    spans.finish_all()
    # 1.0 s to 7.1 s in pieces of at most 2.5 s
    assert [s.index for s in segments] == [0, 1, 2] and [s.final for s in segments] == [False, False, True]
    assert segments[0].start_ts - t0 == pytest.approx(1.0, abs=0.11)  # pre-roll: 2 s before 3 s
    assert segments[-1].end_ts - t0 == pytest.approx(7.1, abs=0.15)  # post-roll: 1 s after 6 s
    for before, after in itertools.pairwise(segments):  # contiguous
        assert after.start_ts - before.end_ts == pytest.approx(0.0, abs=0.11)
    for segment in segments:
        times = decoded_times(segment.clip.data)
        assert len(times) == segment.clip.frame_count and segment.clip.duration_s <= 2.5 + 0.11
        assert times[0] == 0.0 and times[-1] == pytest.approx(segment.clip.duration_s - 0.1, abs=0.02)


def test_a_camera_that_stops_ends_the_span(ppe2_frames: list[Frame]) -> None:
    buffer = PreRollBuffer(6.0, fps_cap=10.0)
    segments: list[EncodedSegment] = []
    spans = SpanRecorder(buffer, pre_roll_s=1.0, post_roll_s=5.0)
    span = spans.open("item", ppe2_frames[0].ts + 1.0, segments.append)
    for frame in ppe2_frames[:50]:  # 2 s, then nothing: the item never closes
        stored = buffer.push(frame)
        if stored is not None:
            spans.push(stored)
    spans.flush_overdue(ppe2_frames[49].ts + 3601.0)  # far past the cap
    assert span.join(60) and span.error is None
    (segment,) = segments
    assert segment.final and segment.clip.frame_count == 20


MEASURE = """
import json, resource, sys, time, threading
import cv2, numpy as np
from ingest._frame import Frame
from ingest.files import VideoFileSource
from ingest.preroll import PreRollBuffer
from ingest.segments import SpanRecorder

seconds, fps = float(sys.argv[1]), 5.0
jpegs = [cv2.imencode(".jpg", f.image)[1] for f in VideoFileSource("c", sys.argv[2]).frames()][::5]
buffer = PreRollBuffer(6.0, fps_cap=fps)
spans = SpanRecorder(buffer, pre_roll_s=5.0, post_roll_s=5.0, segment_s=30.0, fps=fps)
sizes = []
span = None
for i in range(int(seconds * fps)):
    image = np.asarray(cv2.imdecode(jpegs[i % len(jpegs)], cv2.IMREAD_COLOR), dtype=np.uint8)
    stored = buffer.push(Frame("c", 1e6 + i / fps, i / fps, image))
    if span is None:
        span = spans.open("item", 1e6 + 5.0, lambda s: sizes.append(s.clip.frame_count))
    if stored is not None:
        spans.push(stored)
    while span.backlog > 20:  # a live camera does not outrun the encoder
        time.sleep(0.005)
spans.finish_all()
print(json.dumps({"maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "frames": sizes,
                  "dropped": span.dropped}))
"""


@dataclass(frozen=True)
class Measured:
    maxrss_mb: float
    frames: list[int]  # per segment
    dropped: int


def measure(seconds: float, video: Path) -> Measured:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(seconds), str(video)],
        check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    result = json.loads(out.stdout)
    return Measured(result["maxrss_kb"] / 1024, result["frames"], result["dropped"])


@pytest.mark.soak  # records a 150 s span twice in subprocesses: bench/soak.sh
def test_memory_does_not_grow_with_the_span(videos: Path) -> None:
    """A 150 s span of 720p footage at 5 fps against a 15 s one: holding the frames as the per-event clips
    do would cost ~70 MB more of JPEGs (~2 GB decoded for encoding); recording costs the same either way."""
    short, long = measure(15.0, videos / "ppe-2.mp4"), measure(150.0, videos / "ppe-2.mp4")
    assert long.dropped == 0 and sum(long.frames) >= 0.95 * 750 and len(long.frames) == 5, long
    assert long.maxrss_mb - short.maxrss_mb < 25, (short, long)
