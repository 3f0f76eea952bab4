"""Deployed mode: which worker process runs a camera, and where the API sends a camera's WHIP publisher
and its live viewers.

A worker writes its public URL (`SITEAUDIT_WORKER_PUBLIC_URL`) into every camera lease it holds and clears
it when it stops; a lease counts only while its heartbeat is current (`leases.live_holder`). The API
answers `POST /whip/{camera}` with a 307 to `{worker}/whip/{camera}?grant=…` and forwards the live-view
routes to `{worker}/api/cameras/{camera}/…`; with no live holder it answers 503 with `Retry-After`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from audit_api.services.errors import ServiceError
from audit_api.services.leases import live_holder


class NoLiveWorker(ServiceError):
    """No worker holds a current lease on the camera (none running, all full, or it is being taken over)."""

    status_code = 503

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}


def retry_after_s(lease_ttl_s: float) -> int:
    """How long a client should wait before asking again: about one lease renewal period, at least 1 s."""
    return max(1, round(lease_ttl_s / 3))


def owner_url(session: Session, camera_id: int, lease_ttl_s: float) -> str:
    """The base URL of the worker that runs the camera now; NoLiveWorker (with Retry-After) otherwise."""
    lease = live_holder(session, camera_id, datetime.now(UTC))
    if lease is None or not lease.worker_url:
        wait = retry_after_s(lease_ttl_s)
        raise NoLiveWorker(
            f"no worker runs camera {camera_id} right now (none holds a current lease on it: no worker is "
            f"running, every worker is full, or one is taking it over); retry in {wait} s",
            wait,
        )
    return lease.worker_url.rstrip("/")
