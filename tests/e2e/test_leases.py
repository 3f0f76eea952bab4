"""Deployed mode with real processes: `siteaudit worker` ×3 on one PostgreSQL share 6 RTSP cameras
(GStreamer on loopback) through camera leases. Each camera has exactly one holder; a SIGKILLed worker's
cameras stream again under another within the bound; a worker paused past its lease (SIGSTOP) and
resumed drops the cameras taken over meanwhile and writes nothing for them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.db import make_engine, make_sessionmaker, upgrade_to_head
from audit_api.models import Camera, CameraKind, CameraLease, CameraStatus, Event, Site
from tests.fixtures.net import free_port
from tests.fixtures.processes import wait_until
from tests.fixtures.rtsp import RtspServer, gst_rtsp_available

pytestmark = [pytest.mark.slow, pytest.mark.rtsp, pytest.mark.postgres]
CLI = [sys.executable, "-m", "audit_api.cli"]
TTL_S = 3.0  # short leases keep the test quick; the default is 9 s
TAKEOVER_BOUND_S = 30.0  # generous for a busy 2-core machine; the target with the default TTL is ≤ 15 s


@pytest.fixture(scope="module")
def small_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    """A cheap camera: 320×180 at 10 fps, looping, so six of them decode on a busy machine."""
    if not gst_rtsp_available():
        pytest.skip("GStreamer RTSP server not installed")
    video = tmp_path_factory.mktemp("video") / "small.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=10", "-t", "20",
         "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", str(video)],
        check=True, timeout=120,
    )  # fmt: skip
    with RtspServer([video]) as server:
        yield server


@dataclass
class Cluster:
    url: str
    sessions: sessionmaker[Session]
    env: dict[str, str]
    root: Path
    workers: dict[str, subprocess.Popen[str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def start(self, name: str, max_cameras: int) -> None:
        port = free_port()
        env = self.env | {
            "SITEAUDIT_DATA_DIR": str(self.root / name),
            "SITEAUDIT_WORKER_HTTP_PORT": str(port),
            "SITEAUDIT_MAX_CAMERAS": str(max_cameras),
        }
        with (self.root / f"{name}.log").open("w") as log:  # the child keeps its own descriptor
            self.workers[name] = subprocess.Popen(
                [*CLI, "worker"], env=env, stdout=log, stderr=subprocess.STDOUT, text=True
            )
        self.ports[name] = port

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text()

    def running(self, name: str) -> dict[str, float] | None:
        """camera → streaming (1/0) as the worker's own /metrics says; None if it does not answer."""
        try:
            text = httpx.get(f"http://127.0.0.1:{self.ports[name]}/metrics", timeout=2).text
        except httpx.HTTPError:
            return None
        out: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            if family.name == "siteaudit_camera_streaming":
                out.update({s.labels["camera"]: s.value for s in family.samples})
        return out

    def holders(self) -> dict[int, str | None]:
        """camera → worker name holding a live lease (None: free or expired)."""
        pids = {str(p.pid): n for n, p in self.workers.items()}
        now = datetime.now(UTC)
        with self.sessions() as session:
            rows = session.scalars(select(CameraLease)).all()
            return {
                r.camera_id: pids.get((r.worker_id or "::").split(":")[1])
                if r.expires_at is not None and r.expires_at > now
                else None
                for r in rows
            }


@pytest.fixture
def cluster(postgres_server: str, small_camera: RtspServer, tmp_path: Path) -> Iterator[Cluster]:
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = postgres_server.replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{postgres_server}/{name}"
    upgrade_to_head(url)  # once, before the workers (each would otherwise migrate at the same time)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        site = Site(name="Depot")
        for i in range(6):
            site.cameras.append(
                Camera(name=f"cam{i}", kind=CameraKind.RTSP, url=small_camera.url("small"),
                       config={"analysis_fps": 1.0})
            )  # fmt: skip
        session.add(site)
        session.commit()
    env = os.environ | {
        "SITEAUDIT_DATABASE_URL": url,
        "SITEAUDIT_SECRET_KEY": "leases-" + "k" * 40,
        "SITEAUDIT_LEASE_TTL_S": str(TTL_S),
    }
    env.pop("SITEAUDIT_DEV_MODE", None)
    c = Cluster(url, sessions, env, tmp_path)
    try:
        yield c
    finally:
        for proc in c.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
        time.sleep(1.0)  # a resumed worker handles its pending timers before it is asked to stop
        for proc in c.workers.values():
            if proc.poll() is None:
                proc.terminate()
        for worker, proc in c.workers.items():
            # a graceful stop finishes the cameras' last segments and clips: generous on a loaded machine
            if proc.wait(timeout=150) not in (0, -signal.SIGKILL):
                pytest.fail(f"worker {worker} exited {proc.returncode}:\n{c.log(worker)[-3000:]}")
            assert "Traceback" not in c.log(worker), c.log(worker)
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _all_streaming(c: Cluster, names: list[str], cameras: set[str]) -> dict[str, str] | None:
    """camera → the one live worker streaming it, once every camera streams on exactly one; else None."""
    seen: dict[str, list[str]] = {}
    for name in names:
        for camera, streaming in (c.running(name) or {}).items():
            if streaming:
                seen.setdefault(camera, []).append(name)
    assert all(len(w) == 1 for w in seen.values()), f"a camera runs on two workers: {seen}"
    return {cam: w[0] for cam, w in seen.items()} if set(seen) == cameras else None


def _check(predicate: Callable[[], object], timeout: float, what: str) -> object:
    return wait_until(predicate, timeout, what)


def test_workers_share_cameras_and_take_over_a_killed_one(cluster: Cluster) -> None:
    names = ["w1", "w2", "w3"]
    for name in names:
        cluster.start(name, max_cameras=3)
    cameras = {str(i) for i in range(1, 7)}
    placed = _check(lambda: _all_streaming(cluster, names, cameras), 120, "all 6 cameras to stream")
    assert isinstance(placed, dict)
    holders = cluster.holders()
    assert {str(cid): w for cid, w in holders.items()} == placed  # the lease holder is the one running it
    per_worker = {n: sum(1 for w in placed.values() if w == n) for n in names}
    assert max(per_worker.values()) <= 3 and sum(1 for v in per_worker.values() if v) >= 2, per_worker

    victim = max(per_worker, key=lambda n: per_worker[n])
    moved = {cam for cam, w in placed.items() if w == victim}
    survivors = [n for n in names if n != victim]
    cluster.workers[victim].kill()
    killed_at = time.monotonic()
    after = _check(lambda: _all_streaming(cluster, survivors, cameras), TAKEOVER_BOUND_S,
                   f"cameras {sorted(moved)} of the killed worker to stream elsewhere")  # fmt: skip
    seconds = time.monotonic() - killed_at
    print(f"takeover after SIGKILL: {seconds:.1f} s for {len(moved)} camera(s) (lease TTL {TTL_S:.0f} s)")
    assert isinstance(after, dict) and {after[c] for c in moved} <= set(survivors)
    with cluster.sessions() as session:
        epochs = dict(session.execute(select(CameraLease.camera_id, CameraLease.epoch)).all())
    assert all(epochs[int(c)] == 2 for c in moved) and all(epochs[int(c)] == 1 for c in cameras - moved)


def test_worker_paused_past_its_lease_drops_the_cameras_and_writes_nothing(cluster: Cluster) -> None:
    cluster.start("stalled", max_cameras=6)
    cameras = {str(i) for i in range(1, 7)}
    _check(lambda: _all_streaming(cluster, ["stalled"], cameras), 120, "the first worker to run all cameras")
    cluster.start("fresh", max_cameras=6)
    _check(lambda: cluster.running("fresh") is not None, 120, "the second worker to serve metrics")
    assert cluster.running("fresh") == {}  # nothing free: the first worker holds every lease

    stalled = cluster.workers["stalled"]
    stalled.send_signal(signal.SIGSTOP)
    try:
        _check(lambda: _all_streaming(cluster, ["fresh"], cameras), 60, "the second worker to take over")
    finally:
        stalled.send_signal(signal.SIGCONT)
    # The resumed worker finds its leases lost and stops those cameras; it never runs them again.
    _check(lambda: cluster.running("stalled") == {}, 30, "the resumed worker to drop every camera")
    time.sleep(TTL_S * 2)  # a few more heartbeats: nothing comes back
    assert cluster.running("stalled") == {}
    assert _all_streaming(cluster, ["fresh"], cameras) is not None
    assert set(cluster.holders().values()) == {"fresh"}
    with cluster.sessions() as session:
        # The test pattern shows nobody: no events at all; camera_status stays one row per camera.
        assert session.scalar(select(func.count()).select_from(Event)) == 0
        assert session.scalar(select(func.count()).select_from(CameraStatus)) == 6
    stalled_log = cluster.log("stalled")  # it notices on a refused write or on its next lease renewal
    assert "lease lost; stopping it here" in stalled_log or "removed" in stalled_log, stalled_log
