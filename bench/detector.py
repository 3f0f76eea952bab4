"""Detector speed and memory: our ONNX Runtime path vs Ultralytics `model.predict` (torch), same frames.

    python -m bench.detector [--frames N] [--threads N]

Each engine runs in its own child process so peak RSS is clean. Frames are the valid split's images
(640×640, as exported by Roboflow) and the same images stretched to 1280×720 (a camera frame). Targets:
≤ 40 ms per 640×640 frame on 2 cores, and ≥ 2× faster than `model.predict`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
VALID = SHARED / "datasets" / "construction-site-safety" / "valid" / "images"
MODEL = "css10-sitesafe-mix-640"  # = detect.model.CHECKPOINT's stem, without importing it here
CHECKPOINT = REPO / "models" / f"{MODEL}.pt"
IMGSZ = 640
ENGINES = ("onnx", "onnx-int8", "torch")
SIZES = {"640x640": None, "1280x720": (1280, 720)}
WARMUP = 5

Image = npt.NDArray[np.uint8]


def frames(count: int, size: tuple[int, int] | None) -> Iterator[Image]:
    """Decoded lazily so peak RSS measures the engine, not a pile of frames."""
    for path in sorted(VALID.glob("*.jpg"))[:count]:
        image = np.asarray(cv2.imread(str(path)), np.uint8)
        yield image if size is None else np.asarray(cv2.resize(image, size), np.uint8)


def make_engine(engine: str, threads: int | None) -> Callable[[list[Image]], object]:
    if engine == "torch":
        from detect._ultra import yolo

        model = yolo(str(CHECKPOINT))
        return lambda batch: model.predict(batch, imgsz=IMGSZ, conf=0.35, iou=0.5, verbose=False)
    from detect.model import MODELS_DIR, Detector

    name = f"{MODEL}-int8.onnx" if engine == "onnx-int8" else f"{MODEL}.onnx"
    detector = Detector.load(MODELS_DIR / name, intra_op_threads=threads)
    return detector.detect


def child(engine: str, count: int, threads: int | None) -> dict[str, Any]:
    """Runs inside the child process: per-frame latencies per size, batch-4 throughput, peak RSS."""
    run = make_engine(engine, threads)
    report: dict[str, Any] = {"engine": engine}
    for label, size in SIZES.items():
        for image in islice(frames(WARMUP, size), WARMUP):
            run([image])
        latencies, batch4 = [], []
        batch: list[Image] = []
        for image in frames(count, size):
            start = time.perf_counter()
            run([image])
            latencies.append(1000 * (time.perf_counter() - start))
            batch.append(image)
            if len(batch) == 4:  # same frames again, four per call: what a multi-camera worker does
                start = time.perf_counter()
                run(batch)
                batch4.append(1000 * (time.perf_counter() - start) / 4)
                batch = []
        report[label] = {"latencies": latencies, "batch4": batch4}
    report["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report


def summarise(runs: list[dict[str, Any]], label: str) -> dict[str, float]:
    latencies = [ms for run in runs for ms in run[label]["latencies"]]
    return {
        "median_ms": statistics.median(latencies),
        "p90_ms": float(np.percentile(latencies, 90)),
        "batch4_ms_per_frame": statistics.median(ms for run in runs for ms in run[label]["batch4"]),
    }


def spawn(engine: str, count: int, threads: int | None) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.detector", "--child", engine, "--frames", str(count)]
    if threads:
        cmd += ["--threads", str(threads)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=114, help="valid images to time (max 114)")
    parser.add_argument("--threads", type=int, default=None, help="ORT intra-op threads (default: cores)")
    parser.add_argument("--rounds", type=int, default=3, help="engines alternate, so load drifts hit all")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.frames, args.threads)))
        return 0

    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; {args.frames} frames per size")
    runs: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
    for _ in range(args.rounds):
        for engine in ENGINES:
            runs[engine].append(spawn(engine, args.frames, args.threads))
    reports = {
        engine: {label: summarise(done, label) for label in SIZES}
        | {"peak_rss_mb": max(run["peak_rss_mb"] for run in done)}
        for engine, done in runs.items()
    }
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    header = (
        f"{'engine':<10} {'frame':<9} {'median ms':>9} {'p90 ms':>7} {'batch4 ms/f':>11} {'peak RSS MB':>11}"
    )
    print(header)
    for engine, report in reports.items():
        for label in SIZES:
            row = report[label]
            print(
                f"{engine:<10} {label:<9} {row['median_ms']:>9.1f} {row['p90_ms']:>7.1f} "
                f"{row['batch4_ms_per_frame']:>11.1f} {report['peak_rss_mb']:>11.0f}"
            )
    for label in SIZES:
        torch_ms = reports["torch"][label]["median_ms"]
        for engine in ("onnx", "onnx-int8"):
            ours = reports[engine][label]["median_ms"]
            print(f"{label}: {engine} is {torch_ms / ours:.1f}x faster than model.predict ({ours:.1f} ms)")
    verdict = reports["onnx"]["640x640"]["median_ms"] <= 40 and all(
        reports["torch"][s]["median_ms"] / reports["onnx"][s]["median_ms"] >= 2 for s in SIZES
    )
    print("targets (≤ 40 ms per 640×640 frame, ≥ 2× model.predict):", "met" if verdict else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
