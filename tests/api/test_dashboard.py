"""The dashboard's figures equal the same figures computed here, independently, from the recorded rows."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from audit_api.models import (
    ActionStatus,
    Camera,
    CorrectiveAction,
    Event,
    Site,
    UnmonitoredInterval,
    Verdict,
)
from audit_api.schemas.bounds import MAX_PERIOD_DAYS
from tests.api.conftest import World
from tests.fixtures.history import Seeded


def _hours(a: datetime, b: datetime) -> float:
    return max((b - a).total_seconds(), 0) / 3600


def expected_site(world: World, site_id: int, start: date, end: date) -> dict[str, Any]:
    """Every figure of one site, from the ORM rows, without the service's SQL."""
    now = datetime.now(UTC)
    with world.sessions() as session:
        site = session.get(Site, site_id)
        assert site is not None
        tz = ZoneInfo(site.timezone)
        a = datetime.combine(start, time(), tz).astimezone(UTC)
        b = datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC)
        cameras = session.scalars(select(Camera).where(Camera.site_id == site_id)).all()
        events = session.scalars(
            select(Event)
            .join(Event.camera)
            .where(Camera.site_id == site_id)
            .options(selectinload(Event.violations), selectinload(Event.reviews), selectinload(Event.signoff))
        ).all()
        actions = session.scalars(
            select(CorrectiveAction)
            .join(CorrectiveAction.event)
            .join(Event.camera)
            .where(Camera.site_id == site_id)
        ).all()
        outages = session.scalars(
            select(UnmonitoredInterval).where(UnmonitoredInterval.camera_id.in_([c.id for c in cameras]))
        ).all()
        daily: Counter[tuple[str, str]] = Counter()
        per_camera: Counter[int] = Counter()
        confirmed_camera: Counter[int] = Counter()
        per_zone: Counter[tuple[int, int | None]] = Counter()
        verdicts: Counter[Verdict] = Counter()
        signoff_s, verify_s = [], []
        in_period = 0
        for event in events:
            verdict = max(event.reviews, key=lambda r: r.id).verdict if event.reviews else None
            if a <= event.started_at < b:
                in_period += 1
                if verdict is not None:
                    verdicts[verdict] += 1
                if event.signoff is not None:
                    signoff_s.append((event.signoff.at - event.started_at).total_seconds())
            if verdict == Verdict.FALSE_POSITIVE:
                continue
            for v in event.violations:
                if a <= v.ts < b:
                    daily[(v.ts.astimezone(tz).date().isoformat(), v.kind)] += 1
                    per_camera[event.camera_id] += 1
                    per_zone[(event.camera_id, v.zone_id)] += 1
                    if verdict == Verdict.CONFIRMED:
                        confirmed_camera[event.camera_id] += 1
        for action in actions:
            if action.status == ActionStatus.VERIFIED and a <= action.created_at < b:
                assert action.verified_at is not None
                verify_s.append((action.verified_at - action.created_at).total_seconds())
        unverified = [x for x in actions if x.status != ActionStatus.VERIFIED]
        lost: defaultdict[int, float] = defaultdict(float)
        for o in outages:
            lost[o.camera_id] += _hours(max(o.started_at, a), min(o.ended_at or b, b))
        watched = {c.id: _hours(a, min(b, now)) - lost[c.id] for c in cameras}
    monitored = sum(watched.values())
    confirmed = sum(confirmed_camera.values())
    reviewed = sum(verdicts.values())

    def p(values: list[float], q: int) -> float | None:
        return statistics.quantiles(values, n=10, method="inclusive")[q - 1] if len(values) > 1 else None

    return {
        "totals": {
            "events": in_period,
            "violations": sum(per_camera.values()),
            "confirmed_violations": confirmed,
            "reviewed_events": reviewed,
            "false_positive_events": verdicts[Verdict.FALSE_POSITIVE],
            "false_positive_share": verdicts[Verdict.FALSE_POSITIVE] / reviewed if reviewed else None,
            "cameras": len(cameras),
            "monitored_hours": monitored,
            "unmonitored_hours": sum(lost.values()),
            "compliance_rate": confirmed * 100 / monitored if monitored else None,
            "signed_off_events": len(signoff_s),
            "signoff_median_s": statistics.median(signoff_s) if signoff_s else None,
            "signoff_p90_s": p(signoff_s, 9),
            "verified_actions": len(verify_s),
            "verify_median_s": statistics.median(verify_s) if verify_s else None,
            "verify_p90_s": p(verify_s, 9),
            "open_actions": len(unverified),
            "overdue_actions": sum(1 for x in unverified if x.due is not None and x.due < now),
        },
        "daily": dict(daily),
        "cameras": {c: (per_camera[c], confirmed_camera[c], watched[c], lost[c]) for c in watched},
        "zones": dict(per_zone),
    }


def _close(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    wrong = []
    for key, value in want.items():
        if isinstance(value, float):
            if got[key] is None or abs(got[key] - value) > 1e-3 * max(1.0, abs(value)):
                wrong.append(f"{key}: got {got[key]}, want {value}")
        elif got[key] != value:
            wrong.append(f"{key}: got {got[key]}, want {value}")
    return wrong


def _daily(body: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(d["day"], d["kind"]): d["count"] for d in body["daily"]}


ADMIN = "admin@example.com"


def test_figures_match_the_rows(seeded: Seeded) -> None:
    world, history = seeded.world, seeded.history
    admin = world.bearer(ADMIN)
    params = {"start": history.start.isoformat(), "end": history.end.isoformat()}
    assert history.events >= 300
    overall = world.client.get("/api/dashboard", params=params, headers=admin)
    assert overall.status_code == 200, overall.text
    body = overall.json()
    assert [s["site_id"] for s in body["sites"]] == history.site_ids
    wants = {s: expected_site(world, s, history.start, history.end) for s in history.site_ids}
    for site_id, want in wants.items():
        one = world.client.get("/api/dashboard", params=params | {"site_id": site_id}, headers=admin).json()
        assert _close(one["totals"], want["totals"]) == [], site_id
        assert _daily(one) == want["daily"]
        assert sum(want["daily"].values()) == want["totals"]["violations"] > 0
        cameras = {c["camera_id"]: c for c in one["cameras"]}
        for camera_id, (count, confirmed, watched, lost) in want["cameras"].items():
            got = cameras[camera_id]
            assert (got["violations"], got["confirmed_violations"]) == (count, confirmed)
            assert got["monitored_hours"] == pytest.approx(watched, abs=1e-3)
            assert got["unmonitored_hours"] == pytest.approx(lost, abs=1e-3)
        assert {(z["camera_id"], z["zone_id"]): z["violations"] for z in one["zones"]} == want["zones"]
        site_totals = next(s for s in body["sites"] if s["site_id"] == site_id)["totals"]
        assert site_totals == one["totals"]
    # across sites: sums, a pooled rate, and the local days of each site added up
    counted = ("events", "violations", "confirmed_violations", "open_actions", "overdue_actions", "cameras")
    for key in counted:
        assert body["totals"][key] == sum(w["totals"][key] for w in wants.values()), key
    monitored = sum(w["totals"]["monitored_hours"] for w in wants.values())
    confirmed = sum(w["totals"]["confirmed_violations"] for w in wants.values())
    assert body["totals"]["compliance_rate"] == pytest.approx(confirmed * 100 / monitored, rel=1e-4)
    merged: Counter[tuple[str, str]] = Counter()
    for w in wants.values():
        merged.update(w["daily"])
    assert _daily(body) == dict(merged)
    assert {"compliance_rate", "false_positive_share", "monitored_hours"} <= body["definitions"].keys()
    assert "per 100 monitored camera-hours" in body["definitions"]["compliance_rate"]


def test_days_are_local_and_period_edges_count(seeded: Seeded) -> None:
    """One day's figure is that local day's rows only, on a day that is 23 hours long."""
    world, admin = seeded.world, seeded.world.bearer(ADMIN)
    berlin = seeded.history.site_ids[1]
    day = date(2025, 3, 30)  # 23 hours long in Berlin (summer time starts)
    params = {"start": day.isoformat(), "end": day.isoformat(), "site_id": berlin}
    body = world.client.get("/api/dashboard", params=params, headers=admin).json()
    want = expected_site(world, berlin, day, day)
    assert (
        _close(
            body["totals"], {k: v for k, v in want["totals"].items() if "_s" not in k and "share" not in k}
        )
        == []
    )
    site = body["sites"][0]
    assert (site["start_utc"], site["end_utc"]) == ("2025-03-29T23:00:00Z", "2025-03-30T22:00:00Z")
    assert body["totals"]["monitored_hours"] + body["totals"]["unmonitored_hours"] == pytest.approx(23 * 3)


def test_supervisors_see_their_sites_only(seeded: Seeded) -> None:
    world, history = seeded.world, seeded.history
    supervisor, other_supervisor = world.bearer("boss@example.com"), world.bearer("other-boss@example.com")
    params = {"start": history.start.isoformat(), "end": history.end.isoformat()}
    own, other, chinese = history.site_ids
    mine = world.client.get("/api/dashboard", params=params, headers=supervisor).json()
    assert [s["site_id"] for s in mine["sites"]] == [own]
    assert {c["site_id"] for c in mine["cameras"]} == {own}
    theirs = world.client.get("/api/dashboard", params=params, headers=other_supervisor).json()
    assert [s["site_id"] for s in theirs["sites"]] == [other, chinese]
    for site_id in (other, chinese):
        refused = world.client.get("/api/dashboard", params=params | {"site_id": site_id}, headers=supervisor)
        assert refused.status_code == 404 and refused.json()["detail"] == f"site {site_id} not found"


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"start": "2025-03-10", "end": "2025-03-09"}, 422, "before it starts"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, 422, f"at most {MAX_PERIOD_DAYS} days"),
        ({"start": "2024-01-01", "end": "2024-12-31"}, 200, None),  # a leap year: 366 days
        ({"start": "2025-03-10", "end": "2025-03-10"}, 200, None),
        ({"start": "1999-12-31", "end": "2000-01-02"}, 422, None),
        ({"start": "2025-03-10"}, 422, None),
        ({"start": "2025-03-10", "end": "10 March"}, 422, None),
        ({"start": "2025-03-10", "end": "2025-03-11", "site_id": 0}, 422, None),
    ],
)
def test_period_bounds(
    world: World, admin: dict[str, str], params: dict[str, Any], status: int, detail: str | None
) -> None:
    response = world.client.get("/api/dashboard", params=params, headers=admin)
    assert response.status_code == status, response.text
    if detail is not None:
        assert detail in response.json()["detail"]
