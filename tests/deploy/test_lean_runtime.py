"""The lean runtime: the API and worker import and start with torch and Ultralytics made unimportable,
and `model train|eval|export` then say which extra to install. The worker's Prometheus endpoint is
scraped on the way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.net import free_port

TRAINING_ONLY = ("torch", "torchvision", "ultralytics", "onnx")
# `sys.modules[name] = None` makes `import name` raise ModuleNotFoundError, as if it were not installed.
BLOCK = f"import sys; sys.modules.update(dict.fromkeys({TRAINING_ONLY!r})); "
RUNTIME_MODULES = (
    "audit_api.cli", "audit_api.main", "audit_api.worker.sync", "audit_api.worker.recorder",
    "audit_api.worker.lease_keeper", "audit_api.metrics", "ingest.worker", "ingest.whip", "ingest.rtsp",
    "detect.model", "detect.cli",
)  # fmt: skip


def _python(code: str, env: dict[str, str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCK + code], env=env, text=True, capture_output=True, timeout=180, **kw
    )  # type: ignore[call-overload]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {
        "SITEAUDIT_DATA_DIR": str(tmp_path / "data"),
        "SITEAUDIT_SECRET_KEY": "lean-" + "k" * 40,
    }


def test_runtime_modules_import_without_training_packages(env: dict[str, str]) -> None:
    code = (
        "import importlib\n"
        f"for name in {RUNTIME_MODULES!r}: importlib.import_module(name)\n"
        "from audit_api.main import create_app\n"
        "from detect.model import Detector\n"
        "Detector.load()\n"  # the shipped ONNX model runs on onnxruntime alone
        f"leaked = [m for m in {TRAINING_ONLY!r} if sys.modules.get(m) is not None]\n"
        "assert not leaked, leaked\n"
        "print('lean ok')\n"
    )
    result = _python(code, env)
    assert result.returncode == 0 and "lean ok" in result.stdout, result.stderr


@pytest.mark.parametrize("command", [["train", "--epochs", "1"], ["eval"], ["export"]])
def test_training_commands_name_the_extra(env: dict[str, str], command: list[str]) -> None:
    result = _python(f"from audit_api.cli import main; sys.exit(main(['model', *{command!r}]))", env)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert f"`siteaudit model {command[0]}` needs the training extras" in line
    assert "pip install 'siteaudit[train]'" in line


def test_worker_starts_lean_and_serves_metrics(env: dict[str, str]) -> None:
    port = free_port()
    env = env | {"SITEAUDIT_WORKER_HTTP_PORT": str(port)}
    worker = subprocess.Popen(
        [sys.executable, "-c", BLOCK + "from audit_api.cli import main; sys.exit(main(['worker']))"],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        text = _scrape(f"http://127.0.0.1:{port}/metrics", worker)
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert families["siteaudit_leases_held"].samples[0].value == 0  # no cameras in a fresh database
        assert families["siteaudit_detector_latency_seconds"].type == "histogram"
        assert {
            "siteaudit_spool_objects",
            "siteaudit_outbox_events",
            "siteaudit_alerts_sent",
        } <= families.keys()
    finally:
        worker.terminate()
        out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0 and "Traceback" not in out, out


def test_worker_http_port_in_use_is_one_clear_line(env: dict[str, str]) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = env | {"SITEAUDIT_WORKER_HTTP_PORT": str(port)}
        result = subprocess.run(
            [sys.executable, "-m", "audit_api.cli", "worker"], env=env, text=True, capture_output=True,
            timeout=120,
        )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("siteaudit: error: cannot serve the worker endpoint on 127.0.0.1:"), line
    assert "SITEAUDIT_WORKER_HTTP_PORT" in line and "Traceback" not in line


def _scrape(url: str, proc: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            response = httpx.get(url, timeout=5)
            if response.status_code == 200:
                return response.text
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} did not answer")


def test_serve_starts_lean_and_serves_metrics(env: dict[str, str]) -> None:
    port = free_port()
    code = f"from audit_api.cli import main; sys.exit(main(['serve', '--port={port}']))"
    serve = subprocess.Popen(
        [sys.executable, "-c", BLOCK + code],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        text = _scrape(f"http://127.0.0.1:{port}/metrics", serve)
        assert "siteaudit_leases_held 0.0" in text and "siteaudit_detector_latency_seconds_count" in text
        assert httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=10).json()["status"] == "ok"
    finally:
        serve.terminate()
        out, _ = serve.communicate(timeout=60)
    assert "Traceback" not in out, out


def test_packaging_keeps_training_out_of_the_runtime() -> None:
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}

    assert not names(project["dependencies"]) & set(TRAINING_ONLY)
    assert set(TRAINING_ONLY) <= names(project["optional-dependencies"]["train"])
    runs = [line for line in (repo / "Dockerfile").read_text().splitlines() if line.startswith("RUN pip")]
    assert runs and not any("torch" in line or "[train" in line or "ultralytics" in line for line in runs)
