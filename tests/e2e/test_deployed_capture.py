"""Captures in deployed mode with real processes: PostgreSQL, the API (`siteaudit serve --no-worker`) and
one `siteaudit worker` running a looped RTSP camera (ppe-2). The API fetches the camera's current frame
from the owning worker (its own endpoint, the caller's token checked again there) and stores the stills
itself: a capture's stored objects hash to the SHA-256 it answers, a patrol finding opens the manual
event. With the worker stopped, both answer 503 with Retry-After and write nothing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import pytest

from tests.fixtures.processes import PASSWORD, Process, Processes, Server, siteaudit, wait_until
from tests.fixtures.rtsp import RtspServer

pytestmark = [pytest.mark.slow, pytest.mark.rtsp, pytest.mark.postgres]
INSPECTOR = "inspector@site.test"
SUPERVISOR = "boss@site.test"


@dataclass
class Deployed:
    processes: Processes
    api: Server
    worker: Process
    camera: int
    plan: int
    users: dict[str, dict[str, str]]  # role -> bearer header

    def call(self, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, self.api.base + path, headers=self.users[role], timeout=60, **kw)

    def stored(self, key: str) -> bytes:
        """An evidence object as the local store (the data dir both processes share) holds it."""
        return (self.processes.root / "data" / "evidence" / key).read_bytes()

    def finding_step(self) -> dict[str, Any]:
        """A new ad hoc round's (only) step, opened by the inspector."""
        started = self.call("inspector", "POST", "/api/patrol-rounds", json={"plan_id": self.plan})
        assert started.status_code == 201, started.text
        (step,) = started.json()["steps"]
        opened = self.call("inspector", "POST", f"/api/patrol-steps/{step['id']}/start")
        assert opened.status_code == 200, opened.text
        return dict(step)


@pytest.fixture(scope="module")
def deployed(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: str, rtsp_server: RtspServer
) -> Iterator[Deployed]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin_url = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {"SITEAUDIT_DATABASE_URL": f"{postgres_server}/{name}", "SITEAUDIT_LEASE_TTL_S": "3"}
    try:
        with siteaudit(tmp_path_factory.mktemp("deployed-capture"), env) as processes:
            api = processes.serve("--no-worker", name="api")
            worker = processes.worker("worker")
            site = int(api.post("/api/sites", {"name": "Harbour"}).json()["id"])
            users = {"admin": api.headers}
            for email, role in ((INSPECTOR, "inspector"), (SUPERVISOR, "supervisor")):
                body = {"email": email, "password": PASSWORD, "role": role, "site_ids": [site]}
                assert api.post("/api/users", body).status_code == 201
                form = {"username": email, "password": PASSWORD}
                token = httpx.post(api.base + "/api/auth/token", data=form, timeout=30).json()["access_token"]
                users[role] = {"Authorization": f"Bearer {token}"}
            body = {"site_id": site, "name": "quay", "kind": "rtsp", "url": rtsp_server.url("ppe-2")}
            created = api.post("/api/cameras", body)
            assert created.status_code == 201, created.text
            camera = int(created.json()["id"])
            plan_body = {"site_id": site, "name": "quay check", "camera_ids": [camera], "times": ["08:00"]}
            plan = api.post("/api/patrol-plans", plan_body)
            assert plan.status_code == 201, plan.text
            wait_until(
                lambda: api.get(f"/api/cameras/{camera}/live/frame").status_code == 200,
                120,
                "the worker to run the camera and the API to relay its frames",
            )
            yield Deployed(processes, api, worker, camera, int(plan.json()["id"]), users)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_capture_through_the_api_stores_the_workers_frame(deployed: Deployed) -> None:
    path = f"/api/cameras/{deployed.camera}/captures"
    taken = deployed.call("admin", "POST", path, json={"event": {"kind": "no_vest", "note": "by the crane"}})
    assert taken.status_code == 201, taken.text
    out = taken.json()
    still, annotated = deployed.stored(out["still"]["key"]), deployed.stored(out["annotated"]["key"])
    assert still[:2] == annotated[:2] == b"\xff\xd8"
    assert hashlib.sha256(still).hexdigest() == out["still"]["sha256"]
    assert hashlib.sha256(annotated).hexdigest() == out["annotated"]["sha256"] != out["still"]["sha256"]
    assert out["still"]["size"] == len(still)

    event = deployed.call("admin", "GET", f"/api/events/{out['event_id']}").json()
    assert event["kinds"] == ["no_vest"] and event["clips"][0]["sha256"] == out["still"]["sha256"]
    assert event["rule_snapshot"]["annotated_still"]["sha256"] == out["annotated"]["sha256"]
    entries = deployed.api.get("/api/audit", params={"entity": f"camera:{deployed.camera}", "limit": 100})
    (entry,) = [e for e in entries.json() if e["action"] == "live.captured"]
    assert entry["payload"]["still"]["sha256"] == out["still"]["sha256"]
    assert entry["actor"].startswith("user:")  # the admin, recorded by the API process

    assert deployed.call("supervisor", "POST", path, json={}).status_code == 403


@pytest.mark.parametrize(("role", "want"), [(None, 401), ("supervisor", 403), ("inspector", 200)])
def test_the_worker_checks_the_token_the_api_passes_on(
    deployed: Deployed, role: str | None, want: int
) -> None:
    headers = deployed.users[role] if role else {}
    answer = httpx.get(
        f"{deployed.worker.url}/api/cameras/{deployed.camera}/live/current", headers=headers, timeout=60
    )
    assert answer.status_code == want, answer.text
    if want == 200:
        assert answer.headers["cache-control"] == "no-store" and answer.json()["camera_id"] == deployed.camera


def test_patrol_finding_through_the_api_opens_the_manual_event(deployed: Deployed) -> None:
    step = deployed.finding_step()
    finding = {"verdict": "finding", "finding": {"kind": "no_vest", "note": "man without vest on the quay"}}
    decided = deployed.call("inspector", "POST", f"/api/patrol-steps/{step['id']}/verdict", json=finding)
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["verdict"] == "finding" and body["event_id"]
    event = deployed.call("inspector", "GET", f"/api/events/{body['event_id']}").json()
    (snapshot,) = event["clips"]
    assert event["kinds"] == ["no_vest"] and snapshot["sha256"] == body["still_sha256"]
    served = deployed.call("inspector", "GET", f"/api/events/{body['event_id']}/snapshot").content
    assert hashlib.sha256(served).hexdigest() == body["still_sha256"]


def test_with_the_worker_stopped_capture_and_finding_get_503_with_retry_after(deployed: Deployed) -> None:
    step = deployed.finding_step()
    deployed.worker.proc.terminate()  # it releases its lease as it stops
    deployed.worker.proc.wait(timeout=60)
    path = f"/api/cameras/{deployed.camera}/captures"
    capture = wait_until(  # at once when the lease was released; else once it expires (3 s)
        lambda: (r := deployed.call("admin", "POST", path, json={})).status_code != 201 and r,
        30,
        "captures to stop",
    )
    assert capture.status_code == 503, capture.text
    assert int(capture.headers["retry-after"]) >= 1
    assert f"camera {deployed.camera}" in capture.json()["detail"]
    finding = {"verdict": "finding", "finding": {"kind": "no_vest", "note": "late"}}
    refused = deployed.call("inspector", "POST", f"/api/patrol-steps/{step['id']}/verdict", json=finding)
    assert refused.status_code == 503 and int(refused.headers["retry-after"]) >= 1, refused.text
    rounds = deployed.call("inspector", "GET", "/api/patrol-rounds", params={"plan_id": deployed.plan})
    (unjudged,) = [s for r in rounds.json() for s in r["steps"] if s["id"] == step["id"]]
    assert unjudged["verdict"] is None and unjudged["still_sha256"] is None  # nothing was written
