"""Bounds on every integer and date the API takes, and pagination on every list (issue 9's input table).

Each row is an input that used to answer 500 (or was ignored) with the status it must get now. Ids, offsets
and sequence numbers are bounded by MAX_INT (PostgreSQL INTEGER); dates are aware, years 2000 to 2100; a
Range header longer than MAX_RANGE_HEADER_CHARS is an unsatisfiable range (416).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from audit_api.api.params import MAX_RANGE_HEADER_CHARS
from audit_api.schemas.bounds import DEFAULT_LIMIT, MAX_ID_LIST, MAX_INT, MAX_LIMIT
from tests.api.conftest import CLIP_BYTES, PASSWORD, SiteObjects, World
from tests.api.test_authz_matrix import POLICY, ROLES, Access, expected

HUGE = 2**63
DIGITS_5000 = "9" * 5000
# The live stream takes a viewer token, not a bearer token: its id bound is checked by
# tests/e2e/test_live_view.py::test_viewer_tokens_are_scoped.
ID_ROUTES = sorted(
    key
    for key in POLICY
    if re.search(r"\{(?!session_id)\w+_id\}", key[1])
    and key[1].startswith("/api/")
    and POLICY[key].access is not Access.VIEWER_TOKEN
)


def _granted_role(method: str, path: str) -> str:
    """A role the route lets through (so the bound, not the role gate, decides)."""
    rule = POLICY[(method, path)]
    return next(role for role in ROLES if role != "anonymous" and expected(rule, role, "own") == rule.ok)


@pytest.mark.parametrize(("method", "path"), ID_ROUTES, ids=[f"{m} {p}" for m, p in ID_ROUTES])
def test_path_ids_are_bounded(
    world: World, site_objects: dict[str, SiteObjects], method: str, path: str
) -> None:
    """Every id in every path: out of bounds → 422; the largest id → 404 (so the body sent is valid)."""
    rule = POLICY[(method, path)]
    headers = world.bearer(ROLES[_granted_role(method, path)] or "")
    body = rule.json(site_objects["own"]) if rule.json else None
    got = {}
    for value in (HUGE, MAX_INT + 1, 0, -1, DIGITS_5000, MAX_INT):
        url = re.sub(r"\{\w+\}", str(value), path)
        files = rule.files() if rule.files else None
        response = world.client.request(
            method, url, headers=headers | rule.headers, json=body, data=rule.form, files=files
        )
        got[str(value)[:20]] = response.status_code
    assert got == {str(v)[:20]: 422 for v in (HUGE, MAX_INT + 1, 0, -1, DIGITS_5000)} | {str(MAX_INT): 404}


@pytest.mark.parametrize("camera_id", [str(HUGE), DIGITS_5000, "-1", "0"])
def test_whip_camera_ids_out_of_bounds_are_unknown(world: World, camera_id: str) -> None:
    response = world.client.post(
        f"/whip/{camera_id}", headers={"Authorization": "Bearer x", "Content-Type": "application/sdp"}
    )
    assert response.status_code == 404, response.text


EVENTS = "/api/events"
LISTS = [
    "/api/sites", "/api/cameras", "/api/users", "/api/alerts", "/api/actions", EVENTS, "/api/zones",
    "/api/reports",
]  # fmt: skip
QUERY_ROWS: list[tuple[str, dict[str, Any], int]] = [
    *[(path, {"offset": HUGE}, 422) for path in LISTS],
    *[(path, {"offset": -1}, 422) for path in LISTS],
    *[(path, {"offset": MAX_INT}, 200) for path in LISTS],
    *[(path, {"limit": 0}, 422) for path in LISTS],
    *[(path, {"limit": MAX_LIMIT + 1}, 422) for path in LISTS],
    *[(path, {"limit": MAX_LIMIT}, 200) for path in LISTS],
    *[(path, {"limit": DIGITS_5000}, 422) for path in LISTS],
    ("/api/audit", {"after_seq": HUGE}, 422),
    ("/api/audit", {"after_seq": -1}, 422),
    ("/api/audit", {"after_seq": MAX_INT}, 200),
    ("/api/audit", {"limit": 0}, 422),
    ("/api/audit", {"limit": MAX_LIMIT + 1}, 422),
    (EVENTS, {"since": "0001-01-01T00:00:00+14:00"}, 422),
    (EVENTS, {"since": "9999-12-31T23:59:59-14:00"}, 422),
    (EVENTS, {"since": "1999-12-31T23:59:59Z"}, 422),
    (EVENTS, {"since": "2025-03-04T09:30:00"}, 422),  # naive: which time zone?
    (EVENTS, {"since": "2000-01-01T00:00:00Z"}, 200),
    (EVENTS, {"since": "2025-03-04T09:30:00+08:00"}, 200),
    (EVENTS, {"site_id": HUGE}, 422),
    (EVENTS, {"camera_id": -1}, 422),
    (EVENTS, {"site_id": MAX_INT}, 200),
    ("/api/cameras", {"site_id": HUGE}, 422),
    ("/api/cameras", {"site_id": 0}, 422),
]


def _list_url(path: str, objects: SiteObjects) -> str:
    return f"/api/cameras/{objects.camera_id}/zones" if path == "/api/zones" else path


@pytest.mark.parametrize(("path", "params", "status"), QUERY_ROWS)
def test_query_bounds(
    world: World,
    site_objects: dict[str, SiteObjects],
    admin: dict[str, str],
    path: str,
    params: Any,
    status: int,
) -> None:
    response = world.client.get(_list_url(path, site_objects["own"]), params=params, headers=admin)
    assert response.status_code == status, response.text[:300]


@pytest.mark.parametrize(
    ("range_header", "status"),
    [
        ("bytes=0-9", 206),
        ("bytes=" + DIGITS_5000 + "-", 416),
        ("bytes=0-" + DIGITS_5000, 416),
        ("bytes=-" + DIGITS_5000, 416),
        ("bytes=" + "0" * (MAX_RANGE_HEADER_CHARS - 8) + "-9", 206),  # long but within the cap
        ("bytes=" + "0" * MAX_RANGE_HEADER_CHARS + "-9", 416),
        (f"bytes={len(CLIP_BYTES) + 10}-", 416),
    ],
)
def test_range_header_bounds(
    world: World, site_objects: dict[str, SiteObjects], admin: dict[str, str], range_header: str, status: int
) -> None:
    url = f"/api/events/{site_objects['own'].event_id}/clip"
    response = world.client.get(url, headers=admin | {"Range": range_header})
    assert response.status_code == status, response.text[:300]
    if status == 416:
        assert response.headers["Content-Range"].startswith("bytes */")
        assert len(response.text) < 500  # the header is not echoed back in full
    else:
        assert response.content == CLIP_BYTES[:10]


@pytest.mark.parametrize("last_event_id", [DIGITS_5000, str(HUGE), "-1"])
def test_last_event_id_is_bounded(world: World, admin: dict[str, str], last_event_id: str) -> None:
    response = world.client.get("/api/alerts/stream", headers=admin | {"Last-Event-ID": last_event_id})
    assert response.status_code == 422, response.text[:300]


NEW_USER = {"email": "new@example.com", "password": PASSWORD, "role": "supervisor"}
NEW_CAMERA = {"name": "new", "kind": "whip"}
OWN_SITE = -999  # replaced by the own site's id
BODY_ROWS: list[tuple[str, str, dict[str, Any], int]] = [
    ("POST", "/api/cameras", NEW_CAMERA | {"site_id": HUGE}, 422),
    ("POST", "/api/cameras", NEW_CAMERA | {"site_id": -1}, 422),
    ("POST", "/api/cameras", NEW_CAMERA | {"site_id": MAX_INT}, 422),  # in bounds, but no such site
    ("POST", "/api/cameras", NEW_CAMERA | {"site_id": OWN_SITE}, 201),
    ("POST", "/api/users", NEW_USER | {"site_ids": [HUGE]}, 422),
    ("POST", "/api/users", NEW_USER | {"site_ids": [0]}, 422),
    ("POST", "/api/users", NEW_USER | {"site_ids": list(range(1, MAX_ID_LIST + 2))}, 422),
    ("POST", "/api/users", NEW_USER | {"site_ids": [OWN_SITE]}, 201),
    ("PATCH", "/api/users/{supervisor_id}", {"site_ids": [HUGE]}, 422),
    ("PATCH", "/api/users/{supervisor_id}", {"site_ids": [OWN_SITE]}, 200),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), BODY_ROWS)
def test_body_ids_are_bounded(
    world: World,
    site_objects: dict[str, SiteObjects],
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any],
    status: int,
) -> None:
    own = site_objects["own"]
    for key, value in body.items():
        if value == OWN_SITE:
            body = body | {key: own.site_id}
        elif value == [OWN_SITE]:
            body = body | {key: [own.site_id]}
    response = world.client.request(
        method, path.format(supervisor_id=own.supervisor_id), json=body, headers=admin
    )
    assert response.status_code == status, response.text[:300]


@pytest.mark.parametrize(
    ("due", "status"),
    [
        ("0001-01-01T00:00:00+14:00", 422),
        ("9999-12-31T23:59:59-14:00", 422),
        ("2025-04-01T12:00:00", 422),  # naive
        ("2025-04-01T12:00:00+08:00", 422),  # in the past (a due date lies ahead: DueDateTime)
        ("in 10 days", 201),  # made at run time: the id must not change between xdist workers
    ],
)
def test_action_due_is_bounded(
    world: World, site_objects: dict[str, SiteObjects], inspector: dict[str, str], due: str, status: int
) -> None:
    url = f"/api/events/{site_objects['own'].event_id}/signoff"
    if due == "in 10 days":
        due = (datetime.now(UTC) + timedelta(days=10)).astimezone(timezone(timedelta(hours=8))).isoformat()
    response = world.client.post(url, json={"action_due": due}, headers=inspector)
    assert response.status_code == status, response.text[:300]
    with world.sessions() as session:
        from audit_api.models import Event

        event = session.get(Event, site_objects["own"].event_id)
        assert event is not None and (event.signoff is not None) == (status == 201)  # nothing half-written


PAGED = ["/api/sites", "/api/cameras", "/api/users", "/api/alerts", "/api/actions", "/api/zones", EVENTS]


@pytest.fixture
def thirty_of_each(world: World, site_objects: dict[str, SiteObjects]) -> dict[str, int]:
    """30 more rows of every listed kind (in the own site): the total each list must then report."""
    from sqlalchemy import func, select

    from audit_api.models import Alert, Camera, CameraKind, CorrectiveAction, Event, Role, Site, User, Zone
    from tests.api.conftest import _PASSWORD_HASH

    own = site_objects["own"]
    with world.sessions() as session:
        event = session.get(Event, own.event_id)
        assert event is not None
        for n in range(30):
            session.add_all(
                [
                    Site(name=f"site {n}"),
                    Camera(site_id=own.site_id, name=f"cam {n}", kind=CameraKind.WHIP),
                    User(email=f"u{n}@example.com", role=Role.INSPECTOR, password_hash=_PASSWORD_HASH),
                    Alert(event_id=event.id, site_id=own.site_id),
                    CorrectiveAction(event_id=event.id, description=f"fix {n}"),
                    Zone(camera_id=own.camera_id, name=f"zone {n}", polygon=[[0, 0], [1, 0], [1, 1]]),
                ]
            )
        session.commit()
        totals = {
            "/api/sites": session.scalar(select(func.count()).select_from(Site)),
            "/api/cameras": session.scalar(select(func.count()).select_from(Camera)),
            "/api/users": session.scalar(select(func.count()).select_from(User)),
            "/api/alerts": session.scalar(select(func.count()).select_from(Alert)),
            "/api/actions": session.scalar(select(func.count()).select_from(CorrectiveAction)),
            "/api/zones": session.scalar(select(func.count()).where(Zone.camera_id == own.camera_id)),
            EVENTS: session.scalar(select(func.count()).select_from(Event)),
        }
    return {path: total or 0 for path, total in totals.items()}


@pytest.mark.parametrize("path", PAGED)
def test_lists_honour_limit_and_offset(
    world: World,
    site_objects: dict[str, SiteObjects],
    thirty_of_each: dict[str, int],
    admin: dict[str, str],
    path: str,
) -> None:
    url, total = _list_url(path, site_objects["own"]), thirty_of_each[path]
    seen: list[int] = []
    offset = 0
    while offset < total:
        response = world.client.get(url, params={"limit": 10, "offset": offset}, headers=admin)
        assert response.status_code == 200, response.text[:300]
        assert response.headers["X-Total-Count"] == str(total)
        body = response.json()
        items = body["items"] if path == EVENTS else body
        assert len(items) == min(10, total - offset)
        seen += [item["id"] for item in items]
        offset += 10
    assert len(seen) == len(set(seen)) == total  # pages neither overlap nor skip
    default = world.client.get(url, headers=admin).json()
    assert len(default["items"] if path == EVENTS else default) == min(total, DEFAULT_LIMIT)
