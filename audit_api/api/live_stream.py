"""The MJPEG response: one viewer's stream from the newest frame of a camera's JPEG ring.

Each viewer holds a single reference — the newest frame it has not sent yet (a latest-frame slot) — so
nothing queues: a viewer slower than the camera skips frames. Sends are bounded in time: a viewer whose
socket takes no data for `live_stall_timeout_s` (uvicorn's flow control blocks the send once the kernel
and transport buffers are full) is dropped. The stream also ends on disconnect or after
`live_max_session_s`, or when `still_allowed` (checked every RECHECK_S) says the viewer was deactivated or
lost the camera's site; `on_end` then releases the viewer slot and writes the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from audit_api.services.live import LiveSession, LiveSource
from audit_api.settings import Settings

BOUNDARY = "siteaudit-frame"
RECHECK_S = 30.0  # how often a running stream re-checks that its viewer may still see the camera
POLL_S = 0.02  # how often a viewer waiting for a newer frame looks at the ring (a lock and a reference)


def part(jpeg: bytes, ts: float) -> bytes:
    """One multipart part: headers (with the frame's capture time, for latency checks), then the JPEG."""
    head = (
        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Frame-Ts: {ts:.3f}\r\n\r\n"
    )
    return head.encode() + jpeg + b"\r\n"


class MjpegStream(Response):
    media_type = f"multipart/x-mixed-replace; boundary={BOUNDARY}"

    def __init__(
        self,
        source: LiveSource,
        session: LiveSession,
        settings: Settings,
        *,
        on_end: Callable[[LiveSession], None],
        still_allowed: Callable[[], bool],
    ) -> None:
        super().__init__(
            media_type=self.media_type,
            headers={
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
                "X-Content-Type-Options": "nosniff",
            },
        )
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]  # endless body
        self._source = source
        self._session = session
        self._interval = 1.0 / settings.live_max_fps
        self._stall_s = settings.live_stall_timeout_s
        self._max_s = settings.live_max_session_s
        self._on_end = on_end
        self._still_allowed = still_allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        completed = False
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async with anyio.create_task_group() as group:

                async def watch_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(watch_disconnect)
                completed = await self._frames(send)
                group.cancel_scope.cancel()
            if completed:
                with anyio.move_on_after(self._stall_s):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            with anyio.CancelScope(shield=True):
                await run_in_threadpool(self._on_end, self._session)

    async def _frames(self, send: Send) -> bool:
        """Send frames until the session ends; False when the viewer stalled (the response is left open)."""
        camera_id = str(self._session.camera_id)
        started = anyio.current_time()
        last_ts: float | None = None
        next_due = started
        checked = started
        while anyio.current_time() - started < self._max_s:
            if anyio.current_time() - checked > RECHECK_S:
                checked = anyio.current_time()
                if not await run_in_threadpool(self._still_allowed):
                    self._session.ended_because = "the viewer may no longer see this camera"
                    return True
            frame = self._source.live_frame(camera_id)
            now = anyio.current_time()
            if frame is None and not self._source.runs(camera_id):
                self._session.ended_because = "the camera stopped running here"
                return True
            if frame is None or frame.ts == last_ts or now < next_due:
                await anyio.sleep(max(POLL_S, min(next_due - now, self._interval)))
                continue
            with anyio.move_on_after(self._stall_s) as timer:
                await send(
                    {"type": "http.response.body", "body": part(frame.jpeg, frame.ts), "more_body": True}
                )
            if timer.cancelled_caught:
                self._session.ended_because = f"viewer took no data for {self._stall_s:g} s"
                return False
            self._session.frames += 1
            last_ts = frame.ts
            next_due = max(next_due + self._interval, now)
        self._session.ended_because = f"session limit of {self._max_s:g} s reached"
        return True
