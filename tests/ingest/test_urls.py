from __future__ import annotations

import pytest

from ingest.urls import InvalidCameraURL, redact, validate_camera_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://192.168.1.10:554/stream1", "rtsp://192.168.1.10:554/stream1"),
        (
            "rtsp://cam-3.site.example/h264?channel=1&subtype=0",
            "rtsp://cam-3.site.example/h264?channel=1&subtype=0",
        ),
        ("RTSP://camera.local/live", "rtsp://camera.local/live"),
        (
            "rtsps://admin:p%40ss@10.0.0.7/Streaming/Channels/101",
            "rtsps://admin:p%40ss@10.0.0.7/Streaming/Channels/101",
        ),
        ("rtsp://[fd00::7]:8554/ppe-1", "rtsp://[fd00::7]:8554/ppe-1"),
        ("rtsp://localhost", "rtsp://localhost"),
    ],
)
def test_accepts_rtsp_urls(url: str, expected: str) -> None:
    assert validate_camera_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("file:///etc/passwd", "rtsp://"),
        ("/work/shared/videos/ppe-1.mp4", "rtsp://"),
        ("http://cam.local/mjpeg", "rtsp://"),
        ("https://cam.local/live.m3u8", "rtsp://"),
        ("concat:rtsp://a/x|file:///etc/passwd", "rtsp://"),
        ("subfile,,start,0,end,0,,:rtsp://cam/x", "rtsp://"),
        ("pipe:0", "rtsp://"),
        ("data:video/mp4;base64,AAAA", "rtsp://"),
        ("rtmp://cam.local/live", "rtsp://"),
        ("rtsp:///stream", "no host"),
        ("rtsp://:554/stream", "no host"),
        ("rtsp://user:pw@/stream", "no host"),
        ("rtsp://cam.local/my stream", "whitespace"),
        (" rtsp://cam.local/x", "rtsp://"),
        ("rtsp://cam.local/x\n", "whitespace"),
        ("rtsp://cam.local/x\x00y", "control"),
        ("rtsp://cam.local/x|y", "percent-encoded"),
        ("rtsp://cam.local/caméra", "percent-encoded"),
        ("rtsp://cam.local/x%zz", "percent-escape"),
        ("rtsp://cam.local:99999/x", "port"),
        ("rtsp://cam.local:0/x", "port 0"),
        ("rtsp://-bad-.local/x", "invalid host"),
        ("rtsp://cam_1.local/x", "invalid host"),
        ("rtsp://[not-ipv6]/x", "invalid host"),
        ("rtsp://cam.local/" + "a" * 3000, "longer than"),
    ],
)
def test_rejects_with_reason(url: str, reason: str) -> None:
    with pytest.raises(InvalidCameraURL, match=reason):
        validate_camera_url(url)


def test_errors_never_show_the_password() -> None:
    with pytest.raises(InvalidCameraURL) as info:
        validate_camera_url("rtsp://admin:hunter2@cam.local/bad path")
    assert "hunter2" not in str(info.value)
    assert "admin:***@cam.local" in str(info.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("rtsp://admin:hunter2@10.0.0.7:554/live", "rtsp://admin:***@10.0.0.7:554/live"),
        ("rtsps://u:p@ss:w@cam/x", "rtsps://u:***@cam/x"),
        ("rtsp://viewer@cam/x", "rtsp://viewer@cam/x"),
        ("rtsp://cam/x?user=a", "rtsp://cam/x?user=a"),
        ("not a url at all", "not a url at all"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
