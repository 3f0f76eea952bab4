"""What recording evidence costs per camera: the whole span in segments vs one clip per violation.

    python -m bench.spans [--span 180] [--every 5]

Both designs get the same 720p site footage (ppe-2 looped) at 10 fps through the pre-roll buffer, as the
pipeline does. "span": ingest.segments.SpanRecorder records pre-roll + span + post-roll in segments of
60 s, encoding as frames arrive. "per-violation": ingest.clips.ClipRecorder records 5 s + 5 s around a
violation every `--every` seconds. Each design runs in its own process; reported are the peak RSS above
the process's baseline (sampled every 20 ms), CPU seconds per second of video, and stored bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from ingest._frame import Frame
from ingest.clips import ClipRecorder
from ingest.files import VideoFileSource
from ingest.preroll import PreRollBuffer
from ingest.segments import SpanRecorder

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
FPS = 10.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class PeakSampler:
    def __init__(self) -> None:
        self.base = rss_mb()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak - self.base


def footage_jpegs() -> list[bytes]:
    frames = VideoFileSource("bench", SHARED / "videos" / "ppe-2.mp4").frames()
    return [bytes(cv2.imencode(".jpg", f.image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1]) for f in frames][::2]


def frames(jpegs: list[bytes], seconds: float):  # type: ignore[no-untyped-def]
    for i in range(int(seconds * FPS)):
        image = cv2.imdecode(np.frombuffer(jpegs[i % len(jpegs)], np.uint8), cv2.IMREAD_COLOR)
        yield Frame("bench", 1_000_000.0 + i / FPS, i / FPS, np.asarray(image, dtype=np.uint8))


def run(design: str, span_s: float, every_s: float) -> dict[str, float]:
    jpegs = footage_jpegs()
    buffer = PreRollBuffer(6.0, fps_cap=FPS)
    stored_bytes = 0
    lock = threading.Lock()
    sampler = PeakSampler()
    cpu0 = time.process_time()
    start = 1_000_000.0 + 5.0
    if design == "span":

        def keep(segment) -> None:  # type: ignore[no-untyped-def]
            nonlocal stored_bytes
            with lock:
                stored_bytes += segment.clip.size

        spans = SpanRecorder(buffer, pre_roll_s=5.0, post_roll_s=5.0, segment_s=60.0, fps=FPS)
        span = None
        for frame in frames(jpegs, span_s + 10.0):
            stored = buffer.push(frame)
            if span is None and frame.ts >= start:
                span = spans.open("item", start, keep)
                span.close(start + span_s - 10.0)
            if stored is not None:
                spans.push(stored)
            while span is not None and span.backlog > 50:  # pace like a live camera would
                time.sleep(0.01)
        spans.finish_all()
    else:
        clips = ClipRecorder(buffer, pre_roll_s=5.0, post_roll_s=5.0)
        futures = []
        next_violation = start
        for frame in frames(jpegs, span_s + 10.0):
            clips.push(frame)
            if frame.ts >= next_violation and frame.ts < start + span_s - 10.0:
                futures.append(clips.open(frame.ts).future)
                next_violation += every_s
        clips.shutdown()
        stored_bytes = sum(f.result().size for f in futures)
    cpu = time.process_time() - cpu0
    peak = sampler.stop()
    return {"peak_rss_mb": round(peak, 1), "cpu_s_per_video_s": round(cpu / span_s, 3),
            "stored_mb": round(stored_bytes / 1e6, 1),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--span", type=float, default=180.0, help="seconds of the review item's recording")
    parser.add_argument("--every", type=float, default=5.0, help="per-violation: a violation every N s")
    parser.add_argument("--design", choices=["span", "per-violation"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.design:
        print(json.dumps(run(args.design, args.span, args.every)))
        return 0
    for design in ("span", "per-violation"):
        out = subprocess.run(
            [sys.executable, "-m", "bench.spans", "--design", design, "--span", str(args.span),
             "--every", str(args.every)],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        print(f"{design:14s} {args.span:.0f} s: {out.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
