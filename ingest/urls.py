"""Camera URL validation and redaction.

Camera URLs go straight to FFmpeg, whose URL syntax is far richer than RTSP: `concat:`, `subfile:`,
`file:`, `pipe:` and friends can read local files or chain protocols. So only plain rtsp:// and
rtsps:// URLs with a real host pass, and only characters that RFC 3986 allows (no spaces, controls,
`|`, backslashes or non-ASCII; those must be percent-encoded).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("rtsp", "rtsps")
MAX_URL_LENGTH = 2048

# Unreserved + reserved characters of RFC 3986, plus '%' for percent-encoding.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# "//user:password@" up to the last '@' before the path, as urlsplit reads it.
_PASSWORD = re.compile(r"(?P<user>//[^/:@\s]*):[^/\s]*@")


class InvalidCameraURL(ValueError):
    """The URL cannot be used as a camera source; the message says why (credentials redacted)."""


def redact(url: str) -> str:
    """Hide the password of `user:password@` in a URL, for logs, errors and status pages.

    Works on malformed input too, so it is safe to call before validation.
    """
    return _PASSWORD.sub(r"\g<user>:***@", url, count=1)


def validate_camera_url(url: str) -> str:
    """Return `url` (scheme lower-cased) if it is a usable rtsp:// or rtsps:// camera URL.

    Raises InvalidCameraURL with a readable reason otherwise.
    """
    if not isinstance(url, str) or not url:
        raise InvalidCameraURL("camera URL is empty")
    shown = redact(url)
    if len(url) > MAX_URL_LENGTH:
        raise InvalidCameraURL(f"camera URL is longer than {MAX_URL_LENGTH} characters")
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() not in ALLOWED_SCHEMES:
        raise InvalidCameraURL(f"camera URL must start with rtsp:// or rtsps:// (got {shown!r})")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise InvalidCameraURL(f"camera URL contains whitespace or control characters: {shown!r}")
    if not _URL_CHARS.fullmatch(url):
        bad = sorted({ch for ch in url if not _URL_CHARS.fullmatch(ch)})
        raise InvalidCameraURL(
            f"camera URL contains characters that must be percent-encoded ({' '.join(bad)}): {shown!r}"
        )
    if _PERCENT.search(url):
        raise InvalidCameraURL(f"camera URL has a malformed percent-escape: {shown!r}")

    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # port out of range or not a number, bad brackets
        raise InvalidCameraURL(f"camera URL has an invalid host or port: {shown!r} ({exc})") from None
    if not host:
        raise InvalidCameraURL(f"camera URL has no host: {shown!r}")
    if not _valid_host(host, bracketed="[" in parts.netloc):
        raise InvalidCameraURL(f"camera URL has an invalid host {host!r}: {shown!r}")
    if port == 0:
        raise InvalidCameraURL(f"camera URL has port 0: {shown!r}")
    return scheme.lower() + url[len(scheme) :]


def _valid_host(host: str, *, bracketed: bool) -> bool:
    if bracketed:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    return _HOSTNAME.fullmatch(host) is not None
