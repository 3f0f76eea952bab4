"""ASGI middleware that refuses request bodies above a byte limit with 413, before the app buffers them."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """`max_bytes` for every request, but for paths matching one of `larger` (pattern, limit): those get
    their own limit (e.g. a photo upload, declared by its route)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, larger: Sequence[tuple[re.Pattern[str], int]] = ()
    ) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = tuple(larger)

    def _limit(self, path: str) -> int:
        found = (limit for pattern, limit in self.larger if pattern.fullmatch(path))
        return next(found, self.default_max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", ""))
        declared = dict(scope["headers"]).get(b"content-length")
        too_long = (
            declared is not None and declared.isdigit() and (len(declared) > 18 or int(declared) > max_bytes)
        )
        if too_long:
            await self._reject(send, max_bytes)
            return
        received = 0
        started = rejected = False

        async def counting_receive() -> Message:  # chunked bodies carry no Content-Length
            nonlocal received, rejected
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Answer now: frameworks turn a failing body read into their own 400.
                    if not started and not rejected:
                        rejected = True
                        await self._reject(send, max_bytes)
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 has been sent; drop the app's own error response
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):  # raised when the app does not catch it itself
            await self.app(scope, counting_receive, tracking_send)

    async def _reject(self, send: Send, max_bytes: int) -> None:
        body = json.dumps({"detail": f"request body larger than {max_bytes} bytes"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
