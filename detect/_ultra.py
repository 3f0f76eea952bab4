"""The one door to Ultralytics (torch): imported lazily, and always offline."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _offline() -> None:
    """Import Ultralytics with its network checks off (YOLO_OFFLINE is read once, at first import)."""
    os.environ["YOLO_OFFLINE"] = "1"
    import ultralytics.utils  # noqa: F401  (configures its logger on import)


def yolo(weights: str) -> Any:
    """An Ultralytics YOLO model that never reaches the network (no hub, no font or asset downloads)."""
    _offline()
    from ultralytics.models.yolo.model import YOLO

    return YOLO(weights)


@contextmanager
def quiet() -> Iterator[None]:
    """Silence Ultralytics' info banners (e.g. export hints naming our temporary files); keep warnings."""
    _offline()
    logger = logging.getLogger("ultralytics")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
