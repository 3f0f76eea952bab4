"""Alerts at open (issue 14): the worker's side of services/alerting/opening.py, kept apart from the
recorder's evidence path. The opening snapshot is stored (write-once, its own key beside the clip's), then
the alert is committed with its deliveries. Best effort: if the store or the database refuses, nothing is
lost — the event's record at the end of the post-roll raises the alert instead."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.services.alerting.opening import open_alert
from audit_api.services.errors import ServiceError
from audit_api.services.leases import LeaseLost
from audit_api.storage import ObjectStore, StorageError
from audit_api.worker.lease_keeper import LeaseKeeper
from ingest._sink import Opening

log = logging.getLogger(__name__)


def opening_key(opening: Opening) -> str:
    day = datetime.fromtimestamp(opening.started_at, UTC).strftime("%Y/%m/%d")
    return f"cameras/{opening.camera_id}/{day}/{opening.item_id}/opening.jpg"


def announce(
    sessions: sessionmaker[Session], store: ObjectStore, opening: Opening, leases: LeaseKeeper | None
) -> int | None:
    """Raise the opening alert; returns its id, or None when it is left to the event's record."""
    if not opening.camera_id.isdigit() or not opening.kinds:
        return None
    token = leases.token(opening.camera_id) if leases is not None else None
    if leases is not None and token is None:
        return None  # not our camera (any more): the worker that holds it alerts
    try:
        snapshot = store.put(opening_key(opening), opening.snapshot_jpeg, "image/jpeg")
        with sessions() as session:
            alert = open_alert(
                session,
                camera_id=int(opening.camera_id),
                kinds=opening.kinds,
                started_at=datetime.fromtimestamp(opening.started_at, UTC),
                review_item=opening.item_id,
                snapshot=snapshot,
                lease=token,
                snapshot_heads=list(opening.snapshot_heads),
            )
            return alert.id
    except LeaseLost as exc:
        if leases is not None:
            leases.lose(exc.camera_id, exc.token)
    except (StorageError, SQLAlchemyError, ServiceError) as exc:
        log.warning("review item %s: no opening alert (%s); the event's record raises it", opening.item_id,
                    exc.__class__.__name__)  # fmt: skip
    return None
