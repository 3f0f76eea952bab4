"""POST /api/events/review: one verdict for a selection of events, all or none, inspectors only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from audit_api import audit_log
from audit_api.models import AuditLog, Event, Review
from audit_api.schemas.bounds import MAX_BULK_REVIEW
from tests.api.conftest import World

MakeEvent = Callable[..., Event]
Headers = dict[str, str]


def _state(world: World) -> tuple[dict[int, str], int, int]:
    with world.sessions() as session:
        statuses = {e.id: e.status.value for e in session.scalars(select(Event))}
        return (
            statuses,
            len(session.scalars(select(Review)).all()),
            len(session.scalars(select(AuditLog)).all()),
        )


def test_bulk_false_positive_reviews_every_event_once(
    world: World, make_event: MakeEvent, inspector: Headers
) -> None:
    events = [make_event() for _ in range(4)]
    ids = [events[0].id, events[2].id, events[3].id]
    body = {"event_ids": [*ids, ids[0]], "verdict": "false_positive", "comment": "reflective jackets"}
    response = world.post("/api/events/review", inspector, body)
    assert response.status_code == 201, response.text
    assert [r["event_id"] for r in response.json()] == ids
    statuses, reviews, _ = _state(world)
    assert statuses == {e.id: "false_positive" if e.id in ids else "open" for e in events}
    assert reviews == 3
    with world.sessions() as session:
        assert audit_log.verify(session)
        entries = session.scalars(select(AuditLog).where(AuditLog.action == "event.reviewed")).all()
        assert sorted(e.entity for e in entries) == sorted(f"event:{i}" for i in ids)


def _signed_off(world: World, make_event: MakeEvent, inspector: Headers) -> int:
    event = make_event()
    assert (
        world.post(f"/api/events/{event.id}/review", inspector, {"verdict": "confirmed"}).status_code == 201
    )
    assert world.post(f"/api/events/{event.id}/signoff", inspector).status_code == 201
    return event.id


@pytest.mark.parametrize(
    ("case", "status", "detail"),
    [
        ("unknown", 404, "event 999999 not found"),
        ("signed_off", 409, "signed off"),
        ("empty", 422, "event_ids"),
        ("too_many", 422, "event_ids"),
        ("bad_verdict", 422, "verdict"),
    ],
)
def test_bad_bulk_review_writes_nothing(
    world: World, make_event: MakeEvent, inspector: Headers, case: str, status: int, detail: str
) -> None:
    fresh = make_event().id
    extra = {"unknown": [999999], "empty": [], "too_many": list(range(1, MAX_BULK_REVIEW + 2))}
    ids: list[int] = [] if case in ("empty", "too_many") else [fresh]
    if case == "signed_off":
        ids.append(_signed_off(world, make_event, inspector))
    body: dict[str, Any] = {"event_ids": ids + extra.get(case, []), "verdict": "false_positive"}
    if case == "bad_verdict":
        body["verdict"] = "maybe"
    before = _state(world)
    response = world.post("/api/events/review", inspector, body)
    assert response.status_code == status, response.text
    assert detail in str(response.json()["detail"])
    assert _state(world) == before


def test_only_inspectors_bulk_review_and_other_sites_look_unknown(
    world: World, make_event: MakeEvent, supervisor: Headers, admin: Headers, inspector: Headers
) -> None:
    event = make_event()
    body = {"event_ids": [event.id], "verdict": "false_positive"}
    for headers in (supervisor, admin):
        assert world.post("/api/events/review", headers, body).status_code == 403
    assert _state(world)[1] == 0
