"""record_event stores an event with evidence, violations, alert and audit row at once, or nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit_api import audit_log
from audit_api.db import make_engine, make_sessionmaker
from audit_api.models import Alert, Camera, CameraKind, Clip, Event, EventViolation, Site
from audit_api.services.errors import Conflict, Invalid, NotFound
from audit_api.services.events import record_event
from audit_api.storage import StoredObject

T0 = datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
CLIP = StoredObject("events/a/clip.mp4", "a" * 64, 1000, "video/mp4")
SNAPSHOT = StoredObject("events/a/snapshot.jpg", "b" * 64, 100, "image/jpeg")


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        site = Site(name="yard")
        site.cameras.append(Camera(name="gate", kind=CameraKind.WHIP))
        session.add(site)
        session.commit()
        yield session
    engine.dispose()


def _arguments(**overrides: Any) -> dict[str, Any]:
    violation = {"kind": "no_vest", "track_id": 4, "ts": T0, "box": [0.1, 0.1, 0.2, 0.4], "confidence": 0.7}
    return {
        "camera_id": 1,
        "kinds": ["no_vest"],
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=9),
        "violations": [violation, violation | {"track_id": 5, "confidence": 0.9}],
        "snapshot": SNAPSHOT,
        "clip": CLIP,
        "clip_duration_s": 9.0,
        "model_version": "m1",
        "rule_snapshot": {"k": 3, "n": 5},
    } | overrides


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_records_everything_in_one_go(session: Session) -> None:
    event = record_event(session, **_arguments())
    session.expire_all()
    stored = session.get(Event, event.id)
    assert stored is not None
    assert stored.started_at == T0 and stored.started_at.tzinfo is not None
    assert stored.best_confidence == 0.9 and stored.kinds == ["no_vest"]
    assert stored.rule_version.startswith("sha256:")
    assert {c.kind.value: c.sha256 for c in stored.clips} == {"clip": "a" * 64, "snapshot": "b" * 64}
    assert [v.track_id for v in stored.violations] == [4, 5]
    assert _count(session, Alert) == 1
    assert audit_log.verify(session).checked == 1


def test_rule_version_label_is_used_when_given(session: Session) -> None:
    event = record_event(session, **_arguments(rule_snapshot={"rule_version": 7}))
    assert event.rule_version == "7"


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"camera_id": 99}, NotFound, "camera 99"),
        ({"kinds": []}, Invalid, "at least one kind"),
        ({"ended_at": T0 - timedelta(seconds=1)}, Invalid, "before it starts"),
        ({"started_at": T0.replace(tzinfo=None)}, Invalid, "timezone-aware"),
        ({"kinds": ["no_vest", "crowding"]}, Invalid, "without any violation"),
        ({"violations": [{"kind": "no_vest", "ts": T0, "confidence": 1.5}]}, Invalid, "confidence"),
        ({"violations": [{"kind": "no_vest", "ts": T0.replace(tzinfo=None)}]}, Invalid, "ts"),
        ({"violations": [{"kind": "no_vest", "ts": T0, "colour": "red"}]}, Invalid, "colour"),
    ],
)
def test_bad_input_writes_nothing(
    session: Session, overrides: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        record_event(session, **_arguments(**overrides))
    for model in (Event, Clip, EventViolation, Alert):
        assert _count(session, model) == 0


def test_duplicate_evidence_key_rolls_back(session: Session) -> None:
    record_event(session, **_arguments())
    with pytest.raises(Conflict, match="already belongs to another event"):
        record_event(session, **_arguments())
    assert _count(session, Event) == 1 and _count(session, Alert) == 1
    assert audit_log.verify(session).checked == 1
