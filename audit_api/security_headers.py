"""ASGI middleware that puts the security headers (CSP, nosniff, frame and referrer policy, HSTS over TLS)
on every HTTP response: API routes, the static pages, error responses and streams alike."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from audit_api.settings import Settings

HSTS_MAX_AGE_S = 365 * 24 * 3600


def evidence_origins(settings: Settings) -> list[str]:
    """Origins besides our own that browsers fetch evidence from: the S3 endpoint presigned URLs name."""
    if settings.storage_backend != "s3" or not settings.s3_endpoint:
        return []
    endpoint = settings.s3_public_endpoint or settings.s3_endpoint  # what presigned URLs name
    if "://" not in endpoint:
        endpoint = f"{'https' if settings.s3_secure else 'http'}://{endpoint}"
    parts = urlsplit(endpoint)
    return [f"{parts.scheme}://{parts.netloc}"] if parts.netloc else []


def content_security_policy(settings: Settings) -> str:
    """The pages' policy: no inline script or style, nothing framed, evidence only from us (blob:) or S3."""
    extra = " ".join(evidence_origins(settings))
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": f"'self' data: blob: {extra}",  # data: for the enrolment QR code
        # Evidence is fetched (following a presigned redirect) and shown as blob: URLs.
        "media-src": f"'self' blob: {extra}",
        # The API, the SSE alert stream and WHIP (phone page), which follows the API's redirect to a worker.
        "connect-src": f"'self' {extra} {' '.join(settings.worker_origins)}",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value.strip()}" for name, value in directives.items())


# FastAPI's /docs and /redoc pages load Swagger UI / ReDoc from a CDN with an inline bootstrap script.
# They show no user data; the rest of the site keeps the strict policy.
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds the headers to each response that does not set them itself."""

    def __init__(self, app: ASGIApp, *, csp: str, docs_paths: Iterable[str] = ()) -> None:
        self.app = app
        common = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(self), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        self._headers = [(b"content-security-policy", csp.encode()), *common]
        self._docs_headers = [(b"content-security-policy", DOCS_POLICY.encode()), *common]
        self._docs_paths = frozenset(docs_paths)
        self._hsts = (b"strict-transport-security", f"max-age={HSTS_MAX_AGE_S}; includeSubDomains".encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._docs_headers if scope["path"] in self._docs_paths else self._headers
        if scope.get("scheme") == "https":  # browsers ignore HSTS over plain http (RFC 6797 §8.1)
            extra = [*extra, self._hsts]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
