"""Footage the benches make at run time from what is shared: still scenes and wide shots (never committed)."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt


def first_frame(video: Path) -> npt.NDArray[np.uint8]:
    capture = cv2.VideoCapture(str(video))
    ok, image = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"cannot read {video}")
    return np.asarray(image, np.uint8)


def still_video(
    out: Path, image: npt.NDArray[np.uint8], *, seconds: float, fps: int = 25, gop: int = 50
) -> Path:
    """A still scene with mild sensor noise (σ≈2 grey levels), H.264 with a keyframe every `gop` frames."""
    rng = np.random.default_rng(0)
    noises = [rng.normal(0, 2.0, image.shape).astype(np.int16) for _ in range(8)]
    height, width = image.shape[:2]
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=fps, options={"g": str(gop), "preset": "veryfast"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        for index in range(int(seconds * fps)):
            noisy = np.clip(image.astype(np.int16) + noises[index % len(noises)], 0, 255).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(noisy[:, :, ::-1]), format="rgb24")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out


def wide_shot(video: Path, out: Path, *, scale: float, size: tuple[int, int] = (1280, 720)) -> Path:
    """`video` scaled by `scale`, placed low in the middle of a larger grey frame (a pole camera's view)."""
    width, height = size
    vf = (
        f"scale=trunc(iw*{scale}/2)*2:trunc(ih*{scale}/2)*2,"
        f"pad={width}:{height}:(ow-iw)/2:oh-ih-{height // 8}:color=0x808078"
    )
    cmd = ["ffmpeg", "-v", "error", "-y", "-i", str(video), "-vf", vf, "-an", "-c:v", "libx264"]
    subprocess.run([*cmd, "-preset", "veryfast", "-crf", "18", str(out)], check=True)
    return out


GREY_BGR = (0x78, 0x80, 0x80)  # the wide shots' background (ffmpeg's 0x808078)


def place(
    canvas: npt.NDArray[np.uint8], piece: npt.NDArray[np.uint8], scale: float, x: int, y: int
) -> tuple[int, int]:
    """Paste `piece` scaled by `scale` with its top-left at (x, y) into `canvas`; returns its (w, h)."""
    height, width = piece.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(piece, size, interpolation=cv2.INTER_AREA)
    canvas[y : y + size[1], x : x + size[0]] = small
    return size
