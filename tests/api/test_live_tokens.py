"""Live-view tokens and viewer slots: a token opens one camera's stream only, for a short time, and is never
an access token; slots refuse one viewer too many with a readable message and come back when released."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import jwt
import pytest

from audit_api.auth import ALGORITHM, AccessClaims, InvalidToken, create_access_token, decode_access_token
from audit_api.models import utcnow
from audit_api.services.live import (
    InvalidLiveToken,
    TooManyViewers,
    ViewerSlots,
    create_live_token,
    decode_live_token,
)
from audit_api.settings import Settings

SETTINGS = Settings(secret_key="k" * 40, live_token_seconds=60)
OTHER_KEY = Settings(secret_key="o" * 40)


def _forged(**claims: object) -> str:
    base = {"typ": "live", "uid": 7, "cam": 3, "exp": utcnow() + timedelta(minutes=1)}
    return jwt.encode(base | claims, SETTINGS.secret_key.get_secret_value(), algorithm=ALGORITHM)


def test_a_live_token_opens_its_camera() -> None:
    token, expires = create_live_token(7, 3, SETTINGS)
    assert decode_live_token(token, 3, SETTINGS) == 7
    assert timedelta(seconds=50) < expires - utcnow() <= timedelta(seconds=60)


@pytest.mark.parametrize(
    ("token", "camera"),
    [
        pytest.param(lambda: create_live_token(7, 3, SETTINGS)[0], 4, id="another camera"),
        pytest.param(lambda: create_live_token(7, 3, OTHER_KEY)[0], 3, id="another key"),
        pytest.param(lambda: _forged(exp=utcnow() - timedelta(seconds=1)), 3, id="expired"),
        pytest.param(lambda: _forged(typ="access"), 3, id="wrong type"),
        pytest.param(lambda: _forged(uid="7"), 3, id="uid not an int"),
        pytest.param(lambda: create_access_token(AccessClaims(7, 1, 0), SETTINGS), 3, id="an access token"),
        pytest.param(lambda: "not-a-jwt", 3, id="garbage"),
    ],
)
def test_other_tokens_do_not_open_a_stream(token: Callable[[], str], camera: int) -> None:
    with pytest.raises(InvalidLiveToken):
        decode_live_token(token(), camera, SETTINGS)


def test_a_live_token_is_not_an_access_token() -> None:
    token, _ = create_live_token(7, 3, SETTINGS)
    with pytest.raises(InvalidToken):
        decode_access_token(token, SETTINGS)


def test_viewer_slots_are_bounded_per_camera() -> None:
    slots = ViewerSlots()
    for _ in range(2):
        slots.acquire(1, limit=2)
    slots.acquire(2, limit=2)  # another camera has its own slots
    with pytest.raises(TooManyViewers, match="already has 2 live viewers \\(the limit is 2\\)"):
        slots.acquire(1, limit=2)
    assert TooManyViewers.status_code == 429
    slots.release(1)
    slots.acquire(1, limit=2)
    assert (slots.count(1), slots.count(2)) == (2, 1)
    for _ in range(3):
        slots.release(1)
    assert slots.count(1) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("live_max_viewers", 0), ("live_max_viewers", 101), ("live_max_fps", 0.1), ("live_max_fps", 11),
     ("live_token_seconds", 5), ("live_stall_timeout_s", 0), ("live_max_session_s", 1)],
)  # fmt: skip
def test_live_settings_are_bounded(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        Settings(secret_key="k" * 40, **{field: value})
