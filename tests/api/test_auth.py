"""Login, bearer tokens and role gates: 401 for bad credentials or tokens, 403 for the wrong role."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest

from audit_api.auth import ALGORITHM
from audit_api.models import utcnow
from tests.api.conftest import PASSWORD, SECRET, World


def test_login_and_me(world: World) -> None:
    response = world.client.get("/api/me", headers=world.login("inspector@example.com"))
    assert response.status_code == 200
    assert response.json() | {"id": 0} == {
        "id": 0,
        "email": "inspector@example.com",
        "name": "",
        "role": "inspector",
        "active": True,
        "site_ids": [],
    }


@pytest.mark.parametrize(
    ("username", "password"),
    [("inspector@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_bad_credentials_are_401(world: World, username: str, password: str) -> None:
    response = world.client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["detail"] == "incorrect email or password"


def test_missing_password_is_422(world: World) -> None:
    response = world.client.post("/api/auth/token", data={"username": "inspector@example.com"})
    assert response.status_code == 422


def test_email_is_case_insensitive(world: World) -> None:
    world.login("Inspector@Example.com")


def _token(sub: str, *, key: str = SECRET, minutes: int = 5) -> str:
    now = utcnow()
    claims = {"sub": sub, "iat": now, "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, key, algorithm=ALGORITHM)


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        _token("2", key="another-secret-that-is-long-enough-0123"),
        _token("2", minutes=-1),
        _token("999"),
        _token("abc"),
    ],
    ids=["garbage", "forged", "expired", "unknown-user", "bad-subject"],
)
def test_bad_tokens_are_401(world: World, token: str) -> None:
    response = world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_missing_token_is_401(world: World) -> None:
    assert world.client.get("/api/events").status_code == 401


def test_deactivated_user_loses_access(
    world: World, admin: dict[str, str], inspector: dict[str, str]
) -> None:
    me = world.client.get("/api/me", headers=inspector).json()
    response = world.client.patch(f"/api/users/{me['id']}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert world.client.get("/api/me", headers=inspector).status_code == 401
    login = {"username": "inspector@example.com", "password": PASSWORD}
    assert world.client.post("/api/auth/token", data=login).status_code == 401


@pytest.mark.parametrize(
    ("who", "method", "path", "body"),
    [
        ("inspector", "POST", "/api/sites", {"name": "x"}),
        ("supervisor", "POST", "/api/users", {"email": "a@b.co", "password": "12345678", "role": "admin"}),
        ("supervisor", "POST", "/api/events/1/review", {"verdict": "confirmed"}),
        ("admin", "POST", "/api/events/1/signoff", {}),
        ("inspector", "POST", "/api/alerts/1/ack", None),
        ("admin", "POST", "/api/actions/1/respond", {"response": "done"}),
        ("supervisor", "POST", "/api/actions/1/verify", {"note": ""}),
        ("inspector", "PUT", "/api/rules", {"k": 1, "n": 2}),
    ],
)
def test_role_enforcement(
    world: World,
    request: pytest.FixtureRequest,
    who: str,
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    headers: dict[str, str] = request.getfixturevalue(who)
    response = world.client.request(method, path, json=body, headers=headers)
    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith("requires role")
