"""The report scheduler: a thread in each API process (Settings.report_scheduler), like the alert sender.

Every `report_poll_s` it looks, per site, for the last complete period (monthly by default, in the site's
time zone) and generates its report unless it exists: the claim (a row unique per site and period key,
see services/reports) makes several replicas generate each report once. A site created after a period
ended gets no report for it. A database outage is logged and retried at the next poll.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from audit_api.models import Site, SiteReport, utcnow
from audit_api.services.periodic import PeriodicJob
from audit_api.services.reports import claim_scheduled, generate_scheduled, previous_period

log = logging.getLogger(__name__)


class ReportScheduler(PeriodicJob):
    name = "report scheduler"

    @property
    def poll_s(self) -> float:
        return self._settings.report_poll_s

    def run_once(self, now: datetime | None = None) -> list[int]:
        """Generate every due report this replica wins; returns their ids."""
        now = now or utcnow()
        made: list[int] = []
        with self._sessions() as session:
            sites = [
                (s.id, s.timezone, s.created_at) for s in session.scalars(select(Site).order_by(Site.id))
            ]
        for site_id, timezone, created_at in sites:
            if self._stop.is_set():
                break
            today = now.astimezone(ZoneInfo(timezone)).date()
            period, key = previous_period(self._settings.report_schedule, today)
            if created_at >= period.utc_span(timezone)[1]:
                continue  # the site did not exist during the period
            with self._sessions() as session:
                claimed = claim_scheduled(session, site_id, period, key, self._settings.report_lease_s)
                if claimed is None:
                    continue
                report: SiteReport = generate_scheduled(session, self._store, claimed)
                made.append(report.id)
                log.info("site %s: %s report %s is %s", site_id, key, report.id, report.status.value)
        return made
