"""GET /api/alerts/stream on a real server via httpx streaming: auth, delivery, site visibility, resume."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.live_app import PASSWORD, USERS, AuditServer, Evidence, encode_evidence


@pytest.fixture(scope="module")
def evidence(videos: Path) -> Evidence:
    return encode_evidence(videos / "ppe-2.mp4", seconds=1.0)


def token_of(server: AuditServer, role: str) -> str:
    response = httpx.post(
        f"{server.base_url}/api/auth/token", data={"username": USERS[role], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


class SseReader:
    """One open SSE stream, read in the test's own thread: the server pushes, httpx buffers until read."""

    def __init__(self, stack: ExitStack, url: str, headers: dict[str, str] | None = None) -> None:
        client = stack.enter_context(httpx.Client(timeout=httpx.Timeout(30.0)))
        response = stack.enter_context(client.stream("GET", url, headers=headers or {}))
        self.status = response.status_code
        self._lines = response.iter_lines()

    def next_alert(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next `event: alert` message's JSON (comments and keepalives skipped)."""
        deadline = time.monotonic() + timeout
        message: dict[str, str] = {}
        for line in self._lines:
            assert time.monotonic() < deadline, "no alert arrived in time"
            if line.startswith(":"):
                continue
            if line:
                name, _, value = line.partition(":")
                message[name] = value.removeprefix(" ")
            elif "event" in message:
                break
            else:
                message = {}  # e.g. the retry: preamble
        assert message.get("event") == "alert", message
        body: dict[str, Any] = json.loads(message["data"])
        assert message["id"] == str(body["id"])
        return body


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("", {}),
        ("?access_token=not-a-jwt", {}),
        ("?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", {}),
        ("", {"Authorization": "Bearer not-a-jwt"}),
    ],
    ids=["missing", "garbage", "forged", "bad-header"],
)
def test_bad_token_is_401(server: AuditServer, query: str, headers: dict[str, str]) -> None:
    response = httpx.get(f"{server.base_url}/api/alerts/stream{query}", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "token" in response.json()["detail"]


def test_deactivated_user_is_401(server: AuditServer) -> None:
    token = token_of(server, "supervisor")
    admin = {"Authorization": f"Bearer {token_of(server, 'admin')}"}
    users = httpx.get(f"{server.base_url}/api/users", headers=admin).json()
    boss = next(u for u in users if u["email"] == USERS["supervisor"])
    httpx.patch(f"{server.base_url}/api/users/{boss['id']}", json={"active": False}, headers=admin)

    response = httpx.get(f"{server.base_url}/api/alerts/stream", params={"access_token": token})
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]


def test_new_alerts_arrive_for_the_right_supervisor_only(server: AuditServer) -> None:
    server.record()  # before the streams open: not pushed (they only carry what is new)
    url = f"{server.base_url}/api/alerts/stream"
    with ExitStack() as stack:
        boss = SseReader(stack, f"{url}?access_token={token_of(server, 'supervisor')}")
        other = SseReader(stack, f"{url}?access_token={token_of(server, 'other_supervisor')}")
        inspector = SseReader(stack, url, {"Authorization": f"Bearer {token_of(server, 'inspector')}"})
        assert (boss.status, other.status, inspector.status) == (200, 200, 200)
        mine = server.record(server.camera_id, kinds=("no_vest", "no_hardhat"))
        theirs = server.record(server.other_camera_id)

        got = boss.next_alert()
        assert (got["event_id"], got["site_id"]) == (mine.id, server.site_id)
        assert got["event"]["kinds"] == ["no_hardhat", "no_vest"]
        assert got["acknowledged_at"] is None
        assert other.next_alert()["event_id"] == theirs.id  # never sees site 1's alert
        assert [inspector.next_alert()["event_id"] for _ in range(2)] == [mine.id, theirs.id]
        later = server.record(server.camera_id)
        assert boss.next_alert()["event_id"] == later.id  # site 2's alert was never queued for boss


def test_reconnect_resumes_after_last_event_id(server: AuditServer) -> None:
    first, second = server.record(), server.record()
    token = token_of(server, "supervisor")
    alerts = httpx.get(f"{server.base_url}/api/alerts", headers={"Authorization": f"Bearer {token}"}).json()
    seen = next(a["id"] for a in alerts if a["event_id"] == first.id)
    with ExitStack() as stack:
        url = f"{server.base_url}/api/alerts/stream?access_token={token}"
        reader = SseReader(stack, url, {"Last-Event-ID": str(seen)})
        assert reader.next_alert()["event_id"] == second.id
