"""Camera URL policy: validation, the network policy (which addresses a camera may be at), redaction.

Camera URLs go straight to FFmpeg, whose URL syntax is far richer than RTSP: `concat:`, `subfile:`,
`file:`, `pipe:` and friends can read local files or chain protocols. So only plain rtsp:// and
rtsps:// URLs with a real host pass, and only characters that RFC 3986 allows (no spaces, controls,
`|`, backslashes or non-ASCII; those must be percent-encoded).

A camera URL is also a way to make the server connect somewhere: `CameraNetworkPolicy` refuses
link-local and cloud metadata addresses (169.254.169.254, fd00:ec2::254, Alibaba Cloud's
100.100.100.200 ...) unless a site's own network is explicitly allowed. IP literals are refused when
the URL is validated (the API answers 422); host names are resolved and checked right before each
connection (`check_resolved`), so a name that points at a metadata address is refused too.

`redact` is the one function that makes a URL (or a message containing URLs) safe to show: the
password of `user:password@` and secret-looking query or path parameters become `***`.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork

ALLOWED_SCHEMES = ("rtsp", "rtsps")
MAX_URL_LENGTH = 2048

# Unreserved + reserved characters of RFC 3986, plus '%' for percent-encoding.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*\.?")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

# Addresses no camera should be at, by default: "this host" and unspecified, link-local (where the
# cloud metadata services live), the metadata addresses of AWS (IPv6) and Alibaba Cloud, multicast,
# broadcast and reserved. Loopback and the private ranges stay allowed (demo cameras, site networks).
DEFAULT_DENY_NETWORKS: tuple[str, ...] = (
    "0.0.0.0/8",
    "169.254.0.0/16",
    "100.100.100.200/32",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "fe80::/10",
    "fd00:ec2::254/128",
    "ff00::/8",
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidCameraURL(ValueError):
    """The URL cannot be used as a camera source; the message says why (credentials redacted)."""


class CameraAddressDenied(InvalidCameraURL):
    """The camera's address lies in a denied network (link-local, cloud metadata ...)."""


# -- redaction ---------------------------------------------------------------------------------------
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*")
_SECRET_KEY = re.compile(r"pass|pwd|token|key|secret|auth|sig|cred|session|jwt", re.IGNORECASE)
_PARAM = re.compile(r"(?P<sep>[?&;/])(?P<key>[^=&;/?#]+)=(?P<value>[^&;/?#]*)")


def redact(text: str) -> str:
    """`text` with the credentials of every URL in it replaced by `***`, for logs, errors and pages.

    Redacts the password of `user:password@` (the user name stays) and the value of query or path
    parameters whose name looks secret (password, pwd, token, key, secret, auth, signature ...,
    case-insensitive). IPv6 literals and everything else stay as they were. Works on malformed URLs
    and on messages that merely contain URLs, so it is safe to call before validation.
    """
    if _SCHEME.match(text) and text.count("://") == 1:
        return _redact_url(text)  # one URL, however malformed (a password may even contain a space)
    return _URL_IN_TEXT.sub(lambda match: _redact_url(match.group(0)), text)


def _redact_url(url: str) -> str:
    scheme, _, rest = url.partition("://")
    end = next((i for i, ch in enumerate(rest) if ch in "/?#"), len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        authority = f"{userinfo}@{host}"
    fragment = ""
    if "#" in tail:
        tail, fragment = tail.split("#", 1)
        fragment = "#" + fragment
    tail = _PARAM.sub(_redact_param, tail)
    return f"{scheme}://{authority}{tail}{fragment}"


def _redact_param(match: re.Match[str]) -> str:
    if match.group("value") and _SECRET_KEY.search(unquote(match.group("key"))):
        return f"{match.group('sep')}{match.group('key')}=***"
    return match.group(0)


# -- network policy ----------------------------------------------------------------------------------
def _networks(values: Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(v) for v in values)


class CameraNetworkPolicy(BaseModel):
    """Which addresses a camera may be at: anything but `deny`, unless it is also in `allow`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deny: tuple[IPvAnyNetwork, ...] = Field(
        default=_networks(DEFAULT_DENY_NETWORKS),
        description="Networks cameras may not be at (link-local, cloud metadata, multicast ...)",
    )
    allow: tuple[IPvAnyNetwork, ...] = Field(
        default=(), description="Networks allowed even inside a denied one (a site's own network)"
    )

    def refusal(self, address: IPAddress) -> str | None:
        """Why `address` is refused, or None when a camera may be there."""
        candidates: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            candidates.append(address.ipv4_mapped)  # ::ffff:169.254.169.254 is 169.254.169.254
        for candidate in candidates:
            if any(candidate in net for net in self.allow if net.version == candidate.version):
                return None
        for candidate in candidates:
            for net in self.deny:
                if net.version == candidate.version and candidate in net:
                    return f"address {address} is in the denied network {net}"
        return None

    def check_literal(self, host: str) -> None:
        """Refuse an IP literal host (also legacy forms such as 2852039166 or 0xa9.254.169.254)."""
        address = ip_literal(host)
        if address is not None:
            reason = self.refusal(address)
            if reason is not None:
                raise CameraAddressDenied(f"camera host {host!r} is not allowed: {reason}")

    def check_resolved(self, host: str) -> None:
        """Resolve `host` and refuse it if any of its addresses is denied (checked before connecting).

        A name that does not resolve passes: the connection itself then fails with a clearer reason.
        """
        if ip_literal(host) is not None:
            self.check_literal(host)
            return
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            reason = self.refusal(address)
            if reason is not None:
                raise CameraAddressDenied(f"camera host {host!r} resolves to a refused address: {reason}")


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any form the C resolver accepts (dotted, decimal, hex, octal)."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host.rstrip(".")))
    except (OSError, ValueError):
        return None


# -- validation --------------------------------------------------------------------------------------
def validate_camera_url(url: str, policy: CameraNetworkPolicy | None = None) -> str:
    """Return `url` (scheme lower-cased) if it is a usable rtsp:// or rtsps:// camera URL.

    With a `policy`, an IP literal host must also be allowed by it (host names are checked when they
    are resolved, `CameraNetworkPolicy.check_resolved`). Raises InvalidCameraURL with a readable,
    redacted reason otherwise.
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

    host = camera_host(url)
    if policy is not None:
        policy.check_literal(host)
    return scheme.lower() + url[len(scheme) :]


def camera_host(url: str) -> str:
    """The host of a camera URL (brackets of an IPv6 literal removed); InvalidCameraURL if it has none."""
    shown = redact(url)
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:  # port out of range or not a number, bad brackets
        reason = redact(str(exc))
        raise InvalidCameraURL(f"camera URL has an invalid host or port: {shown!r} ({reason})") from None
    if not host:
        raise InvalidCameraURL(f"camera URL has no host: {shown!r}")
    if not _valid_host(host, bracketed="[" in parts.netloc):
        raise InvalidCameraURL(f"camera URL has an invalid host {host!r}: {shown!r}")
    if port == 0:
        raise InvalidCameraURL(f"camera URL has port 0: {shown!r}")
    return host


def _valid_host(host: str, *, bracketed: bool) -> bool:
    if bracketed:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    return _HOSTNAME.fullmatch(host) is not None
