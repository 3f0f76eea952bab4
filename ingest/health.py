"""Per-camera health and the watchdog that keeps a camera streaming.

An audit must say when it was blind: every stretch without frames becomes an *unmonitored interval*
(start = last frame before the outage, end = first frame after it), which the worker persists.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ingest._frame import Frame
from ingest.source import FrameSource, KeyframeSkipping, SourceError
from ingest.urls import redact

log = logging.getLogger(__name__)

# invalid_config: the worker cannot run the camera's stored configuration (last_error says why).
CameraState = Literal["starting", "streaming", "reconnecting", "stopped", "failed", "invalid_config"]


@dataclass(frozen=True, slots=True)
class UnmonitoredInterval:
    """A span (wall-clock seconds) during which a camera delivered no frames; end None = still open."""

    camera_id: str
    start: float
    end: float | None
    reason: str

    def closed_at(self, end: float) -> UnmonitoredInterval:
        return UnmonitoredInterval(self.camera_id, self.start, max(end, self.start), self.reason)

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "reason": self.reason}


class RateMeter:
    """Events per second over a sliding window (not thread-safe; CameraHealth holds the lock)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._times: deque[float] = deque()

    def tick(self, now: float) -> None:
        self._times.append(now)
        while self._times and now - self._times[0] > self.window_s:
            self._times.popleft()

    def rate(self, now: float) -> float:
        if len(self._times) < 2 or now - self._times[-1] > self.window_s:
            return 0.0
        return (len(self._times) - 1) / max(self._times[-1] - self._times[0], 1e-6)


class CameraHealth:
    """Thread-safe live status of one camera, written by its watchdog and worker, read by the API."""

    def __init__(self, camera_id: str, *, max_intervals: int = 100) -> None:
        self.camera_id = camera_id
        self._lock = threading.Lock()
        self._state: CameraState = "starting"
        self._input = RateMeter()
        self._analysed = RateMeter()
        self._last_frame_at: float | None = None
        self._reconnect_count = 0
        self._last_error: str | None = None
        self._intervals: deque[UnmonitoredInterval] = deque(maxlen=max_intervals)

    @property
    def state(self) -> CameraState:
        with self._lock:
            return self._state

    @property
    def last_frame_at(self) -> float | None:
        with self._lock:
            return self._last_frame_at

    @property
    def reconnect_count(self) -> int:
        with self._lock:
            return self._reconnect_count

    @property
    def intervals(self) -> list[UnmonitoredInterval]:
        with self._lock:
            return list(self._intervals)

    @property
    def open_interval(self) -> UnmonitoredInterval | None:
        with self._lock:
            return self._open_locked()

    def set_state(self, state: CameraState) -> None:
        with self._lock:
            self._state = state

    def record_frame(self, ts: float) -> UnmonitoredInterval | None:
        """A frame arrived: the camera is streaming; returns the outage interval this frame ends, if any."""
        with self._lock:
            self._state = "streaming"
            self._last_frame_at = ts
            self._input.tick(time.monotonic())
            return self._close_locked(ts)

    def mark_analysed(self) -> None:
        """The worker ran detection on one of this camera's frames (feeds analysed_fps)."""
        with self._lock:
            self._analysed.tick(time.monotonic())

    def record_failure(self, reason: str, *, since: float) -> UnmonitoredInterval | None:
        """The source failed; opens an interval from `since` unless one is open. Returns the new one.

        The reason is shown on status pages and stored: any URL in it is redacted here."""
        with self._lock:
            return self._fail_locked("failed" if self._state == "failed" else "reconnecting", reason, since)

    def record_invalid(self, reason: str, *, since: float) -> UnmonitoredInterval | None:
        """The camera's configuration cannot run: state invalid_config, an outage from `since` on."""
        with self._lock:
            return self._fail_locked("invalid_config", reason, since)

    def _fail_locked(self, state: CameraState, reason: str, since: float) -> UnmonitoredInterval | None:
        reason = redact(reason)
        self._last_error = reason
        self._state = state
        if self._open_locked() is not None:
            return None
        interval = UnmonitoredInterval(self.camera_id, since, None, reason)
        self._intervals.append(interval)
        return interval

    def record_reconnect(self) -> None:
        with self._lock:
            self._reconnect_count += 1

    def close_interval(self, end: float) -> UnmonitoredInterval | None:
        """Close the open interval (e.g. when the camera is stopped); returns it, or None."""
        with self._lock:
            return self._close_locked(end)

    def snapshot(self) -> dict[str, Any]:
        now = time.monotonic()
        with self._lock:
            return {
                "camera_id": self.camera_id,
                "state": self._state,
                "input_fps": round(self._input.rate(now), 2),
                "analysed_fps": round(self._analysed.rate(now), 2),
                "last_frame_at": self._last_frame_at,
                "reconnect_count": self._reconnect_count,
                "last_error": self._last_error,
                "unmonitored": [i.as_dict() for i in self._intervals],
            }

    def _open_locked(self) -> UnmonitoredInterval | None:
        if self._intervals and self._intervals[-1].end is None:
            return self._intervals[-1]
        return None

    def _close_locked(self, end: float) -> UnmonitoredInterval | None:
        current = self._open_locked()
        if current is None:
            return None
        closed = current.closed_at(end)
        self._intervals[-1] = closed
        return closed


class WatchdogConfig(BaseModel):
    """How a camera is kept alive (Frigate-style: one watchdog per camera, restart with backoff)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retry_interval: float = Field(
        2.0, gt=0, le=300, description="Seconds to wait before the first reconnect; doubles per failure."
    )
    max_backoff_s: float = Field(
        60.0, gt=0, le=3600, description="Upper bound of the wait between reconnect attempts (seconds)."
    )
    stall_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Restart the source when no frame arrived for this long (seconds)."
    )
    max_consecutive_failures: int | None = Field(
        None, ge=1, description="Give up (state 'failed') after this many failed attempts; None = never."
    )
    join_timeout_s: float = Field(
        10.0, gt=0, le=120, description="How long stop() waits for the decode thread to exit (seconds)."
    )

    @model_validator(mode="after")
    def _backoff_covers_retry(self) -> WatchdogConfig:
        if self.max_backoff_s < self.retry_interval:
            raise ValueError("max_backoff_s must be at least retry_interval")
        return self

    def backoff(self, failures: int) -> float:
        """Wait before the next attempt after `failures` consecutive failures (1, 2, ...)."""
        return float(min(self.max_backoff_s, self.retry_interval * 2 ** max(failures - 1, 0)))


FrameCallback = Callable[[Frame], None]
IntervalCallback = Callable[[UnmonitoredInterval], None]


class CameraWatchdog:
    """Runs one camera's source in its own thread and restarts it whenever it fails or stalls.

    `source_factory` builds a fresh source per attempt. `on_frame` runs on the decode thread for
    every frame, so it must be quick (hand the frame over, don't process it there). Restarts wait
    `config.backoff(n)`; the first frame after an outage closes its unmonitored interval and calls
    `on_interval_closed` (also called by stop() for an outage still open).

    A stalled source is asked to close(); one blocked inside a network read only notices when its
    own read timeout fires, so give sources a read timeout no longer than `stall_timeout_s`.
    """

    def __init__(
        self,
        camera_id: str,
        source_factory: Callable[[], FrameSource],
        on_frame: FrameCallback,
        *,
        config: WatchdogConfig | None = None,
        on_interval_closed: IntervalCallback | None = None,
        health: CameraHealth | None = None,
        decode_hint: Callable[[], bool] | None = None,
    ) -> None:
        self.camera_id = camera_id
        self._decode_hint = decode_hint  # after each frame: may the source decode keyframes only?
        self.config = config or WatchdogConfig()
        self.health = health or CameraHealth(camera_id)
        self._factory = source_factory
        self._on_frame = on_frame
        self._on_interval_closed = on_interval_closed
        self._stop = threading.Event()
        self._finished = threading.Event()  # the decode thread has exited
        self._lock = threading.Lock()
        self._source: FrameSource | None = None
        self._stall_reason: str | None = None
        self._progress_at = 0.0  # monotonic time of the last frame or connection attempt
        self._started_at = 0.0
        self._callback_errors = 0
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        if self._threads:
            raise RuntimeError(f"watchdog for camera {self.camera_id} already started")
        self._started_at = time.time()
        self._progress_at = time.monotonic()
        self.health.set_state("starting")
        self._threads = [
            threading.Thread(target=self._run, name=f"decode-{self.camera_id}", daemon=True),
            threading.Thread(target=self._watch_stalls, name=f"stall-{self.camera_id}", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def interrupt(self) -> None:
        """Ask the source to stop without waiting (a worker stopping many cameras interrupts them all
        first, so their decode threads exit together); `stop()` then waits."""
        self._stop.set()
        self._interrupt_source()

    def stop(self) -> None:
        """Stop the source and wait for the decode thread; closes any open interval now."""
        self.interrupt()
        for thread in self._threads:
            thread.join(self.config.join_timeout_s)
            if thread.is_alive():
                log.warning("camera %s: %s still blocked after stop()", self.camera_id, thread.name)
        if self.health.state != "failed":
            self.health.set_state("stopped")
        self._emit_closed(self.health.close_interval(time.time()))

    @property
    def running(self) -> bool:
        """True while the decode thread runs (False after stop() or giving up)."""
        return bool(self._threads) and self._threads[0].is_alive()

    def _run(self) -> None:
        try:
            self._keep_streaming()
        except Exception as exc:  # a bug here must still leave a visible, recorded outage
            log.exception("camera %s: watchdog crashed", self.camera_id)
            since = self.health.last_frame_at or self._started_at
            self.health.record_failure(f"watchdog error: {type(exc).__name__}: {exc}", since=since)
            self.health.set_state("failed")
        finally:
            self._finished.set()

    def _keep_streaming(self) -> None:
        failures = 0
        while not self._stop.is_set():
            streamed, reason = self._attempt()
            if self._stop.is_set():
                return
            failures = 1 if streamed else failures + 1
            since = self.health.last_frame_at or self._started_at
            reason = redact(reason)
            self.health.record_failure(reason, since=since)
            log.warning("camera %s: %s (attempt %d failed)", self.camera_id, reason, failures)
            limit = self.config.max_consecutive_failures
            if limit is not None and failures >= limit:
                self.health.set_state("failed")
                log.error("camera %s: giving up after %d failures", self.camera_id, failures)
                return
            if self._stop.wait(self.config.backoff(failures)):
                return
            self.health.record_reconnect()

    def _attempt(self) -> tuple[bool, str]:
        """Run one source until it ends; returns (any frame delivered, why it ended)."""
        streamed = False
        with self._lock:
            self._stall_reason = None
            self._progress_at = time.monotonic()
        try:
            source = self._factory()
        except SourceError as exc:
            return False, str(exc)
        except Exception as exc:  # e.g. a URL the source refuses: retried with backoff, never fatal
            detail = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            return False, f"cannot create the source: {detail}"
        with self._lock:
            self._source = source
        try:
            for frame in source.frames():
                if self._stop.is_set():
                    break
                streamed = True
                self._deliver(frame)
                if self._decode_hint is not None and isinstance(source, KeyframeSkipping):
                    source.keyframes_only = self._decode_hint()
            reason = "stream ended"
        except SourceError as exc:
            reason = str(exc)
        except Exception as exc:  # a bug in a source must not kill the camera for good
            log.exception("camera %s: source crashed", self.camera_id)
            reason = f"source error: {type(exc).__name__}: {exc}"
        finally:
            with self._lock:
                self._source = None
            self._close_quietly(source)
        with self._lock:
            return streamed, self._stall_reason or reason

    def _close_quietly(self, source: FrameSource) -> None:
        try:
            source.close()
        except Exception:
            log.exception("camera %s: closing the source failed", self.camera_id)

    def _deliver(self, frame: Frame) -> None:
        with self._lock:
            self._progress_at = time.monotonic()
        self._emit_closed(self.health.record_frame(frame.ts))
        try:
            self._on_frame(frame)
        except Exception:
            self._callback_errors += 1
            if self._callback_errors == 1 or self._callback_errors % 100 == 0:
                log.exception("camera %s: on_frame failed (%d times)", self.camera_id, self._callback_errors)

    def _watch_stalls(self) -> None:
        period = min(0.5, self.config.stall_timeout_s / 4)
        while not self._stop.wait(period) and not self._finished.is_set():
            with self._lock:
                silent = time.monotonic() - self._progress_at
                stalled = self._source is not None and self._stall_reason is None
                stalled = stalled and silent > self.config.stall_timeout_s
                if stalled:
                    self._stall_reason = f"stalled {self.config.stall_timeout_s:g} s"
            if stalled:
                log.warning("camera %s: no frame for %.1f s, restarting", self.camera_id, silent)
                self._interrupt_source()

    def _interrupt_source(self) -> None:
        with self._lock:
            source = self._source
        if source is not None:
            self._close_quietly(source)

    def _emit_closed(self, interval: UnmonitoredInterval | None) -> None:
        if interval is None or self._on_interval_closed is None:
            return
        try:
            self._on_interval_closed(interval)
        except Exception:
            log.exception("camera %s: on_interval_closed failed", self.camera_id)
