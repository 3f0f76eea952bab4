"""The periodic site report: a PDF that opens (pdftotext finds the site and its figures, pdftoppm renders
it, a Chinese site name is text), stored with its SHA-256, generated once per site and period however many
schedulers run, and refused for bad periods."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from audit_api.models import ReportStatus, ReportTrigger, SiteReport
from audit_api.services.reports import previous_period
from audit_api.services.reports.scheduler import ReportScheduler
from tests.fixtures.history import CHINESE_SITE, Seeded

ADMIN = "admin@example.com"
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    )
    return out.stdout.decode()


def _render_png(pdf: bytes, tmp_path: Path) -> list[Path]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=120
    )
    return sorted(tmp_path.glob("page*.png"))


LABELS = {  # (language, the site: index in History.site_ids, its name) → the labels the figures follow
    "zh-CN": {
        "violations": "违规数（不含误报）",
        "confirmed": "确认违规",
        "open": "未关闭的整改单（当前）/ 逾期",
        "headings": ["工地安全报告", "本期指标", "违规最多的摄像头", "本期下发整改单的整改状态", "指标说明"],
        "period": "统计周期：2025-03-01 – 2025-03-31 · 时区 Asia/Shanghai",
        "kind": "未戴安全帽",
    },
    "en": {
        "violations": "Violations (false positives excluded)",
        "confirmed": "Confirmed violations",
        "open": "Open corrective actions (now) / overdue",
        "headings": ["Site safety report", "Figures of the period", "Cameras with the most violations",
                     "Rectification status of the actions opened in the period", "Definitions"],
        "period": "Period: 2025-03-01 – 2025-03-31 · times in Asia/Shanghai",
        "kind": "No hardhat",
    },
}  # fmt: skip


@needs_poppler
@pytest.mark.parametrize(
    ("lang", "site_index", "site_name"), [("zh-CN", 2, CHINESE_SITE), ("en", 0, "North yard")]
)
def test_on_demand_report_has_the_sites_figures(
    seeded: Seeded, tmp_path: Path, artifacts_dir: Path, lang: str, site_index: int, site_name: str
) -> None:
    """In the site's language (the Chinese site: zh-CN, the default; North yard: en), the generated time
    labelled with the site's zone, numbers as Babel writes them."""
    world, history = seeded.world, seeded.history
    admin = world.bearer(ADMIN)
    site_id = history.site_ids[site_index]
    assert world.client.get(f"/api/sites/{site_id}", headers=admin).json()["locale"] == lang
    period = {"start": "2025-03-01", "end": "2025-03-31"}
    created = world.client.post(f"/api/sites/{site_id}/reports", json=period, headers=admin)
    assert created.status_code == 201, created.text
    report = created.json()
    assert (report["status"], report["trigger"], report["error"]) == ("ready", "on_demand", None)
    pdf = world.client.get(f"/api/reports/{report['id']}", headers=admin)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert hashlib.sha256(pdf.content).hexdigest() == report["sha256"] and len(pdf.content) == report["size"]
    figures = world.client.get("/api/dashboard", params=period | {"site_id": site_id}, headers=admin).json()
    text = _text(pdf.content, tmp_path)
    flat = " ".join(text.split())
    words = LABELS[lang]
    assert site_name in flat  # a Chinese name is text, not boxes or an image
    assert "楼层边缘" in flat  # a Chinese zone name in the worst zones table
    for heading in words["headings"]:
        assert heading in flat, heading
    t = figures["totals"]
    assert f"{words['violations']} {t['violations']:,}" in flat
    assert f"{words['confirmed']} {t['confirmed_violations']:,}" in flat
    assert f"{t['compliance_rate']:,.2f}" in flat
    assert f"{words['open']} {t['open_actions']} / {t['overdue_actions']}" in flat
    assert words["period"] in flat and "(Asia/Shanghai,GMT+08:00)" in "".join(flat.split())  # zone-labelled
    assert words["kind"] in flat  # the chart's legend names the kinds
    other = LABELS["en" if lang == "zh-CN" else "zh-CN"]
    assert not any(heading in flat for heading in other["headings"][1:])
    worst = max(figures["cameras"], key=lambda c: (c["confirmed_violations"], c["violations"]))
    assert worst["camera_name"] in flat
    pages = _render_png(pdf.content, tmp_path)
    assert pages and all(p.stat().st_size > 1000 for p in pages)
    backend = world.settings.effective_database_url.split(":")[0].split("+")[0]
    (artifacts_dir / f"site-report-{backend}-{lang}.pdf").write_bytes(pdf.content)
    shutil.copyfile(pages[0], artifacts_dir / f"site-report-{backend}-{lang}-page1.png")
    listed = world.client.get("/api/reports", params={"site_id": site_id}, headers=admin)
    assert report["id"] in [r["id"] for r in listed.json()]


def test_schedulers_generate_each_report_once(seeded: Seeded) -> None:
    """Three schedulers (three API replicas) poll at the same moment: one report per site and month."""
    world = seeded.world
    settings = world.settings.model_copy(update={"report_schedule": "monthly"})
    now = datetime(2025, 4, 2, 3, 0, tzinfo=UTC)  # March is the last complete month everywhere
    with world.sessions() as session:
        from audit_api.models import Site

        for site in session.scalars(select(Site)):
            site.created_at = datetime(2025, 1, 1, tzinfo=UTC)  # the sites existed in March
        session.commit()
    schedulers = [ReportScheduler(world.sessions, settings, world.store) for _ in range(3)]
    made: list[list[int]] = [[] for _ in schedulers]
    barrier = threading.Barrier(len(schedulers))

    def run(i: int) -> None:
        barrier.wait()
        made[i] = schedulers[i].run_once(now)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(schedulers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    ids = [i for batch in made for i in batch]
    assert len(ids) == len(set(ids)) == len(seeded.history.site_ids)  # every site once, nobody twice
    with world.sessions() as session:
        rows = session.scalars(select(SiteReport).where(SiteReport.trigger == ReportTrigger.SCHEDULED)).all()
        assert sorted(r.id for r in rows) == sorted(ids)
        assert {(r.schedule_key, r.start_day, r.end_day, r.status) for r in rows} == {
            ("monthly:2025-03", date(2025, 3, 1), date(2025, 3, 31), ReportStatus.READY)
        }
        for r in rows:
            assert r.object_key is not None
            assert hashlib.sha256(world.store.get(r.object_key)).hexdigest() == r.sha256
    assert ReportScheduler(world.sessions, settings, world.store).run_once(now) == []  # done: nothing again


def test_a_stale_claim_is_taken_over(seeded: Seeded) -> None:
    """A replica that died after claiming leaves a pending row; once older than the lease another
    scheduler generates it (once)."""
    from audit_api.services.dashboard import Period
    from audit_api.services.reports import claim_scheduled

    world = seeded.world
    site_id = seeded.history.site_ids[0]
    period = Period(date(2025, 2, 1), date(2025, 2, 28))
    with world.sessions() as session:
        first = claim_scheduled(session, site_id, period, "monthly:2025-02", lease_s=3600)
        assert first is not None and first.status == ReportStatus.PENDING
        assert (
            claim_scheduled(session, site_id, period, "monthly:2025-02", lease_s=3600) is None
        )  # fresh claim
        taken = claim_scheduled(session, site_id, period, "monthly:2025-02", lease_s=0)
        assert taken is not None and taken.id == first.id and taken.attempts == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"start": "2025-03-31", "end": "2025-03-01"}, 422),
        ({"start": "2024-01-01", "end": "2025-01-01"}, 422),  # 367 days
        ({"start": "2025-03-01"}, 422),
        ({"start": "2025-03-01", "end": "2025-03-31", "extra": 1}, 422),
        ({"start": "1999-03-01", "end": "2000-01-01"}, 422),
    ],
)
def test_bad_periods_are_refused_and_write_nothing(
    seeded: Seeded, body: dict[str, object], status: int
) -> None:
    world = seeded.world
    with world.sessions() as session:
        before = len(session.scalars(select(SiteReport.id)).all())
    site_id = seeded.history.site_ids[0]
    response = world.client.post(f"/api/sites/{site_id}/reports", json=body, headers=world.bearer(ADMIN))
    assert response.status_code == status, response.text
    with world.sessions() as session:
        assert len(session.scalars(select(SiteReport.id)).all()) == before


def test_supervisors_read_their_sites_reports_only(seeded: Seeded) -> None:
    world, (own, other, _) = seeded.world, seeded.history.site_ids
    admin, boss = world.bearer(ADMIN), world.bearer("boss@example.com")
    period = {"start": "2025-04-01", "end": "2025-04-07"}
    mine = world.client.post(f"/api/sites/{own}/reports", json=period, headers=admin).json()
    theirs = world.client.post(f"/api/sites/{other}/reports", json=period, headers=admin).json()
    assert world.client.get(f"/api/reports/{mine['id']}", headers=boss).status_code == 200
    refused = world.client.get(f"/api/reports/{theirs['id']}", headers=boss)
    assert (refused.status_code, refused.json()["detail"]) == (404, f"report {theirs['id']} not found")
    assert {r["site_id"] for r in world.client.get("/api/reports", headers=boss).json()} == {own}
    assert world.client.post(f"/api/sites/{own}/reports", json=period, headers=boss).status_code == 403


@pytest.mark.parametrize(
    ("schedule", "today", "period", "key"),
    [
        ("monthly", date(2025, 4, 1), (date(2025, 3, 1), date(2025, 3, 31)), "monthly:2025-03"),
        ("monthly", date(2025, 1, 15), (date(2024, 12, 1), date(2024, 12, 31)), "monthly:2024-12"),
        ("monthly", date(2024, 3, 1), (date(2024, 2, 1), date(2024, 2, 29)), "monthly:2024-02"),
        ("weekly", date(2025, 4, 2), (date(2025, 3, 24), date(2025, 3, 30)), "weekly:2025-W13"),
        ("weekly", date(2025, 3, 31), (date(2025, 3, 24), date(2025, 3, 30)), "weekly:2025-W13"),
    ],
)
def test_previous_period(schedule: str, today: date, period: tuple[date, date], key: str) -> None:
    got, got_key = previous_period(schedule, today)
    assert ((got.start, got.end), got_key) == (period, key)
