"""Export an Ultralytics checkpoint to ONNX for `Detector`, and optionally quantize it to int8.

Ultralytics and torch are imported inside the functions: the runtime path never needs them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from detect.model import MODEL_NAME_KEY, ModelError


def export_onnx(
    weights: Path, out: Path, *, imgsz: int = 416, dynamic: bool = True, name: str | None = None
) -> Path:
    """Write `out` (ONNX, opset chosen by Ultralytics) from a `.pt`; `name` goes into the metadata.

    A dynamic batch axis costs nothing measurable on CPU and lets the worker batch cameras in one call.
    Simplification is left to ONNX Runtime's graph optimiser (ORT_ENABLE_ALL), which folds the same
    constants at load time, so no extra package (onnxslim) is needed.
    """
    if not weights.is_file():
        raise ModelError(f"weights file not found: {weights}")
    os.environ.setdefault("YOLO_OFFLINE", "1")
    import onnx
    from ultralytics.models.yolo.model import YOLO

    with tempfile.TemporaryDirectory(prefix="siteaudit-export-") as tmp:
        # Ultralytics writes next to the checkpoint: work on a copy so shared folders stay untouched.
        local = Path(tmp) / weights.name
        shutil.copyfile(weights, local)
        try:
            exported = Path(
                YOLO(str(local)).export(format="onnx", imgsz=imgsz, dynamic=dynamic, simplify=False)
            )
        except Exception as exc:  # a torn or foreign checkpoint surfaces as many different errors
            raise ModelError(f"cannot export {weights}: {str(exc).strip().splitlines()[0]}") from None
        model = onnx.load(str(exported))
        meta = {p.key: p.value for p in model.metadata_props}
        meta[MODEL_NAME_KEY] = name or weights.stem
        del model.metadata_props[:]
        for key, value in meta.items():
            model.metadata_props.add(key=key, value=value)
        out.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(out))
    return out
