from __future__ import annotations

from pathlib import Path

import pytest

from ingest._frame import Frame
from ingest.files import VideoFileSource


@pytest.fixture(scope="module")
def ppe2_frames(videos: Path) -> list[Frame]:
    """All 206 frames of ppe-2 (25 fps, 1280x720): ~570 MB, so per module rather than per session."""
    return list(VideoFileSource("cam-2", videos / "ppe-2.mp4").frames())
