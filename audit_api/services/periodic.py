"""A background job of the API process (the report scheduler, the retention job): `run_once` every
`poll_s` on a thread of its own until stopped; a database outage or an unexpected error is logged and the
job runs again at the next poll. Subclasses set `name` and `poll_s` and implement `run_once`."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from audit_api.settings import Settings
from audit_api.storage import ObjectStore

log = logging.getLogger(__name__)


class PeriodicJob:
    name = "periodic job"

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, store: ObjectStore) -> None:
        self._sessions = sessions
        self._settings = settings
        self._store = store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def poll_s(self) -> float:
        raise NotImplementedError

    def run_once(self) -> Any:
        raise NotImplementedError

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except SQLAlchemyError as exc:
                log.warning("%s: database unavailable (%s); retrying", self.name, exc.__class__.__name__)
            except Exception:  # the loop must outlive any one bad row or site
                log.exception("%s: unexpected error; retrying at the next poll", self.name)
            self._stop.wait(self.poll_s)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self.name.replace(" ", "-"), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
