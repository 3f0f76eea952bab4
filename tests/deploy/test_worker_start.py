"""`siteaudit worker` started with a wrong database URL or wrong S3 credentials exits 2 with one clear line
(no traceback, no password), before it runs any camera. (An S3 endpoint that is merely down is not
refused at start: evidence spools until it is back.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.net import free_port

CLI = [sys.executable, "-m", "audit_api.cli", "worker"]
SECRET = "hunter2-secret-value"


@pytest.fixture(scope="module")
def strict_s3() -> Iterator[str]:
    """A moto S3 server that checks credentials (none are known to it, so every key is refused)."""
    port = free_port()
    env = os.environ | {"INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=30)


def _run(tmp_path: Path, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SITEAUDIT_DATA_DIR": str(tmp_path), "SITEAUDIT_SECRET_KEY": "w" * 40} | extra
    env.pop("SITEAUDIT_DEV_MODE", None)
    return subprocess.run(CLI, env=env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("db-unreachable", "cannot connect to postgresql+psycopg://ops:***@127.0.0.1:1/site"),
        ("db-malformed", "invalid database URL"),
        ("db-missing", 'database "no_such_db" does not exist'),
        ("s3-credentials", "refused the credentials"),
    ],
)
def test_wrong_database_or_s3_credentials_exit_2_with_one_line(
    case: str, fragment: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    extra: dict[str, str]
    if case == "db-unreachable":
        extra = {"SITEAUDIT_DATABASE_URL": f"postgresql+psycopg://ops:{SECRET}@127.0.0.1:1/site"}
    elif case == "db-malformed":
        extra = {"SITEAUDIT_DATABASE_URL": f"postgres-ish://ops:{SECRET}@db/site"}
    elif case == "db-missing":
        server: str = request.getfixturevalue("postgres_server")
        extra = {"SITEAUDIT_DATABASE_URL": f"{server}/no_such_db"}
    else:
        endpoint: str = request.getfixturevalue("strict_s3")
        extra = {
            "SITEAUDIT_STORAGE_BACKEND": "s3", "SITEAUDIT_S3_ENDPOINT": endpoint,
            "SITEAUDIT_S3_ACCESS_KEY": "not-a-key", "SITEAUDIT_S3_SECRET_KEY": SECRET,
        }  # fmt: skip
    result = _run(tmp_path, extra)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("siteaudit: error: "), result.stderr
    assert fragment in lines[0] and SECRET not in result.stderr + result.stdout
    assert "running" not in result.stdout  # refused before any camera lease was taken
