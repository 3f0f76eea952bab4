"""The ONNX Runtime detector: parity with Ultralytics, batching, letterbox geometry, bad input."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import supervision as sv

from detect._classes import CLASS_NAMES
from detect._letterbox import letterbox, rect_canvas
from detect.model import (
    CHECKPOINT,
    DEFAULT_IMGSZ,
    DEFAULT_MODEL,
    FP32_MODEL,
    Detector,
    ModelError,
    Thresholds,
)

REPO = Path(__file__).resolve().parents[2]
os.environ["YOLO_OFFLINE"] = "1"  # before any Ultralytics import below: no network checks


def conf(found: sv.Detections) -> npt.NDArray[np.float32]:
    return np.asarray(found.confidence, np.float32)


def cls(found: sv.Detections) -> npt.NDArray[np.int64]:
    return np.asarray(found.class_id, np.int64)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


@pytest.fixture(scope="module")
def valid_paths(dataset_dir: Path) -> list[Path]:
    return sorted((dataset_dir / "valid" / "images").glob("*.jpg"))


def read(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path))
    assert image is not None, path
    return np.asarray(image, np.uint8)


def mixed_sizes(valid_paths: list[Path]) -> list[npt.NDArray[np.uint8]]:
    """Real frames in the shapes cameras send: square, 720p landscape, portrait phone, tiny."""
    a, b, c = (read(p) for p in valid_paths[3:6])
    resized = [np.asarray(cv2.resize(im, size), np.uint8) for im, size in ((b, (1280, 720)), (c, (480, 854)))]
    return [a, *resized, np.asarray(cv2.resize(a, (200, 120)), np.uint8), b]


def test_shipped_model_describes_itself(detector: Detector) -> None:
    assert detector.class_names == CLASS_NAMES
    assert detector.input_size == DEFAULT_IMGSZ == 640
    assert re.fullmatch(r"css10-sitesafe-mix-640-int8\+sha256:[0-9a-f]{8}", detector.model_version)
    assert re.fullmatch(
        r"css10-sitesafe-mix-640\+sha256:[0-9a-f]{8}", Detector.load(FP32_MODEL).model_version
    )


def test_detections_are_in_original_pixels(detector: Detector, valid_paths: list[Path]) -> None:
    images = mixed_sizes(valid_paths)
    results = detector.detect(images)
    assert len(results) == len(images)
    assert sum(len(r) for r in results) > 0
    for image, found in zip(images, results, strict=True):
        assert isinstance(found, sv.Detections)
        assert found.xyxy.dtype == np.float32
        height, width = image.shape[:2]
        assert (found.xyxy >= 0).all() and (found.xyxy[:, [0, 2]] <= width).all()
        assert (found.xyxy[:, [1, 3]] <= height).all()
        assert (conf(found) >= 0.35).all()
        assert list(found.data["class_name"]) == [CLASS_NAMES[i] for i in cls(found)]
    assert detector.detect([]) == []


@pytest.mark.parametrize(("height", "width"), [(1, 4000), (4000, 1), (1, 1), (2160, 3840)])
def test_extreme_shapes_do_not_break(detector: Detector, height: int, width: int) -> None:
    found = detector.detect([np.full((height, width, 3), 114, np.uint8)])[0]
    assert len(found) == 0  # a flat grey frame holds nothing


def _ultralytics_boxes(model: object, image: npt.NDArray[np.uint8]) -> tuple[np.ndarray, np.ndarray]:
    result = model.predict(image, imgsz=DEFAULT_IMGSZ, conf=0.25, iou=0.7, verbose=False)[0]  # type: ignore[attr-defined]
    return result.boxes.xyxy.numpy(), result.boxes.cls.numpy().astype(int)


def _matched_ious(ours: sv.Detections, boxes: np.ndarray, classes: np.ndarray) -> Iterator[float]:
    """For each reference box, the best IoU among our boxes of the same class (0 when none)."""
    if len(boxes) == 0:
        return
    iou = sv.box_iou_batch(boxes, ours.xyxy) if len(ours) else np.zeros((len(boxes), 0))
    same = classes[:, None] == cls(ours)[None, :] if len(ours) else iou.astype(bool)
    yield from (iou * same).max(axis=1, initial=0.0)


def video_frames(path: Path, count: int, step: int) -> list[npt.NDArray[np.uint8]]:
    capture = cv2.VideoCapture(str(path))
    found = []
    for index in range(count * step):
        ok, frame = capture.read()
        assert ok, f"{path}: frame {index}"
        if index % step == 0:
            found.append(np.asarray(frame, np.uint8))
    capture.release()
    return found


def test_parity_with_ultralytics_predict(shared_dir: Path, videos: Path, valid_paths: list[Path]) -> None:
    """Valid images (640×640) plus 720p site footage, where both sides run a 640×384 rectangle."""
    from detect._ultra import yolo

    reference = yolo(str(CHECKPOINT))
    ours = Detector.load(FP32_MODEL, thresholds=Thresholds(default=0.25), iou=0.7)
    footage = [f for name in ("ppe-1.mp4", "ppe-2.mp4") for f in video_frames(videos / name, 4, 25)]
    ious: list[float] = []
    counts = [0, 0]
    for image in [*map(read, valid_paths[::2]), *footage]:  # every other valid image: 640 costs 2.4x 416
        found = ours.detect([image])[0]
        boxes, classes = _ultralytics_boxes(reference, image)
        ious += _matched_ious(found, boxes, classes)
        counts[0] += len(found)
        counts[1] += len(boxes)
    matched = [iou for iou in ious if iou > 0.5]
    assert len(valid_paths) == 114 and len(footage) == 8 and counts[1] > 250
    assert len(matched) >= 0.98 * counts[1], (len(matched), counts)
    assert abs(counts[0] - counts[1]) <= 0.02 * counts[1], counts
    assert float(np.mean(matched)) >= 0.9


@pytest.mark.parametrize("static", [False, True], ids=["dynamic-batch", "static-batch"])
def test_batch_equals_one_by_one(static: bool, shared_dir: Path, valid_paths: list[Path]) -> None:
    # The shared export has a fixed batch of 1 (looped); ours has a dynamic batch axis (one call).
    detector = Detector.load(shared_dir / "models" / "css10-yolov8n-416-e14.onnx" if static else None)
    images = mixed_sizes(valid_paths)
    together = detector.detect(images)
    for image, batched in zip(images, together, strict=True):
        single = detector.detect([image])[0]
        assert list(cls(single)) == list(cls(batched))
        np.testing.assert_allclose(single.xyxy, batched.xyxy, atol=1e-2)
        np.testing.assert_allclose(conf(single), conf(batched), atol=1e-4)


@pytest.mark.parametrize(
    ("height", "width"),
    [(640, 640), (720, 1280), (1280, 720), (416, 416), (100, 50), (3, 1000), (1080, 1920)],
)
@pytest.mark.parametrize("rect", [False, True], ids=["square", "rect"])
def test_letterbox_matches_ultralytics_and_round_trips(height: int, width: int, rect: bool) -> None:
    from ultralytics.data.augment import LetterBox

    rng = np.random.default_rng(height * 7919 + width)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    canvas = rect_canvas(height, width, 416) if rect else None
    padded, box = letterbox(image, 416, canvas)
    reference = np.asarray(LetterBox((416, 416), auto=rect, stride=32)(image=image))
    assert padded.shape == reference.shape and padded.shape[2] == 3
    assert max(padded.shape[:2]) == 416 and padded.shape[0] % 32 == 0 and padded.shape[1] % 32 == 0
    np.testing.assert_array_equal(padded, reference)

    xyxy = np.array([[0, 0, width, height], [width * 0.25, height * 0.5, width * 0.75, height]], np.float32)
    inside = box.to_input(xyxy)
    assert (inside >= 0).all() and (inside[:, [0, 2]] <= padded.shape[1]).all()
    assert (inside[:, [1, 3]] <= padded.shape[0]).all()
    assert max(inside[0, 2] - inside[0, 0], inside[0, 3] - inside[0, 1]) == pytest.approx(416, abs=1)
    np.testing.assert_allclose(box.to_original(inside), xyxy, atol=1e-3 * max(height, width))
    outside = np.array([[-50, -50, 5000, 5000]], np.float32)
    np.testing.assert_array_equal(box.to_original(outside), [[0, 0, width, height]])


def test_per_class_threshold_filters_only_that_class(valid_paths: list[Path]) -> None:
    images = [read(p) for p in valid_paths[:12]]
    base = Detector.load(thresholds=Thresholds(default=0.3)).detect(images)
    strict = Detector.load(thresholds=Thresholds(default=0.3, per_class={"Person": 0.99})).detect(images)
    person = CLASS_NAMES.index("Person")
    assert any((cls(b) == person).any() for b in base)
    for loose, tight in zip(base, strict, strict=True):
        assert not (cls(tight) == person).any()
        kept = conf(loose)[cls(loose) != person]
        np.testing.assert_allclose(sorted(kept), sorted(conf(tight)), atol=1e-6)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "absent.onnx", "model file not found"),
        (lambda tmp: _write(tmp / "torn.onnx", DEFAULT_MODEL.read_bytes()[:4000]), "cannot load ONNX model"),
        (lambda tmp: _write(tmp / "text.onnx", b"not a model\n"), "cannot load ONNX model"),
        (lambda tmp: _write(tmp / "empty.onnx", b""), "cannot load ONNX model"),
    ],
    ids=["missing", "truncated", "text", "empty"],
)
def test_bad_model_file(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ModelError, match=message) as caught:
        Detector.load(path)
    assert "\n" not in str(caught.value)


def _renamed(tmp: Path, names: dict[int, str]) -> Path:
    """The shipped model with other class names in its metadata (what a foreign export looks like)."""
    import onnx

    model = onnx.load(str(DEFAULT_MODEL))
    for prop in model.metadata_props:
        if prop.key == "names":
            prop.value = repr(names)
    path = tmp / "foreign.onnx"
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize(
    "names",
    [
        {i: n for i, n in enumerate(["Helmet", *CLASS_NAMES[1:]])},  # one name differs
        {i: n for i, n in enumerate([CLASS_NAMES[1], CLASS_NAMES[0], *CLASS_NAMES[2:]])},  # order differs
    ],
    ids=["renamed", "reordered"],
)
def test_model_with_other_classes_is_refused(tmp_path: Path, names: dict[int, str]) -> None:
    path = _renamed(tmp_path, names)
    with pytest.raises(ModelError, match="differ from the 10 expected") as caught:
        Detector.load(path)
    assert str(list(names.values())) in str(caught.value) and "\n" not in str(caught.value)
    assert Detector.load(path, expected_classes=None).class_names == tuple(names.values())


@pytest.mark.parametrize(
    ("thresholds", "iou", "message"),
    [
        (Thresholds(per_class={"Helmet": 0.5}), 0.5, "unknown class"),
        (Thresholds(default=1.5), 0.5, r"\[0, 1\]"),
        (Thresholds(per_class={"Person": -0.1}), 0.5, r"\[0, 1\]"),
        (Thresholds(), 2.0, "iou"),
    ],
)
def test_bad_settings(thresholds: Thresholds, iou: float, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        Detector.load(thresholds=thresholds, iou=iou)


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((64, 64), np.uint8),
        np.zeros((64, 64, 4), np.uint8),
        np.zeros((64, 64, 3), np.float32),
        np.zeros((0, 64, 3), np.uint8),
        [[0, 0, 0]],
    ],
    ids=["gray", "rgba", "float", "empty", "list"],
)
def test_bad_image(detector: Detector, image: object, valid_paths: list[Path]) -> None:
    with pytest.raises(ModelError, match=r"image 1: "):
        detector.detect([read(valid_paths[0]), image])  # type: ignore[list-item]


def test_runtime_path_never_imports_torch() -> None:
    code = (
        "import sys, numpy as np\n"
        "from detect.model import Detector\n"
        "Detector.load().detect([np.full((720, 1280, 3), 90, np.uint8)])\n"
        "heavy = sorted(m for m in ('torch', 'ultralytics') if m in sys.modules)\n"
        "print(heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
