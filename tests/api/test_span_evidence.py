"""Evidence for every violation, from real footage: the shared videos concatenated (ffmpeg) into ~60 s in
which several vest-less people are seen, one review item spanning it all. Every violation's time lies in a
stored segment that decodes (PyAV) at that time, and every violation's still decodes with its box drawn.

The footage is analysed once per module (detector, rules, span recording); its sink keeps every hand-over
in order, which is then replayed into the real EventRecorder on each database and checked over the API.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import itertools
import subprocess
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
from sqlalchemy import select

from audit_api.models import ClipSegment, ViolationSnapshot
from audit_api.worker.recorder import EventRecorder
from detect.events import ReviewItem
from detect.model import Detector
from detect.rules_config import CameraRules
from ingest._sink import Evidence, SegmentEvidence, ViolationStill
from ingest.files import VideoFileSource
from ingest.pipeline import CameraPipeline, PipelineConfig
from ingest.sampler import SamplingConfig
from tests.api.conftest import World

pytestmark = [pytest.mark.slow, pytest.mark.soak]  # ~60 s of footage: bench/soak.sh

SEGMENT_S = 15.0  # short segments, so the ~70 s recording crosses several boundaries
RULES = CameraRules.model_validate({"rules": {"event_gap_s": 30.0}})  # one item for the whole footage
RED_BGR = np.array([32, 32, 230])  # detect.annotate's violation colour


@dataclass
class OrderedSink:
    """A real SpanSink that keeps every hand-over in the order the pipeline made it."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def publish(self, evidence: Evidence) -> None:
        self.calls.append(("publish", evidence))

    def close(self, camera_id: str, item: ReviewItem) -> None:
        self.calls.append(("close", item))

    def store_segment(self, evidence: SegmentEvidence) -> None:
        self.calls.append(("store_segment", evidence))

    def store_stills(self, camera_id: str, item: ReviewItem, stills: list[ViolationStill]) -> None:
        self.calls.append(("store_stills", (item, stills)))


@pytest.fixture(scope="module")
def footage(videos: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ppe-2, ppe-3, ppe-2, ppe-3, ppe-2 at 10 fps (the rate clips are recorded at), 3 s of black between
    them: a camera glitch long enough for the tracker to lose everyone (2 s), so the vest-less people of
    each clip are new tracks (back to back, ByteTrack carries track 1 across the cuts)."""
    order = ["ppe-2", "ppe-3", "ppe-2", "ppe-3", "ppe-2"]
    out = tmp_path_factory.mktemp("footage") / "site.mp4"
    inputs = [arg for name in order for arg in ("-i", str(videos / f"{name}.mp4"))]
    inputs += ["-f", "lavfi", "-i", "color=c=black:s=1280x720:r=10:d=3"]
    black = len(order)
    chain = f"[{black}:v]split={len(order) - 1}" + "".join(f"[b{i}]" for i in range(len(order) - 1)) + ";"
    chain += "".join(f"[{i}:v]fps=10,scale=1280:720,setsar=1[v{i}];" for i in range(len(order)))
    pieces = [f"[v{i}]" + (f"[b{i}]" if i < len(order) - 1 else "") for i in range(len(order))]
    joined = "".join(pieces) + f"concat=n={2 * len(order) - 1}:v=1:a=0[out]"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", *inputs, "-filter_complex", chain + joined, "-map", "[out]",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "20", "-pix_fmt", "yuv420p", str(out)],
        check=True, timeout=300,
    )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def recorded(footage: Path) -> OrderedSink:
    sink = OrderedSink()
    # No motion gate: the black gaps are analysed too, so the tracker sees everyone leave.
    sampling = SamplingConfig(analysis_fps=5.0, motion_gate=False)
    config = PipelineConfig(sampling=sampling, segment_s=SEGMENT_S)
    detector = Detector.load()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pipeline = CameraPipeline("1", RULES, sink=sink, clip_pool=pool, model_version="m", config=config)
        last = 0.0
        for frame in VideoFileSource("1", footage).frames():
            last = frame.ts
            if pipeline.offer(frame):
                pipeline.analyze(frame, detector.detect([frame.image])[0])
        pipeline.finish(last)
        wait(pipeline.published, timeout=300)
        assert all(f.done() and f.exception() is None for f in pipeline.published)
    return sink


def test_the_footage_makes_one_long_item_of_several_people(recorded: OrderedSink) -> None:
    (item,) = [arg for name, arg in recorded.calls if name == "close"]
    assert len(item.tracks) >= 3, item.violations
    times = [v.ts for v in item.violations]
    assert max(times) - min(times) >= 40.0, times
    segments = [arg.segment for name, arg in recorded.calls if name == "store_segment"]
    assert [s.index for s in segments] == list(range(len(segments))) and len(segments) >= 4
    assert [s.final for s in segments] == [False] * (len(segments) - 1) + [True]


def _frame_times(data: bytes) -> list[float]:
    with av.open(io.BytesIO(data)) as container:
        return [float(f.time) for f in container.decode(video=0) if f.time is not None]


def _has_red_box(image: np.ndarray, box: list[float]) -> bool:
    """The violation's box is drawn in red: its left and top edges are red near their middle."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = (round(c * s) for c, s in zip(box, (w, h, w, h), strict=True))
    edges = [image[(y1 + y2) // 2 - 3 : (y1 + y2) // 2 + 4, max(x1 - 4, 0) : x1 + 5],
             image[max(y1 - 4, 0) : y1 + 5, (x1 + x2) // 2 - 3 : (x1 + x2) // 2 + 4]]  # fmt: skip
    return all(
        bool((np.abs(edge.reshape(-1, 3).astype(int) - RED_BGR).max(axis=1) < 60).any()) for edge in edges
    )


def test_every_violation_is_in_stored_video_and_has_its_still(
    world: World, recorded: OrderedSink, tmp_path: Path
) -> None:
    recorder = EventRecorder(world.sessions, world.store, tmp_path / "outbox")
    for name, arg in recorded.calls:  # the pipeline's order: publish, segments, close, stills
        if name == "store_stills":
            recorder.store_stills(str(world.camera_id), *arg)
        elif name == "close":
            recorder.close(str(world.camera_id), arg)
        else:
            getattr(recorder, name)(_for_camera(arg, world.camera_id))
    (event_id,) = recorder.recorded
    headers = world.bearer("inspector@example.com")
    event = world.client.get(f"/api/events/{event_id}", headers=headers).json()
    segments = event["segments"]
    assert len(segments) >= 4 and len(event["violations"]) >= 3
    decoded: dict[int, list[float]] = {}
    for segment in segments:
        response = world.client.get(segment["url"], headers=headers)
        assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
        assert hashlib.sha256(response.content).hexdigest() == segment["sha256"]
        decoded[segment["index"]] = _frame_times(response.content)
    for v in event["violations"]:
        ts = datetime.fromisoformat(v["ts"])
        inside = [s for s in segments if _at(s["started_at"]) <= ts <= _at(s["ended_at"])]
        assert inside, f"violation at {ts} is in no segment"
        offset = (ts - _at(inside[0]["started_at"])).total_seconds()
        nearest = min(abs(t - offset) for t in decoded[inside[0]["index"]])
        assert nearest <= 0.15, (v, offset)  # a decoded frame at the violation's time (10 fps)

        assert v["snapshot"] is not None, v
        still = world.client.get(v["snapshot"]["url"], headers=headers)
        assert still.status_code == 200
        assert hashlib.sha256(still.content).hexdigest() == v["snapshot"]["sha256"]
        image = cv2.imdecode(np.frombuffer(still.content, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape[:2] == (720, 1280)
        assert _has_red_box(image, v["box"]), v
    with world.sessions() as session:  # one still per violation, segments contiguous and in order
        assert len(session.scalars(select(ViolationSnapshot)).all()) == len(event["violations"])
        rows = session.scalars(select(ClipSegment).order_by(ClipSegment.index)).all()
        for before, after in itertools.pairwise(rows):
            assert abs((after.started_at - before.ended_at).total_seconds()) < 0.2


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _for_camera(arg: Evidence | SegmentEvidence, camera_id: int) -> Evidence | SegmentEvidence:
    """The footage was analysed as camera "1"; hand-overs name the test world's camera instead."""
    return dataclasses.replace(arg, camera_id=str(camera_id))
