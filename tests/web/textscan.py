"""Finds user-visible text in web/ that is not in the catalogues (web/static/i18n/*.json), and the catalogue
keys the pages use. docs/architecture.md "Texts and languages" describes the rules this enforces.

HTML: every text node with a letter must sit directly in an element carrying data-i18n (or under an element
marked translate="no": brand, key names); every user-visible attribute (title, placeholder, aria-label, alt,
label) with a letter must be named in the element's data-i18n-attr.

JavaScript (parsed with tree-sitter): a string or template literal with a letter is reported where it becomes
text: the children of el(...) / replace(...), the value of a title/placeholder/aria-label/alt/label/text
property in an object literal, an assignment to .textContent/.title/.placeholder/…/document.title,
setAttribute("title"|…, text), the text argument of showError, Error, ApiError, confirm, alert, and a
module-level `const T = {…}` string table. Class names, ids, URLs, selectors and event names are never in
those positions, so they are not reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

LETTER = re.compile(r"[^\W\d_]")
TEXT_ATTRS = frozenset({"title", "placeholder", "aria-label", "alt", "label", "aria-description", "text"})
TEXT_PROPERTIES = frozenset(
    {"textContent", "innerText", "title", "placeholder", "ariaLabel", "alt", "label", "innerHTML"}
)
# Callee name -> index of the first argument that is text (every argument from there on is).
TEXT_CALLS = {
    "el": 2,
    "replace": 1,
    "showError": 1,
    "Error": 0,
    "ApiError": 1,
    "Fatal": 1,  # camera.js: an error the phone user must act on
    "confirm": 0,
    "alert": 0,
    "announce": 0,  # inspector-keys.js: the screen-reader live region
    "fact": 0,  # inspector.js: a <dt> term
    "show": 1,  # camera.js: show(state, text)
    "setLive": 1,  # supervisor.js: setLive(mode, text)
    "reconnect": 0,  # camera.js: the reason shown while reconnecting
    "fillText": 0,  # canvas text
    "showNotification": 0,  # sw.js: the notification title
}
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
JS = Parser(Language(tree_sitter_javascript.language()))


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


# ---------------------------------------------------------------- HTML


class _HtmlScan(HTMLParser):
    def __init__(self, path: str) -> None:
        super().__init__(convert_charrefs=True)
        self.path = path
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.findings: list[Finding] = []
        self.keys: set[str] = set()

    def _exempt(self) -> bool:
        return any(tag in ("script", "style") or attrs.get("translate") == "no" for tag, attrs in self.stack)

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attrs_list)
        line = self.getpos()[0]
        if attrs.get("data-i18n"):
            self.keys.add(str(attrs["data-i18n"]))
        named: set[str] = set()
        for pair in str(attrs.get("data-i18n-attr") or "").split(";"):
            if ":" in pair:
                attr, key = (part.strip() for part in pair.split(":", 1))
                named.add(attr)
                self.keys.add(key)
        exempt = self._exempt() or attrs.get("translate") == "no"
        for attr in TEXT_ATTRS & attrs.keys():
            value = attrs[attr] or ""
            if LETTER.search(value) and attr not in named and not exempt:
                self.findings.append(Finding(self.path, line, f"{tag}[{attr}]={value}"))
        if tag not in VOID:
            self.stack.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs_list)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        text = data.strip()
        if not LETTER.search(text) or self._exempt():
            return
        if self.stack and self.stack[-1][1].get("data-i18n"):
            return
        self.findings.append(Finding(self.path, self.getpos()[0], text))


def scan_html(source: str, path: str = "<html>") -> tuple[list[Finding], set[str]]:
    scanner = _HtmlScan(path)
    scanner.feed(source)
    scanner.close()
    return scanner.findings, scanner.keys


# ---------------------------------------------------------------- JavaScript


def _text(node: Node) -> str:
    return (node.text or b"").decode()


def _string_value(node: Node) -> str | None:
    if node.type == "string":
        return _text(node)[1:-1]
    return None


def _fields(node: Node, *names: str) -> list[Node]:
    return [child for name in names if (child := node.child_by_field_name(name)) is not None]


def _literal_texts(node: Node) -> list[Node]:
    """The literal parts of an expression that would end up as text."""
    kind = node.type
    if kind == "string":
        return [node] if LETTER.search(_text(node)[1:-1]) else []
    if kind == "template_string":
        return [
            part
            for part in node.named_children
            if part.type == "string_fragment" and LETTER.search(_text(part))
        ]
    if kind in ("ternary_expression", "binary_expression"):  # both branches; both sides of a +
        fields = ("consequence", "alternative") if kind == "ternary_expression" else ("left", "right")
        return [found for part in _fields(node, *fields) for found in _literal_texts(part)]
    if kind in ("parenthesized_expression", "array", "spread_element"):
        return [found for child in node.named_children for found in _literal_texts(child)]
    return []


def _callee_name(call: Node) -> str:
    callee = call.child_by_field_name("function") or call.child_by_field_name("constructor")
    if callee is None:
        return ""
    if callee.type == "member_expression":
        prop = callee.child_by_field_name("property")
        return _text(prop) if prop is not None else ""
    return _text(callee)


def _property_key(pair: Node) -> str:
    key = pair.child_by_field_name("key")
    if key is None:
        return ""
    value = _string_value(key)
    return value if value is not None else _text(key)


def _sinks(node: Node) -> list[Node]:
    """Expressions in `node` (not below) whose value becomes user-visible text."""
    kind = node.type
    if kind in ("call_expression", "new_expression"):
        start = TEXT_CALLS.get(_callee_name(node))
        args = node.child_by_field_name("arguments")
        if args is None:
            return []
        values = [a for a in args.named_children if a.type != "comment"]
        is_text_attribute = len(values) == 2 and _string_value(values[0]) in TEXT_ATTRS
        if _callee_name(node) == "setAttribute" and is_text_attribute:
            return [values[1]]
        if start is not None:
            return values[start:]
    elif kind == "pair" and _property_key(node) in TEXT_ATTRS:
        value = node.child_by_field_name("value")
        return [value] if value is not None else []
    elif kind == "assignment_expression":
        left = node.child_by_field_name("left")
        if left is not None and left.type == "member_expression":
            prop = left.child_by_field_name("property")
            if prop is not None and _text(prop) in TEXT_PROPERTIES:
                return _fields(node, "right")
    elif kind == "variable_declarator":
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is not None and _text(name) == "T" and value is not None:
            return [value]
    return []


def _all_literals(node: Node) -> list[Node]:
    """Every literal with a letter in a `const T = {...}` table."""
    found = _literal_texts(node) if node.type in ("string", "template_string") else []
    for child in node.named_children:
        found.extend(_all_literals(child))
    return found


def _walk(node: Node) -> list[Node]:
    out = [node]
    for child in node.children:
        out.extend(_walk(child))
    return out


def _key_literals(node: Node) -> tuple[set[str], set[str]]:
    """Keys named by an expression: a string, either branch of a ternary; a template gives a prefix."""
    if node.type == "string":
        return {_text(node)[1:-1]}, set()
    if node.type == "template_string":
        parts = node.named_children
        if parts and parts[0].type == "string_fragment":
            if len(parts) == 1:
                return {_text(parts[0])}, set()
            return set(), {_text(parts[0])}
        return set(), set()
    if node.type == "ternary_expression":
        keys: set[str] = set()
        prefixes: set[str] = set()
        for field in ("consequence", "alternative"):
            branch = node.child_by_field_name(field)
            if branch is not None:
                more, dynamic = _key_literals(branch)
                keys |= more
                prefixes |= dynamic
        return keys, prefixes
    if node.type == "parenthesized_expression" and node.named_children:
        return _key_literals(node.named_children[0])
    return set(), set()


def _key_uses(call: Node) -> tuple[set[str], set[str]]:
    """Keys of t("key") / hasText("key") calls (or t(cond ? "a" : "b")); prefixes of t(`prefix.${x}`)."""
    args = call.child_by_field_name("arguments")
    first = args.named_children[0] if args is not None and args.named_children else None
    return _key_literals(first) if first is not None else (set(), set())


def scan_js(source: str, path: str = "<js>") -> tuple[list[Finding], set[str], set[str]]:
    tree = JS.parse(source.encode())
    findings: list[Finding] = []
    keys: set[str] = set()
    prefixes: set[str] = set()
    for node in _walk(tree.root_node):
        if node.type == "call_expression" and _callee_name(node) in ("t", "hasText"):
            used, dynamic = _key_uses(node)
            keys |= used
            prefixes |= dynamic
        for sink in _sinks(node):
            is_table = node.type == "variable_declarator"
            for literal in _all_literals(sink) if is_table else _literal_texts(sink):
                findings.append(Finding(path, literal.start_point[0] + 1, _text(literal)))
    return findings, keys, prefixes
