"""The authorization matrix, generated from the app's own route table: every route × role × own/other site.

POLICY declares, for every route under /api and /whip, who may call it. A route missing from POLICY fails
`test_every_route_has_a_policy`, so a new route cannot ship without a scoping decision. Each route is then
called, on a real migrated database, by every role, with path ids of real objects of the supervisor's own
site and of the other site: supervisors get 404 (never 403) for objects of sites they do not supervise,
exactly like an unknown id.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.api.conftest import CRANE_URL, PASSWORD, SiteObjects, World
from tests.fixtures.net import serve_app
from tests.fixtures.photos import small_png

ROLES = {
    "anonymous": None,
    "admin": "admin@example.com",
    "inspector": "inspector@example.com",
    "supervisor": "boss@example.com",  # supervises the "own" site
    "other_supervisor": "other-boss@example.com",  # supervises the "other" site
}
SUPERVISES = {"supervisor": "own", "other_supervisor": "other"}


class Access(enum.Enum):
    PUBLIC = "anyone, signed in or not"
    SIGNED_IN = "any signed-in user, not tied to a site"
    ADMIN = "admins only (403 for other roles)"
    INSPECTOR = "inspectors only"
    AUDIT = "admins and inspectors"
    SITE_VIEW = "admins and inspectors: every site; supervisors: their sites, 404 for others"
    SITE_SUPERVISOR = "the site's supervisors: 403 for admins and inspectors, 404 for other supervisors"
    CAMERA_TOKEN = "a camera's own WHIP token, never a user's bearer token (401)"
    PREFLIGHT = "a CORS preflight without credentials; with an Authorization header, the camera's token (401)"
    VIEWER_TOKEN = "a live-view token in ?token= (POST .../live-token), never a bearer token (401)"


Body = Callable[[SiteObjects], dict[str, Any]]


@dataclass(frozen=True)
class Rule:
    access: Access
    ok: int = 200
    """The status when access is granted (a 409 means the object was found but its state refuses)."""
    json: Body | None = None
    form: dict[str, str] | None = None
    files: Callable[[], list[tuple[str, tuple[str, bytes, str]]]] | None = None
    stream: bool = False
    """An endless response (SSE): checked on a real server, reading the status only."""
    headers: dict[str, str] = field(default_factory=dict)


ZONE = {"name": "pit", "polygon": [[0.2, 0.2], [0.7, 0.2], [0.7, 0.7]], "required_ppe": ["hardhat"]}
CALIBRATION = {
    "image_points": [[0.1, 0.1], [0.8, 0.1], [0.8, 0.8], [0.1, 0.8]],
    "world_points_m": [[0, 0], [8, 0], [8, 8], [0, 8]],
}
PLAN = {"name": "another round", "times": ["10:00"], "grace_minutes": 30}
A = Access
PHOTO = lambda: [("photos", ("a.png", small_png(), "image/png"))]  # noqa: E731
PUSH_ENDPOINT = "http://127.0.0.1:9/push/matrix"
PUSH_SUBSCRIPTION = {
    "endpoint": PUSH_ENDPOINT,
    # A real P-256 point (65 bytes) and a 16-byte auth secret, base64url.
    "keys": {"p256dh": "B" + "A" * 85 + "Q", "auth": "AAAAAAAAAAAAAAAAAAAAAA"},
}
POLICY: dict[tuple[str, str], Rule] = {
    ("POST", "/api/auth/token"): Rule(A.PUBLIC, form={"username": "admin@example.com", "password": PASSWORD}),
    ("POST", "/api/auth/refresh"): Rule(A.PUBLIC, 401, json=lambda o: {"refresh_token": "x" * 43}),
    ("POST", "/api/auth/logout"): Rule(A.SIGNED_IN, 204),  # its own sign-in only
    ("GET", "/api/me"): Rule(A.SIGNED_IN),
    ("GET", "/api/health"): Rule(A.PUBLIC),
    ("GET", "/api/users"): Rule(A.ADMIN),
    ("POST", "/api/users"): Rule(
        A.ADMIN, 201, json=lambda o: {"email": "new@example.com", "password": PASSWORD, "role": "inspector"}
    ),
    ("PATCH", "/api/users/{user_id}"): Rule(A.ADMIN, json=lambda o: {"name": "renamed"}),
    ("GET", "/api/sites"): Rule(A.SITE_VIEW),
    ("POST", "/api/sites"): Rule(A.ADMIN, 201, json=lambda o: {"name": "East yard"}),
    ("GET", "/api/sites/{site_id}"): Rule(A.SITE_VIEW),
    ("PUT", "/api/sites/{site_id}"): Rule(A.ADMIN, json=lambda o: {"name": f"yard {o.site_id}"}),
    ("DELETE", "/api/sites/{site_id}"): Rule(A.ADMIN, 409),  # it has events: evidence is kept
    ("GET", "/api/cameras"): Rule(A.SITE_VIEW),
    ("POST", "/api/cameras"): Rule(
        A.ADMIN, 201, json=lambda o: {"site_id": o.site_id, "name": "new", "kind": "whip"}
    ),
    ("GET", "/api/cameras/{camera_id}"): Rule(A.SITE_VIEW),
    ("PATCH", "/api/cameras/{camera_id}"): Rule(A.ADMIN, json=lambda o: {"enabled": False}),
    ("POST", "/api/cameras/{camera_id}/token"): Rule(A.ADMIN, 409),  # an rtsp camera has no token
    ("DELETE", "/api/cameras/{camera_id}"): Rule(A.ADMIN, 409),  # it has events
    ("GET", "/api/cameras/{camera_id}/health"): Rule(A.SITE_VIEW),
    # Live view needs the worker running the camera in this process: the test app runs none (503).
    ("POST", "/api/cameras/{camera_id}/live-token"): Rule(A.SITE_VIEW, 201),
    ("GET", "/api/cameras/{camera_id}/live"): Rule(A.VIEWER_TOKEN),
    ("GET", "/api/cameras/{camera_id}/live/frame"): Rule(A.SITE_VIEW, 503),
    ("GET", "/api/cameras/{camera_id}/detections"): Rule(A.SITE_VIEW, 503),
    ("POST", "/api/cameras/{camera_id}/captures"): Rule(A.AUDIT, 503, json=lambda o: {}),
    ("GET", "/api/cameras/{camera_id}/zones"): Rule(A.SITE_VIEW),
    ("POST", "/api/cameras/{camera_id}/zones"): Rule(A.ADMIN, 201, json=lambda o: ZONE | {"name": "new"}),
    ("GET", "/api/zones/{zone_id}"): Rule(A.SITE_VIEW),
    ("PUT", "/api/zones/{zone_id}"): Rule(A.ADMIN, json=lambda o: ZONE),
    ("DELETE", "/api/zones/{zone_id}"): Rule(A.ADMIN, 204),
    ("GET", "/api/cameras/{camera_id}/calibration"): Rule(A.SITE_VIEW),
    ("PUT", "/api/cameras/{camera_id}/calibration"): Rule(A.ADMIN, json=lambda o: CALIBRATION),
    ("GET", "/api/cameras/{camera_id}/rules"): Rule(A.SITE_VIEW),
    ("PUT", "/api/cameras/{camera_id}/rules"): Rule(A.ADMIN, json=lambda o: {"k": 2}),
    ("DELETE", "/api/cameras/{camera_id}/rules"): Rule(A.ADMIN, 204),
    ("GET", "/api/rules"): Rule(A.SIGNED_IN),
    ("PUT", "/api/rules"): Rule(A.ADMIN, json=lambda o: {"k": 2}),
    ("GET", "/api/events"): Rule(A.SITE_VIEW),
    ("GET", "/api/events/{event_id}"): Rule(A.SITE_VIEW),
    ("GET", "/api/events/{event_id}/clip"): Rule(A.SITE_VIEW),
    ("GET", "/api/events/{event_id}/snapshot"): Rule(A.SITE_VIEW),
    ("POST", "/api/events/{event_id}/review"): Rule(
        A.INSPECTOR, 201, json=lambda o: {"verdict": "confirmed"}
    ),
    ("POST", "/api/events/{event_id}/signoff"): Rule(A.INSPECTOR, 201),
    ("GET", "/api/segments/{segment_id}"): Rule(A.SITE_VIEW),
    ("GET", "/api/violations/{violation_id}/snapshot"): Rule(A.SITE_VIEW),
    ("POST", "/api/events/review"): Rule(
        A.INSPECTOR, 201, json=lambda o: {"event_ids": [o.event_id], "verdict": "false_positive"}
    ),
    ("GET", "/api/actions"): Rule(A.SITE_VIEW),
    ("GET", "/api/actions/{action_id}"): Rule(A.SITE_VIEW),
    ("POST", "/api/actions/{action_id}/respond"): Rule(
        A.SITE_SUPERVISOR,
        form={"note": "done"},
        files=lambda: [("photos", ("a.png", small_png(), "image/png"))],
    ),
    ("POST", "/api/actions/{action_id}/verify"): Rule(A.INSPECTOR, 409, json=lambda o: {}),  # not answered
    ("POST", "/api/actions/{action_id}/reopen"): Rule(A.INSPECTOR, 409, json=lambda o: {"note": "why"}),
    ("GET", "/api/actions/{action_id}/report.pdf"): Rule(A.SITE_VIEW, 409),  # not closed yet
    ("GET", "/api/action-photos/{photo_id}"): Rule(A.SITE_VIEW),
    ("GET", "/api/sites/{site_id}/supervisors"): Rule(A.SITE_VIEW),
    ("GET", "/api/audit/integrity"): Rule(A.AUDIT),
    ("GET", "/api/alerts"): Rule(A.SITE_VIEW),
    ("POST", "/api/alerts/{alert_id}/ack"): Rule(A.SITE_SUPERVISOR),
    ("GET", "/api/alerts/{alert_id}/snapshot"): Rule(A.SITE_VIEW),
    # The token is the credential (no sign-in); without one: 422 for everybody.
    ("GET", "/api/alerts/ack-link"): Rule(A.PUBLIC, 422),
    ("GET", "/api/alerts/ack-link/snapshot"): Rule(A.PUBLIC, 422),  # the signed token is the credential
    ("GET", "/api/storage"): Rule(A.ADMIN),
    ("POST", "/api/alerts/ack-link"): Rule(A.PUBLIC, 422),
    ("GET", "/api/push/vapid-key"): Rule(A.SIGNED_IN),
    ("POST", "/api/push/subscriptions"): Rule(A.SIGNED_IN, 201, json=lambda o: PUSH_SUBSCRIPTION),
    ("POST", "/api/push/unsubscribe"): Rule(A.SIGNED_IN, 204, json=lambda o: {"endpoint": PUSH_ENDPOINT}),
    ("GET", "/api/alerts/stream"): Rule(A.SITE_VIEW, stream=True),
    ("GET", "/api/sites/{site_id}/alert-channels"): Rule(A.ADMIN),
    ("POST", "/api/sites/{site_id}/alert-channels"): Rule(
        A.ADMIN, 201, json=lambda o: {"name": "ops", "type": "webhook", "url": "http://127.0.0.1:9/hook"}
    ),
    ("DELETE", "/api/alert-channels/{channel_id}"): Rule(A.ADMIN, 204),
    ("GET", "/api/alert-deliveries"): Rule(A.ADMIN),
    ("GET", "/api/patrol-plans"): Rule(A.SITE_VIEW),
    ("POST", "/api/patrol-plans"): Rule(
        A.ADMIN, 201, json=lambda o: PLAN | {"site_id": o.site_id, "camera_ids": [o.camera_id]}
    ),
    ("GET", "/api/patrol-plans/{plan_id}"): Rule(A.SITE_VIEW),
    ("PUT", "/api/patrol-plans/{plan_id}"): Rule(
        A.ADMIN, json=lambda o: PLAN | {"camera_ids": [o.camera_id]}
    ),
    ("DELETE", "/api/patrol-plans/{plan_id}"): Rule(A.ADMIN, 204),  # it has a round: deactivated
    ("GET", "/api/patrols/schedule"): Rule(A.SITE_VIEW),
    ("GET", "/api/patrol-rounds"): Rule(A.SITE_VIEW),
    ("POST", "/api/patrol-rounds"): Rule(A.INSPECTOR, 201, json=lambda o: {"plan_id": o.plan_id}),
    ("GET", "/api/patrol-rounds/{round_id}"): Rule(A.SITE_VIEW),
    ("POST", "/api/patrol-rounds/{round_id}/end"): Rule(A.INSPECTOR),
    ("POST", "/api/patrol-steps/{step_id}/start"): Rule(A.INSPECTOR),
    ("POST", "/api/patrol-steps/{step_id}/verdict"): Rule(A.INSPECTOR, json=lambda o: {"verdict": "ok"}),
    ("GET", "/api/dashboard"): Rule(A.SITE_VIEW),
    ("GET", "/api/exports/events.csv"): Rule(A.SITE_VIEW),
    ("GET", "/api/exports/actions.csv"): Rule(A.SITE_VIEW),
    ("GET", "/api/exports/unmonitored.csv"): Rule(A.SITE_VIEW),
    ("POST", "/api/sites/{site_id}/reports"): Rule(
        A.AUDIT, 201, json=lambda o: {"start": "2025-03-01", "end": "2025-03-02"}
    ),
    ("GET", "/api/reports"): Rule(A.SITE_VIEW),
    ("GET", "/api/reports/{report_id}"): Rule(A.SITE_VIEW),
    ("GET", "/api/audit"): Rule(A.AUDIT),
    ("GET", "/api/audit/verify"): Rule(A.AUDIT),
    ("POST", "/whip/{camera_id}"): Rule(A.CAMERA_TOKEN, headers={"Content-Type": "application/sdp"}),
    ("DELETE", "/whip/{camera_id}/{session_id}"): Rule(A.CAMERA_TOKEN),
    ("OPTIONS", "/whip/{camera_id}"): Rule(A.PREFLIGHT, 204),  # with the token: ICE servers (RFC 9725)
    ("OPTIONS", "/whip/{camera_id}/{session_id}"): Rule(A.PUBLIC, 204),
}

PATH_IDS: dict[str, Callable[[SiteObjects], int | str]] = {
    "site_id": lambda o: o.site_id,
    "camera_id": lambda o: o.camera_id,
    "zone_id": lambda o: o.zone_id,
    "event_id": lambda o: o.event_id,
    "action_id": lambda o: o.action_id,
    "alert_id": lambda o: o.alert_id,
    "channel_id": lambda o: o.channel_id,
    "photo_id": lambda o: o.photo_id,
    "report_id": lambda o: o.report_id,
    "user_id": lambda o: o.supervisor_id,
    "plan_id": lambda o: o.plan_id,
    "round_id": lambda o: o.round_id,
    "step_id": lambda o: o.step_id,
    "session_id": lambda o: "no-such-session",
    "segment_id": lambda o: o.segment_id,
    "violation_id": lambda o: o.violation_id,
}


def expected(rule: Rule, role: str, site: str | None) -> int:
    """The status `role` must get from a route with `rule` on an object of `site` ("own" or "other"), or
    on a route without an object (site None: lists show each role what it may see)."""
    access = rule.access
    if access is Access.PUBLIC:
        return rule.ok
    if access is Access.PREFLIGHT:
        return rule.ok if role == "anonymous" else 401
    if role == "anonymous" or access in (Access.CAMERA_TOKEN, Access.VIEWER_TOKEN):
        return 401
    staff = role in ("admin", "inspector")
    granted = {
        Access.SIGNED_IN: True,
        Access.ADMIN: role == "admin",
        Access.INSPECTOR: role == "inspector",
        Access.AUDIT: staff,
        Access.SITE_VIEW: staff or site in (None, SUPERVISES[role]),
        Access.SITE_SUPERVISOR: not staff and site in (None, SUPERVISES[role]),
    }[access]
    if granted:
        return rule.ok
    site_scoped = access in (Access.SITE_VIEW, Access.SITE_SUPERVISOR) and not staff
    return 404 if site_scoped else 403


def api_routes(world: World) -> set[tuple[str, str]]:
    """(method, path) of every API route the app serves (included routers flattened)."""
    return {
        (method, route.path)
        for route in iter_route_contexts(world.app.routes)
        if isinstance(route.original_route, APIRoute) and (route.path or "").startswith(("/api/", "/whip/"))
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_every_route_has_a_policy(world: World) -> None:
    routes = api_routes(world)
    assert routes - POLICY.keys() == set(), "routes without an authorization policy: add them to POLICY"
    assert POLICY.keys() - routes == set(), "POLICY names routes the app does not have"


def _cases(method: str, path: str, rule: Rule) -> list[tuple[str, str | None, int]]:
    """(role, site, expected status); denials first so that granted writes cannot change what they see."""
    sites: tuple[str | None, ...] = ("own", "other") if "{" in path else (None,)
    cases = [(role, site, expected(rule, role, site)) for role in ROLES for site in sites]
    return sorted(cases, key=lambda case: case[2] == rule.ok and rule.ok < 400)


@pytest.mark.parametrize(("method", "path"), sorted(POLICY), ids=[f"{m} {p}" for m, p in sorted(POLICY)])
def test_route_authorization(
    world: World, site_objects: dict[str, SiteObjects], method: str, path: str
) -> None:
    rule = POLICY[(method, path)]
    headers = {role: ({} if email is None else world.bearer(email)) for role, email in ROLES.items()}
    got: list[tuple[str, str | None, int, int, str]] = []
    for role, site, want in _cases(method, path, rule):
        objects = site_objects[site or "own"]  # bodies of routes without an object use the own site
        names = [name for name in PATH_IDS if "{" + name + "}" in path]
        url = path.format(**{name: PATH_IDS[name](objects) for name in names})
        request_headers = rule.headers | headers[role]
        if rule.stream:
            status, text = _stream_status(world, url, request_headers)
        else:
            response = world.client.request(
                method,
                url,
                headers=request_headers,
                json=rule.json(objects) if rule.json else None,
                data=rule.form,
                files=rule.files() if rule.files else None,
            )
            status, text = response.status_code, response.text[:200]
        got.append((role, site, want, status, text))
    wrong = [f"{r} on {s}'s object: expected {w}, got {g}: {t}" for r, s, w, g, t in got if w != g]
    assert wrong == [], "\n".join(wrong)


def _stream_status(world: World, url: str, headers: dict[str, str]) -> tuple[int, str]:
    with (
        serve_app(world.app, name="authz-stream") as base,
        httpx.Client(base_url=base, timeout=30) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        return response.status_code, response.headers.get("content-type", "")


@pytest.mark.parametrize(
    ("path", "site_of"),
    [
        ("/api/sites", lambda item, o: item["id"]),
        ("/api/cameras", lambda item, o: item["site_id"]),
        ("/api/alerts", lambda item, o: item["site_id"]),
        ("/api/events", lambda item, o: item["site_id"]),
        ("/api/actions", lambda item, o: o[item["event_id"]]),
        ("/api/patrol-plans", lambda item, o: item["site_id"]),
        ("/api/patrol-rounds", lambda item, o: item["site_id"]),
        ("/api/reports", lambda item, o: item["site_id"]),
    ],
)
def test_lists_show_supervisors_only_their_sites(
    world: World, site_objects: dict[str, SiteObjects], path: str, site_of: Callable[..., int]
) -> None:
    event_sites = _event_sites(world)
    for role, email in ROLES.items():
        if email is None:
            continue
        response = world.client.get(path, headers=world.bearer(email))
        assert response.status_code == 200, response.text
        body = response.json()
        items = body["items"] if isinstance(body, dict) else body
        seen = {site_of(item, event_sites) for item in items}
        if role in SUPERVISES:
            assert seen == {site_objects[SUPERVISES[role]].site_id}, (role, path, body)
        else:
            assert seen == {world.site_id, world.other_site_id}, (role, path, body)
        total = body["total"] if isinstance(body, dict) else len(items)
        assert response.headers["X-Total-Count"] == str(total)


def _event_sites(world: World) -> dict[int, int]:
    from sqlalchemy import select

    from audit_api.models import Camera, Event

    with world.sessions() as session:
        rows = session.execute(select(Event.id, Camera.site_id).join(Event.camera)).all()
    return {event_id: site_id for event_id, site_id in rows}


@pytest.mark.parametrize("role", ["admin", "inspector", "supervisor"])
def test_camera_urls_and_health_errors_are_for_admins_only(
    world: World, site_objects: dict[str, SiteObjects], role: str
) -> None:
    from audit_api.models import CameraStatus, utcnow
    from ingest.urls import redact as redact_url

    with world.sessions() as session:
        snapshot = {"state": "reconnecting", "last_error": "connection refused by 10.0.0.7:554"}
        session.add(CameraStatus(camera_id=world.camera_id, snapshot=snapshot, updated_at=utcnow()))
        session.commit()
    headers = world.bearer(ROLES[role] or "")
    camera = world.client.get(f"/api/cameras/{world.camera_id}", headers=headers).json()
    cameras = world.client.get("/api/cameras", headers=headers).json()
    health = world.client.get(f"/api/cameras/{world.camera_id}/health", headers=headers).json()
    assert health["state"] == "reconnecting"
    if role == "admin":
        assert camera["url"] == redact_url("rtsp://cam.local/stream")
        assert {c["url"] for c in cameras} == {redact_url(u) for u in ("rtsp://cam.local/stream", CRANE_URL)}
        assert "pw" not in str(cameras)
        assert health["last_error"] == "connection refused by 10.0.0.7:554"
    else:
        assert camera["url"] is None and {c["url"] for c in cameras} == {None}
        assert "10.0.0.7" not in str(health) and "refused" not in str(health)  # a coarse reason only


SITE_SCOPED = sorted(
    key
    for key, rule in POLICY.items()
    if rule.access in (Access.SITE_VIEW, Access.SITE_SUPERVISOR) and "{" in key[1]
)


@pytest.mark.parametrize(("method", "path"), SITE_SCOPED, ids=[f"{m} {p}" for m, p in SITE_SCOPED])
def test_other_sites_ids_look_unknown(
    world: World, site_objects: dict[str, SiteObjects], method: str, path: str
) -> None:
    """A supervisor cannot tell another site's object from an id that does not exist: same status, same
    message (but for the id itself)."""
    from audit_api.schemas.bounds import MAX_INT

    rule = POLICY[(method, path)]
    (name,) = [n for n in PATH_IDS if "{" + n + "}" in path]
    foreign = PATH_IDS[name](site_objects["other"])
    body = rule.json(site_objects["other"]) if rule.json else None
    answers = []
    for value in (foreign, MAX_INT):
        response = world.client.request(
            method,
            path.format(**{name: value}),
            headers=world.bearer("boss@example.com"),
            json=body,
            data=rule.form,
            files=rule.files() if rule.files else None,
        )
        answers.append((response.status_code, response.json()["detail"].replace(str(value), "<id>")))
    assert answers[0] == answers[1] and answers[0][0] == 404, answers


def test_supervisor_of_no_site_sees_nothing(world: World, site_objects: dict[str, SiteObjects]) -> None:
    from audit_api.models import Role, User
    from tests.api.conftest import _PASSWORD_HASH

    with world.sessions() as session:
        session.add(User(email="idle@example.com", role=Role.SUPERVISOR, password_hash=_PASSWORD_HASH))
        session.commit()
    headers = world.bearer("idle@example.com")
    for path in ("/api/sites", "/api/cameras", "/api/alerts", "/api/actions"):
        response = world.client.get(path, headers=headers)
        assert (response.status_code, response.json(), response.headers["X-Total-Count"]) == (200, [], "0")
    assert world.client.get("/api/events", headers=headers).json()["total"] == 0
    own = site_objects["own"]
    assert world.client.get(f"/api/cameras/{own.camera_id}", headers=headers).status_code == 404
    assert world.client.get(f"/api/sites/{own.site_id}", headers=headers).status_code == 404
