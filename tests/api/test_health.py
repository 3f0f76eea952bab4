"""/api/health tells operators when evidence is only on local disk because the object store is down."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from audit_api.main import create_app
from audit_api.settings import Settings
from audit_api.storage import S3Store, SpoolingStore
from tests.fixtures.net import free_port
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY


def test_health_reports_a_storage_outage_and_what_is_spooled(settings: Settings, tmp_path: Path) -> None:
    dead = S3Store(f"127.0.0.1:{free_port()}", S3_ACCESS_KEY, S3_SECRET_KEY, "evidence", retries=0)
    store = SpoolingStore(dead, tmp_path / "spool")
    stored = store.put("cameras/1/clip.mp4", b"evidence bytes", "video/mp4")
    assert store.get(stored.key, sha256=stored.sha256) == b"evidence bytes"  # kept, from the spool
    with TestClient(create_app(settings, store=store)) as client:
        response = client.get("/api/health")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "degraded" and body["database"] == "ok"
    assert body["storage"].startswith("unavailable") and body["spooled_objects"] == 1
