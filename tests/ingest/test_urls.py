from __future__ import annotations

import re

import pytest

from ingest.urls import (
    CameraAddressDenied,
    CameraNetworkPolicy,
    InvalidCameraURL,
    redact,
    validate_camera_url,
)


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
        # IPv6 literals stay intact
        ("rtsp://u:p@[fe80::1]:554/", "rtsp://u:***@[fe80::1]:554/"),
        ("rtsp://[fd00::7]:8554/ppe-1?token=abc", "rtsp://[fd00::7]:8554/ppe-1?token=***"),
        # secrets in the query string, whatever their case; other parameters stay
        ("rtsp://cam/x?user=op&password=hunter2", "rtsp://cam/x?user=op&password=***"),
        ("rtsp://cam/x?PASS=a&Pwd=b&channel=1", "rtsp://cam/x?PASS=***&Pwd=***&channel=1"),
        ("rtsp://cam/x?token=a;key=b&subtype=0", "rtsp://cam/x?token=***;key=***&subtype=0"),
        ("rtsp://cam/x?secret=a&auth=b&signature=c", "rtsp://cam/x?secret=***&auth=***&signature=***"),
        (
            "rtsp://cam/x?X-Amz-Signature=a&X-Amz-Credential=b",
            "rtsp://cam/x?X-Amz-Signature=***&X-Amz-Credential=***",
        ),
        ("rtsp://cam/x?api_key=a&stream_key=b#top", "rtsp://cam/x?api_key=***&stream_key=***#top"),
        ("rtsp://cam/x?pass%77ord=a", "rtsp://cam/x?pass%77ord=***"),
        # path parameters, as some DVRs take them (/user=admin&password=...&channel=1)
        (
            "rtsp://10.0.0.9:554/user=admin&password=hunter2&channel=1&stream=0.sdp",
            "rtsp://10.0.0.9:554/user=admin&password=***&channel=1&stream=0.sdp",
        ),
        # malformed URLs (redaction runs before validation)
        ("rtsp://u:p@127.0.0.1:abc/", "rtsp://u:***@127.0.0.1:abc/"),
        ("rtsp://admin:hunter 2@cam.local/x", "rtsp://admin:***@cam.local/x"),
        ("rtsp://u:p@h?password=", "rtsp://u:***@h?password="),
        # messages that contain URLs (errors, last_error)
        (
            "cannot open rtsp://a:b@h/x, also tried rtsps://c:d@[::1]/y?key=k and more",
            "cannot open rtsp://a:***@h/x, also tried rtsps://c:***@[::1]/y?key=*** and more",
        ),
        ("source error: 'rtsp://a:b@h/x'", "source error: 'rtsp://a:***@h/x'"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert redact(shown) == shown  # idempotent


@pytest.mark.parametrize(
    ("url", "refused"),
    [
        ("rtsp://169.254.169.254/latest/meta-data", "169.254.0.0/16"),
        ("rtsp://[fd00:ec2::254]/x", "fd00:ec2::254/128"),
        ("rtsp://100.100.100.200/x", "100.100.100.200/32"),
        ("rtsp://0.0.0.0:554/x", "0.0.0.0/8"),
        ("rtsp://[fe80::1]:554/x", "fe80::/10"),
        ("rtsp://[::ffff:169.254.169.254]/x", "169.254.0.0/16"),
        ("rtsp://2852039166/x", "169.254.0.0/16"),  # 169.254.169.254 as one number
        ("rtsp://0xa9.0xfe.0xa9.0xfe/x", "169.254.0.0/16"),
        ("rtsp://239.1.1.1/x", "224.0.0.0/4"),
        ("rtsp://127.0.0.1:8554/ppe-1", None),  # loopback stays allowed (tests, the demo)
        ("rtsp://[::1]:8554/ppe-1", None),
        ("rtsp://10.0.0.5/x", None),
        ("rtsp://192.168.1.64/x", None),
        ("rtsp://cam.local/x", None),  # names are checked when resolved, before connecting
    ],
)
def test_default_network_policy(url: str, refused: str | None) -> None:
    policy = CameraNetworkPolicy()
    if refused is None:
        assert validate_camera_url(url, policy)
        return
    with pytest.raises(CameraAddressDenied, match=re.escape(refused)):
        validate_camera_url(url, policy)
    assert validate_camera_url(url)  # without a policy: syntax only


@pytest.mark.parametrize(
    ("allow", "deny", "url", "ok"),
    [
        (["169.254.10.0/24"], None, "rtsp://169.254.10.5/x", True),  # a site's own link-local network
        (["169.254.10.0/24"], None, "rtsp://169.254.169.254/x", False),  # metadata still refused
        ([], ["10.0.0.0/8"], "rtsp://10.1.2.3/x", False),  # extra deny
        (["10.1.0.0/16"], ["10.0.0.0/8"], "rtsp://10.1.2.3/x", True),
        ([], ["127.0.0.0/8"], "rtsp://127.0.0.1/x", False),
    ],
)
def test_configured_network_policy(allow: list[str], deny: list[str] | None, url: str, ok: bool) -> None:
    policy = CameraNetworkPolicy.model_validate({"allow": allow} | ({"deny": deny} if deny else {}))
    if ok:
        validate_camera_url(url, policy)
    else:
        with pytest.raises(CameraAddressDenied):
            validate_camera_url(url, policy)


def test_host_names_are_refused_by_what_they_resolve_to() -> None:
    CameraNetworkPolicy().check_resolved("localhost")
    no_loopback = CameraNetworkPolicy(deny=("127.0.0.0/8", "::1/128"))  # type: ignore[arg-type]
    with pytest.raises(CameraAddressDenied, match="'localhost' resolves to a refused address"):
        no_loopback.check_resolved("localhost")
    no_loopback.check_resolved("no-such-host.invalid")  # unresolvable: the connection says why
