"""Peak memory of a CSV export of 100k events: streamed by a real server process vs. built in memory.

    python -m bench.exports [--events 100000]

Fills a SQLite database with N events (bulk inserts of the model tables: the bench is about reading),
starts `siteaudit serve --no-worker` on it, downloads /api/exports/events.csv in chunks while sampling the
server's RSS (psutil, every 20 ms), and reports the server's peak RSS above its idle RSS. For comparison
it measures, in this process with tracemalloc, the Python heap peak of consuming `stream_csv` chunk by
chunk and of joining the whole CSV into one bytes object (what a non-streamed response would hold).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import psutil
from pydantic import SecretStr
from sqlalchemy import insert, select

from audit_api.auth import hash_password
from audit_api.db import make_engine, make_sessionmaker, upgrade_to_head
from audit_api.models import Camera, CameraKind, Event, EventStatus, EventViolation, Role, Site, User
from audit_api.services.dashboard import Period
from audit_api.services.exports import ExportFilter, ExportKind, stream_csv
from audit_api.services.sessions import start_session
from audit_api.settings import Settings

SECRET = "bench-secret-0123456789-abcdefghijklmnop"
START = datetime(2025, 1, 1, tzinfo=UTC)


def fill(url: str, n: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        site = Site(name="东区工地 bench", timezone="Asia/Shanghai")
        session.add(site)
        session.flush()
        cameras = [
            Camera(site_id=site.id, name=f"cam {i}", kind=CameraKind.RTSP, url="rtsp://x/s") for i in range(8)
        ]
        session.add_all(cameras)
        session.add(User(email="admin@example.com", role=Role.ADMIN, password_hash=hash_password("x" * 12)))
        session.commit()
        camera_ids = [c.id for c in cameras]
    step = 300  # seconds between events: 100k events span 347 days, inside one period
    batch = 10_000
    with engine.begin() as conn:
        for first in range(0, n, batch):
            rows = []
            for i in range(first, min(first + batch, n)):
                started = START + timedelta(seconds=i * step)
                rows.append({
                    "id": i + 1, "camera_id": camera_ids[i % len(camera_ids)], "kinds": ["no_hardhat"],
                    "started_at": started, "ended_at": started + timedelta(seconds=12),
                    "status": EventStatus.OPEN, "rule_snapshot": {"k": 3, "n": 5}, "model_version": "bench",
                    "rule_version": "bench", "best_confidence": 0.8, "created_at": started,
                })  # fmt: skip
            conn.execute(insert(Event), rows)
            conn.execute(
                insert(EventViolation),
                [{"event_id": r["id"], "kind": "no_hardhat", "track_id": 1, "zone_id": None,
                  "ts": r["started_at"], "box": [0.1, 0.1, 0.2, 0.2], "confidence": 0.8} for r in rows],
            )  # fmt: skip
    engine.dispose()


def period_for(n: int) -> Period:
    last = (START + timedelta(seconds=n * 300)).date()
    return Period(date(2025, 1, 1), min(last, date(2025, 12, 31)))


def in_process(url: str, period: Period) -> tuple[int, int, int]:
    """(bytes, heap peak streaming, heap peak joined) in this process."""
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        admin_id = session.scalars(select(User.id)).one()
    f = ExportFilter(period)
    tracemalloc.start()
    size = sum(len(chunk) for chunk in stream_csv(sessions, admin_id, ExportKind.EVENTS, f))
    streamed = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    whole = b"".join(stream_csv(sessions, admin_id, ExportKind.EVENTS, f))
    joined = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del whole
    engine.dispose()
    return size, streamed, joined


def over_http(url: str, data_dir: Path, period: Period) -> tuple[int, float, int, int]:
    """(bytes, seconds, idle RSS, peak RSS) of the server process during one export download."""
    port = 18000 + os.getpid() % 1000
    env = os.environ | {
        "SITEAUDIT_DATABASE_URL": url, "SITEAUDIT_DATA_DIR": str(data_dir), "SITEAUDIT_SECRET_KEY": SECRET,
        "SITEAUDIT_ALERT_SENDER": "false", "SITEAUDIT_REPORT_SCHEDULER": "false",
    }  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "audit_api.cli", "serve", "--no-worker", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.3)
        settings = Settings(database_url=url, data_dir=data_dir, secret_key=SecretStr(SECRET))
        engine = make_engine(url)
        with make_sessionmaker(engine)() as session:
            admin = session.scalars(select(User)).one()
            token = start_session(session, admin, settings).access_token
        engine.dispose()
        process = psutil.Process(server.pid)
        time.sleep(1.0)
        idle = process.memory_info().rss
        peak = idle
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
        began = time.monotonic()
        size = 0
        with httpx.stream("GET", f"{base}/api/exports/events.csv", params=params,
                          headers={"Authorization": f"Bearer {token}"}, timeout=600) as response:  # fmt: skip
            response.raise_for_status()
            for chunk in response.iter_bytes():
                size += len(chunk)
        seconds = time.monotonic() - began
        done.set()
        sampler.join()
        return size, seconds, idle, peak
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    mib = 1024 * 1024
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        url = f"sqlite:///{data_dir / 'bench.db'}"
        upgrade_to_head(url)
        began = time.monotonic()
        fill(url, args.events)
        print(f"filled {args.events} events in {time.monotonic() - began:.1f} s")
        period = period_for(args.events)
        size, seconds, idle, peak = over_http(url, data_dir, period)
        print(
            f"HTTP export: {size / mib:.1f} MiB CSV in {seconds:.1f} s; server RSS idle "
            f"{idle / mib:.1f} MiB, peak {peak / mib:.1f} MiB (+{(peak - idle) / mib:.1f} MiB)"
        )
        size, streamed, joined = in_process(url, period)
        print(f"in process: {size / mib:.1f} MiB CSV; Python heap peak streaming {streamed / mib:.1f} MiB, "
              f"joined into one body {joined / mib:.1f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
