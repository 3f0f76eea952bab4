"""Small pure helpers for the WHIP source: offer checks, RTP time, frame-rate gate.

Kept apart from `whip.py` so they can be tested with plain tables, without peers.
"""

from __future__ import annotations

from aiortc.sdp import SessionDescription

RTP_VIDEO_CLOCK = 90_000
_RTP_WRAP = 1 << 32
_MAX_OFFER_MEDIA = 8


class OfferProblem(ValueError):
    """The SDP offer cannot be answered as a video publication; the message says why."""


def check_offer(sdp: str) -> None:
    """Raise `OfferProblem` unless `sdp` is an SDP offer that sends at least one video stream.

    aiortc's parser accepts nearly any text, so the shape is checked here first to give the
    publisher a readable reason instead of a failure deep inside negotiation.
    """
    if not sdp.lstrip().startswith("v=0"):
        raise OfferProblem("body is not an SDP offer (it must start with 'v=0')")
    try:
        parsed = SessionDescription.parse(sdp)
    except (ValueError, IndexError, KeyError) as exc:
        raise OfferProblem(f"unparsable SDP: {exc}") from exc
    if len(parsed.media) > _MAX_OFFER_MEDIA:
        raise OfferProblem(
            f"offer has {len(parsed.media)} media sections, at most {_MAX_OFFER_MEDIA} allowed"
        )
    video = [m for m in parsed.media if m.kind == "video"]
    if not video:
        kinds = ", ".join(m.kind for m in parsed.media) or "none"
        raise OfferProblem(f"offer has no video m-line (media: {kinds}); publish a camera track")
    if not any(m.direction in (None, "sendonly", "sendrecv") for m in video):
        raise OfferProblem(
            "offer's video is not sent by the publisher (direction must be sendonly or sendrecv)"
        )


class RtpClock:
    """Turns 32-bit RTP timestamps into seconds since the first frame of one connection.

    RTP timestamps start at a random value and wrap after ~13 h at 90 kHz; the pipeline's
    `Frame.pts` must instead be monotonic within a connection, starting near zero.
    """

    def __init__(self, rate: int = RTP_VIDEO_CLOCK) -> None:
        self._rate = rate
        self._first: int | None = None
        self._last = 0
        self._wraps = 0

    def seconds(self, rtp_ts: int) -> float:
        rtp_ts %= _RTP_WRAP
        if self._first is None:
            self._first = self._last = rtp_ts
        # A jump back of more than half the range is a wrap, a small one is reordering.
        if rtp_ts < self._last and self._last - rtp_ts > _RTP_WRAP // 2:
            self._wraps += 1
        elif rtp_ts > self._last and rtp_ts - self._last > _RTP_WRAP // 2 and self._wraps:
            self._wraps -= 1
        self._last = rtp_ts
        return (rtp_ts + self._wraps * _RTP_WRAP - self._first) / self._rate


class FrameGate:
    """Decides which frames to keep so that at most `max_fps` pass, by stream time.

    Keeps the long-run rate at `max_fps` even when the source rate is not a multiple of it,
    and restarts its schedule after a gap (network stall) instead of letting a burst through.
    """

    def __init__(self, max_fps: float | None) -> None:
        if max_fps is not None and max_fps <= 0:
            raise ValueError(f"max_fps must be positive, got {max_fps}")
        self._interval = 1.0 / max_fps if max_fps else 0.0
        self._next_due: float | None = None

    def admit(self, pts: float) -> bool:
        if not self._interval:
            return True
        # A little slack so 30 fps timestamps rounded to 90 kHz still hit 15 fps exactly.
        slack = self._interval * 0.05
        if self._next_due is not None and pts < self._next_due - slack:
            return False
        due = self._next_due if self._next_due is not None else pts
        self._next_due = due + self._interval if pts - due < self._interval else pts + self._interval
        return True
