"""The worker: many cameras, one watchdog each, one inference loop that batches the due frames.

Decoding runs per camera on its watchdog's thread; `CameraPipeline.offer` decides there whether a
frame is due, and due frames wait in a one-slot mailbox per camera (the newest wins: a slow detector
skips frames rather than falling behind live video). The inference loop takes every waiting frame,
runs ONE detector call for all of them, then the rules per camera. Clip encoding and storage run in
a small thread pool. Cameras can be added, changed and removed while it runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from detect.model import Detector
from detect.rules_config import CameraRules
from detect.tiling import detect_frames
from ingest._frame import Frame
from ingest._sink import EventSink
from ingest.health import CameraHealth, CameraWatchdog, UnmonitoredInterval, WatchdogConfig
from ingest.live import LiveDetections
from ingest.pipeline import CameraPipeline, PipelineConfig
from ingest.preroll import StoredFrame
from ingest.source import FrameSource

log = logging.getLogger(__name__)

SourceFactory = Callable[[], FrameSource]


@dataclass(frozen=True)
class CameraSpec:
    """What the worker needs to run one camera; `version` changes whenever any of it changes.

    A camera whose stored configuration cannot run comes with `config_error` (and default rules): the
    worker does not run it but reports it, state invalid_config with that reason, as unmonitored.
    """

    camera_id: str
    rules: CameraRules
    source_factory: SourceFactory | None = None  # None: frames are pushed in (WHIP)
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)
    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    version: str = ""
    config_error: str | None = None


class _Mailbox:
    """One-slot hand-over from a decode thread to the inference loop; the newest frame wins."""

    def __init__(self, wake: threading.Event) -> None:
        self._frame: Frame | None = None
        self._lock = threading.Lock()
        self._wake = wake
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._lock:
            if self._frame is not None:
                self.dropped += 1
            self._frame = frame
        self._wake.set()

    def take(self) -> Frame | None:
        with self._lock:
            frame, self._frame = self._frame, None
            return frame


@dataclass
class _Camera:
    spec: CameraSpec
    pipeline: CameraPipeline
    mailbox: _Mailbox
    health: CameraHealth
    watchdog: CameraWatchdog | None


IntervalSink = Callable[[UnmonitoredInterval], None]


class Worker:
    """Runs cameras until stopped. Thread-safe: add/update/remove may be called from any thread."""

    def __init__(
        self,
        detector: Detector,
        sink: EventSink,
        *,
        on_interval: IntervalSink | None = None,
        max_batch: int = 8,
    ) -> None:
        self.detector = detector
        self._sink = sink
        self._on_interval = on_interval
        self._max_batch = max_batch
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._clip_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clips")
        self._thread: threading.Thread | None = None

    # -- camera management ---------------------------------------------------------------------
    def sync(self, specs: Iterable[CameraSpec]) -> None:
        """Make the running set equal `specs`: start new cameras, restart changed ones, stop the rest."""
        wanted = {spec.camera_id: spec for spec in specs}
        with self._lock:
            current = {cid: cam.spec for cid, cam in self._cameras.items()}
        for cid in current.keys() - wanted.keys():
            self.remove_camera(cid)
        for cid, spec in wanted.items():
            if cid not in current:
                self.add_camera(spec)
            elif current[cid].version != spec.version:
                self.remove_camera(cid)
                self.add_camera(spec)

    def add_camera(self, spec: CameraSpec) -> None:
        pipeline = CameraPipeline(
            spec.camera_id,
            spec.rules,
            sink=self._sink,
            clip_pool=self._clip_pool,
            model_version=self.detector.model_version,
            config=spec.pipeline,
        )
        camera = _Camera(spec, pipeline, _Mailbox(self._wake), CameraHealth(spec.camera_id), None)
        if spec.config_error is not None:
            camera.health.record_invalid(f"invalid configuration: {spec.config_error}", since=time.time())
        elif spec.source_factory is not None:  # pulled (RTSP); pushed cameras (WHIP) get push_frame calls
            camera.watchdog = CameraWatchdog(
                spec.camera_id,
                spec.source_factory,
                lambda frame: self._on_frame(camera, frame),
                config=spec.watchdog,
                on_interval_closed=self._on_interval,
                health=camera.health,
                decode_hint=pipeline.keyframes_only,
            )
        with self._lock:
            if spec.camera_id in self._cameras:
                raise ValueError(f"camera {spec.camera_id} is already running")
            self._cameras[spec.camera_id] = camera
        if camera.watchdog is not None:
            camera.watchdog.start()
        if spec.config_error is not None:
            log.error("camera %s not run: invalid configuration: %s", spec.camera_id, spec.config_error)
        else:
            log.info("camera %s added", spec.camera_id)

    def remove_camera(self, camera_id: str) -> bool:
        with self._lock:
            camera = self._cameras.pop(camera_id, None)
        if camera is None:
            return False
        if camera.watchdog is not None:
            camera.watchdog.stop()  # closes and reports an open outage itself
        else:
            closed = camera.health.close_interval(time.time())
            if closed is not None and self._on_interval is not None:
                self._on_interval(closed)
        camera.pipeline.finish(time.time())
        log.info("camera %s removed", camera_id)
        return True

    def push_frame(self, frame: Frame) -> None:
        """Entry point for pushed sources (WHIP): the same path RTSP frames take."""
        with self._lock:
            camera = self._cameras.get(frame.camera_id)
        if camera is None or camera.spec.config_error is not None:
            return
        closed = camera.health.record_frame(frame.ts)
        if closed is not None and self._on_interval is not None:
            self._on_interval(closed)
        self._on_frame(camera, frame)

    def health(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            cameras = list(self._cameras.values())
        return {
            cam.spec.camera_id: cam.health.snapshot()
            | {
                "sampled": cam.pipeline.sampled,
                "gated": cam.pipeline.gated,
                "analysed": cam.pipeline.analysed,
                "tiled": cam.pipeline.tiling.tiled,  # analysed with a detail pass (sampling.tiling)
                "dropped": cam.mailbox.dropped,  # due and moving, but the detector was behind
            }
            for cam in cameras
        }

    def live_frame(self, camera_id: str) -> StoredFrame | None:
        """The camera's newest JPEG (live view); None when it is not run here or has no frame yet."""
        with self._lock:
            camera = self._cameras.get(camera_id)
        return None if camera is None else camera.pipeline.latest_frame()

    def live_detections(self, camera_id: str) -> LiveDetections | None:
        """The boxes and violations of the camera's newest analysed frame, if any."""
        with self._lock:
            camera = self._cameras.get(camera_id)
        return None if camera is None else camera.pipeline.latest_detections

    def runs(self, camera_id: str) -> bool:
        with self._lock:
            return camera_id in self._cameras

    def camera_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._cameras)

    # -- running -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="inference", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            watchdogs = [c.watchdog for c in self._cameras.values() if c.watchdog is not None]
        for watchdog in watchdogs:  # all sources at once: each decode thread may take seconds to exit
            watchdog.interrupt()
        for camera_id in self.camera_ids():
            self.remove_camera(camera_id)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        self._clip_pool.shutdown(wait=True)

    def _on_frame(self, camera: _Camera, frame: Frame) -> None:
        if camera.pipeline.offer(frame):
            camera.mailbox.put(frame)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            self.run_once()
            self._check_pushed(time.time())

    def _check_pushed(self, now: float) -> None:
        """Pushed cameras have no watchdog: silence longer than the stall timeout opens an outage."""
        with self._lock:
            pushed = [
                cam
                for cam in self._cameras.values()
                if cam.watchdog is None and cam.spec.config_error is None
            ]
        for cam in pushed:
            last = cam.health.last_frame_at
            if last is not None and now - last > cam.spec.watchdog.stall_timeout_s:
                cam.health.record_failure("no frames from the publisher", since=last)

    def run_once(self) -> int:
        """Analyse every frame that is due right now in one detector call; returns how many."""
        with self._lock:
            cameras = list(self._cameras.values())
        due = [(cam, frame) for cam in cameras if (frame := cam.mailbox.take()) is not None]
        for start in range(0, len(due), self._max_batch):
            batch = due[start : start + self._max_batch]
            try:
                size = self.detector.input_size
                plans = [cam.pipeline.tile_plan(frame, size) for cam, frame in batch]
                results = detect_frames(self.detector, [frame.image for _, frame in batch], plans)
            except Exception:
                log.exception("detector failed on a batch of %d frames", len(batch))
                continue
            for (cam, frame), detections in zip(batch, results, strict=True):
                try:
                    cam.pipeline.analyze(frame, detections)
                    cam.health.mark_analysed()
                except Exception:
                    log.exception("camera %s: rules failed", cam.spec.camera_id)
        return len(due)
