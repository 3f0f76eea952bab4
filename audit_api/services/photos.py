"""Photos uploaded with a corrective action's answer: proved to be JPEG or PNG by decoding them with Pillow,
refused before decoding when they declare too many pixels (image bombs), and re-encoded so no metadata
(EXIF: GPS position, device, owner) reaches the store. Nothing here touches the store or the database: the
caller checks every photo of a request first, then stores them."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from audit_api.schemas.bounds import MAX_PHOTO_PIXELS
from audit_api.services.errors import Invalid, TooLarge, UnsupportedMediaType

_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
_JPEG_QUALITY = 90


@dataclass(frozen=True)
class CleanPhoto:
    """A photo as it will be stored: re-encoded, without metadata."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def clean_photo(raw: bytes, name: str, max_bytes: int) -> CleanPhoto:
    """Check and re-encode one uploaded photo: 413 above `max_bytes` or MAX_PHOTO_PIXELS, 415 when it is
    not a JPEG or PNG image, 422 when it claims to be one but does not decode."""
    if len(raw) > max_bytes:
        raise TooLarge(f"photo {name!r} is larger than {max_bytes} bytes")
    # WeasyPrint sets this process-wide switch on import (audit_api.services.pdf); a truncated upload must
    # still be refused. The reports only embed complete images this project wrote, so False suits both.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(raw), formats=list(_FORMATS)) as image:
            if image.width * image.height > MAX_PHOTO_PIXELS:
                raise TooLarge(
                    f"photo {name!r} declares {image.width}×{image.height} pixels, more than "
                    f"{MAX_PHOTO_PIXELS} (refused before decoding)"
                )
            fmt = image.format or ""
            image.load()
            upright = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # warning: under -W error
        raise TooLarge(f"photo {name!r} is an image bomb: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaType(f"photo {name!r} is not a JPEG or PNG image") from exc
    except TooLarge:
        raise
    except Exception as exc:  # a decoder fed hostile bytes may fail in many ways (OSError, struct.error ...)
        raise Invalid(f"photo {name!r} could not be decoded: {exc}") from exc
    content_type, extension = _FORMATS[fmt]
    return CleanPhoto(_encode(upright, fmt), content_type, extension, upright.width, upright.height)


def _encode(image: Image.Image, fmt: str) -> bytes:
    """The pixels only: Pillow carries some metadata over from `info` (comment, ICC profile, EXIF), so the
    copy that is saved has none."""
    out = io.BytesIO()
    keep = ("RGB", "L") if fmt == "JPEG" else ("RGB", "RGBA", "L", "LA")
    pixels = image.copy() if image.mode in keep else image.convert(keep[0] if fmt == "JPEG" else "RGBA")
    pixels.info = {}
    if fmt == "JPEG":
        pixels.save(out, "JPEG", quality=_JPEG_QUALITY)
    else:
        pixels.save(out, "PNG")
    return out.getvalue()
