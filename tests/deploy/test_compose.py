"""docker-compose.yml checked against the code (Docker does not run here): every SITEAUDIT_* variable is a
Settings field and the interpolated values load, every `siteaudit` command parses with the CLI's own
parser, the worker scales, health checks probe real endpoints, and what docs/deploy.md names exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the environment

from audit_api.cli import _parser
from audit_api.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
DEPLOY_DOC = (REPO / "docs" / "deploy.md").read_text()
# What an operator puts in .env (docs/deploy.md); used to interpolate ${VAR}, ${VAR:?msg}, ${VAR:-default}.
DOTENV = {
    "POSTGRES_PASSWORD": "pg-secret",
    "MINIO_ROOT_USER": "minio-admin",
    "MINIO_ROOT_PASSWORD": "minio-secret-123",
    "SITEAUDIT_SECRET_KEY": "k" * 40,
    "SITEAUDIT_TURN_SECRET": "t" * 32,
    "PUBLIC_HOST": "audit.example.org",
    "PUBLIC_IP": "203.0.113.7",
}
_VAR = re.compile(r"\$\{(?P<name>\w+)(?P<op>:?[-?])?(?P<arg>[^}]*)\}")


def interpolate(value: str) -> str:
    def one(match: re.Match[str]) -> str:
        name = match["name"]
        if name in DOTENV:
            return DOTENV[name]
        assert match["op"] and "-" in match["op"], f"${{{name}}} is required but not in the documented .env"
        return match["arg"]

    return _VAR.sub(one, value).replace("$$", "$")


def siteaudit_env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping, so the anchors merge"
    return {k: interpolate(str(v)) for k, v in env.items() if k.startswith("SITEAUDIT_")}


def published_ports(service: dict[str, Any]) -> set[str]:
    return {str(p).split(":")[0] for p in service.get("ports", [])}


SITEAUDIT_SERVICES = [
    name for name, s in SERVICES.items() if str(s.get("command", "")).startswith("siteaudit")
]


def test_the_deployed_topology_is_complete() -> None:
    assert {"postgres", "minio", "minio-init", "coturn", "api", "worker"} <= SERVICES.keys()
    assert set(SITEAUDIT_SERVICES) == {"api", "worker"}


@pytest.mark.parametrize("name", SITEAUDIT_SERVICES)
def test_siteaudit_variables_are_settings_that_load(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = siteaudit_env(SERVICES[name])
    unknown = {k for k in env if k.removeprefix("SITEAUDIT_").lower() not in Settings.model_fields}
    assert not unknown, f"{name} sets variables no Settings field reads: {sorted(unknown)}"
    for key in [k for k in __import__("os").environ if k.startswith("SITEAUDIT_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]  # ValidationError = a broken compose file
    assert settings.storage_backend == "s3" and settings.s3_public_endpoint == "http://audit.example.org:9000"
    assert [u for s in settings.ice_servers for u in s.urls] == [
        "stun:audit.example.org:3478",
        "turn:audit.example.org:3478?transport=udp",
        "turn:audit.example.org:3478?transport=tcp",
    ]


@pytest.mark.parametrize("name", SITEAUDIT_SERVICES)
def test_commands_are_real_cli_commands(name: str) -> None:
    argv = shlex.split(SERVICES[name]["command"])
    try:
        args = _parser().parse_args(argv[1:])
    except SystemExit as exc:
        raise AssertionError(
            f"{name}: {SERVICES[name]['command']!r} is not a valid siteaudit command"
        ) from exc
    assert args.command == {"api": "serve", "worker": "worker"}[name]
    if name == "api":
        assert args.no_worker and args.host == "0.0.0.0" and f"{args.port}" in published_ports(SERVICES[name])


def test_worker_scales_and_both_siteaudit_services_are_health_checked() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker and "ports" not in worker, "fixed names/ports block --scale"
    assert all(":" not in str(v) for v in worker.get("volumes", [])), "a named volume would be shared"
    http_port = siteaudit_env(worker)["SITEAUDIT_WORKER_HTTP_PORT"]
    assert siteaudit_env(worker)["SITEAUDIT_WORKER_HTTP_HOST"] == "0.0.0.0"
    assert f"127.0.0.1:{http_port}/api/health" in " ".join(worker["healthcheck"]["test"])
    api_port = _parser().parse_args(shlex.split(SERVICES["api"]["command"])[1:]).port
    assert f"127.0.0.1:{api_port}/api/health" in " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert worker["depends_on"]["api"]["condition"] == "service_healthy"


def test_coturn_shares_the_turn_secret_with_the_api() -> None:
    command = interpolate(SERVICES["coturn"]["command"])
    assert (
        "--use-auth-secret" in command
        and f"--static-auth-secret={DOTENV['SITEAUDIT_TURN_SECRET']}" in command
    )
    assert {"3478"} <= published_ports(SERVICES["coturn"])
    low, high = re.search(r"--min-port=(\d+) --max-port=(\d+)", command).groups()  # type: ignore[union-attr]
    assert f"{low}-{high}:{low}-{high}/udp" in SERVICES["coturn"]["ports"]


def _doc_table(heading: str) -> list[list[str]]:
    section = DEPLOY_DOC.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # past the header and its rule


def test_services_and_ports_the_docs_name_exist() -> None:
    rows = _doc_table("Services (docker-compose)")
    assert {re.findall(r"`([\w-]+)`", row[0])[0] for row in rows} == SERVICES.keys()
    for row in rows:
        name = re.findall(r"`([\w-]+)`", row[0])[0]
        documented = set(re.findall(r"`(\d+(?:-\d+)?)(?:/\w+)?`", row[1]))
        assert documented == published_ports(SERVICES[name]), f"{name}: docs say {documented}"


def test_settings_the_docs_name_exist() -> None:
    names = {
        re.findall(r"`(\w+)`", row[0])[0]
        for row in _doc_table("Settings (`SITEAUDIT_*` environment variables or `.env`)")
    }
    assert names and not {n for n in names if n.lower() not in Settings.model_fields}
