"""Serving evidence bytes: SHA-256 checked against the DB on every read, single HTTP ranges for seeking."""

from __future__ import annotations

import re
from typing import Protocol

from fastapi import HTTPException, Response, status
from fastapi.responses import RedirectResponse

from audit_api.api.params import MAX_RANGE_HEADER_CHARS
from audit_api.api.route_docs import Responses, errors
from audit_api.storage import ObjectCorrupted, ObjectNotFound, ObjectStore, StorageError

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class StoredEvidence(Protocol):
    """What serving needs of a stored evidence row: a clip, a snapshot, a span segment, a violation's still,
    a corrective action's photo."""

    @property
    def object_key(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def content_type(self) -> str: ...


def evidence_responses(media_type: str, *, ranges: bool = False) -> Responses:
    """OpenAPI for an evidence download: the bytes, a presigned redirect, and what `serve` can refuse."""
    binary = {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}
    documented: Responses = {
        200: {"description": "The evidence bytes (SHA-256 verified)", **binary},
        307: {
            "description": "Redirect to a short-lived presigned URL of the object store (S3)",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
        **errors(409, 503),
    }
    if ranges:
        documented[206] = {"description": "The requested byte range (`Range: bytes=first-last`)", **binary}
        documented |= errors(416)
    return documented


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single satisfiable `bytes=` range; None when it cannot be served
    (416): unparsable, unsatisfiable, or longer than MAX_RANGE_HEADER_CHARS (never parsed, so a number of
    thousands of digits costs nothing)."""
    if len(header) > MAX_RANGE_HEADER_CHARS:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":  # suffix range: the last N bytes
        length = int(last_text)
        return (max(size - length, 0), size - 1) if length > 0 and size > 0 else None
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    return (first, last) if first <= last else None


def serve(clip: StoredEvidence, store: ObjectStore, range_header: str | None, filename: str) -> Response:
    url = store.presigned_url(clip.object_key)
    if url is not None:
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    try:
        data = store.get(clip.object_key, sha256=clip.sha256)
    except ObjectNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"evidence object missing: {exc}") from exc
    except ObjectCorrupted as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"evidence failed its integrity check: {exc}") from exc
    except StorageError as exc:
        unavailable = status.HTTP_503_SERVICE_UNAVAILABLE
        raise HTTPException(unavailable, f"evidence store unavailable: {exc}") from exc
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": f'"{clip.sha256}"',
        "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, max-age=3600",
    }
    if range_header is None:
        return Response(data, media_type=clip.content_type, headers=headers)
    span = parse_range(range_header, len(data))
    if span is None:
        raise HTTPException(
            status.HTTP_416_RANGE_NOT_SATISFIABLE,
            f"cannot serve range {range_header[:MAX_RANGE_HEADER_CHARS]!r} of {len(data)} bytes",
            headers={"Content-Range": f"bytes */{len(data)}"},
        )
    first, last = span
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return Response(
        data[first : last + 1],
        status_code=status.HTTP_206_PARTIAL_CONTENT,
        media_type=clip.content_type,
        headers=headers,
    )
