"""A camera's sampling config (analysis_fps, motion_gate, preroll_s, postroll_s), set through the API,
is what the worker applies to that camera: frames sampled, frames skipped as still, clip length."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audit_api.worker.sync import camera_specs
from detect.events import ReviewItem
from detect.model import Detector
from detect.tiling import TilingConfig, TilingMode
from ingest._frame import Frame
from ingest._sink import Evidence
from ingest.files import VideoFileSource
from ingest.worker import Worker
from tests.api.conftest import World

Headers = dict[str, str]


class CollectingSink:
    """A real EventSink that keeps the evidence it is given."""

    def __init__(self) -> None:
        self.published: list[Evidence] = []
        self.changed = threading.Condition()

    def publish(self, evidence: Evidence) -> None:
        with self.changed:
            self.published.append(evidence)
            self.changed.notify_all()

    def close(self, camera_id: str, item: ReviewItem) -> None:
        pass


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.fixture
def worker(detector: Detector) -> Iterator[Worker]:
    w = Worker(detector, CollectingSink())
    yield w
    w.stop()


def whip_camera(world: World, admin: Headers, name: str, config: dict[str, Any]) -> str:
    body = {"site_id": world.site_id, "name": name, "kind": "whip", "config": config}
    created = world.client.post("/api/cameras", json=body, headers=admin)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def sync(world: World, worker: Worker) -> None:
    with world.sessions() as session:
        worker.sync(camera_specs(session))


def push_still_scene(worker: Worker, camera_id: str, seconds: float, t0: float) -> None:
    """`seconds` of an unchanging 25 fps scene, pushed as a WHIP publisher's frames are."""
    image = np.full((360, 640, 3), 90, np.uint8)
    for i in range(round(seconds * 25)):
        worker.push_frame(Frame(camera_id, t0 + i / 25, i / 25, image))


def test_sampling_config_changes_what_the_worker_does(world: World, admin: Headers, worker: Worker) -> None:
    slow = whip_camera(world, admin, "slow", {"analysis_fps": 2, "motion_gate": False})
    default = whip_camera(world, admin, "default", {})
    sync(world, worker)  # the inference loop is not started: only sampling and gating run, synchronously
    for camera_id in (slow, default):
        push_still_scene(worker, camera_id, 10.0, t0=1000.0)
    health = worker.health()
    assert 19 <= health[slow]["sampled"] <= 21 and health[slow]["gated"] == 0  # 2 fps, never gated
    assert 49 <= health[default]["sampled"] <= 51  # the default 5 fps ...
    assert health[default]["gated"] >= 40  # ... and a still scene is skipped (one look every 2 s)

    patched = world.client.patch(
        f"/api/cameras/{slow}", json={"config": {"motion_gate": True}}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["config"] == {
        "analysis_fps": 5.0,
        "motion_gate": True,
        "preroll_s": 5.0,
        "postroll_s": 5.0,
        "tiling": TilingConfig().model_dump(mode="json"),
    }
    sync(world, worker)  # a new config version: the worker restarts the camera with it
    push_still_scene(worker, slow, 10.0, t0=2000.0)
    after = worker.health()[slow]
    assert 49 <= after["sampled"] <= 51 and after["gated"] >= 40


# body of config.tiling → what the worker runs, and how many of 4 wide frames 0.5 s apart get a detail pass.
TILING = {
    "default auto: one probe": ({}, TilingConfig(), 1),
    "off": ({"mode": "off"}, TilingConfig(mode=TilingMode.OFF), 0),
    "on, native": ({"mode": "on"}, TilingConfig(mode=TilingMode.ON), 4),
    "tiles": (
        {"mode": "on", "tile_px": 800, "overlap": 0.25},
        TilingConfig(mode=TilingMode.ON, tile_px=800, overlap=0.25),
        4,
    ),
    "auto probing every second": (
        {"small_person_px": 64, "hold_s": 30, "probe_s": 1},
        TilingConfig(small_person_px=64, hold_s=30.0, probe_s=1.0),
        2,
    ),
}


@pytest.mark.parametrize(("body", "expected", "tiled"), TILING.values(), ids=TILING.keys())
def test_tiling_round_trips_to_the_worker(
    world: World, admin: Headers, worker: Worker, body: dict[str, Any], expected: TilingConfig, tiled: int
) -> None:
    """What the API stores and shows is what the worker's pipeline for that camera runs."""
    camera_id = whip_camera(world, admin, "wide", {"analysis_fps": 2, "motion_gate": False, "tiling": body})
    shown = world.client.get(f"/api/cameras/{camera_id}", headers=admin)
    assert shown.status_code == 200, shown.text
    assert shown.json()["config"]["tiling"] == expected.model_dump(mode="json")
    with world.sessions() as session:
        (spec,) = [s for s in camera_specs(session) if s.camera_id == camera_id]
    assert spec.pipeline.sampling.tiling == expected
    sync(world, worker)
    wide = np.full((720, 1280, 3), 90, np.uint8)  # an empty wide shot: "auto" finds no one and only probes
    for i in range(4):
        worker.push_frame(Frame(camera_id, 1000.0 + i / 2, i / 2, wide))
        assert worker.run_once() == 1
    health = worker.health()[camera_id]
    assert (health["analysed"], health["tiled"]) == (4, tiled)


@pytest.mark.slow
@pytest.mark.parametrize(("preroll_s", "postroll_s"), [(1.0, 1.0), (3.0, 0.5)])
def test_pre_and_post_roll_set_the_evidence_clip(
    world: World, admin: Headers, detector: Detector, videos: Path, preroll_s: float, postroll_s: float
) -> None:
    sink = CollectingSink()
    worker = Worker(detector, sink)
    config = {"preroll_s": preroll_s, "postroll_s": postroll_s}
    camera_id = whip_camera(world, admin, "clips", config)
    sync(world, worker)
    worker.start()
    frames = list(VideoFileSource(camera_id, videos / "ppe-2.mp4").frames())
    lead_in = [frames[0].image] * 75  # 3 s of the still first frame, so the pre-roll has video to keep
    try:
        for i, image in enumerate([*lead_in, *(f.image for f in frames)]):
            worker.push_frame(Frame(camera_id, 5000.0 + i / 25, i / 25, image))
            deadline = time.monotonic() + 30  # let the detector keep up: no frame is dropped
            while time.monotonic() < deadline:
                h = worker.health()[camera_id]
                if h["analysed"] + h["dropped"] >= h["sampled"] - h["gated"]:
                    break
                time.sleep(0.005)
        worker.remove_camera(camera_id)  # end of stream: encode what was recorded
        with sink.changed:
            assert sink.changed.wait_for(lambda: bool(sink.published), 60), worker.health()
    finally:
        worker.stop()
    evidence = sink.published[0]
    assert evidence.event.kinds == ["no_vest"]
    event_at = evidence.event.started_at
    assert evidence.clip.duration_s == pytest.approx(preroll_s + postroll_s, abs=0.35), (
        event_at,
        evidence.clip,
    )
