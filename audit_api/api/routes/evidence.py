"""Serving evidence bytes: SHA-256 checked against the DB on every read, single HTTP ranges for seeking."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import HTTPException, Query, Response, status
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from audit_api.api.params import MAX_RANGE_HEADER_CHARS
from audit_api.api.route_docs import Responses, errors
from audit_api.models import Site, User
from audit_api.services import privacy
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


Blurred = Annotated[
    bool,
    Query(
        description="Serve the copy with blurred heads (issue 13). Supervisors of a site whose "
        "`privacy_blur` is `also_supervisors` always get it; inspectors and admins get the original unless "
        "they ask."
    ),
]


@dataclass(frozen=True)
class ServedObject:
    object_key: str
    sha256: str
    content_type: str


def image_for_viewer(
    session: Session, store: ObjectStore, original: privacy.Original, viewer: User, blurred: bool
) -> ServedObject:
    """What `viewer` sees of a snapshot or still: the original, or its blurred copy (derived on first
    need) when asked for or when the site blurs the viewer's audience."""
    return _image(session, store, original, blurred or None, privacy.audience_of(viewer))


def external_image(session: Session, store: ObjectStore, original: privacy.Original) -> ServedObject:
    """What alert channels get of a snapshot: blurred unless the site's privacy_blur is off."""
    return _image(session, store, original, None, privacy.Audience.EXTERNAL)


def _image(
    session: Session,
    store: ObjectStore,
    original: privacy.Original,
    blurred: bool | None,
    audience: privacy.Audience,
) -> ServedObject:
    site = session.get(Site, original.site_id)
    assert site is not None
    try:
        with storage_errors():
            if blurred or privacy.blurs(site, audience):
                copy = privacy.blurred_copy(session, store, original)
                key, sha256, content_type = copy.object_key, copy.sha256, copy.content_type
            else:
                key, sha256, content_type = original.key, original.sha256, original.content_type
    except ValueError as exc:  # the original is not a decodable image
        raise HTTPException(status.HTTP_409_CONFLICT, f"no blurred copy: {exc}") from exc
    return ServedObject(key, sha256, content_type)


@contextlib.contextmanager
def storage_errors() -> Iterator[None]:
    """The store's refusals as HTTP: missing 404, failed hash 409, store down 503."""
    try:
        yield
    except ObjectNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"evidence object missing: {exc}") from exc
    except ObjectCorrupted as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"evidence failed its integrity check: {exc}") from exc
    except StorageError as exc:
        unavailable = status.HTTP_503_SERVICE_UNAVAILABLE
        raise HTTPException(unavailable, f"evidence store unavailable: {exc}") from exc


def evidence_responses(*media_types: str, ranges: bool = False) -> Responses:
    """OpenAPI for an evidence download: the bytes, a presigned redirect, and what `serve` can refuse."""
    binary = {"content": {m: {"schema": {"type": "string", "format": "binary"}} for m in media_types}}
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
    with storage_errors():
        data = store.get(clip.object_key, sha256=clip.sha256)
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
