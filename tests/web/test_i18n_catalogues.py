"""The pages' texts live in the catalogues (web/static/i18n/en.json, zh-CN.json): no hard-coded user-visible
string in web/, both catalogues with the same keys and placeholders, every key the pages use defined and
every defined key used, every enumerated value the API sends with its "term." text. The scanner itself is
checked on small synthetic snippets, so a newly added English literal really fails the suite."""

from __future__ import annotations

import json
import re
import typing
from functools import cache
from pathlib import Path

import pytest

from audit_api.models import base as enums
from audit_api.models.reports import ReportTrigger
from detect.analyzer import ViolationKind
from tests.web.textscan import Finding, scan_html, scan_js

WEB = Path(__file__).resolve().parents[2] / "web"
I18N = WEB / "static" / "i18n"
LANGUAGES = ("en", "zh-CN")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def page_files() -> list[Path]:
    files = [*WEB.glob("*.html"), *WEB.glob("*.js"), *(WEB / "static").glob("*.js")]
    return sorted(p for p in files if "vendor" not in p.parts)


@cache
def catalogue(lang: str) -> dict[str, str | dict[str, str]]:
    data: dict[str, str | dict[str, str]] = json.loads((I18N / f"{lang}.json").read_text(encoding="utf-8"))
    return data


@cache
def scanned() -> tuple[list[Finding], set[str], set[str]]:
    findings: list[Finding] = []
    keys: set[str] = set()
    prefixes: set[str] = set()
    for path in page_files():
        source = path.read_text(encoding="utf-8")
        name = str(path.relative_to(WEB.parent))
        if path.suffix == ".html":
            found, used = scan_html(source, name)
        else:
            found, used, dynamic = scan_js(source, name)
            prefixes |= dynamic
        findings += found
        keys |= used
    return findings, keys, prefixes


def forms(value: str | dict[str, str]) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def placeholders(value: str | dict[str, str]) -> set[str]:
    return {name for text in forms(value) for name in PLACEHOLDER.findall(text)}


# ---------------------------------------------------------------- the pages


def test_no_hard_coded_user_visible_text_in_the_pages() -> None:
    findings, _, _ = scanned()
    assert findings == [], (
        "texts outside the catalogues (docs/architecture.md, Texts and languages):\n"
        + "\n".join(map(str, findings))
    )


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    _, keys, prefixes = scanned()
    known = catalogue("en").keys()
    assert sorted(keys - known) == []
    assert sorted(p for p in prefixes if not any(k.startswith(p) for k in known)) == []


def test_no_unused_keys() -> None:
    _, keys, prefixes = scanned()
    unused = [k for k in catalogue("en") if k not in keys and not any(k.startswith(p) for p in prefixes)]
    assert unused == []


# ---------------------------------------------------------------- the catalogues


def test_both_catalogues_have_the_same_keys() -> None:
    en, zh = catalogue("en").keys(), catalogue("zh-CN").keys()
    assert sorted(en - zh) == [] and sorted(zh - en) == []


@pytest.mark.parametrize("key", sorted(catalogue("en")))
def test_same_placeholders_and_well_formed_entries(key: str) -> None:
    en, zh = catalogue("en")[key], catalogue("zh-CN")[key]
    assert placeholders(en) == placeholders(zh), key
    for lang, value in (("en", en), ("zh-CN", zh)):
        assert all(isinstance(text, str) and text.strip() for text in forms(value)), (lang, key)
        if isinstance(value, dict):
            # Plural forms (Intl.PluralRules categories): English needs one/other, Chinese has only other.
            assert "other" in value and set(value) <= {"zero", "one", "two", "few", "many", "other"}, (
                lang,
                key,
            )
            assert "count" in placeholders(value), (
                f"{key}: plural forms are chosen by the {{count}} parameter"
            )
    if isinstance(en, dict):
        assert set(en) == {"one", "other"}, key


def test_chinese_catalogue_is_chinese() -> None:
    """A zh-CN text identical to the English one is an untranslated copy, unless it holds no words at all
    (placeholders, symbols, product names)."""
    allowed = re.compile(r"SHA-256|Apprise|Webhook|\{\w+\}")
    zh, en = catalogue("zh-CN"), catalogue("en")
    copies = []
    for key, value in zh.items():
        for text in forms(value):
            words = allowed.sub("", text)
            if text in forms(en[key]) and re.search(r"[A-Za-z]{2,}", words):
                copies.append(key)
    assert copies == []


ENUMS = {
    "violation kind": [*typing.get_args(ViolationKind), "other"],
    "event status": [v.value for v in enums.EventStatus],
    "action status": [v.value for v in enums.ActionStatus],
    "verdict": [v.value for v in enums.Verdict],
    "role": [v.value for v in enums.Role],
    "report trigger": [v.value for v in ReportTrigger],
}


@pytest.mark.parametrize(("what", "values"), list(ENUMS.items()))
def test_every_enumerated_value_has_its_term(what: str, values: list[str]) -> None:
    missing = [v for v in values if f"term.{v}" not in catalogue("en")]
    assert missing == [], f"{what}: formatKind() would fall back to the raw value"


# ---------------------------------------------------------------- the scanner itself

FLAGGED_JS = [
    ('el("p", {}, "A new sentence");', "A new sentence"),
    ('el("button", { type: "button", class: "small" }, "Retry");', "Retry"),
    ('el("td", {}, ok ? t("admin.yes") : "No");', "No"),
    ('el("span", {}, `${n} overdue`);', " overdue"),
    ('el("img", { alt: "Camera picture" });', "Camera picture"),
    ('el("input", { "aria-label": "Search events" });', "Search events"),
    ('node.textContent = "Loading";', "Loading"),
    ("node.title = `Open ${name}`;", "Open "),
    ('input.placeholder = "Type here";', "Type here"),
    ('button.setAttribute("aria-label", "Close dialog");', "Close dialog"),
    ('replace(box, "Nothing yet.");', "Nothing yet."),
    ('showError(box, "Something failed");', "Something failed"),
    ('throw new Error("Pick a site first.");', "Pick a site first."),
    ('if (!confirm("Delete it?")) return;', "Delete it?"),
    ('document.title = "siteaudit · review";', "siteaudit · review"),
    ('const T = { none: "No items." };', "No items."),
    ('el("p", {}, "未翻译的中文");', "未翻译的中文"),
    ('fillSelect(select, options, { placeholder: "Any site" });', "Any site"),
]

NOT_FLAGGED_JS = [
    'el("div", { class: "badge badge-open", id: "queue-total", dataset: { state: "live" } });',
    'api("/api/events", { method: "POST", query: { status: "open" } });',
    'button.addEventListener("click", () => load());',
    'document.querySelector("#filters .field input[name=kind]");',
    'el("p", {}, t("inspector.noEvents"), " · ", formatTime(at));',
    'node.textContent = t(ok ? "admin.yes" : "admin.no");',
    'el("a", { href: `patrol.html#round=${id}`, download: `report-${id}.pdf` }, t("app.eventN", { id }));',
    'const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };',
    'if (status === "false_positive") el("span", { class: `badge badge-${status}` });',
    'console.warn("service worker not registered:", exc);',
]


@pytest.mark.parametrize(("snippet", "literal"), FLAGGED_JS)
def test_scanner_reports_a_new_literal_in_js(snippet: str, literal: str) -> None:
    findings, _, _ = scan_js(snippet)
    assert [f.text.strip("\"'`") for f in findings] == [literal], findings


@pytest.mark.parametrize("snippet", NOT_FLAGGED_JS)
def test_scanner_ignores_class_names_ids_urls_and_events(snippet: str) -> None:
    assert scan_js(snippet)[0] == []


def test_a_literal_added_to_a_real_page_module_fails_the_scan() -> None:
    source = (WEB / "static" / "dashboard.js").read_text(encoding="utf-8")
    assert scan_js(source)[0] == []
    edited = source.replace('t("dashboard.download")', '"Download now"', 1)
    assert edited != source
    assert [f.text for f in scan_js(edited)[0]] == ['"Download now"']


FLAGGED_HTML = [
    ("<p>Newly added help text.</p>", "Newly added help text."),
    ('<label><input type="checkbox"> Sound</label>', "Sound"),
    ('<button data-i18n="app.signOut">Sign out</button><span>Extra</span>', "Extra"),
    ('<input id="q" placeholder="Search">', "input[placeholder]=Search"),
    ('<img src="a.png" alt="Site map" data-i18n-attr="title:app.site">', "img[alt]=Site map"),
    ('<button title="Close" type="button" data-i18n="app.close">Close</button>', "button[title]=Close"),
    ("<title>siteaudit · new page</title>", "siteaudit · new page"),
]

NOT_FLAGGED_HTML = [
    '<p data-i18n="inspector.review">Review</p>',
    '<input placeholder="Search" data-i18n-attr="placeholder:app.search">',
    '<a class="brand" translate="no" href="index.html">site<span>audit</span></a>',
    '<dt><kbd translate="no">j</kbd></dt>',
    '<div id="queue" class="table-wrap small" role="status" aria-live="polite"></div>',
    "<script>const x = 1;</script>",
    "<p>← · 1 / 2 →</p>",
]


@pytest.mark.parametrize(("snippet", "text"), FLAGGED_HTML)
def test_scanner_reports_new_text_in_html(snippet: str, text: str) -> None:
    assert [f.text for f in scan_html(snippet)[0]] == [text]


@pytest.mark.parametrize("snippet", NOT_FLAGGED_HTML)
def test_scanner_ignores_keyed_and_non_text_html(snippet: str) -> None:
    assert scan_html(snippet)[0] == []


def test_scanner_collects_keys_and_dynamic_prefixes() -> None:
    _, keys, prefixes = scan_js(
        't("a.b"); t(x ? "c.d" : "e.f"); hasText(`term.${kind}`); t(`slot.${s}`, {});'
    )
    assert keys == {"a.b", "c.d", "e.f"} and prefixes == {"term.", "slot."}
    _, html_keys = scan_html('<p data-i18n="p.q">x</p><input data-i18n-attr="placeholder:r.s; title:t.u">')
    assert html_keys == {"p.q", "r.s", "t.u"}
