"""Small SVG charts for the PDF report, drawn server-side (WeasyPrint renders inline SVG as vectors).

Two shapes are all the report needs — stacked bars per day and horizontal bars per camera or zone — so they
are written here in a few lines instead of pulling a plotting library into the runtime. Every text is
escaped; the colours match the dashboard page's ECharts palette.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from unicodedata import east_asian_width

PALETTE = ("#5470c6", "#91cc75", "#fac858", "#ee6666", "#73c0de", "#3ba272", "#fc8452", "#9a60b4")
WIDTH, HEIGHT = 680, 220
LEFT, BOTTOM, TOP = 36, 28, 10


def _nice_max(value: float) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000):
        if value <= step * 4:
            return step * 4
    return int(value) + 1


def stacked_days(days: Sequence[date], kinds: Sequence[str], counts: dict[tuple[date, str], int],
                 labels: dict[str, str]) -> str:  # fmt: skip
    """Violations per day, one colour per kind, with a legend and a y axis."""
    totals = [sum(counts.get((d, k), 0) for k in kinds) for d in days]
    top = _nice_max(max(totals, default=0) or 1)
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP - 18
    bar_w = plot_w / max(len(days), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" font-size="9">']  # fmt: skip
    for i in range(5):
        value = top * i // 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">{value}</text>')
    for i, d in enumerate(days):
        y = TOP + plot_h
        for j, kind in enumerate(kinds):
            n = counts.get((d, kind), 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            x, w = LEFT + i * bar_w + 0.5, max(bar_w - 1, 0.5)
            colour = PALETTE[j % len(PALETTE)]
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>')
        if len(days) <= 31 or i % max(len(days) // 12, 1) == 0:
            x = LEFT + i * bar_w + bar_w / 2
            parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 11}" text-anchor="middle">{d.day}</text>')
    x = LEFT
    for j, kind in enumerate(kinds):
        shown = labels.get(kind, kind)
        label = escape(shown)
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 12}" width="9" height="9" fill="{PALETTE[j % len(PALETTE)]}"/>'
        )
        parts.append(f'<text x="{x + 12}" y="{HEIGHT - 4}">{label}</text>')
        x += 16 + _text_width(shown)
    parts.append("</svg>")
    return "".join(parts)


def _text_width(text: str) -> int:
    """About how wide `text` is at the charts' 9 pt: CJK characters are full width."""
    return sum(9 if east_asian_width(ch) in "WF" else 6 for ch in text)


def horizontal_bars(rows: Sequence[tuple[str, float]], unit: str = "") -> str:
    """One bar per row (name, value), longest first as given."""
    if not rows:
        return ""
    height = 16 * len(rows) + 8
    top = max(value for _, value in rows) or 1
    label_w, plot_w = 220, WIDTH - 220 - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
             f'viewBox="0 0 {WIDTH} {height}" font-size="9">']  # fmt: skip
    for i, (name, value) in enumerate(rows):
        y = 4 + i * 16
        w = plot_w * value / top
        parts.append(f'<text x="{label_w - 6}" y="{y + 10}" text-anchor="end">{escape(name[:40])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="12" fill="{PALETTE[0]}"/>')
        shown = f"{value:g}" if isinstance(value, int) or value == int(value) else f"{value:.1f}"
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 10}">{shown}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
