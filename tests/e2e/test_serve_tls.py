"""`siteaudit serve --tls-cert/--tls-key`: https directly (phones open their camera only on https pages)."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.net import free_port
from tests.fixtures.tls import self_signed

CLI = [sys.executable, "-m", "audit_api.cli"]


def test_serve_over_https(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    env = os.environ | {"SITEAUDIT_DEV_MODE": "1", "SITEAUDIT_DATA_DIR": str(tmp_path / "data")}
    args = ["serve", "--no-worker", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)]
    proc = subprocess.Popen(
        [*CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    trust = ssl.create_default_context(cafile=str(cert))  # verify against our own certificate
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(f"{base}/camera.html", verify=trust, timeout=2)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "https server did not come up"
                time.sleep(0.5)
        script = httpx.get(f"{base}/static/camera.js", verify=trust)
        assert page.status_code == 200 and "getUserMedia" in script.text
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert f"serving {base}" in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--tls-cert", "x.pem"], "go together"), (["--tls-cert", "x.pem", "--tls-key", "y.pem"], "not found")],
)
def test_bad_tls_arguments_are_one_line(tmp_path: Path, extra: list[str], message: str) -> None:
    env = os.environ | {"SITEAUDIT_DEV_MODE": "1", "SITEAUDIT_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([*CLI, "serve", *extra], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()


def test_busy_port_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = os.environ | {"SITEAUDIT_DEV_MODE": "1", "SITEAUDIT_DATA_DIR": str(tmp_path / "data")}
        result = subprocess.run(
            [*CLI, "demo", "--port", str(port)], env=env, capture_output=True, text=True, timeout=120
        )
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
    assert not (tmp_path / "data").exists()  # refused before analysing or writing anything
