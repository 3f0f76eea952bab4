"""The sender: drains the delivery queue, a few deliveries at once, each attempt bounded by a timeout.

It runs as a thread in every API process (Settings.alert_sender) or alone (`python -m
audit_api.services.alerting.sender`). Several senders may run against one PostgreSQL database: each row is
leased to one of them (see queue.py). Nothing lives only in memory: a sender killed at any point leaves
rows that are pending (due again after their backoff or lease), so a restarted sender delivers them.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from audit_api.models import Alert, AlertDelivery, AlertKind, DeliveryPurpose, Event
from audit_api.services import privacy
from audit_api.services.alerting import escalation, links, offline, queue, webpush
from audit_api.services.alerting.message import alert_message
from audit_api.services.alerting.transports import DeliveryError, Snapshot, push, send
from audit_api.services.patrols import schedule as patrol_schedule
from audit_api.settings import Settings
from audit_api.storage import ObjectStore, StorageError
from ingest.urls import redact

log = logging.getLogger(__name__)
OFFLINE_SWEEP_S = 1.0  # camera-offline checks: thresholds are seconds to minutes, no need for every poll


class AlertSender:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings, store: ObjectStore) -> None:
        self._sessions = sessions
        self._settings = settings
        self._store = store
        self._pool = ThreadPoolExecutor(settings.alert_concurrency, thread_name_prefix="alert-send")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._stop = threading.Event()
        self._wake = threading.Event()  # set when a slot frees up (or on stop): claim again without waiting
        self._thread: threading.Thread | None = None
        self._next_offline_sweep = 0.0

    def run_once(self) -> int:
        """Claim as many due deliveries as there are free slots and start sending them; returns how many."""
        with self._lock:
            free = self._settings.alert_concurrency - self._in_flight
        if free <= 0:
            return 0
        with self._sessions() as session:
            claims = queue.claim(session, free, self._settings.alert_lease_s)
        with self._lock:
            self._in_flight += len(claims)
        for claimed in claims:
            self._pool.submit(self._deliver, claimed)
        return len(claims)

    def _deliver(self, claimed: queue.Claim) -> None:
        try:
            self._attempt(claimed)
        except Exception:
            log.exception(
                "alert delivery %s: unexpected error (left for its lease to expire)", claimed.delivery_id
            )
        finally:
            with self._lock:
                self._in_flight -= 1
            self._wake.set()

    def _attempt(self, claimed: queue.Claim) -> None:
        s = self._settings
        with self._sessions() as session:
            delivery = session.get(
                AlertDelivery,
                claimed.delivery_id,
                options=[
                    selectinload(AlertDelivery.alert).selectinload(Alert.event).selectinload(Event.clips)
                ],
            )
            assert delivery is not None  # rows are never deleted while leased
            # First: deriving a blurred copy commits (every row below is loaded again after it).
            snapshot = self._snapshot(session, delivery.alert) if delivery.channel is not None else None
            channel, subscription = delivery.channel, delivery.subscription
            if channel is not None and not channel.active:
                queue.give_up(session, claimed, "channel deleted")
                return
            if subscription is not None and not subscription.active:
                queue.give_up(session, claimed, "push subscription gone")
                return
            ack_url = snapshot_link = None
            if (
                delivery.purpose != DeliveryPurpose.RESOLVED
                and delivery.alert.acknowledged_at is None
                and delivery.alert.kind != AlertKind.PATROL_MISSED  # notices are not acknowledged
            ):
                token = links.issue(session, delivery, s)
                ack_url, snapshot_link = links.link_url(token, s), links.snapshot_link_url(token, s)
            message = alert_message(
                session,
                delivery.alert,
                s.web_base_url,
                purpose=delivery.purpose,
                ack_url=ack_url,
                snapshot_link=snapshot_link,
                lang=channel.locale if channel is not None else None,
            )
            keys = webpush.ensure_keys(session) if subscription is not None else None
            delivery_id = delivery.id
            for loaded in (channel, subscription, keys):
                if loaded is not None:
                    session.expunge(loaded)  # sent detached, holding no transaction during the attempt
            session.commit()
            error: str | None = None
            try:
                if channel is not None:
                    send(channel, message, snapshot, delivery_id=delivery_id, attempt=claimed.attempt,
                         timeout_s=s.alert_timeout_s)  # fmt: skip
                else:
                    assert subscription is not None and keys is not None
                    push(subscription, message, keys, s.webpush_subject, s.alert_timeout_s)
            except webpush.PushGone as exc:
                webpush.forget(session, subscription, str(exc))
                queue.give_up(session, claimed, str(exc))
                return
            except DeliveryError as exc:
                error = str(exc)
            except Exception as exc:  # a library bug must not kill the loop; the text may hold a URL
                error = redact(f"{exc.__class__.__name__}: {exc}")[:1000]
            status = queue.finish(
                session, claimed, error,
                max_attempts=s.alert_max_attempts, base_s=s.alert_backoff_s, max_s=s.alert_backoff_max_s,
            )  # fmt: skip
            if error is not None:
                log.warning("alert delivery %s attempt %s failed (%s): %s", delivery_id, claimed.attempt,
                            status, error)  # fmt: skip

    def _snapshot(self, session: Session, alert: Alert) -> Snapshot | None:
        """The event's snapshot, or the alert's opening snapshot while the event is not recorded yet; with
        blurred heads unless the site's privacy_blur is off (the copy is derived on first need)."""
        original = privacy.of_alert(alert)
        if original is None:
            return None
        try:
            key, sha, content_type = privacy.image_for(
                session, self._store, original, alert.site, privacy.Audience.EXTERNAL
            )
            return Snapshot(self._store.get(key, sha256=sha), content_type)
        except (StorageError, ValueError) as exc:
            log.warning("alert %s: snapshot not attached (%s); the message links to it", alert.id, exc)
            return None

    def run(self) -> None:
        """Poll until stop(); a database outage is logged and retried at the next poll."""
        while not self._stop.is_set():
            try:
                with self._sessions() as session:
                    escalation.escalate_due(session)
                    patrol_schedule.flag_missed(session)  # closed slots without a complete round
                    if time.monotonic() >= self._next_offline_sweep:
                        self._next_offline_sweep = time.monotonic() + OFFLINE_SWEEP_S
                        offline.sweep(session, self._settings.alert_storm_cooldown_s)
                while self.run_once():
                    pass
            except SQLAlchemyError as exc:
                log.warning("alert sender: database unavailable (%s); retrying", exc.__class__.__name__)
            except Exception:  # the loop must outlive any one bad row
                log.exception("alert sender: unexpected error; retrying at the next poll")
            self._wake.wait(self._settings.alert_poll_s)
            self._wake.clear()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="alert-sender", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop claiming; attempts under way finish (each bounded by alert_timeout_s)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self._settings.alert_poll_s + 5)
        self._pool.shutdown(wait=True, cancel_futures=False)


def main() -> None:  # pragma: no cover - exercised by tests as a subprocess
    from audit_api.db import make_engine, make_sessionmaker
    from audit_api.main import build_store

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings()
    engine = make_engine(settings.effective_database_url)
    sender = AlertSender(make_sessionmaker(engine), settings, build_store(settings))

    def stop(signum: int, frame: FrameType | None) -> None:
        sender._stop.set()
        sender._wake.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("alert sender running")
    sender.run()
    sender.stop()
    engine.dispose()


if __name__ == "__main__":
    main()
