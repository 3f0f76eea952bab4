"""The audit chain verifies when untouched and names the first row that was edited, removed or forged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Executable, Update, delete, update
from sqlalchemy.orm import Session, sessionmaker

from audit_api import audit_log
from audit_api.db import make_engine, make_sessionmaker
from audit_api.models import AuditLog


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _write_chain(sessions: sessionmaker[Session], n: int = 5) -> None:
    with sessions() as session:
        for i in range(n):
            payload = {"i": i, "when": datetime(2025, 1, 1, tzinfo=UTC), "ratio": 0.1 * i, "name": "Zoë"}
            audit_log.append(session, f"user:{i}", "thing.done", f"thing:{i}", payload)
        session.commit()


def test_intact_chain_verifies(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        assert audit_log.verify(session) and audit_log.verify(session).checked == 0
    _write_chain(sessions)
    with sessions() as session:
        check = audit_log.verify(session)
        first = session.get(AuditLog, 1)
        assert first is not None and first.prev_hash == audit_log.GENESIS_HASH
        assert first.payload["when"] == "2025-01-01T00:00:00+00:00"
    assert check and check.checked == 5 and check.first_bad_seq is None


def _row(seq: int) -> Update:
    return update(AuditLog).where(AuditLog.seq == seq)


@pytest.mark.parametrize(
    ("statement", "first_bad", "reason"),
    [
        (_row(3).values(payload={"i": 99}), 3, "the entry was edited"),
        (_row(2).values(actor="user:0"), 2, "the entry was edited"),
        (_row(1).values(at=datetime(2020, 1, 1, tzinfo=UTC)), 1, "the entry was edited"),
        (_row(5).values(hash="f" * 64), 5, "the entry was edited"),
        (delete(AuditLog).where(AuditLog.seq == 4), 4, "entry 4 is missing (the next entry is 5)"),
        (_row(3).values(prev_hash="0" * 64), 3, "prev_hash does not match the hash of entry 2"),
    ],
    ids=["payload-edited", "actor-edited", "time-moved", "hash-overwritten", "row-deleted", "relinked"],
)
def test_tampering_is_detected(
    sessions: sessionmaker[Session], statement: Executable, first_bad: int, reason: str
) -> None:
    _write_chain(sessions)
    with sessions() as session:
        session.execute(statement)
        session.commit()
    with sessions() as session:
        check = audit_log.verify(session)
    assert not check and check.first_bad_seq == first_bad and check.checked == first_bad - 1
    assert check.reason is not None and reason in check.reason


def test_appends_continue_the_chain_across_sessions(sessions: sessionmaker[Session]) -> None:
    _write_chain(sessions, 2)
    _write_chain(sessions, 2)
    with sessions() as session:
        rows = session.query(AuditLog).order_by(AuditLog.seq).all()
        assert [r.seq for r in rows] == [1, 2, 3, 4]
        assert rows[2].prev_hash == rows[1].hash
        assert audit_log.verify(session)


def test_unserialisable_payload_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(TypeError, match="not JSON-serialisable"):
        audit_log.append(session, "x", "y", "z", {"bad": object()})
