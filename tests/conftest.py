"""Shared fixtures live in tests/fixtures/*.py, one module per real server or resource."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.s3",
    "tests.fixtures.rtsp",
    "tests.fixtures.disk",
    "tests.fixtures.turn",
    "tests.fixtures.history",
    "tests.fixtures.artifacts",
]

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__import__("os").environ.get("SITEAUDIT_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED} (set SITEAUDIT_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def videos(shared_dir: Path) -> Path:
    return shared_dir / "videos"


@pytest.fixture(scope="session")
def dataset_dir(shared_dir: Path) -> Path:
    return shared_dir / "datasets" / "construction-site-safety"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> object:
    """Under scripts/test.sh (SITEAUDIT_STRICT_TESTS=1) a skip is a failure: a missing server or browser
    must not turn a real test into one that cannot fail."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and __import__("os").environ.get("SITEAUDIT_STRICT_TESTS") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped under SITEAUDIT_STRICT_TESTS=1: {report.longrepr}"
    return None
