"""Events on the shared footage against a table of expected events, with precision and recall.

    python -m bench.events [--fps 5] [--weights model.onnx] [--no-wide] [--tiling off|on|auto]

Each footage runs Detector → SceneAnalyzer → EventBuilder at the analysis rate with default rules (no
zones: the whole frame requires hardhat + vest). Every debounced violation is one event; it matches an
expected row when the kind agrees, it fires inside the row's time window and its box centre lies in the
row's horizontal band (who it is). Unmatched events are false positives, unmet rows false negatives.

Wide shots: the shared videos scaled down (people ≈ 60-80 px tall) and placed low in a 1280×720 grey
frame, made with ffmpeg in a temporary folder at run time — what a camera on a pole sees. They expect the
same events as the originals (people ≥ min_person_height_px are judged): their recall is the gap left.
`--tiling` runs every footage with that camera tiling mode (detect/tiling.py; default off, the plain pass),
`--no-person-crops` without its person crops.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench._footage import wide_shot
from detect.analyzer import SceneAnalyzer, Violation
from detect.events import EventBuilder, ReviewItem
from detect.model import Detector
from detect.rules_config import CameraRules
from detect.tiling import TilePlanner, TilingConfig, TilingMode, detect_frames

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
WIDE_SCALE = 0.12  # people 520-630 px tall in the 720p originals → 62-76 px


@dataclass(frozen=True)
class Expected:
    """`count` events of `kind` first firing between `start_s` and `end_s`, box centre x in [x_min, x_max]."""

    kind: str
    start_s: float
    end_s: float
    x_min: float = 0.0  # normalised to the frame width
    x_max: float = 1.0
    count: int = 1

    def matches(self, violation: Violation, width: int) -> bool:
        x1, _, x2, _ = violation.box
        centre = (x1 + x2) / 2 / width
        return (
            violation.kind == self.kind
            and self.start_s <= violation.ts <= self.end_s
            and (self.x_min <= centre <= self.x_max)
        )

    def widened(self, scale: float) -> Expected:
        """The same row for the wide shot: the picture shrinks about the frame's horizontal centre."""
        return Expected(
            self.kind, self.start_s, self.end_s, 0.5 + (self.x_min - 0.5) * scale,
            0.5 + (self.x_max - 0.5) * scale, self.count,
        )  # fmt: skip


# ../shared/videos/SOURCE.md: "hard hats are worn throughout; in ppe-2 one man wears no vest"; checked by
# eye on the frames: ppe-1's man wears a vest; in ppe-3 the two squatting women (left, centre) wear vests
# and the worker on the right, seen from behind (white T-shirt, hi-vis neck shade), wears none.
EXPECTED: dict[str, list[Expected]] = {
    "ppe-1": [],
    "ppe-2": [Expected("no_vest", 0.0, 8.3, x_min=0.5)],  # the man on the right, vest-less throughout
    "ppe-3": [Expected("no_vest", 0.0, 11.7, x_min=0.6)],
}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Score) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(violations: list[Violation], expected: list[Expected], width: int) -> Score:
    left = {i: row.count for i, row in enumerate(expected)}
    result = Score()
    for violation in violations:
        row = next((i for i, r in enumerate(expected) if left[i] and r.matches(violation, width)), None)
        if row is None:
            result.fp += 1
        else:
            left[row] -= 1
            result.tp += 1
    result.fn = sum(left.values())
    return result


def run(
    path: Path, detector: Detector, fps: float, tiling: TilingConfig | None = None
) -> tuple[list[ReviewItem], int, float, float, int]:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        sys.exit(f"cannot open {path}")
    source_fps = capture.get(cv2.CAP_PROP_FPS)
    step = max(1, round(source_fps / fps))
    width, height = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    rules = CameraRules()
    analyzer = SceneAnalyzer(path.stem, rules, (width, height), fps=fps)
    events = EventBuilder(path.stem, rules)
    planner = TilePlanner(tiling or TilingConfig(mode=TilingMode.OFF))
    items: list[ReviewItem] = []
    detect_s = rules_s = 0.0
    index = frames = 0
    ts = 0.0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        image = np.asarray(frame, dtype=np.uint8)
        if index % step == 0:
            ts = index / source_fps
            t0 = time.perf_counter()
            plan = planner.plan(width, height, detector.input_size, ts)
            (found,) = detect_frames(detector, [image], [plan])
            planner.observe(found, width, height, detector.input_size, ts)
            t1 = time.perf_counter()
            updates = events.update(analyzer.analyze(found, ts), image)
            rules_s += time.perf_counter() - t1
            detect_s += t1 - t0
            items += [u.event for u in updates if u.type == "closed"]
            frames += 1
        index += 1
    capture.release()
    items += [u.event for u in events.flush(ts)]
    return items, width, detect_s, rules_s, frames


def footage(folder: Path, wide: bool) -> list[tuple[str, Path, list[Expected]]]:
    rows = [(name, SHARED / "videos" / f"{name}.mp4", expected) for name, expected in EXPECTED.items()]
    if wide:
        rows += [
            (f"{name}-wide", wide_shot(path, folder / f"{name}-wide.mp4", scale=WIDE_SCALE),
             [e.widened(WIDE_SCALE) for e in expected])
            for name, path, expected in list(rows)
        ]  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fps", type=float, default=5.0, help="analysis rate (default 5)")
    parser.add_argument("--weights", type=Path, default=None, help="ONNX model (default: the shipped one)")
    parser.add_argument("--no-wide", action="store_true", help="skip the wide-shot variants")
    parser.add_argument("--tiling", type=TilingMode, default=TilingMode.OFF, help="off (default), on, auto")
    parser.add_argument("--no-person-crops", action="store_true", help="tiling without person crops")
    args = parser.parse_args()
    detector = Detector.load(args.weights)
    tiling = TilingConfig(mode=args.tiling, person_crops=not args.no_person_crops)
    print(f"detector {detector.model_version}; tiling {tiling}; load average {os.getloadavg()}")
    totals = {"original": Score(), "wide": Score()}
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        for name, path, expected in footage(Path(tmp), not args.no_wide):
            items, width, detect_s, rules_s, frames = run(path, detector, args.fps, tiling)
            violations = [v for item in items for v in item.violations]
            result = score(violations, expected, width)
            totals["wide" if name.endswith("-wide") else "original"].add(result)
            rows = [
                f"{e.count}× {e.kind} {e.start_s:g}-{e.end_s:g} s x {e.x_min:.2f}-{e.x_max:.2f}"
                for e in expected
            ]
            want = ", ".join(rows) or "none"
            print(f"{name}: expected {want}; got {len(violations)} event(s) → TP {result.tp} FP {result.fp} "
                  f"FN {result.fn}")  # fmt: skip
            for v in violations:
                x1, y1, x2, y2 = (round(c) for c in v.box)
                print(
                    f"    {v.kind} track {v.track_id} at {v.ts:.1f} s conf {v.confidence:.2f} "
                    f"box [{x1},{y1},{x2},{y2}]"
                )
            print(f"    {frames} frames: detector {1000 * detect_s / frames:.1f} ms/frame, rules+events "
                  f"{1000 * rules_s / frames:.2f} ms/frame")  # fmt: skip
    for kind, total in totals.items():
        if total.tp + total.fp + total.fn:
            print(f"{kind:<8} event precision {total.precision:.2f} recall {total.recall:.2f} "
                  f"(TP {total.tp}, FP {total.fp}, FN {total.fn})")  # fmt: skip


if __name__ == "__main__":
    main()
