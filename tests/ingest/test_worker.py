"""The worker against real RTSP cameras on loopback: events from live footage, many cameras at once,
cameras added and removed while it runs, a dead camera that does not disturb the others."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from detect.events import ReviewItem
from detect.model import Detector
from detect.rules_config import CameraRules
from ingest._sink import Evidence
from ingest.health import UnmonitoredInterval, WatchdogConfig
from ingest.rtsp import RtspSource
from ingest.worker import CameraSpec, Worker
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.rtsp, pytest.mark.slow]


@dataclass
class CollectingSink:
    """A real EventSink that keeps what it is given (the DB-backed one is tested in tests/e2e)."""

    published: list[Evidence] = field(default_factory=list)
    closed: list[ReviewItem] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, evidence: Evidence) -> None:
        with self.changed:
            self.published.append(evidence)
            self.changed.notify_all()

    def close(self, camera_id: str, item: ReviewItem) -> None:
        with self.changed:
            self.closed.append(item)
            self.changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.fixture
def sink() -> CollectingSink:
    return CollectingSink()


@pytest.fixture
def worker(detector: Detector, sink: CollectingSink) -> Iterator[Worker]:
    intervals: list[UnmonitoredInterval] = []
    w = Worker(detector, sink, on_interval=intervals.append)
    w.intervals = intervals  # type: ignore[attr-defined]
    w.start()
    yield w
    w.stop()


def rtsp_camera(camera_id: str, url: str, **watchdog: float) -> CameraSpec:
    config = WatchdogConfig(retry_interval=0.5, max_backoff_s=2.0, stall_timeout_s=4.0, **watchdog)
    return CameraSpec(
        camera_id,
        CameraRules(),
        source_factory=lambda: RtspSource(camera_id, url, connect_timeout_s=3, read_timeout_s=3),
        watchdog=config,
        version="1",
    )


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def test_live_rtsp_camera_raises_the_no_vest_event_with_a_clip(
    worker: Worker, sink: CollectingSink, rtsp_server: RtspServer
) -> None:
    worker.add_camera(rtsp_camera("2", rtsp_server.url("ppe-2")))
    assert sink.wait_for(lambda: bool(sink.published), timeout=90), worker.health()
    evidence = sink.published[0]
    assert evidence.camera_id == "2" and evidence.event.kinds == ["no_vest"]
    assert evidence.clip.frame_count >= 30 and evidence.clip.duration_s >= 4.0
    assert evidence.snapshot_jpeg[:2] == b"\xff\xd8"

    def analysing() -> bool:  # a rate is never read at one instant: wait until it shows
        health = worker.health()["2"]
        return bool(health["state"] == "streaming" and health["analysed_fps"] > 0)

    assert wait_until(analysing, 60), worker.health()


def test_cameras_come_and_go_while_running_and_a_dead_one_does_not_disturb_the_rest(
    worker: Worker, rtsp_server: RtspServer
) -> None:
    worker.sync([rtsp_camera("1", rtsp_server.url("ppe-1")), rtsp_camera("dead", "rtsp://127.0.0.1:9/x")])
    assert wait_until(lambda: worker.health()["1"]["state"] == "streaming", 30), worker.health()
    assert wait_until(lambda: worker.health()["dead"]["reconnect_count"] >= 1, 30), worker.health()
    assert worker.health()["dead"]["state"] in {"reconnecting", "starting"}
    assert "refused" in (worker.health()["dead"]["last_error"] or "")

    worker.sync([rtsp_camera("1", rtsp_server.url("ppe-1")), rtsp_camera("3", rtsp_server.url("ppe-3"))])
    assert worker.camera_ids() == ["1", "3"]
    assert wait_until(lambda: worker.health()["3"]["state"] == "streaming", 30), worker.health()
    frames_before = worker.health()["1"]["last_frame_at"]
    assert wait_until(lambda: worker.health()["1"]["last_frame_at"] > frames_before, 10)

    changed = rtsp_camera("1", rtsp_server.url("ppe-2"))
    worker.sync(
        [
            CameraSpec(changed.camera_id, changed.rules, changed.source_factory, version="2"),
            rtsp_camera("3", rtsp_server.url("ppe-3")),
        ]
    )
    assert wait_until(lambda: worker.health()["1"]["state"] == "streaming", 30), worker.health()


def test_camera_outage_becomes_an_unmonitored_interval(
    worker: Worker, private_rtsp_server: Callable[[], RtspServer]
) -> None:
    with private_rtsp_server() as server:
        worker.add_camera(rtsp_camera("7", server.url("ppe-1")))
        assert wait_until(lambda: worker.health()["7"]["state"] == "streaming", 30)
        server.kill()
        killed_at = time.time()
        assert wait_until(lambda: worker.health()["7"]["state"] == "reconnecting", 20), worker.health()
        time.sleep(1.0)
        server.restart()
        assert wait_until(lambda: bool(worker.intervals), 30), worker.health()  # type: ignore[attr-defined]
    (interval,) = worker.intervals  # type: ignore[attr-defined]
    assert interval.camera_id == "7" and interval.end is not None
    assert interval.start <= killed_at + 1 and interval.end - interval.start >= 1.0
    assert worker.health()["7"]["reconnect_count"] >= 1
