"""A 422 quotes at most a short excerpt of what was sent, in FastAPI's shape (the pages read loc and msg)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from audit_api.api.errors import INPUT_EXCERPT_CHARS, MAX_ISSUES, MESSAGE_CHARS
from tests.api.conftest import World

BIG = 60_000  # under the test app's 64 KiB body limit: these bodies reach validation, not the 413
ANSWER_BYTES = 4096  # what any of them may cost in reply
USER = {"email": "new@example.com", "password": "long enough pw", "role": "supervisor"}


@pytest.mark.parametrize(
    ("method", "path", "request_kwargs", "first_loc", "first_type"),
    [
        ("POST", "/api/sites", {"json": {"name": "n" * BIG}}, ["body", "name"], "string_too_long"),
        ("POST", "/api/sites", {"json": {"name": "ok", "k" * BIG: 1}}, None, "extra_forbidden"),
        ("POST", "/api/sites", {"json": list(range(BIG // 6))}, ["body"], "model_attributes_type"),
        (
            "POST",
            "/api/sites",
            {"content": "z" * BIG, "headers": {"Content-Type": "text/plain"}},
            ["body"],
            None,
        ),
        (
            "POST",
            "/api/sites",
            {"content": '{"name": "' + "x" * BIG, "headers": {"Content-Type": "application/json"}},
            None,
            "json_invalid",
        ),
        (
            "POST",
            "/api/users",
            {"json": USER | {"site_ids": ["x"] * 400}},
            ["body", "site_ids", 0],
            "int_parsing",
        ),
        (
            "POST",
            "/api/cameras",
            {"json": {"site_id": 1, "name": "c", "kind": "rtsp", "url": "a" * 2000 + "://host/"}},
            ["body"],
            "value_error",
        ),
        ("GET", f"/api/events?kind={'k' * 5000}", {}, ["query", "kind"], "string_too_long"),
    ],
    ids=[
        "long-field",
        "long-extra-key",
        "huge-list",
        "text-body",
        "broken-json",
        "many-errors",
        "long-msg",
        "query",
    ],
)
def test_a_422_quotes_only_an_excerpt(
    world: World,
    admin: dict[str, str],
    method: str,
    path: str,
    request_kwargs: dict[str, Any],
    first_loc: list[str | int] | None,
    first_type: str | None,
) -> None:
    kwargs = dict(request_kwargs)  # the table is shared by both databases' runs
    headers = admin | kwargs.pop("headers", {})
    response = world.client.request(method, path, headers=headers, **kwargs)

    assert response.status_code == 422, response.text[:500]
    assert len(response.content) <= ANSWER_BYTES, f"{len(response.content)} bytes: {response.text[:300]}"
    issues = response.json()["detail"]
    assert 1 <= len(issues) <= MAX_ISSUES + 1
    for issue in issues:
        assert isinstance(issue["loc"], list) and isinstance(issue["msg"], str) and issue["msg"]
        assert len(issue["msg"]) <= MESSAGE_CHARS + 1
        quoted = issue.get("input")
        text = quoted if isinstance(quoted, str) else json.dumps(quoted)
        assert len(text) <= INPUT_EXCERPT_CHARS + 1, text
        assert all(len(str(part)) <= INPUT_EXCERPT_CHARS + 1 for part in issue["loc"])
    if first_loc is not None:
        assert issues[0]["loc"] == first_loc
    if first_type is not None:
        assert issues[0]["type"] == first_type


def test_short_inputs_are_quoted_whole(world: World, admin: dict[str, str]) -> None:
    response = world.client.post("/api/sites", json={"name": "", "timezone": "UTC"}, headers=admin)
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body", "name"] and issue["input"] == "" and issue["ctx"] == {"min_length": 1}


def test_many_errors_end_with_a_count(world: World, admin: dict[str, str]) -> None:
    response = world.client.post("/api/users", json=USER | {"site_ids": ["x"] * 500}, headers=admin)
    issues = response.json()["detail"]
    assert len(issues) == MAX_ISSUES + 1
    assert issues[-1] == {
        "type": "too_many_errors",
        "loc": [],
        "msg": f"and {500 - MAX_ISSUES} more invalid values",
    }
