"""Export an Ultralytics checkpoint to ONNX for `Detector`, and optionally quantize it to int8.

Ultralytics and torch are imported inside the functions: the runtime path never needs them.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from detect._letterbox import letterbox, to_tensor
from detect._ultra import quiet, yolo
from detect.model import DEFAULT_IMGSZ, MODEL_NAME_KEY, ModelError

# All backbone and neck ops: quantizing Conv alone leaves a Q/DQ pair around each, slower than FP32.
QUANTIZED_OPS = ("Conv", "Mul", "Add", "Concat", "MaxPool", "Resize", "Split", "Sigmoid")


def export_onnx(
    weights: Path, out: Path, *, imgsz: int = DEFAULT_IMGSZ, dynamic: bool = True, name: str | None = None
) -> Path:
    """Write `out` (ONNX, opset chosen by Ultralytics) from a `.pt`; `name` goes into the metadata.

    A dynamic batch axis costs nothing measurable on CPU and lets the worker batch cameras in one call.
    Simplification is left to ONNX Runtime's graph optimiser (ORT_ENABLE_ALL), which folds the same
    constants at load time, so no extra package (onnxslim) is needed.
    """
    if not weights.is_file():
        raise ModelError(f"weights file not found: {weights}")
    with tempfile.TemporaryDirectory(prefix="siteaudit-export-") as tmp:
        # Ultralytics writes next to the checkpoint: work on a copy so shared folders stay untouched.
        local = Path(tmp) / weights.name
        shutil.copyfile(weights, local)
        try:
            with quiet(), warnings.catch_warnings():
                # Ultralytics uses torch's TorchScript exporter on purpose; torch marks that path deprecated.
                warnings.filterwarnings("ignore", "You are using the legacy TorchScript", DeprecationWarning)
                warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx\.")
                exported = Path(
                    yolo(str(local)).export(format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=False)
                )
        except Exception as exc:  # a torn or foreign checkpoint surfaces as many different errors
            raise ModelError(f"cannot export {weights}: {str(exc).strip().splitlines()[0]}") from None
        out.parent.mkdir(parents=True, exist_ok=True)
        _save_named(exported, out, name or weights.stem)
    return out


def quantize_int8(fp32: Path, out: Path, calibration: Sequence[Path], *, imgsz: int) -> Path:
    """Static QDQ int8 (uint8 activations, per-channel int8 weights) calibrated on real images.

    The Detect head's box decoding (DFL, anchors, concat of boxes with class scores) stays in float:
    quantizing it squeezes pixel coordinates and 0..1 scores into one scale and the scores collapse.
    """
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if not calibration:
        raise ModelError("int8 quantization needs calibration images (the train split is empty?)")
    with tempfile.TemporaryDirectory(prefix="siteaudit-int8-") as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(out),
            _CalibrationImages(calibration, imgsz, _input_name(prepared)),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_exclude=_head_decoding_nodes(prepared),
            calibrate_method=CalibrationMethod.MinMax,
        )
    _save_named(out, out, f"{_model_name(fp32)}-int8")
    return out


def _model_name(path: Path) -> str:
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    return str(meta.get(MODEL_NAME_KEY, path.stem))


def _save_named(src: Path, out: Path, name: str) -> None:
    """Copy an ONNX model, recording `name` in its metadata (the Detector's model_version prefix)."""
    import onnx

    model = onnx.load(str(src))
    meta = {p.key: p.value for p in model.metadata_props} | {MODEL_NAME_KEY: name}
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(out))


def _input_name(path: Path) -> str:
    import onnx

    return str(onnx.load(str(path)).graph.input[0].name)


def _head_decoding_nodes(path: Path) -> list[str]:
    import onnx

    nodes = onnx.load(str(path)).graph.node
    dfl = next((n.name for n in nodes if "/dfl/" in n.name), None)
    if dfl is None:
        raise ModelError(f"{path}: no DFL node found; only YOLOv8-style detect heads can be quantized")
    head = dfl.split("/dfl/")[0] + "/"
    return [n.name for n in nodes if n.name.startswith(head) and (n.op_type != "Conv" or "/dfl/" in n.name)]


class _CalibrationImages:
    """Feeds letterboxed images exactly as the Detector prepares them (onnxruntime's reader protocol)."""

    def __init__(self, paths: Sequence[Path], imgsz: int, input_name: str):
        self._paths = iter(paths)
        self._imgsz = imgsz
        self._input_name = input_name

    def get_next(self) -> dict[str, npt.NDArray[np.float32]] | None:
        path = next(self._paths, None)
        if path is None:
            return None
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ModelError(f"cannot decode calibration image {path}")
        return {self._input_name: to_tensor(letterbox(np.asarray(image, np.uint8), self._imgsz)[0])}
