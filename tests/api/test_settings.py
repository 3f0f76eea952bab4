"""Settings refuse unsafe secrets and incomplete S3 configuration with a readable message."""

from __future__ import annotations

import shutil
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from audit_api import cli
from audit_api.settings import DEFAULT_SECRET, Settings
from detect.model import DEFAULT_MODEL, FP32_MODEL, Detector

GOOD = "x" * 32


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "still the default 'change-me'"),
        ({"secret_key": SecretStr("short-secret")}, "at least 32 characters"),
        ({"dev_mode": True, "secret_key": SecretStr("short-secret")}, "at least 32 characters"),
        ({"secret_key": SecretStr(GOOD), "storage_backend": "s3"}, "needs SITEAUDIT_S3_ENDPOINT"),
        ({"secret_key": SecretStr(GOOD), "port": 0}, "greater than or equal to 1"),
    ],
)
def test_refused(overrides: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITEAUDIT_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match=message):
        Settings(_env_file=None, **overrides)  # type: ignore[call-arg]


def test_dev_mode_replaces_the_default_secret_with_a_random_one() -> None:
    first = Settings(_env_file=None, dev_mode=True)  # type: ignore[call-arg]
    second = Settings(_env_file=None, dev_mode=True)  # type: ignore[call-arg]
    keys = {first.secret_key.get_secret_value(), second.secret_key.get_secret_value()}
    assert DEFAULT_SECRET not in keys and len(keys) == 2


def test_environment_prefix_and_default_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITEAUDIT_SECRET_KEY", GOOD)
    monkeypatch.setenv("SITEAUDIT_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.effective_database_url == f"sqlite:///{tmp_path.resolve() / 'siteaudit.db'}"
    monkeypatch.setenv("SITEAUDIT_DATABASE_URL", "postgresql+psycopg://db/siteaudit")
    assert Settings(_env_file=None).effective_database_url == "postgresql+psycopg://db/siteaudit"  # type: ignore[call-arg]


def test_camera_networks_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEAUDIT_CAMERA_ALLOW_NETWORKS", '["169.254.10.0/24"]')
    policy = Settings(_env_file=None, dev_mode=True).camera_network_policy  # type: ignore[call-arg]
    assert policy.refusal(ip_address("169.254.10.7")) is None
    assert policy.refusal(ip_address("169.254.169.254")) is not None  # the default deny list still applies
    assert policy.refusal(ip_address("127.0.0.1")) is None
    monkeypatch.setenv("SITEAUDIT_CAMERA_DENY_NETWORKS", '["169.254.169.254/16"]')  # host bits set
    with pytest.raises(ValidationError, match="camera_deny_networks"):
        Settings(_env_file=None, dev_mode=True)  # type: ignore[call-arg]


def test_the_worker_loads_the_detector_from_models_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("SITEAUDIT_DEV_MODE", "1")
    monkeypatch.setenv("SITEAUDIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SITEAUDIT_MODELS_DIR", str(models))
    assert cli.main(["worker"]) == 2  # nothing there yet: one clear line, no traceback
    assert f"model file not found: {models / DEFAULT_MODEL.name}" in capsys.readouterr().err

    shutil.copyfile(FP32_MODEL, models / DEFAULT_MODEL.name)  # another model under the expected name
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    loaded = cli._load_detector(settings)
    assert loaded.model_version.endswith(Detector.load(FP32_MODEL).model_version.split("+")[1])
    assert loaded.model_version != Detector.load(DEFAULT_MODEL).model_version
