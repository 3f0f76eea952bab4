"""The whole product path as a user runs it: `siteaudit demo` on real footage → stored evidence →
inspector review and sign-off through the API — on SQLite + local storage and PostgreSQL + S3."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from audit_api.main import create_app
from audit_api.models import Clip, ClipKind, Event
from audit_api.settings import Settings
from audit_api.storage import LocalStore, ObjectStore, S3Store
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY

pytestmark = pytest.mark.slow


@dataclass
class Deployment:
    env: dict[str, str]
    data_dir: Path
    database_url: str
    store: ObjectStore


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit_api.cli", *args],
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(params=["sqlite+local", pytest.param("postgresql+s3", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    data_dir = tmp_path / "data"
    if request.param == "sqlite+local":
        yield Deployment(
            {}, data_dir, f"sqlite:///{data_dir / 'siteaudit.db'}", LocalStore(data_dir / "evidence")
        )
        return
    url = _pg_database(request)
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket = f"evidence-{uuid.uuid4().hex[:12]}"
    env = {
        "SITEAUDIT_DATABASE_URL": url,
        "SITEAUDIT_STORAGE_BACKEND": "s3",
        "SITEAUDIT_S3_ENDPOINT": endpoint,
        "SITEAUDIT_S3_ACCESS_KEY": S3_ACCESS_KEY,
        "SITEAUDIT_S3_SECRET_KEY": S3_SECRET_KEY,
        "SITEAUDIT_S3_BUCKET": bucket,
    }
    store = S3Store(endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, bucket)
    yield Deployment(env, data_dir, url, store)
    store.close()


def _pg_database(request: pytest.FixtureRequest) -> str:
    import psycopg

    server: str = request.getfixturevalue("postgres_server")
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    dsn = server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def test_demo_records_no_vest_event_that_an_inspector_signs_off(deployment: Deployment, videos: Path) -> None:
    result = run_cli(
        "demo",
        str(videos / "ppe-2.mp4"),
        "--no-serve",
        "--data-dir",
        str(deployment.data_dir),
        env=deployment.env,
    )
    assert result.returncode == 0, result.stderr
    assert "1 event(s) recorded" in result.stdout, result.stdout

    engine = create_engine(deployment.database_url)
    with Session(engine) as session:
        (event,) = session.scalars(select(Event)).all()
        assert event.kinds == ["no_vest"]
        clips = {c.kind: c for c in session.scalars(select(Clip).where(Clip.event_id == event.id))}
    engine.dispose()
    clip_row, snap_row = clips[ClipKind.CLIP], clips[ClipKind.SNAPSHOT]

    data = deployment.store.get(clip_row.object_key)
    assert hashlib.sha256(data).hexdigest() == clip_row.sha256 and len(data) == clip_row.size
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        frames = sum(1 for _ in container.decode(stream))
    # The violation starts 0.6 s into the video: the clip holds that pre-roll plus the 5 s post-roll.
    assert frames >= 40 and clip_row.duration_s is not None and 5.0 <= clip_row.duration_s <= 11.0
    assert data.find(b"moov") < data.find(b"mdat"), "clip is not faststart (moov after mdat)"
    assert deployment.store.get(snap_row.object_key, sha256=snap_row.sha256)[:2] == b"\xff\xd8"  # a JPEG

    settings = Settings(
        dev_mode=True,
        data_dir=deployment.data_dir,
        database_url=deployment.database_url,
        **(
            {
                "storage_backend": "s3",
                "s3_endpoint": deployment.env["SITEAUDIT_S3_ENDPOINT"],
                "s3_access_key": S3_ACCESS_KEY,
                "s3_secret_key": S3_SECRET_KEY,
                "s3_bucket": deployment.env["SITEAUDIT_S3_BUCKET"],
            }
            if deployment.env
            else {}
        ),
    )
    with TestClient(create_app(settings, store=deployment.store)) as client:
        token = client.post(
            "/api/auth/token", data={"username": "inspector@demo.local", "password": "siteaudit-demo"}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        listed = client.get("/api/events", headers=auth).json()
        assert [item["id"] for item in listed["items"]] == [event.id]
        served = client.get(f"/api/events/{event.id}/clip", headers=auth, follow_redirects=False)
        if served.is_redirect:  # S3: a presigned URL on the object store itself
            served = httpx.get(served.headers["location"])
        assert served.status_code == 200 and hashlib.sha256(served.content).hexdigest() == clip_row.sha256

        review = client.post(f"/api/events/{event.id}/review", headers=auth, json={"verdict": "confirmed"})
        assert review.status_code == 201, review.text
        signoff = client.post(f"/api/events/{event.id}/signoff", headers=auth, json={})
        assert signoff.status_code == 201, signoff.text
        assert signoff.json()["clip_sha256"] == clip_row.sha256
        me = client.get("/api/me", headers=auth).json()
        assert signoff.json()["inspector_id"] == me["id"] and signoff.json()["at"]
        assert signoff.json()["inspector_name"] == me["name"] == "Inspector"  # who, by name, in the record
        detail = client.get(f"/api/events/{event.id}", headers=auth).json()
        assert detail["status"] == "signed_off" and len(detail["actions"]) == 1


@pytest.mark.parametrize(
    ("make_source", "env", "message"),
    [
        (lambda d: str(d / "missing.mp4"), {}, "video not found"),
        (lambda d: _text_file(d / "notes.mp4"), {}, "cannot read the video source"),
        (lambda d: "file:///etc/passwd", {}, "must start with rtsp:// or rtsps://"),
        (lambda d: "rtsp://127.0.0.1:9/stream", {}, "cannot read the video source"),
        (
            lambda d: "VIDEO",
            {"SITEAUDIT_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:9/db"},
            "cannot connect",
        ),
        (lambda d: "VIDEO", {"SITEAUDIT_DATABASE_URL": "nosuchdb://"}, "database"),
    ],
    ids=["missing-file", "not-a-video", "file-url", "dead-rtsp", "dead-postgres", "bad-db-url"],
)
def test_demo_bad_input_is_one_clear_line_and_writes_nothing(
    make_source: object, env: dict[str, str], message: str, tmp_path: Path, videos: Path
) -> None:
    assert callable(make_source)
    source = make_source(tmp_path)
    source = str(videos / "ppe-2.mp4") if source == "VIDEO" else source
    data_dir = tmp_path / "data"
    result = run_cli("demo", source, "--no-serve", "--data-dir", str(data_dir), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siteaudit: error:"), result.stderr
    assert message in lines[0].lower() or message in lines[0]
    assert not data_dir.exists() or not any(data_dir.rglob("*.mp4")), "evidence written on a failed run"
    assert not (data_dir / "siteaudit.db").exists(), "database created on a failed run"


def _text_file(path: Path) -> str:
    path.write_text("not a video\n")
    return str(path)
