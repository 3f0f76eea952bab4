"""The deployed topology (docker-compose): `siteaudit serve --no-worker` for the API and a separate
`siteaudit worker`, sharing the database and the object store. A camera added through the API is picked
up by the worker process and its event is served by the API process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_live import PASSWORD, Server, _up, events_of, wait_until
from tests.fixtures.net import free_port
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]
CLI = [sys.executable, "-m", "audit_api.cli"]


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    env = os.environ | {
        "SITEAUDIT_DATA_DIR": str(tmp_path / "data"),
        "SITEAUDIT_SECRET_KEY": "deployed-" + "k" * 40,
        "SITEAUDIT_PORT": str(port),
    }
    subprocess.run(
        [*CLI, "user", "create", "ops@site.test", "--role", "admin"],
        input=PASSWORD + "\n", env=env, text=True, check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    out = subprocess.PIPE
    api = subprocess.Popen(
        [*CLI, "serve", "--no-worker"], env=env, stdout=out, stderr=subprocess.STDOUT, text=True
    )
    worker = subprocess.Popen([*CLI, "worker"], env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base), 60, "the API process to answer")
        form = {"username": "ops@site.test", "password": PASSWORD}
        token = httpx.post(base + "/api/auth/token", data=form).json()["access_token"]
        yield Server(base, {"Authorization": f"Bearer {token}"}, env)
    finally:
        for proc in (worker, api):
            proc.terminate()
            logs, _ = proc.communicate(timeout=60)
            assert "Traceback" not in logs, logs


def test_api_and_worker_processes_share_the_work(deployed: Server, rtsp_server: RtspServer) -> None:
    site = deployed.post("/api/sites", {"name": "Depot"}).json()["id"]
    created = deployed.post(
        "/api/cameras", {"site_id": site, "name": "yard", "kind": "rtsp", "url": rtsp_server.url("ppe-2")}
    )
    assert created.status_code == 201, created.text
    camera = int(created.json()["id"])
    (event,) = wait_until(lambda: events_of(deployed, camera), 120, "the worker process to record the event")
    assert event["kinds"] == ["no_vest"]
    clip = deployed.get(f"/api/events/{event['id']}/clip")
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"
    # The API process runs no cameras itself; it reports what the worker process stored.
    health = deployed.get(f"/api/cameras/{camera}/health").json()
    assert health["state"] == "streaming" and health["analysed_fps"] > 0 and health["reported_at"], health
