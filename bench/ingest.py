"""How many 720p RTSP cameras one machine sustains at the analysis rate, vs a naive loop, in one run.

    python -m bench.ingest [--cameras 1,4,8,12] [--seconds 20] [--naive-cameras 1,2]

Cameras are the shared videos looped by GStreamer's RTSP server on loopback (needs the Debian packages the
test suite installs). Ours: the Worker (decode per camera thread, 5 fps sampling, motion gate, pre-roll,
one batched ONNX call per round). Naive: per camera, decode every frame and call Ultralytics
`model.predict` on it. For each, per camera count: analysed fps per camera (min/median), CPU per camera
(% of one core), and whether every camera held ≥ 90 % of the 5 fps target (naive: of real time).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import threading
import time
from pathlib import Path

import av

from detect.events import ReviewItem
from detect.model import Detector
from detect.rules_config import CameraRules
from ingest._sink import Evidence
from ingest.rtsp import RtspSource
from ingest.worker import CameraSpec, Worker
from tests.fixtures.rtsp import RtspServer, gst_rtsp_available

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
VIDEOS = [SHARED / "videos" / f"ppe-{i}.mp4" for i in (1, 2, 3)]
TARGET_FPS = 5.0


class NullSink:
    def publish(self, evidence: Evidence) -> None: ...

    def close(self, camera_id: str, item: ReviewItem) -> None: ...


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ours(server: RtspServer, cameras: int, seconds: float, detector: Detector) -> tuple[list[float], float]:
    worker = Worker(detector, NullSink())
    worker.start()
    for i in range(cameras):
        url = server.url(f"ppe-{i % 3 + 1}")
        cid = str(i)
        worker.add_camera(
            CameraSpec(cid, CameraRules(), source_factory=lambda cid=cid, url=url: RtspSource(cid, url))
        )
    time.sleep(4.0)  # connect and warm up
    analysed0 = _analysed(worker)
    cpu0, t0 = cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu, elapsed = cpu_seconds() - cpu0, time.monotonic() - t0
    rates = [(n - analysed0[cid]) / elapsed for cid, n in _analysed(worker).items()]
    worker.stop()
    return rates, cpu / elapsed / cameras


def _analysed(worker: Worker) -> dict[str, int]:
    return {cid: int(h["analysed"]) for cid, h in worker.health().items()}


def naive(server: RtspServer, cameras: int, seconds: float) -> tuple[list[float], float]:
    from detect._ultra import yolo

    model = yolo(str(SHARED / "models" / "css10-yolov8n-416-e14.pt"))
    stop = threading.Event()
    done = [0] * cameras
    lock = threading.Lock()  # Ultralytics predictors are not thread-safe

    def run(i: int) -> None:
        with av.open(server.url(f"ppe-{i % 3 + 1}"), options={"rtsp_transport": "tcp"}) as container:
            for frame in container.decode(video=0):
                if stop.is_set():
                    return
                with lock:
                    model.predict(frame.to_ndarray(format="bgr24"), imgsz=416, verbose=False)
                done[i] += 1

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(cameras)]
    for t in threads:
        t.start()
    time.sleep(4.0)
    start_counts, cpu0, t0 = list(done), cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu, elapsed = cpu_seconds() - cpu0, time.monotonic() - t0
    rates = [(done[i] - start_counts[i]) / elapsed for i in range(cameras)]
    stop.set()
    for t in threads:
        t.join(10)
    return rates, cpu / elapsed / cameras


def report(name: str, cameras: int, rates: list[float], cpu: float, target: float) -> bool:
    ok = min(rates) >= 0.9 * target
    print(
        f"{name:<6} {cameras:>3} cameras: analysed fps/camera min {min(rates):5.2f} median "
        f"{statistics.median(rates):5.2f} (target {target:g}) | CPU/camera {cpu * 100:5.1f}% of a core | "
        f"{'sustained' if ok else 'NOT sustained'}",
        flush=True,
    )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cameras", default="1,4,8,12", help="camera counts for our worker")
    parser.add_argument("--naive-cameras", default="1,2", help="camera counts for the naive loop")
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window per step")
    args = parser.parse_args()
    if not gst_rtsp_available():
        raise SystemExit(
            "needs GStreamer's RTSP server: apt install gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0"
        )
    print(
        f"{os.cpu_count()} cores; 720p H.264 RTSP cameras on loopback; {args.seconds:g} s per step",
        flush=True,
    )
    detector = Detector.load()
    best_ours = best_naive = 0
    cpu_ours = cpu_naive = 0.0
    with RtspServer(VIDEOS) as server:
        for n in (int(x) for x in args.cameras.split(",")):
            rates, cpu = ours(server, n, args.seconds, detector)
            if report("ours", n, rates, cpu, TARGET_FPS):
                best_ours = max(best_ours, n)
            cpu_ours = cpu_ours or cpu
        for n in (int(x) for x in args.naive_cameras.split(",")):
            rates, cpu = naive(server, n, args.seconds)
            fps = float(av.open(str(VIDEOS[0])).streams.video[0].average_rate or 25)
            if report("naive", n, rates, cpu, fps):
                best_naive = max(best_naive, n)
            cpu_naive = cpu_naive or cpu
    print(f"cameras sustained: ours {best_ours} vs naive {best_naive}")
    if cpu_ours:
        print(f"CPU per camera (1 camera): naive / ours = {cpu_naive / cpu_ours:.1f}x")


if __name__ == "__main__":
    main()
