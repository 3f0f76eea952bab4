"""Letterbox resize exactly as Ultralytics' LetterBox does, and the inverse mapping for boxes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114
STRIDE = 32  # YOLOv8's largest feature stride: input sides must be multiples of it


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How one original image was placed into the square model input: scale first, then pad."""

    scale: float
    pad_x: int
    pad_y: int
    width: int
    height: int

    def to_original(self, xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map boxes from model-input pixels back to original pixels, clipped to the image."""
        out = xyxy.astype(np.float32, copy=True)
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, self.width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, self.height)
        return out

    def to_input(self, xyxy: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Map boxes from original pixels into model-input pixels (used by tests and eval)."""
        out = xyxy.astype(np.float32, copy=True)
        out[:, [0, 2]] = out[:, [0, 2]] * self.scale + self.pad_x
        out[:, [1, 3]] = out[:, [1, 3]] * self.scale + self.pad_y
        return out


def rect_canvas(height: int, width: int, size: int, stride: int = STRIDE) -> tuple[int, int]:
    """The smallest stride-aligned canvas holding the image scaled so its long side is `size`.

    Ultralytics' `LetterBox(auto=True)`: a 1280×720 frame at 416 runs as 416×256, not 416×416.
    """
    scale = min(size / height, size / width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    return new_h + (size - new_h) % stride, new_w + (size - new_w) % stride


def letterbox(
    image: npt.NDArray[np.uint8], size: int, canvas: tuple[int, int] | None = None
) -> tuple[npt.NDArray[np.uint8], Letterbox]:
    """Resize keeping aspect ratio (long side `size`) onto a `canvas` (H, W; default square), centred,
    padded with grey 114.

    Rounding follows Ultralytics (round the scaled size, split the padding with a -0.1/+0.1 bias) so
    boxes agree with `YOLO.predict` to the pixel.
    """
    height, width = image.shape[:2]
    canvas_h, canvas_w = canvas or (size, size)
    scale = min(size / height, size / width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    half_dw, half_dh = (canvas_w - new_w) / 2, (canvas_h - new_h) / 2
    top, bottom = round(half_dh - 0.1), round(half_dh + 0.1)
    left, right = round(half_dw - 0.1), round(half_dw + 0.1)
    resized = image if (new_w, new_h) == (width, height) else cv2.resize(image, (new_w, new_h))
    padded = cv2.copyMakeBorder(
        resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
    )
    return np.asarray(padded, dtype=np.uint8), Letterbox(scale, left, top, width, height)


def to_tensor(padded: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """BGR HWC uint8 → RGB NCHW float32 in [0, 1]."""
    rgb = padded[:, :, ::-1].transpose(2, 0, 1)
    return (np.ascontiguousarray(rgb, dtype=np.float32) / 255.0)[None]
