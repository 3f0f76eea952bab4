"""From raw per-frame violations to review items: k-of-n debounce, once per subject, cooldown, time spans.

A *subject* is what a violation is about (`Violation.subject`): a track and PPE kind, a zone's occupancy,
or a pair of tracks. A subject *fires* when it was seen in at least k of the last n analysed frames; it
then stays latched (no second firing) while it keeps satisfying k-of-n, and may fire again only after
`cooldown_s` (a subject back within its cooldown is latched silently: it keeps an open item alive).
Fired violations are bundled per camera into one open `ReviewItem` (the unit an inspector reviews): a
firing within `event_gap_s` of the open item's last violation joins it; the item closes after `event_gap_s`
without any latched subject being seen, or when it reaches `max_event_s` (then subjects still violating
fire again into a fresh item, so a long incident is cut into reviewable pieces).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import supervision as sv

from detect.analyzer import FrameAnalysis, Violation
from detect.rules_config import CameraRules

Subject = tuple[str, int | None, str | None, int | None]


@dataclass(frozen=True)
class Snapshot:
    """The evidence frame: a private copy of the image (None if the caller gave none) and what was on it."""

    image: npt.NDArray[np.uint8] | None
    detections: sv.Detections
    violations: list[Violation]
    ts: float
    confidence: float


@dataclass
class ReviewItem:
    """One reviewable time span of one camera and the debounced violations inside it."""

    camera_id: str
    started_at: float
    last_violation_at: float
    rule_snapshot: dict[str, Any]
    rule_version: int
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    ended_at: float | None = None
    violations: list[Violation] = field(default_factory=list)
    best_snapshot: Snapshot | None = None

    @property
    def kinds(self) -> list[str]:
        return sorted({v.kind for v in self.violations})

    @property
    def tracks(self) -> list[int]:
        return sorted({t for v in self.violations for t in v.track_ids})

    @property
    def is_open(self) -> bool:
        return self.ended_at is None

    def copy(self) -> ReviewItem:
        """A shallow copy safe to hand to another thread (the builder keeps mutating its own)."""
        return dataclasses.replace(self, violations=list(self.violations))


@dataclass(frozen=True, slots=True)
class EventUpdate:
    type: Literal["opened", "updated", "closed"]
    event: ReviewItem


class Debouncer:
    """k-of-n over analysed frames, per subject."""

    def __init__(self, k: int, n: int):
        if not 1 <= k <= n:
            raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
        self.k, self.n = k, n
        self._windows: dict[Subject, deque[bool]] = {}

    def update(self, present: set[Subject]) -> set[Subject]:
        """Record one frame; returns the subjects seen in at least k of the last n frames."""
        for subject in present:
            self._windows.setdefault(subject, deque(maxlen=self.n))
        satisfied = set()
        for subject, window in list(self._windows.items()):
            window.append(subject in present)
            if not any(window):
                del self._windows[subject]
            elif sum(window) >= self.k:
                satisfied.add(subject)
        return satisfied

    def reset(self) -> None:
        self._windows.clear()


class EventBuilder:
    """Per-camera event state machine; feed it every `FrameAnalysis` in time order."""

    def __init__(self, camera_id: str, rules: CameraRules):
        self.camera_id = camera_id
        self.rules = rules
        self._config = rules.rules
        self._debouncer = Debouncer(self._config.k, self._config.n)
        self._fired_at: dict[Subject, float] = {}
        self._latched: set[Subject] = set()
        self._open: ReviewItem | None = None

    @property
    def open_event(self) -> ReviewItem | None:
        return self._open

    def update(
        self, analysis: FrameAnalysis, image: npt.NDArray[np.uint8] | None = None
    ) -> list[EventUpdate]:
        """Advance by one analysed frame; `image` (BGR) is copied only if it becomes the best snapshot."""
        ts = analysis.ts
        updates = self._close_if_due(ts)
        raw = {v.subject: v for v in sorted(analysis.violations, key=lambda v: v.confidence)}
        satisfied = self._debouncer.update(set(raw))
        self._latched &= satisfied

        fired = []
        for subject in sorted(satisfied & set(raw), key=str):
            if subject in self._latched:
                continue
            self._latched.add(subject)
            if ts - self._fired_at.get(subject, -np.inf) < self._config.cooldown_s:
                continue  # back within its cooldown: keeps an open event alive but is not reported again
            self._fired_at[subject] = ts
            fired.append(raw[subject])

        seen = [raw[s] for s in self._latched if s in raw]
        if fired and self._open is None:
            self._open = ReviewItem(
                camera_id=self.camera_id,
                started_at=ts,
                last_violation_at=ts,
                rule_snapshot=self.rules.model_dump(mode="json"),
                rule_version=self._config.version,
            )
            updates.append(EventUpdate("opened", self._open))
        elif fired and self._open is not None:
            updates.append(EventUpdate("updated", self._open))
        if self._open is not None and seen:
            self._open.violations.extend(fired)
            self._open.last_violation_at = ts
            self._keep_best(self._open, analysis, seen, image)
        return [EventUpdate(u.type, u.event.copy()) for u in updates]

    def flush(self, ts: float) -> list[EventUpdate]:
        """End of stream: close whatever is open and forget all debounce state."""
        updates = []
        if self._open is not None:
            updates.append(self._close(min(ts, self._open.last_violation_at)))
        self._debouncer.reset()
        self._latched.clear()
        self._fired_at.clear()
        return [EventUpdate(u.type, u.event.copy()) for u in updates]

    def _close_if_due(self, ts: float) -> list[EventUpdate]:
        event = self._open
        if event is None:
            return []
        if ts - event.last_violation_at > self._config.event_gap_s:
            return [self._close(event.last_violation_at)]
        if ts - event.started_at >= self._config.max_event_s:
            # Subjects still violating re-fire (cooldown waived) into the next item.
            for subject in self._latched:
                self._fired_at.pop(subject, None)
            self._latched.clear()
            return [self._close(ts)]
        return []

    def _close(self, ended_at: float) -> EventUpdate:
        assert self._open is not None
        self._open.ended_at = ended_at
        closed, self._open = self._open, None
        return EventUpdate("closed", closed)

    @staticmethod
    def _keep_best(
        event: ReviewItem, analysis: FrameAnalysis, seen: list[Violation], image: npt.NDArray[np.uint8] | None
    ) -> None:
        confidence = max(v.confidence for v in seen)
        best = event.best_snapshot
        if best is not None and best.confidence >= confidence:
            return
        event.best_snapshot = Snapshot(
            image=None if image is None else image.copy(),
            detections=analysis.detections,
            violations=seen,
            ts=analysis.ts,
            confidence=confidence,
        )
