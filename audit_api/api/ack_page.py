"""The small HTML pages of an acknowledge link: a confirmation (GET, which changes nothing) whose one
button POSTs the token, and the outcome. Strict CSP: no script, the site's stylesheet only."""

from __future__ import annotations

from html import escape

from audit_api.models import Alert, AlertKind
from audit_api.services.alerting.links import ACK_LINK_PATH

# Every user-visible string of these pages, in one place (zh-CN catalogues come with issue 13).
T = {
    "title": "Acknowledge alert",
    "confirm": "Acknowledge this alert?",
    "button": "Acknowledge",
    "done": "Acknowledged. Thank you — the alert will not escalate further.",
    "already": "This alert was already acknowledged",
    "refused": "This link cannot acknowledge",
    "open_page": "Open the supervisor page",
    "offline": "Camera offline",
}


def _page(body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<title>siteaudit · {escape(T["title"])}</title><link rel="stylesheet" href="/static/app.css">'
        f'</head><body><main class="panel">{body}'
        f'<p><a href="/supervisor.html">{escape(T["open_page"])}</a></p></main></body></html>'
    )


def _summary(alert: Alert) -> str:
    what = T["offline"] if alert.kind == AlertKind.CAMERA_OFFLINE else ", ".join(alert.kinds)
    camera = alert.camera.name if alert.camera is not None else ""
    when = alert.started_at or alert.created_at
    return (
        f'<p><strong>{escape(what)}</strong></p><p class="muted">{escape(camera)} · '
        f"{escape(when.strftime('%Y-%m-%d %H:%M:%S UTC'))} · alert #{alert.id}</p>"
    )


def confirm_page(alert: Alert, token: str) -> str:
    if alert.acknowledged_at is not None:
        return _page(f"<h1>{escape(T['already'])}</h1>{_summary(alert)}")
    return _page(
        f"<h1>{escape(T['confirm'])}</h1>{_summary(alert)}"
        f'<form method="post" action="{ACK_LINK_PATH}">'
        f'<input type="hidden" name="token" value="{escape(token)}">'
        f'<button type="submit" class="primary">{escape(T["button"])}</button></form>'
    )


def done_page(alert: Alert, by_this_link: bool) -> str:
    if not by_this_link:
        return _page(f"<h1>{escape(T['already'])}</h1>{_summary(alert)}")
    return _page(f'<h1>{escape(T["title"])}</h1><p class="success">{escape(T["done"])}</p>{_summary(alert)}')


def refused_page(reason: str) -> str:
    return _page(f'<h1>{escape(T["refused"])}</h1><p class="error">{escape(reason)}</p>')
