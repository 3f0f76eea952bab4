"""The PPE detector: a YOLOv8 ONNX model run with ONNX Runtime on CPU.

Nothing here imports torch or Ultralytics: the runtime path needs only onnxruntime, OpenCV and numpy.
Training, evaluation against `.pt` checkpoints and export live in detect.cli / detect.evaluate.
"""

from __future__ import annotations

import ast
import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import supervision as sv

from detect._classes import CLASS_NAMES
from detect._decode import RawBoxes, decode
from detect._letterbox import Letterbox, letterbox, rect_canvas, to_tensor

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CHECKPOINT = MODELS_DIR / "css10-sitesafe-mix-640.pt"  # the Ultralytics weights both ONNX files come from
FP32_MODEL = MODELS_DIR / "css10-sitesafe-mix-640.onnx"
INT8_MODEL = MODELS_DIR / "css10-sitesafe-mix-640-int8.onnx"
DEFAULT_IMGSZ = 640  # the shipped model's input size; train/export/eval of .pt weights default to it
# int8 by default: valid mAP50 within 1 pt of FP32 (0.94), the same events on the shared footage, and
# faster with less memory on a 2-core CPU (figures in models/MODEL_CARD.md).
DEFAULT_MODEL = INT8_MODEL
MODEL_NAME_KEY = "siteaudit_model"  # metadata key our exporter writes; falls back to the file stem


class ModelError(Exception):
    """Missing or corrupt weights, an unusable model, or an image the detector cannot take."""


@dataclass(frozen=True)
class Thresholds:
    """Confidence floors: `default` for every class, overridden per class name."""

    default: float = 0.35
    per_class: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def as_array(self, class_names: Sequence[str]) -> npt.NDArray[np.float32]:
        unknown = sorted(set(self.per_class) - set(class_names))
        if unknown:
            raise ModelError(f"threshold for unknown class {unknown}; the model knows {list(class_names)}")
        values = {name: self.per_class.get(name, self.default) for name in class_names}
        bad = {name: v for name, v in values.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ModelError(f"thresholds must lie in [0, 1], got {bad}")
        return np.array([values[name] for name in class_names], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class _ModelInfo:
    """What we read from the ONNX file itself: names, input size, batch axis, version."""

    class_names: tuple[str, ...]
    input_size: int
    dynamic_batch: bool
    dynamic_shape: bool
    version: str


class Detector:
    """Batched YOLOv8 inference; boxes come back in original image pixels as `sv.Detections`."""

    def __init__(self, session: ort.InferenceSession, info: _ModelInfo, thresholds: Thresholds, iou: float):
        if not 0.0 <= iou <= 1.0:
            raise ModelError(f"iou must lie in [0, 1], got {iou}")
        self._session = session
        self._info = info
        self._input_name: str = session.get_inputs()[0].name
        self._floors = thresholds.as_array(info.class_names)
        self._iou = iou
        self.thresholds = thresholds
        self.class_names: tuple[str, ...] = info.class_names
        # Called after every detect() with (frames, seconds): the worker's latency histogram listens here.
        self.on_batch: Callable[[int, float], None] | None = None

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        thresholds: Thresholds | None = None,
        iou: float = 0.5,
        intra_op_threads: int | None = None,
        expected_classes: Sequence[str] | None = CLASS_NAMES,
    ) -> Detector:
        """Open an Ultralytics-exported YOLOv8 ONNX model (None → the shipped model in models/).

        The rules read classes by index (`PPEClass`), so a model whose class names differ from
        `expected_classes` (same names, same order) is refused; None accepts any (mAP eval maps by name).
        """
        model_path = Path(path) if path is not None else DEFAULT_MODEL
        if not model_path.is_file():
            raise ModelError(f"model file not found: {model_path}")
        blob = model_path.read_bytes()
        try:
            session = ort.InferenceSession(blob, _session_options(intra_op_threads), ["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types; all mean "unusable file"
            raise ModelError(f"cannot load ONNX model {model_path}: {_first_line(exc)}") from None
        info = _read_info(session, model_path, hashlib.sha256(blob).hexdigest())
        if expected_classes is not None and info.class_names != tuple(expected_classes):
            raise ModelError(
                f"{model_path}: class names {list(info.class_names)} differ from the "
                f"{len(expected_classes)} expected {list(expected_classes)} (same names, same order)"
            )
        return cls(session, info, thresholds or Thresholds(), iou)

    @property
    def model_version(self) -> str:
        """Model name plus a content hash, e.g. "css10-sitesafe-mix-640-int8+sha256:1a2b3c4d"."""
        return self._info.version

    @property
    def input_size(self) -> int:
        return self._info.input_size

    def detect(
        self, images: Sequence[npt.NDArray[np.uint8]], *, multi_label: bool = False, size: int | None = None
    ) -> list[sv.Detections]:
        """Detect in BGR uint8 images of any size; one ORT call per batch when the model allows it.

        Models exported with dynamic H×W run each frame on its stride-aligned rectangle like Ultralytics'
        predict (a 16:9 frame costs ~60% of a square one); frames of one shape still batch together.

        `multi_label` lets one box carry several classes (only for mAP evaluation, like Ultralytics val).
        `size` scales each image's long side to it instead of the model's input size (a dynamic-shape
        model only; detect.tiling runs wide frames at native size so).
        """
        if not images:
            return []
        started = time.perf_counter()
        for index, image in enumerate(images):
            _check_image(index, image)
        if size is None:
            size = self.input_size
        elif size != self.input_size and not self._info.dynamic_shape:
            raise ModelError(f"this model takes {self.input_size}×{self.input_size} only, not size {size}")
        canvases = [self._canvas(image, size) for image in images]
        results: list[sv.Detections] = [sv.Detections.empty()] * len(images)
        # One ORT call per canvas shape: a frame's boxes never depend on which other frames shared its batch.
        for canvas in dict.fromkeys(canvases):
            members = [i for i, c in enumerate(canvases) if c == canvas]
            prepared = [letterbox(images[i], size, canvas) for i in members]
            tensors = [to_tensor(padded) for padded, _ in prepared]
            if self._info.dynamic_batch:
                outputs = list(self._run(np.concatenate(tensors)))
            else:
                outputs = [self._run(tensor)[0] for tensor in tensors]
            for i, out, (_, box) in zip(members, outputs, prepared, strict=True):
                results[i] = self._to_detections(
                    decode(out, self._floors, self._iou, multi_label=multi_label), box
                )
        if self.on_batch is not None:
            self.on_batch(len(images), time.perf_counter() - started)
        return results

    def _canvas(self, image: npt.NDArray[np.uint8], size: int) -> tuple[int, int]:
        """Square for fixed-size models; the stride-aligned rectangle when the model takes any H×W."""
        if not self._info.dynamic_shape:
            return size, size
        return rect_canvas(image.shape[0], image.shape[1], size)

    def _run(self, batch: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        result: npt.NDArray[np.float32] = self._session.run(None, {self._input_name: batch})[0]
        return result

    def _to_detections(self, raw: RawBoxes, box: Letterbox) -> sv.Detections:
        names = np.array([self.class_names[i] for i in raw.class_id], dtype=str)
        return sv.Detections(
            xyxy=box.to_original(raw.xyxy),
            confidence=raw.confidence,
            class_id=raw.class_id,
            data={"class_name": names},
        )


def _session_options(intra_op_threads: int | None) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL  # YOLO is one chain: no inter-op parallelism
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = intra_op_threads or min(os.cpu_count() or 1, 4)
    # Spinning threads would steal the few cores from the decoder threads sharing this process.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def _read_info(session: ort.InferenceSession, path: Path, sha256: str) -> _ModelInfo:
    meta: dict[str, str] = session.get_modelmeta().custom_metadata_map
    shape: list[Any] = session.get_inputs()[0].shape
    if len(shape) != 4 or shape[1] != 3:
        raise ModelError(f"{path}: expected an NCHW image input with 3 channels, got shape {shape}")
    names = _parse_names(meta.get("names"), path)
    size = shape[2] if isinstance(shape[2], int) else _parse_imgsz(meta.get("imgsz"), path)
    outputs = session.get_outputs()[0].shape
    if isinstance(outputs[1], int) and outputs[1] != 4 + len(names):
        raise ModelError(f"{path}: output has {outputs[1]} channels, expected 4 + {len(names)} classes")
    name = meta.get(MODEL_NAME_KEY) or path.stem
    dynamic_shape = not isinstance(shape[2], int) and not isinstance(shape[3], int)
    version = f"{name}+sha256:{sha256[:8]}"
    return _ModelInfo(names, int(size), not isinstance(shape[0], int), dynamic_shape, version)


def _parse_names(raw: str | None, path: Path) -> tuple[str, ...]:
    try:
        names = ast.literal_eval(raw or "")
        return tuple(str(names[i]) for i in range(len(names)))
    except (ValueError, SyntaxError, KeyError, TypeError):
        raise ModelError(f"{path}: no class names in the ONNX metadata (export with Ultralytics)") from None


def _parse_imgsz(raw: str | None, path: Path) -> int:
    try:
        size = ast.literal_eval(raw or "")
        return int(size[0] if isinstance(size, list | tuple) else size)
    except (ValueError, SyntaxError, TypeError, IndexError):
        raise ModelError(f"{path}: dynamic input size and no imgsz in the ONNX metadata") from None


def _check_image(index: int, image: object) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ModelError(f"image {index}: expected a BGR uint8 array of shape (H, W, 3), got {got}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ModelError(f"image {index}: empty image of shape {image.shape}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
