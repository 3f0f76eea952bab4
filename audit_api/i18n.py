"""Server-side texts in zh-CN and en (issue 13): alert messages and PDF reports.

The catalogues are gettext .po files, audit_api/locale/<zh_CN|en>/LC_MESSAGES/siteaudit.po, read at run time
with Babel (no compile step: a fresh checkout works after `pip install`). Message ids are the English texts;
placeholders are python-format `%(name)s`. Code marks texts with `Texts.gettext` / `ngettext` (or `N_` for
texts kept in a table and translated later), templates with `{{ _("...") }}` (jinja2.ext.i18n); the test
tests/reports/test_catalogues.py extracts every marked text with Babel and checks both catalogues have it.

Which language: the site's `locale` (default zh-CN); a request may ask for another with `?lang=`. A language
we do not have falls back to English (a preference, never an error); a site's own `locale` is validated (422).
Dates and times are formatted by Babel for the language, in the site's time zone, labelled with the zone.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale as BabelLocale
from babel.dates import format_date, format_datetime, get_timezone_gmt
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LocaleName = Literal["zh-CN", "en"]
"""A language the server writes in (site `locale`, `?lang=`), as a BCP 47 tag."""
SUPPORTED: tuple[LocaleName, ...] = ("zh-CN", "en")
DEFAULT_SITE_LOCALE: LocaleName = "zh-CN"
"""New sites write in Chinese: the product's users are Chinese first."""
FALLBACK: LocaleName = "en"
"""What an unknown requested language gets."""
DOMAIN = "siteaudit"
LOCALE_DIR = Path(__file__).parent / "locale"
_BABEL_NAMES: dict[LocaleName, str] = {"zh-CN": "zh_CN", "en": "en"}
_ALIASES: dict[str, LocaleName] = {
    "zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN",
    "en": "en", "en-us": "en", "en-gb": "en",
}  # fmt: skip


def N_(message: str) -> str:
    """Mark a text for the catalogues without translating it now (tables translated when used)."""
    return message


def resolve(requested: str | None, site_locale: str | None = None) -> LocaleName:
    """The language to write in: `requested` (e.g. `?lang=`) if given, else the site's; a tag we do not
    have (or none at all) gives English. Case and `_`/`-` do not matter (`zh_CN`, `zh-cn`, `zh`)."""
    for tag in (requested, site_locale):
        if tag:
            return _ALIASES.get(tag.strip().replace("_", "-").lower(), FALLBACK)
    return FALLBACK


def catalogue_path(locale: LocaleName) -> Path:
    return LOCALE_DIR / _BABEL_NAMES[locale] / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: LocaleName) -> Translations:
    """The locale's catalogue, read from its .po once per process (fuzzy entries are not used)."""
    with catalogue_path(locale).open("rb") as po:
        catalog = read_po(po, locale=_BABEL_NAMES[locale], domain=DOMAIN)
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


def zone_of(name: str) -> ZoneInfo:
    """The site's time zone; an unknown name (never stored: validated on input) reads as UTC."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Texts:
    """Translation and formatting for one language and one time zone (a site's, usually)."""

    locale: LocaleName
    zone: ZoneInfo

    @classmethod
    def of(cls, requested: str | None, site_locale: str | None, timezone: str) -> Texts:
        return cls(resolve(requested, site_locale), zone_of(timezone))

    @property
    def babel(self) -> BabelLocale:
        return BabelLocale.parse(_BABEL_NAMES[self.locale])

    @property
    def translations(self) -> Translations:
        return translations(self.locale)

    def gettext(self, message: str, **params: object) -> str:
        text = self.translations.gettext(message)
        return text % params if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        return self.translations.ngettext(singular, plural, n) % {"n": n, **params}

    def when(self, value: datetime | None) -> str:
        """A moment in the zone, for the language, labelled with the zone: `2025年3月4日 17:30:00
        (Asia/Shanghai, GMT+08:00)`, `Mar 4, 2025, 5:30:00 PM (Asia/Shanghai, GMT+08:00)`."""
        if value is None:
            return "–"
        local = value.astimezone(self.zone)
        shown = format_datetime(local, "medium", tzinfo=self.zone, locale=self.babel)
        return f"{shown} ({self.zone.key}, {get_timezone_gmt(local, locale=self.babel)})"

    def day(self, value: date | datetime | None) -> str:
        """A day (a moment: its local day in the zone), e.g. `2025年3月4日`, `Mar 4, 2025`."""
        if value is None:
            return "–"
        day = value.astimezone(self.zone).date() if isinstance(value, datetime) else value
        return format_date(day, "medium", locale=self.babel)

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, pattern, locale=self.babel)

    def percent(self, share: float | None, digits: int = 1) -> str:
        """A share (0..1) as a percentage."""
        if share is None:
            return "–"
        return format_percent(
            share, "#,##0" + ("." + "0" * digits if digits else "") + "%", locale=self.babel
        )

    def kind(self, kind: str) -> str:
        """A violation kind's label (`no_hardhat` → 未戴安全帽 / No hardhat); an unknown kind as is."""
        label = KIND_LABELS.get(kind)
        return self.gettext(label) if label is not None else kind

    def kinds(self, kinds: list[str]) -> str:
        return self.gettext(", ").join(self.kind(k) for k in kinds)


KIND_LABELS = {
    "no_hardhat": N_("No hardhat"),
    "no_vest": N_("No vest"),
    "no_mask": N_("No mask"),
    "crowding_occupancy": N_("Zone over capacity"),
    "crowding_distance": N_("People too close"),
}
"""Violation kinds (detect.analyzer.ViolationKind) as people read them."""
