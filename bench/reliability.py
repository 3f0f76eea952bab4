"""Reliability of the deployed mode, measured in one run with real processes on loopback:

    python -m bench.reliability [--quick] [--kills 20] [--s3-down 60] [--pg-down 20] [--observe 30]

Two `siteaudit worker` processes (one camera lease each) share one RTSP camera (GStreamer looping
../shared/videos/ppe-2.mp4: the vest-less man fires no_vest again and again) on a PostgreSQL cluster of
their own, with evidence in moto S3 behind a gate that can be shut. In order:

1. the RTSP source is killed N times → how many times the camera streams again, and outage intervals
   recorded in the database;
2. the S3 endpoint is shut for S seconds while events fire → clips lost (recorded events whose clip is
   not in S3 with its SHA-256 once the spool drained; goal 0);
3. PostgreSQL is stopped (pg_ctl) for P seconds while events fire, then started → events lost (events
   the worker journaled meanwhile that are not in the database afterwards; goal 0) — 2 and 3 need an
   event to fire inside the outage; a phase in which none did says "not measured" and the run exits 1;
4. the worker that holds the camera is SIGKILLed mid-event → seconds until the camera streams on the
   other worker (goal ≤ 15 with the default 9 s lease), and events recorded twice across the takeover
   (same camera and kind, overlapping spans, two lease epochs; goal 0).

`--quick` shortens every phase (a smoke run, ~3 min on a quiet machine); figures are for one run on this
machine, with its load average printed alongside.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from audit_api.db import make_engine, make_sessionmaker, upgrade_to_head
from audit_api.models import Camera, CameraKind, CameraLease, ClipKind, Event, EventSource, RuleConfig, Site
from audit_api.models import UnmonitoredInterval as IntervalRow
from audit_api.storage import S3Store, StorageError
from tests.fixtures.outages import GatedPort, PgCluster, Workers
from tests.fixtures.rtsp import RtspServer, gst_rtsp_available
from tests.fixtures.s3 import S3_ACCESS_KEY, S3_SECRET_KEY, start_moto, unique_bucket

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))
VIDEO = SHARED / "videos" / "ppe-2.mp4"
SHORT_ITEMS = {"event_gap_s": 2.0, "max_event_s": 6.0, "cooldown_s": 1.0}  # events and closes keep coming
LONG_ITEMS = {"event_gap_s": 10.0, "max_event_s": 300.0}  # the incident stays one open item


@dataclass
class Figures:
    rows: list[tuple[str, str, str]] = field(default_factory=list)

    failed: list[str] = field(default_factory=list)

    def fail(self, what: str, why: str) -> None:
        """A phase that could not measure its figure: printed, and the run exits 1."""
        self.failed.append(what)
        self.add(what, why)

    def add(self, what: str, value: str, goal: str = "") -> None:
        self.rows.append((what, value, goal))
        print(f"  {what}: {value}" + (f"  (goal {goal})" if goal else ""), flush=True)


def wait_for(predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.25)
    return None


class Bench:
    def __init__(self, root: Path, s3_endpoint: str) -> None:
        self.pg = PgCluster()
        self.camera = RtspServer([VIDEO])
        self.camera.start()
        host, port = s3_endpoint.split(":")
        self.gate = GatedPort((host, int(port)))
        bucket = unique_bucket()
        self.s3 = S3Store(s3_endpoint, S3_ACCESS_KEY, S3_SECRET_KEY, bucket)  # behind the gate: the truth
        url = self.pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        upgrade_to_head(url)
        self.engine = make_engine(url)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        with self.sessions() as session:
            site = Site(name="Bench yard")
            cam = Camera(name="gate", kind=CameraKind.RTSP, url=self.camera.url("ppe-2"))
            site.cameras.append(cam)
            session.add(site)
            session.flush()
            session.add(RuleConfig(camera_id=cam.id, config=SHORT_ITEMS))
            session.commit()
            self.camera_id = cam.id
        env = os.environ | {
            "SITEAUDIT_DATABASE_URL": url,
            "SITEAUDIT_SECRET_KEY": "bench-" + "k" * 40,
            "SITEAUDIT_STORAGE_BACKEND": "s3",
            "SITEAUDIT_S3_ENDPOINT": f"127.0.0.1:{self.gate.port}",
            "SITEAUDIT_S3_ACCESS_KEY": S3_ACCESS_KEY,
            "SITEAUDIT_S3_SECRET_KEY": S3_SECRET_KEY,
            "SITEAUDIT_S3_BUCKET": bucket,
            "SITEAUDIT_MAX_CAMERAS": "1",
        }
        env.pop("SITEAUDIT_DEV_MODE", None)
        self.workers = Workers(env, root)

    def close(self) -> None:
        self.workers.stop_all()
        self.camera.kill()
        self.gate.shut()
        self.engine.dispose()
        self.s3.close()
        self.pg.close()

    # -- views ---------------------------------------------------------------------------------------
    def streaming(self, name: str) -> bool:
        return bool((self.workers.streaming(name) or {}).get(str(self.camera_id)))

    def owner(self) -> str | None:
        """Which bench worker holds the camera's lease (by pid in the worker id)."""
        with self.sessions() as session:
            lease = session.get(CameraLease, self.camera_id)
            worker_id = lease.worker_id if lease else None
        pids = {str(p.pid): n for n, p in self.workers.procs.items() if p.poll() is None}
        return pids.get((worker_id or "::").split(":")[1])

    def drained(self) -> bool:
        """Nothing owed by any worker: journals empty, spools empty."""
        return all(not self.workers.journal(n) and self.spooled(n) == 0 for n in self.workers.procs)

    def journaled_events(self) -> set[str]:
        return {key for n in self.workers.procs for kind, key in self.workers.journal(n) if kind == "event"}

    def spooled(self, name: str) -> int:
        spool = self.workers.data_dir(name) / "spool" / ".queue"
        return len(list(spool.glob("*.key"))) if spool.is_dir() else 0

    def events_since(self, since: datetime) -> list[Event]:
        """Events recorded (or still running: ended after) since then."""
        with self.sessions() as session:
            recent = or_(Event.ended_at >= since, Event.created_at >= since)
            events = list(session.scalars(select(Event).where(recent).order_by(Event.id)))
            for event in events:
                _ = event.sources, event.clips
            return events

    def rules(self, config: dict[str, float]) -> None:
        with self.sessions() as session:
            row = session.scalars(select(RuleConfig)).one()
            row.config, row.version = config, row.version + 1
            session.commit()


def twice(events: list[Event]) -> int:
    """Pairs of events recording one incident twice: same camera, shared kind, overlapping spans, from
    two different lease epochs."""
    count = 0
    for i, a in enumerate(events):
        for b in events[i + 1 :]:
            if (a.camera_id == b.camera_id and set(a.kinds) & set(b.kinds)
                    and {s.lease_epoch for s in a.sources} != {s.lease_epoch for s in b.sources}
                    and a.started_at < b.ended_at and b.started_at < a.ended_at):  # fmt: skip
                count += 1
    return count


def rtsp_kills(b: Bench, owner: str, kills: int, down_s: float, f: Figures) -> None:
    print(f"1. RTSP source killed {kills}×, {down_s:.0f} s each", flush=True)
    since = datetime.now(UTC)
    recovered = 0
    noticed = 0
    for _ in range(kills):
        b.camera.kill()
        time.sleep(down_s)
        # The worker notices when its read times out (RTP over UDP says nothing when the server dies).
        noticed += bool(wait_for(lambda: not b.streaming(owner), 60))
        b.camera.start()
        if wait_for(lambda: b.streaming(owner), 60):
            recovered += 1
        time.sleep(1.0)
    wait_for(lambda: b.drained(), 60)
    with b.sessions() as session:
        intervals = session.scalar(
            # Each outage starts at the last frame before its kill (maybe before `since`), ends after it.
            select(func.count()).select_from(IntervalRow).where(IntervalRow.ended_at >= since)
        )
    f.add("RTSP kills: noticed by the worker", f"{noticed}/{kills}")
    f.add("RTSP kills: recovered", f"{recovered}/{kills}", f"{kills}/{kills}")
    f.add("RTSP kills: outage intervals recorded", str(intervals), str(kills))


def s3_outage(b: Bench, owner: str, down_s: float, f: Figures) -> None:
    print(f"2. S3 endpoint shut for {down_s:.0f} s while events fire", flush=True)
    start = datetime.now(UTC)
    b.gate.shut()
    time.sleep(down_s)
    # Shut for `down_s`, and longer (≤ 2 min) until at least one event's evidence was spooled.
    wait_for(lambda: b.spooled(owner), 120)
    spooled = b.spooled(owner)
    b.gate.open()
    wait_for(lambda: b.drained(), 120)
    # Events recorded since the shut (a publish blocked on the dead endpoint is recorded after it reopens).
    during = b.events_since(start)
    lost = 0
    for event in during:  # every event since the shut: its clip must be in S3, intact
        for clip in event.clips:
            try:
                data = b.s3.get(clip.object_key)
            except StorageError:
                lost += clip.kind == ClipKind.CLIP
                continue
            lost += clip.kind == ClipKind.CLIP and hashlib.sha256(data).hexdigest() != clip.sha256
    f.add("S3 outage: events since the shut", f"{len(during)} ({spooled} objects spooled)")
    if not spooled:
        f.fail("S3 outage: clips lost", "not measured: no evidence was written while S3 was shut")
        return
    f.add("S3 outage: clips lost", str(lost), "0")


def pg_restart(b: Bench, down_s: float, f: Figures) -> None:
    print(f"3. PostgreSQL stopped for {down_s:.0f} s while events fire, then started", flush=True)
    b.pg.stop()
    journaled: set[str] = set()
    deadline, latest = time.monotonic() + down_s, time.monotonic() + down_s + 120
    # Down for `down_s`, and longer (≤ 2 min) until at least one event fired into the journal.
    while time.monotonic() < deadline or (not journaled and time.monotonic() < latest):
        journaled |= b.journaled_events()
        time.sleep(0.5)
    journaled |= b.journaled_events()
    b.pg.start()
    wait_for(lambda: b.drained(), 120)
    with b.sessions() as session:
        recorded = set(session.scalars(select(EventSource.key).where(EventSource.key.in_(journaled))))
    f.add("PostgreSQL restart: events journaled while down", str(len(journaled)))
    if not journaled:
        f.fail("PostgreSQL restart: events lost", "not measured: no event fired while PostgreSQL was down")
        return
    f.add("PostgreSQL restart: events lost", str(len(journaled - recorded)), "0")


def takeover(b: Bench, owner: str, other: str, observe_s: float, f: Figures) -> None:
    print("4. the owner SIGKILLed mid-event; the other worker takes over", flush=True)
    b.rules(LONG_ITEMS)
    since = datetime.now(UTC)

    def open_event() -> bool:
        return any(s.closed_at is None for e in b.events_since(since) for s in e.sources)

    if not wait_for(open_event, 180):
        f.fail("SIGKILL: seconds until the camera runs elsewhere", "not measured: no open event to kill")
        return
    b.workers.kill(owner)
    killed = time.monotonic()
    moved = wait_for(lambda: b.streaming(other), 120)
    seconds = time.monotonic() - killed
    f.add("SIGKILL: seconds until the camera runs elsewhere", f"{seconds:.1f}" if moved else "> 120", "≤ 15")
    with b.sessions() as session:
        epoch = session.get(CameraLease, b.camera_id).epoch  # type: ignore[union-attr]

    def new_owner_recorded() -> bool:  # the footage goes on: the new owner's own item reaches the database
        return any(s.lease_epoch == epoch for e in b.events_since(since) for s in e.sources)

    wait_for(new_owner_recorded, 180)
    time.sleep(observe_s)
    events = b.events_since(since)
    continued = sum(1 for e in events if len({s.lease_epoch for s in e.sources}) > 1)
    f.add("SIGKILL: events across the takeover", f"{len(events)} ({continued} continued by the new owner)")
    f.add("SIGKILL: events recorded twice", str(twice(events)), "0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases: a smoke run")
    parser.add_argument("--kills", type=int, help="RTSP kills (default 20, quick 3)")
    parser.add_argument(
        "--s3-down", type=float, help="seconds the S3 endpoint is shut (default 60, quick 10)"
    )
    parser.add_argument("--pg-down", type=float, help="seconds PostgreSQL is stopped (default 20, quick 8)")
    parser.add_argument(
        "--observe", type=float, help="seconds watched after the takeover (default 30, quick 10)"
    )
    parser.add_argument("--lease-ttl", type=float, default=9.0, help="SITEAUDIT_LEASE_TTL_S (default 9)")
    args = parser.parse_args(argv)
    quick = args.quick
    kills = args.kills if args.kills is not None else (3 if quick else 20)
    s3_down = args.s3_down if args.s3_down is not None else (10.0 if quick else 60.0)
    pg_down = args.pg_down if args.pg_down is not None else (8.0 if quick else 20.0)
    observe = args.observe if args.observe is not None else (10.0 if quick else 30.0)
    if not gst_rtsp_available() or not VIDEO.exists():
        print("needs GStreamer's RTSP server and ../shared/videos/ppe-2.mp4", file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    moto, endpoint = start_moto()
    figures = Figures()
    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        bench = Bench(Path(tmp), endpoint)
        try:
            ttl = str(args.lease_ttl)
            bench.workers.start("a", lease_ttl_s=ttl)
            if not wait_for(lambda: bench.streaming("a"), 180):
                print("worker a never streamed:\n" + bench.workers.log("a")[-3000:], file=sys.stderr)
                return 1
            bench.workers.start("b", lease_ttl_s=ttl)
            wait_for(lambda: bench.workers.streaming("b") is not None, 120)
            # The owner can change between phases (a lease that expired while PostgreSQL was down goes to
            # whichever worker renews first): each phase asks who holds the camera now.
            rtsp_kills(bench, bench.owner() or "a", kills, 2.0, figures)
            s3_outage(bench, bench.owner() or "a", s3_down, figures)
            pg_restart(bench, pg_down, figures)
            wait_for(lambda: bench.owner() and bench.streaming(bench.owner() or ""), 120)
            owner = bench.owner() or "a"
            takeover(bench, owner, "b" if owner == "a" else "a", observe, figures)
        finally:
            bench.close()
            moto.stop()
    load = os.getloadavg()
    print(f"\nload average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    width = max(len(w) for w, _, _ in figures.rows)
    for what, value, goal in figures.rows:
        print(f"{what:<{width}}  {value:<28} {('goal ' + goal) if goal else ''}")
    return 1 if figures.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
