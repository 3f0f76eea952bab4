"""ICE servers (STUN/TURN) for WHIP publishers and for aiortc, from the settings.

`SITEAUDIT_ICE_SERVERS` is a JSON list of `{"urls": ..., "username": ..., "credential": ...}` (the
browser's RTCIceServer shape). A `turn:`/`turns:` entry without a username gets time-limited credentials
from `SITEAUDIT_TURN_SECRET` — the TURN REST scheme coturn implements with `--use-auth-secret
--static-auth-secret=<secret>`: username `<expiry unix time>:<label>`, credential
base64(HMAC-SHA1(secret, username)). Nothing long-lived reaches a phone.

Publishers receive the servers as RFC 9725 §4.6 `Link: <url>; rel="ice-server"` headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

if TYPE_CHECKING:
    from aiortc import RTCIceServer

    from audit_api.settings import Settings

# RFC 7064 (stun:, stuns:) and RFC 7065 (turn:, turns:, ?transport=udp|tcp for TURN only).
_ICE_URL = re.compile(
    r"(?P<scheme>stuns?|turns?):(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>\d{1,5}))?"
    r"(?:\?transport=(?P<transport>udp|tcp))?"
)
DEFAULT_TURN_TTL_S = 24 * 3600


def _listify(value: object) -> object:
    return [value] if isinstance(value, str) else value


class IceServer(BaseModel):
    """One RTCIceServer: its URLs and, for TURN, the credentials (filled in from the secret if absent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: Annotated[list[str], BeforeValidator(_listify)] = Field(
        min_length=1, max_length=8, description="stun:, stuns:, turn: or turns: URLs (RFC 7064/7065)."
    )
    username: str | None = Field(None, min_length=1, max_length=256, description="Static TURN username.")
    credential: str | None = Field(None, min_length=1, max_length=256, description="Static TURN password.")

    @field_validator("urls")
    @classmethod
    def _valid_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            match = _ICE_URL.fullmatch(url)
            if match is None:
                raise ValueError(
                    f"{url!r} is not a STUN/TURN URL (e.g. 'stun:stun.example.org:3478' or "
                    "'turn:turn.example.org:3478?transport=udp')"
                )
            if match["transport"] and not match["scheme"].startswith("turn"):
                raise ValueError(f"{url!r}: ?transport= only applies to turn: and turns: URLs")
            if match["port"] and not 1 <= int(match["port"]) <= 65535:
                raise ValueError(f"{url!r}: port out of range")
        return urls

    @model_validator(mode="after")
    def _credentials_in_pairs(self) -> IceServer:
        if (self.username is None) != (self.credential is None):
            raise ValueError("username and credential go together (omit both to use SITEAUDIT_TURN_SECRET)")
        return self

    @property
    def is_turn(self) -> bool:
        return any(url.startswith("turn") for url in self.urls)

    @property
    def needs_secret(self) -> bool:
        """A TURN entry without static credentials: they are derived from the shared secret."""
        return self.is_turn and self.username is None


def check_ice_config(servers: Sequence[IceServer], turn_secret: str | None) -> None:
    """ValueError when a TURN entry has no credentials and no secret to derive them from."""
    if turn_secret is None and any(s.needs_secret for s in servers):
        raise ValueError(
            "SITEAUDIT_ICE_SERVERS has a TURN server without username/credential: set SITEAUDIT_TURN_SECRET "
            "(coturn's --static-auth-secret) or give the entry static credentials"
        )


def turn_credentials(secret: str, label: str, ttl_s: int, now: float | None = None) -> tuple[str, str]:
    """TURN REST credentials valid for `ttl_s` seconds: (`<expiry>:<label>`, base64 HMAC-SHA1)."""
    expiry = int((time.time() if now is None else now) + ttl_s)
    username = f"{expiry}:{label}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def resolve(servers: Sequence[IceServer], turn_secret: str | None, ttl_s: int, label: str) -> list[IceServer]:
    """The servers with fresh time-limited credentials on every TURN entry that has none."""
    resolved: list[IceServer] = []
    for server in servers:
        if server.needs_secret:
            assert turn_secret is not None  # check_ice_config ran when the settings loaded
            username, credential = turn_credentials(turn_secret, label, ttl_s)
            server = server.model_copy(update={"username": username, "credential": credential})
        resolved.append(server)
    return resolved


def servers_for(settings: Settings, label: str) -> list[IceServer]:
    """The configured servers, TURN credentials freshly derived for `label` (e.g. `camera-12`)."""
    secret = settings.turn_secret.get_secret_value() if settings.turn_secret else None
    return resolve(settings.ice_servers, secret, settings.turn_ttl_s, label)


def for_aiortc(settings: Settings) -> list[RTCIceServer]:
    """What aiortc uses for each WHIP publication (its own TURN allocation, when TURN is configured)."""
    return aiortc_servers(servers_for(settings, "worker"))


def link_headers(servers: Sequence[IceServer]) -> list[str]:
    """RFC 9725 §4.6 Link header values, one per URL."""
    values = []
    for server in servers:
        for url in server.urls:
            value = f'<{url}>; rel="ice-server"'
            if server.username is not None and server.credential is not None:
                value += (
                    f'; username="{_quote(server.username)}"; credential="{_quote(server.credential)}"'
                    '; credential-type="password"'
                )
            values.append(value)
    return values


def aiortc_servers(servers: Sequence[IceServer]) -> list[RTCIceServer]:
    """The same servers for aiortc (which uses the first STUN and the first udp/tcp TURN URL)."""
    from aiortc import RTCIceServer  # here: the settings (which import this module) stay light

    return [RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential) for s in servers]


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
