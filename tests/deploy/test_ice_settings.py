"""SITEAUDIT_ICE_SERVERS / TURN settings: malformed values stop `siteaudit` at start with one line (exit 2);
good ones become RFC 9725 Link headers with TURN REST credentials, on an authenticated OPTIONS only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from audit_api import ice
from audit_api.cli import main

SECRET = "turn-shared-secret-0123456789"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SITEAUDIT_ICE_SERVERS": "turn:turn.example.org"}, "ice_servers: Value error, not valid JSON"),
        (
            {"SITEAUDIT_ICE_SERVERS": '{"urls": "stun:a.example"}'},
            "ice_servers: Input should be a valid list",
        ),
        ({"SITEAUDIT_ICE_SERVERS": '[{"urls": "https://a.example"}]'}, "is not a STUN/TURN URL"),
        ({"SITEAUDIT_ICE_SERVERS": '[{"urls": "stun:a.example?transport=udp"}]'}, "only applies to turn:"),
        ({"SITEAUDIT_ICE_SERVERS": '[{"urls": []}]'}, "ice_servers.0.urls"),
        ({"SITEAUDIT_ICE_SERVERS": '[{"urls": "turn:t.example", "username": "u"}]'}, "go together"),
        ({"SITEAUDIT_ICE_SERVERS": '[{"urls": "turn:t.example", "user": "u"}]'}, "Extra inputs"),
        ({"SITEAUDIT_ICE_SERVERS": '[{"urls": "turn:t.example:3478"}]'}, "set SITEAUDIT_TURN_SECRET"),
        ({"SITEAUDIT_TURN_SECRET": "short"}, "turn_secret"),
        ({"SITEAUDIT_TURN_TTL_S": "10"}, "turn_ttl_s"),
        ({"SITEAUDIT_EVIDENCE_SHORT_RETENTION_DAYS": "0"}, "evidence_short_retention_days"),
        ({"SITEAUDIT_RETENTION_POLL_S": "0"}, "retention_poll_s"),
        (
            {"SITEAUDIT_EVIDENCE_SHORT_RETENTION_DAYS": "30", "SITEAUDIT_EVIDENCE_LONG_RETENTION_DAYS": "30"},
            "must be shorter than SITEAUDIT_EVIDENCE_LONG",
        ),
        ({"SITEAUDIT_WORKER_HTTP_PORT": "70000"}, "worker_http_port"),
        ({"SITEAUDIT_WORKER_PUBLIC_URL": "worker-1:8100"}, "worker_public_url"),
        ({"SITEAUDIT_WORKER_ORIGINS": '["https://w.example; script-src *"]'}, "worker_origins.0"),
        ({"SITEAUDIT_S3_PUBLIC_ENDPOINT": "ftp://evidence.example.org"}, "must be host:port or http(s)://"),
        ({"SITEAUDIT_S3_PUBLIC_ENDPOINT": "https://evidence.example.org/bucket"}, "no path"),
    ],
)
def test_malformed_deployment_settings_stop_the_worker_at_start(
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in (
        {"SITEAUDIT_DATA_DIR": str(tmp_path), "SITEAUDIT_SECRET_KEY": "s" * 40} | env
    ).items():
        monkeypatch.setenv(name, value)
    assert main(["worker"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("siteaudit: error: invalid setting") and message in line, line
    assert not (tmp_path / "siteaudit.db").exists()  # refused before touching anything


def test_the_refusal_is_the_process_exit_code(tmp_path: Path) -> None:
    env = os.environ | {"SITEAUDIT_DATA_DIR": str(tmp_path), "SITEAUDIT_SECRET_KEY": "s" * 40}
    env["SITEAUDIT_ICE_SERVERS"] = '[{"urls": "turn:turn.example.org"}]'
    result = subprocess.run(
        [sys.executable, "-m", "audit_api.cli", "serve"], env=env, text=True, capture_output=True, timeout=120
    )
    assert result.returncode == 2 and "set SITEAUDIT_TURN_SECRET" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_turn_rest_credentials_follow_coturns_scheme() -> None:
    before = time.time()
    username, credential = ice.turn_credentials(SECRET, "camera-7", 600)
    expiry, label = username.split(":")
    assert label == "camera-7" and before + 600 <= int(expiry) + 1 <= time.time() + 601
    expected = base64.b64encode(hmac.new(SECRET.encode(), username.encode(), hashlib.sha1).digest()).decode()
    assert credential == expected
