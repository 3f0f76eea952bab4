"""Append-only audit log whose rows are chained by SHA-256, so any edit or deletion is detectable.

hash(n) = sha256(prev_hash + canonical_json({seq, at, actor, action, entity, payload})); the first prev_hash
is 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from audit_api.models import AuditLog, utcnow

GENESIS_HASH = "0" * 64
_PG_LOCK_KEY = 0x5A_A0D1  # advisory lock id that serialises appends across API replicas and workers


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"audit payload value {value!r} is not JSON-serialisable")


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def _row_hash(row: AuditLog) -> str:
    body = canonical_json(
        {
            "seq": row.seq,
            "at": row.at.isoformat(),
            "actor": row.actor,
            "action": row.action,
            "entity": row.entity,
            "payload": row.payload,
        }
    )
    return hashlib.sha256((row.prev_hash + body).encode()).hexdigest()


def append(session: Session, actor: str, action: str, entity: str, payload: dict[str, Any]) -> AuditLog:
    """Add the next chained row to the session (flushed, committed with the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    last = session.scalars(select(AuditLog).order_by(AuditLog.seq.desc()).limit(1)).first()
    seq = 1 if last is None else last.seq + 1
    prev_hash = GENESIS_HASH if last is None else last.hash
    normalised = json.loads(canonical_json(payload))  # store exactly what was hashed
    row = AuditLog(
        seq=seq,
        at=utcnow(),
        actor=actor,
        action=action,
        entity=entity,
        payload=normalised,
        prev_hash=prev_hash,
    )
    row.hash = _row_hash(row)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class ChainCheck:
    """Result of verify(): truthy when the whole chain is intact."""

    checked: int
    first_bad_seq: int | None
    reason: str | None = None
    """What mismatched at first_bad_seq, in words."""

    def __bool__(self) -> bool:
        return self.first_bad_seq is None


def verify(session: Session) -> ChainCheck:
    """Recompute every hash in order; report the first row that was altered, removed or reordered."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for row in session.scalars(select(AuditLog).order_by(AuditLog.seq)):
        reason = _mismatch(row, expected_seq, prev_hash)
        if reason is not None:
            return ChainCheck(checked=checked, first_bad_seq=expected_seq, reason=reason)
        prev_hash, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    return ChainCheck(checked=checked, first_bad_seq=None)


def _mismatch(row: AuditLog, expected_seq: int, prev_hash: str) -> str | None:
    if row.seq != expected_seq:
        return f"entry {expected_seq} is missing (the next entry is {row.seq})"
    if row.prev_hash != prev_hash:
        return f"its prev_hash does not match the hash of entry {expected_seq - 1} (removed or reordered)"
    if row.hash != _row_hash(row):
        return "its content does not match its hash (the entry was edited)"
    return None
