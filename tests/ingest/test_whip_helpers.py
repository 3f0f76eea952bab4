"""WHIP ingest's pure parts: offer checks, RTP time, the frame-rate gate, enrolment link and QR code."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from audit_api.api.routes.whip import enrolment_link, qr_png
from ingest._webrtc import FrameGate, OfferProblem, RtpClock, check_offer

# -- the pure helpers behind the hub ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sdp", "problem"),
    [
        ("", "not an SDP offer"),
        ("<html>", "not an SDP offer"),
        ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", "no video m-line (media: audio)"),
        ("v=0\r\n", "no video m-line (media: none)"),
        ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=recvonly\r\n", "must be sendonly or sendrecv"),
        ("v=0\r\n" + "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n" * 9, "at most 8 allowed"),
    ],
)
def test_check_offer_explains_the_problem(sdp: str, problem: str) -> None:
    with pytest.raises(OfferProblem, match=re.escape(problem)):
        check_offer(sdp)


def test_check_offer_accepts_a_sendonly_video_offer() -> None:
    check_offer("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n")


@pytest.mark.parametrize(
    ("timestamps", "seconds"),
    [
        ([1000, 1000 + 90_000, 1000 + 180_000], [0.0, 1.0, 2.0]),
        ([2**32 - 45_000, 45_000, 135_000], [0.0, 1.0, 2.0]),  # wraps through zero
        ([90_000, 180_000, 171_000, 270_000], [0.0, 1.0, 0.9, 2.0]),  # a late frame is not a wrap
    ],
)
def test_rtp_clock(timestamps: list[int], seconds: list[float]) -> None:
    clock = RtpClock()
    assert [clock.seconds(t) for t in timestamps] == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("max_fps", "source_fps", "seconds", "kept"),
    [
        (None, 30, 2, 60),
        (10, 30, 2, 20),
        (15, 30, 2, 30),
        (5, 25, 2, 10),
        (7, 25, 3, 21),  # not a divisor of the source rate: the long-run rate still holds
        (30, 10, 2, 20),  # a cap above the source rate keeps everything
    ],
)
def test_frame_gate_rate(max_fps: float | None, source_fps: int, seconds: int, kept: int) -> None:
    gate = FrameGate(max_fps)
    pts = [round(i * 90_000 / source_fps) / 90_000 for i in range(source_fps * seconds)]
    assert sum(gate.admit(t) for t in pts) == kept


def test_frame_gate_restarts_after_a_stall() -> None:
    gate = FrameGate(2)
    assert [gate.admit(t) for t in (0.0, 0.1, 0.5, 5.0, 5.1, 5.5)] == [True, False, True, True, False, True]


def test_frame_gate_rejects_nonpositive_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        FrameGate(0)


# -- enrolment link and QR code -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "camera", "token", "expected"),
    [
        ("https://site.example", 12, "abc", "https://site.example/camera.html#cam=12&token=abc"),
        (
            "https://site.example/app/",
            "north gate",
            "a+b/c=",
            "https://site.example/app/camera.html#cam=north%20gate&token=a%2Bb%2Fc%3D",
        ),
    ],
)
def test_enrolment_link_keeps_the_token_in_the_fragment(
    base: str, camera: int | str, token: str, expected: str
) -> None:
    link = enrolment_link(base, camera, token)
    assert link == expected
    assert token not in link.split("#")[0]


def test_qr_png_decodes_back_to_the_link() -> None:
    link = enrolment_link("https://site.example", 3, "s3cr3t-token")
    png = qr_png(link)
    assert png.startswith(b"\x89PNG")
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None, "qr_png did not produce a decodable PNG"
    decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == link
