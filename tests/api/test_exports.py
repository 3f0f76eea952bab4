"""CSV exports round-trip through `csv` with the rows the filters select, and refuse bad input first."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audit_api.models import Camera, CorrectiveAction, Event, EventStatus, Site, UnmonitoredInterval
from audit_api.services.exports import ACTION_COLUMNS, EVENT_COLUMNS, UNMONITORED_COLUMNS
from tests.fixtures.history import Seeded

ADMIN = "admin@example.com"


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def _local_day(ts: datetime, timezone: str) -> date:
    return ts.astimezone(ZoneInfo(timezone)).date()


def _expected(seeded: Seeded, kind: str, filters: dict[str, Any], start: date, end: date) -> set[int]:
    """The ids the export must hold, chosen here from the ORM rows."""
    with seeded.world.sessions() as session:
        if kind == "events":
            events = session.scalars(
                select(Event).options(selectinload(Event.camera).selectinload(Camera.site))
            ).all()
            return {
                e.id
                for e in events
                if start <= _local_day(e.started_at, e.camera.site.timezone) <= end
                and filters.get("site_id") in (None, e.camera.site_id)
                and filters.get("camera_id") in (None, e.camera_id)
                and filters.get("kind") in (None, *[v.kind for v in e.violations])
                and filters.get("status") in (None, e.status.value)
            }
        if kind == "actions":
            actions = session.scalars(select(CorrectiveAction)).all()
            return {
                a.id
                for a in actions
                if start <= _local_day(a.created_at, a.event.camera.site.timezone) <= end
                and filters.get("site_id") in (None, a.event.camera.site_id)
                and filters.get("camera_id") in (None, a.event.camera_id)
            }
        found = set()
        for interval in session.scalars(select(UnmonitoredInterval)).all():
            camera = session.get(Camera, interval.camera_id)
            assert camera is not None
            site = session.get(Site, camera.site_id)
            assert site is not None
            tz = ZoneInfo(site.timezone)
            a = datetime.combine(start, time(), tz)
            b = datetime.combine(end + timedelta(days=1), time(), tz)
            overlaps = interval.started_at < b and (interval.ended_at is None or interval.ended_at > a)
            wanted = filters.get("site_id") in (None, camera.site_id)
            if overlaps and wanted and filters.get("camera_id") in (None, camera.id):
                found.add(interval.id)
        return found


ID_COLUMN = {"events": "event_id", "actions": "action_id", "unmonitored": "interval_id"}
COLUMNS = {"events": EVENT_COLUMNS, "actions": ACTION_COLUMNS, "unmonitored": UNMONITORED_COLUMNS}
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("events", "whole period", {}),
    ("events", "one site", {"site_id": 0}),
    ("events", "one camera", {"camera_id": 0}),
    ("events", "one kind", {"kind": "no_vest"}),
    ("events", "signed off", {"status": EventStatus.SIGNED_OFF.value}),
    ("events", "one day", {"start": "2025-03-30", "end": "2025-03-30"}),
    ("actions", "whole period", {}),
    ("actions", "one site", {"site_id": 1}),
    ("unmonitored", "whole period", {}),
    ("unmonitored", "one camera", {"camera_id": 1}),
]


@pytest.mark.parametrize(("kind", "label", "filters"), CASES, ids=[f"{k}-{label}" for k, label, _ in CASES])
def test_csv_round_trips_with_the_filters(
    seeded: Seeded, kind: str, label: str, filters: dict[str, Any]
) -> None:
    history = seeded.history
    filters = dict(filters)
    if "site_id" in filters:
        filters["site_id"] = history.site_ids[filters["site_id"]]
    if "camera_id" in filters:
        filters["camera_id"] = history.camera_ids[history.site_ids[1]][filters["camera_id"]]
    start = date.fromisoformat(filters.pop("start", history.start.isoformat()))
    end = date.fromisoformat(filters.pop("end", history.end.isoformat()))
    params = filters | {"start": start.isoformat(), "end": end.isoformat()}
    response = seeded.world.client.get(
        f"/api/exports/{kind}.csv", params=params, headers=seeded.world.bearer(ADMIN)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert f"siteaudit-{kind}-{start}-{end}.csv" in response.headers["content-disposition"]
    rows = _rows(response.text)
    want = _expected(seeded, kind, filters, start, end)
    assert want, "the seeded history must give every case some rows"
    assert {int(r[ID_COLUMN[kind]]) for r in rows} == want and len(rows) == len(want)
    assert list(rows[0].keys()) == COLUMNS[kind]
    if kind == "events":
        starts = [datetime.fromisoformat(r["started_at_utc"]) for r in rows]
        assert starts == sorted(starts)  # oldest first
        for r in rows:
            assert datetime.fromisoformat(r["started_at_utc"]).tzinfo == UTC
            assert datetime.fromisoformat(r["started_at_local"]) == datetime.fromisoformat(
                r["started_at_utc"]
            )


def test_chinese_names_survive(seeded: Seeded) -> None:
    chinese = seeded.history.site_ids[2]
    params = {"start": "2025-03-01", "end": "2025-04-29", "site_id": chinese}
    response = seeded.world.client.get(
        "/api/exports/events.csv", params=params, headers=seeded.world.bearer(ADMIN)
    )
    rows = _rows(response.content.decode("utf-8"))
    assert rows and {r["site"] for r in rows} == {"东区工地 · 二号楼"}


def test_supervisors_export_their_sites_only(seeded: Seeded) -> None:
    world, (own, other, _) = seeded.world, seeded.history.site_ids
    boss = world.bearer("boss@example.com")
    params = {"start": "2025-03-01", "end": "2025-04-29"}
    rows = _rows(world.client.get("/api/exports/events.csv", params=params, headers=boss).text)
    with world.sessions() as session:
        own_name = session.get(Site, own)
        assert own_name is not None
        assert rows and {r["site"] for r in rows} == {own_name.name}
    refused = world.client.get("/api/exports/events.csv", params=params | {"site_id": other}, headers=boss)
    assert (refused.status_code, refused.json()["detail"]) == (404, f"site {other} not found")
    foreign_camera = seeded.history.camera_ids[other][0]
    refused = world.client.get(
        "/api/exports/actions.csv", params=params | {"camera_id": foreign_camera}, headers=boss
    )
    assert refused.status_code == 404


@pytest.mark.parametrize("kind", ["events", "actions", "unmonitored"])
@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"start": "2025-03-10", "end": "2025-03-01"}, 422),
        ({"start": "2024-01-01", "end": "2025-01-02"}, 422),
        ({"start": "2025-03-10", "end": "2025-13-01"}, 422),
        ({"start": "2025-03-10", "end": "2025-03-11", "camera_id": -1}, 422),
    ],
)
def test_bad_filters_are_refused_before_streaming(
    seeded: Seeded, kind: str, params: dict[str, Any], status: int
) -> None:
    response = seeded.world.client.get(
        f"/api/exports/{kind}.csv", params=params, headers=seeded.world.bearer(ADMIN)
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
