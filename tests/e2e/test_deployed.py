"""The deployed topology (docker-compose): `siteaudit serve --no-worker` for the API and a separate
`siteaudit worker`, sharing the database and the object store. A camera added through the API is picked
up by the worker process and its event is served by the API process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.processes import Server, siteaudit, wait_until
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp]


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Server]:
    with siteaudit(tmp_path) as processes:
        api = processes.serve("--no-worker", name="api")
        processes.worker("worker")
        yield api


def test_api_and_worker_processes_share_the_work(deployed: Server, rtsp_server: RtspServer) -> None:
    site = deployed.post("/api/sites", {"name": "Depot"}).json()["id"]
    created = deployed.post(
        "/api/cameras", {"site_id": site, "name": "yard", "kind": "rtsp", "url": rtsp_server.url("ppe-2")}
    )
    assert created.status_code == 201, created.text
    camera = int(created.json()["id"])
    (event,) = wait_until(lambda: deployed.events_of(camera), 120, "the worker process to record the event")
    assert event["kinds"] == ["no_vest"]
    clip = deployed.get(f"/api/events/{event['id']}/clip")
    assert clip.status_code == 200 and clip.content[4:8] == b"ftyp"

    # The API process runs no cameras itself; it reports what the worker process stored.
    def reported() -> bool:
        health = deployed.health_of(camera)
        return (
            health["state"] == "streaming"
            and (health["analysed_fps"] or 0) > 0
            and bool(health["reported_at"])
        )

    wait_until(reported, 60, "the API to report the worker's streaming, analysed camera")
