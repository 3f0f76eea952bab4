"""Alert latency: violation opened (the worker's opening alert committed: `open_alert`, as
`audit_api.worker.opening` calls it when a review item opens) → signed webhook received on loopback.

    python -m bench.alerts [--alerts 60] [--cameras 20] [--postgres | --database-url URL]

A real migrated database: a temporary SQLite file; with --postgres a throwaway PostgreSQL 15 cluster on
loopback (the binaries in SITEAUDIT_PG_BIN, default /usr/local/bin; as the tests start it); or an empty
database named by --database-url. The real sender (AlertSender, default poll and concurrency) and an HTTP
receiver on 127.0.0.1. Part one raises one alert at a time; part two has `--cameras` cameras open a
violation at the same moment, repeated three times. Since issue 14 the alert no longer waits for the clip's
post-roll: this is the whole delay from the violation to the message. Goal: p95 < 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from audit_api.db import make_engine, make_sessionmaker, upgrade_to_head
from audit_api.models import AlertChannel, Camera, CameraKind, ChannelType, Site
from audit_api.services.alerting.opening import open_alert
from audit_api.services.alerting.sender import AlertSender
from audit_api.settings import Settings
from audit_api.storage import LocalStore
from tests.fixtures.photos import frame_jpeg

received: dict[int, float] = {}
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        import json

        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with lock:
            received[body["alert_id"]] = time.perf_counter()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def percentiles(values: list[float]) -> str:
    q = statistics.quantiles(values, n=20)
    return f"n={len(values)} p50={statistics.median(values) * 1000:.0f} ms p95={q[18] * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=60)
    parser.add_argument("--cameras", type=int, default=20)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--postgres", action="store_true", help="run on a throwaway PostgreSQL cluster")
    where.add_argument("--database-url", help="an empty database to run on")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database_url
        if args.postgres:
            from tests.fixtures.postgres import create_database, postgres_cluster

            url = create_database(stack.enter_context(postgres_cluster()), "bench_alerts")
        run(args, url)


def run(args: argparse.Namespace, url: str | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    url = url or f"sqlite:///{tmp / 'bench.db'}"
    print(f"database: {url.split('://')[0]}")
    upgrade_to_head(url)
    settings = Settings(database_url=url, data_dir=tmp, secret_key=SecretStr("b" * 40))
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    store = LocalStore(tmp / "evidence")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sessions() as session:
        site = Site(name="bench")
        session.add(site)
        session.flush()
        cameras = [Camera(site_id=site.id, name=f"cam{i}", kind=CameraKind.WHIP) for i in range(args.cameras)]
        hook = f"http://127.0.0.1:{server.server_address[1]}/hook"
        channel = AlertChannel(site_id=site.id, name="hook", type=ChannelType.WEBHOOK, url=hook,
                               url_redacted=hook, signing_secret="s" * 43)  # fmt: skip
        session.add_all([*cameras, channel])
        session.commit()
        camera_ids = [c.id for c in cameras]
    sender = AlertSender(sessions, settings, store)
    sender.start()
    counter = iter(range(1_000_000))
    # A real frame (the site's default blurs heads for alert channels: the blurred copy is part of the cost)
    frame = frame_jpeg("ppe-2.mp4", 1.0)

    def fire(camera_id: int) -> tuple[int, float]:
        n = next(counter)
        opened_at = time.perf_counter()
        snap = store.put(f"b/{n}/opening.jpg", frame, "image/jpeg")
        t0 = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)
        with sessions() as session:
            alert = open_alert(
                session, camera_id=camera_id, kinds=["no_hardhat"], started_at=t0, review_item=f"item-{n}",
                snapshot=snap,
            )  # fmt: skip
            return alert.id, opened_at

    def latency(fired: list[tuple[int, float]]) -> list[float]:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                if all(alert_id in received for alert_id, _ in fired):
                    return [received[alert_id] - at for alert_id, at in fired]
            time.sleep(0.01)
        raise SystemExit("not every alert arrived within 120 s")

    one = [latency([fire(camera_ids[0])])[0] for _ in range(args.alerts)]
    print(f"one at a time:          {percentiles(one)}")
    burst: list[float] = []
    for _ in range(3):
        results: list[tuple[int, float]] = []
        threads = [threading.Thread(target=lambda c=c, out=results: out.append(fire(c))) for c in camera_ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        burst += latency(results)
    print(f"{args.cameras} cameras at once:    {percentiles(burst)}")
    sender.stop()
    server.shutdown()
    engine.dispose()


if __name__ == "__main__":
    main()
