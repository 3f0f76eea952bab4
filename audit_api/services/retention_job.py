"""The retention job: a thread in each API process (Settings.retention_job), like the report scheduler.

Every `retention_poll_s` it extends the store's lock of newly confirmed evidence to the long retention and
deletes unconfirmed evidence past the short retention (services.retention). Several replicas may run it:
the rows are re-checked under a lock before anything is deleted, and a second delete of the same object
finds it already marked. A database or store outage is logged and retried at the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from audit_api.models import utcnow
from audit_api.services import retention
from audit_api.services.periodic import PeriodicJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetentionRun:
    extended: int
    expired: retention.Expired


class RetentionJob(PeriodicJob):
    name = "retention job"

    @property
    def poll_s(self) -> float:
        return self._settings.retention_poll_s

    def run_once(self, now: datetime | None = None) -> RetentionRun:
        """One pass at `now` (tests pass a later time instead of waiting weeks)."""
        now = now or utcnow()
        s = self._settings
        extended = 0
        with self._sessions() as session:
            while True:  # every confirmed object not extended yet, a batch per transaction
                done = retention.extend_confirmed(session, self._store, s.evidence_long_retention_days)
                extended += done
                if done < retention.BATCH or self._stop.is_set():
                    break
        total = retention.Expired()
        with self._sessions() as session:
            while not self._stop.is_set():
                batch = retention.expire(session, self._store, s.evidence_short_retention_days, now)
                total.events += batch.events
                total.deleted += batch.deleted
                total.refused += batch.refused
                if batch.deleted == 0:
                    break
        if total.deleted or total.refused:
            log.info("retention: %d objects of %d events deleted, %d kept (still locked)", total.deleted,
                     len(total.events), total.refused)  # fmt: skip
        return RetentionRun(extended, total)
