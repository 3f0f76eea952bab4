"""The inspector and supervisor workflow end to end, evidence serving, and the guards around it."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from audit_api import audit_log
from audit_api.models import AuditLog, Event
from audit_api.storage import LocalStore
from tests.api.conftest import CLIP_BYTES, World
from tests.fixtures.photos import small_png

MakeEvent = Callable[..., Event]
Headers = dict[str, str]


def respond(world: World, action_id: int, headers: Headers, note: str) -> Any:
    files = [("photos", ("done.png", small_png(), "image/png"))]
    return world.client.post(
        f"/api/actions/{action_id}/respond", data={"note": note}, files=files, headers=headers
    )


def test_full_inspector_flow(
    world: World, make_event: MakeEvent, inspector: Headers, supervisor: Headers, admin: Headers
) -> None:
    event = make_event(("no_hardhat", "no_vest"))
    clip_sha = hashlib.sha256(CLIP_BYTES + bytes([1])).hexdigest()
    page = world.client.get("/api/events", params={"status": "open"}, headers=inspector).json()
    assert page["total"] == 1 and page["items"][0]["kinds"] == ["no_hardhat", "no_vest"]

    not_yet = world.post(f"/api/events/{event.id}/signoff", inspector)
    assert not_yet.status_code == 409 and "reviewed before sign-off" in not_yet.json()["detail"]
    events = f"/api/events/{event.id}"
    review = world.post(f"{events}/review", inspector, {"verdict": "confirmed", "comment": "no helmet"})
    assert review.status_code == 201 and review.json()["verdict"] == "confirmed"
    signoff = world.post(f"{events}/signoff", inspector, {"action_description": "Brief crew on helmets"})
    assert signoff.status_code == 201, signoff.text
    assert signoff.json()["clip_sha256"] == clip_sha

    detail = world.client.get(f"/api/events/{event.id}", headers=inspector).json()
    assert detail["status"] == "signed_off" and detail["verdict"] == "confirmed"
    assert detail["signoff"]["inspector_id"] == detail["reviews"][0]["inspector_id"]
    assert {c["kind"]: c["sha256"] for c in detail["clips"]}["clip"] == clip_sha
    (action,) = detail["actions"]
    assert action["status"] == "open" and action["description"] == "Brief crew on helmets"
    again = world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "false_positive"})
    assert again.status_code == 409

    assert world.post(f"/api/actions/{action['id']}/verify", inspector, {}).status_code == 409
    answered = respond(world, action["id"], supervisor, "Toolbox talk held")
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    reopened = world.post(f"/api/actions/{action['id']}/reopen", inspector, {"note": "photo?"})
    assert reopened.json()["status"] == "reopened"
    assert respond(world, action["id"], supervisor, "Photo attached").status_code == 200
    verified = world.post(f"/api/actions/{action['id']}/verify", inspector, {"note": "ok"})
    assert verified.json()["status"] == "verified" and verified.json()["verified_at"] is not None

    with world.sessions() as session:
        check = audit_log.verify(session)
        actions = [row.action for row in session.scalars(select(AuditLog).order_by(AuditLog.seq))]
    assert check and check.checked == len(actions)
    assert actions == [
        "event.recorded",
        "event.reviewed",
        "action.opened",
        "event.signed_off",
        "action.responded",
        "action.reopened",
        "action.responded",
        "action.verified",
    ]
    assert world.client.get("/api/audit/verify", headers=admin).json() == {
        "valid": True,
        "checked": len(actions),
        "first_bad_seq": None,
        "reason": None,
    }
    entries = world.client.get("/api/audit", params={"entity": f"event:{event.id}"}, headers=admin).json()
    assert [e["action"] for e in entries] == ["event.recorded", "event.reviewed", "event.signed_off"]


def test_false_positive_opens_no_action(world: World, make_event: MakeEvent, inspector: Headers) -> None:
    event = make_event()
    world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "false_positive"})
    world.post(f"/api/events/{event.id}/signoff", inspector)
    detail = world.client.get(f"/api/events/{event.id}", headers=inspector).json()
    assert detail["verdict"] == "false_positive" and detail["actions"] == []
    assert world.post(f"/api/events/{event.id}/signoff", inspector).status_code == 409


def test_supervisor_alerts(
    world: World, make_event: MakeEvent, supervisor: Headers, other_supervisor: Headers, inspector: Headers
) -> None:
    event = make_event()
    (alert,) = world.client.get("/api/alerts", headers=supervisor).json()
    assert alert["event"]["id"] == event.id and alert["acknowledged_at"] is None
    assert world.client.get("/api/alerts", headers=other_supervisor).json() == []
    assert world.post(f"/api/alerts/{alert['id']}/ack", other_supervisor).status_code == 404  # not 403
    acked = world.post(f"/api/alerts/{alert['id']}/ack", supervisor)
    assert acked.status_code == 200 and acked.json()["acknowledged_by_id"] is not None
    assert world.post(f"/api/alerts/{alert['id']}/ack", supervisor).status_code == 409
    assert world.client.get("/api/alerts", params={"unacknowledged": True}, headers=supervisor).json() == []
    assert len(world.client.get("/api/alerts", headers=inspector).json()) == 1


def test_supervisors_see_only_their_sites(
    world: World, make_event: MakeEvent, supervisor: Headers, other_supervisor: Headers, inspector: Headers
) -> None:
    event = make_event()
    assert world.client.get("/api/events", headers=supervisor).json()["total"] == 1
    assert world.client.get("/api/events", headers=other_supervisor).json()["total"] == 0
    assert world.client.get(f"/api/events/{event.id}", headers=other_supervisor).status_code == 404
    assert world.client.get(f"/api/events/{event.id}/clip", headers=other_supervisor).status_code == 404
    world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "confirmed"})
    world.post(f"/api/events/{event.id}/signoff", inspector)
    (action,) = world.client.get("/api/actions", headers=supervisor).json()
    assert world.client.get("/api/actions", headers=other_supervisor).json() == []
    denied = respond(world, action["id"], other_supervisor, "x")
    assert denied.status_code == 404, denied.text  # like an unknown id: ids of other sites cannot be probed
    assert denied.json() == {"detail": f"corrective action {action['id']} not found"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [3, 2, 1]),
        ({"kind": "no_vest"}, [2]),
        ({"kind": "crowding"}, []),
        ({"status": "confirmed"}, [1]),
        ({"since": "2025-03-04T09:32:00+00:00"}, [3, 2]),
        ({"limit": 1, "offset": 1}, [2]),
        ({"site_id": 2}, []),
    ],
)
def test_event_filters(
    world: World, make_event: MakeEvent, inspector: Headers, params: dict[str, object], expected: list[int]
) -> None:
    for kinds in (("no_hardhat",), ("no_hardhat", "no_vest"), ("no_mask",)):
        make_event(kinds)
    world.post("/api/events/1/review", inspector, {"verdict": "confirmed"})
    page = world.client.get("/api/events", params=params, headers=inspector).json()
    assert [e["id"] for e in page["items"]] == expected
    assert page["total"] == (len(expected) if "limit" not in params else 3)


@pytest.mark.parametrize(
    "params",
    [{"status": "closed"}, {"limit": 0}, {"limit": 501}, {"offset": -1}, {"since": "2025-03-04T09:32"}],
)
def test_bad_event_filters_are_422(world: World, inspector: Headers, params: dict[str, object]) -> None:
    assert world.client.get("/api/events", params=params, headers=inspector).status_code == 422


@pytest.mark.parametrize(
    ("range_header", "status", "body"),
    [
        (None, 200, CLIP_BYTES + b"\x01"),
        ("bytes=0-9", 206, CLIP_BYTES[:10]),
        ("bytes=10240-", 206, b"\x01"),
        ("bytes=-2", 206, CLIP_BYTES[-1:] + b"\x01"),
        ("bytes=100-99999", 206, (CLIP_BYTES + b"\x01")[100:]),
        ("bytes=99999-", 416, None),
        ("pages=1-2", 416, None),
    ],
)
def test_clip_download_and_ranges(
    world: World,
    make_event: MakeEvent,
    inspector: Headers,
    range_header: str | None,
    status: int,
    body: bytes | None,
) -> None:
    event = make_event()
    headers = inspector | ({"Range": range_header} if range_header else {})
    response = world.client.get(f"/api/events/{event.id}/clip", headers=headers)
    assert response.status_code == status, response.text
    if body is not None:
        assert response.content == body
        assert response.headers["content-type"] == "video/mp4"
        assert response.headers["accept-ranges"] == "bytes"
    if status == 206:
        assert response.headers["content-range"].endswith(f"/{len(CLIP_BYTES) + 1}")


def test_snapshot(world: World, make_event: MakeEvent, supervisor: Headers) -> None:
    event = make_event()
    response = world.client.get(f"/api/events/{event.id}/snapshot", headers=supervisor)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8")


def test_tampered_evidence_is_refused(world: World, make_event: MakeEvent, inspector: Headers) -> None:
    event = make_event()
    assert isinstance(world.store, LocalStore)
    path = Path(world.store.root) / "events/1/clip.mp4"
    path.chmod(0o644)
    path.write_bytes(b"edited" + path.read_bytes()[6:])
    download = world.client.get(f"/api/events/{event.id}/clip", headers=inspector)
    assert download.status_code == 409 and "integrity" in download.json()["detail"]
    world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "confirmed"})
    signoff = world.post(f"/api/events/{event.id}/signoff", inspector)
    assert signoff.status_code == 409 and "integrity" in signoff.json()["detail"]
    assert world.client.get(f"/api/events/{event.id}", headers=inspector).json()["signoff"] is None


def test_missing_evidence_is_404(world: World, make_event: MakeEvent, inspector: Headers) -> None:
    event = make_event()
    assert isinstance(world.store, LocalStore)
    (Path(world.store.root) / "events/1/snapshot.jpg").unlink()
    response = world.client.get(f"/api/events/{event.id}/snapshot", headers=inspector)
    assert response.status_code == 404 and "missing" in response.json()["detail"]


def test_request_body_limit_is_413(world: World, admin: Headers) -> None:
    big = {"name": "x" * (65 * 1024)}
    assert world.client.post("/api/sites", json=big, headers=admin).status_code == 413

    def chunks() -> object:
        yield b'{"name": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    chunked = world.client.post(
        "/api/sites",
        content=chunks(),
        headers=admin | {"Content-Type": "application/json"},  # type: ignore[arg-type]
    )
    assert chunked.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        {"verdict": "maybe"},
        {"verdict": "confirmed", "comment": "x" * 5001},
        {"verdict": "confirmed", "extra": 1},
    ],
)
def test_bad_review_is_422(
    world: World, make_event: MakeEvent, inspector: Headers, body: dict[str, Any]
) -> None:
    event = make_event()
    assert world.post(f"/api/events/{event.id}/review", inspector, body).status_code == 422


def test_health(world: World) -> None:
    assert world.client.get("/api/health").json() == {
        "status": "ok",
        "database": "ok",
        "storage": "ok",
        "spooled_objects": 0,
    }
