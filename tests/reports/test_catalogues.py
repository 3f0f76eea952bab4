"""The server's gettext catalogues (audit_api/locale) against the code: every text the code marks (Python
and the report templates, extracted by Babel with audit_api/locale/babel.cfg) is in both catalogues with a
non-empty translation and the same placeholders, none is left over, and a language the server does not
have reads as English."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from audit_api import i18n
from audit_api.i18n import SUPPORTED, Texts, catalogue_path, resolve

REPO = Path(__file__).resolve().parents[2]
LOCALE_DIR = REPO / "audit_api" / "locale"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
Key = str | tuple[str, ...]


def _extracted() -> dict[Key, str]:
    """msgid (or (singular, plural)) → where it is used, as Babel's extractor finds them."""
    with (LOCALE_DIR / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    found: dict[Key, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        REPO, method_map, options_map, keywords=keywords
    ):
        key: Key = tuple(message) if isinstance(message, (tuple, list)) else message
        found.setdefault(key, f"{filename}:{lineno}")
    return found


def _catalogue(locale: str) -> Catalog:
    with catalogue_path(locale).open("rb") as po:  # type: ignore[arg-type]
        return read_po(po)


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


EXTRACTED = _extracted()


def test_the_code_marks_texts() -> None:
    """The scan sees the alert, the rectification template and the site report (a broken mapping would
    find nothing and pass everything below)."""
    assert "[siteaudit] %(what)s · %(site)s / %(camera)s" in EXTRACTED  # alerting/texts.py
    assert "Rectification report" in EXTRACTED  # the Jinja template
    assert "Site safety report · %(site)s" in EXTRACTED  # reports/document.py
    assert "No hardhat" in EXTRACTED  # N_ in audit_api/i18n.py
    assert ("camera offline", "%(n)d cameras offline") in EXTRACTED  # ngettext
    assert len(EXTRACTED) > 100


@pytest.mark.parametrize("locale", SUPPORTED)
def test_every_text_is_translated_with_the_same_placeholders(locale: str) -> None:
    catalogue = _catalogue(locale)
    problems = []
    for key, where in EXTRACTED.items():
        message = catalogue.get(key[0] if isinstance(key, tuple) else key)
        if message is None:
            problems.append(f"{where}: {key!r} missing")
            continue
        forms = list(message.string) if isinstance(message.string, (tuple, list)) else [message.string]
        if message.fuzzy or not forms or not all(forms):
            problems.append(f"{where}: {key!r} untranslated or fuzzy")
        ids = list(key) if isinstance(key, tuple) else [key]
        wanted = set().union(*(_placeholders(i) for i in ids))
        for form in forms:
            extra = _placeholders(form) - wanted
            lost = _placeholders(ids[0]) - _placeholders(form) - {"n"}  # a plural form may drop the count
            if extra or lost:
                problems.append(f"{where}: {key!r} → {form!r}: placeholders {sorted(extra)} / {sorted(lost)}")
    problems += [f"{m.id!r}: {errors}" for m, errors in catalogue.check()]  # Babel's python-format check
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", SUPPORTED)
def test_no_stale_entries(locale: str) -> None:
    used = {k[0] if isinstance(k, tuple) else k for k in EXTRACTED}
    stale = [
        m.id
        for m in _catalogue(locale)
        if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in used
    ]
    assert not stale, f"in {catalogue_path(locale)} but not in the code: {stale}"  # type: ignore[arg-type]


def test_the_template_lists_what_the_code_marks() -> None:
    """audit_api/locale/siteaudit.pot is what `pybabel update` merges into the catalogues."""
    with (LOCALE_DIR / "siteaudit.pot").open("rb") as pot:
        template = {
            m.id if not isinstance(m.id, (tuple, list)) else tuple(m.id) for m in read_po(pot) if m.id
        }
    assert template == set(EXTRACTED)


def test_the_catalogues_ship_with_the_package() -> None:
    """A fresh `pip install` (no compile step) must carry the .po files it reads at run time."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "locale/*/LC_MESSAGES/*.po" in data["audit_api"]
    assert "babel" in " ".join(
        tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    )


@pytest.mark.parametrize(
    ("requested", "site", "expected"),
    [
        (None, "zh-CN", "zh-CN"),
        (None, "en", "en"),
        ("en", "zh-CN", "en"),
        ("zh-CN", "en", "zh-CN"),
        ("zh_CN", "en", "zh-CN"),
        ("ZH-cn", "en", "zh-CN"),
        ("zh", "en", "zh-CN"),
        ("en-GB", "zh-CN", "en"),
        ("fr", "zh-CN", "en"),  # unknown: English, not the site's language and not an error
        ("", "zh-CN", "zh-CN"),  # an empty preference is no preference
        (None, "klingon", "en"),
        (None, None, "en"),
    ],
)
def test_which_language(requested: str | None, site: str | None, expected: str) -> None:
    assert resolve(requested, site) == expected


WHEN = datetime(2025, 12, 31, 16, 5, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "zone", "when", "day", "number", "percent"),
    [
        ("zh-CN", "Asia/Shanghai", "2026年1月1日 00:05:09 (Asia/Shanghai, GMT+08:00)", "2026年1月1日",
         "12,345.68", "27.5%"),
        ("en", "Asia/Shanghai", "Jan 1, 2026, 12:05:09\u202fAM (Asia/Shanghai, GMT+08:00)", "Jan 1, 2026",
         "12,345.68", "27.5%"),
        ("en", "Europe/Berlin", "Dec 31, 2025, 5:05:09\u202fPM (Europe/Berlin, GMT+01:00)", "Dec 31, 2025",
         "12,345.68", "27.5%"),
        ("zh-CN", "America/New_York", "2025年12月31日 11:05:09 (America/New_York, GMT-05:00)",
         "2025年12月31日", "12,345.68", "27.5%"),
    ],
)  # fmt: skip
def test_times_in_the_sites_zone_labelled_numbers_by_babel(
    locale: str, zone: str, when: str, day: str, number: str, percent: str
) -> None:
    t = Texts.of(None, locale, zone)
    assert (t.when(WHEN), t.day(WHEN), t.number(12345.678, 2), t.percent(0.275)) == (
        when,
        day,
        number,
        percent,
    )
    assert (t.when(None), t.number(None), t.percent(None)) == ("–", "–", "–")


def test_catalogues_are_read_once() -> None:
    assert i18n.translations("zh-CN") is i18n.translations("zh-CN")
    assert Texts.of(None, "zh-CN", "UTC").gettext("Site: %(site)s", site="东区") == "工地：东区"
