"""What the CLI commands open before they run: settings, the migrated database, the checked object store,
the event recorder and the detector. Imports are lazy so `siteaudit --help` stays fast."""

from __future__ import annotations

from typing import Any


def settings_from(**overrides: Any) -> Any:
    from audit_api.settings import Settings

    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def open_database(settings: Any) -> Any:
    from audit_api.db import make_engine, make_sessionmaker, upgrade_to_head

    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.effective_database_url)
    return make_sessionmaker(make_engine(settings.effective_database_url))


def open_store(settings: Any) -> Any:
    from audit_api.main import build_store
    from audit_api.storage import CredentialsRefused, SpoolingStore, StorageUnavailable

    store = build_store(settings)
    store.check()
    if isinstance(store, SpoolingStore):  # an outage is spooled; wrong credentials are a setting to fix
        try:
            store.primary.check()
        except CredentialsRefused:
            raise
        except StorageUnavailable:
            pass
    return store


def open_services(settings: Any) -> tuple[Any, Any]:
    """Database (migrated) and the recorder that writes events into it and the (checked) object store."""
    from audit_api.worker.journal import JOURNAL_FILE
    from audit_api.worker.recorder import EventRecorder

    sessions = open_database(settings)
    recorder = EventRecorder(
        sessions,
        open_store(settings),
        settings.data_dir / JOURNAL_FILE,
        continue_window_s=settings.takeover_continue_s,
    )
    return sessions, recorder


def load_detector(settings: Any) -> Any:
    """The detector from SITEAUDIT_MODELS_DIR (the shipped model's file name inside it)."""
    from detect.model import DEFAULT_MODEL, Detector

    return Detector.load(settings.models_dir / DEFAULT_MODEL.name)
