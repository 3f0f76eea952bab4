"""OpenAPI that tells the truth about errors, declared once: every router uses `DocumentedRoute`, which
documents each operation's error statuses from what the operation is made of.

- A dependency declares the statuses it raises with `@raises(...)` (e.g. the current-user dependency: 401,
  a role gate: 403); every operation that depends on it, however deeply, documents them.
- Path parameters mean 404 (the id may name nothing; CORS preflights excepted), parameters or a body
  mean 422, a body means 413 (audit_api.limits.BodySizeLimit) and 400 (bytes that do not decode).
- What only the service layer knows (409 conflicts, 206/307/416 for evidence, ...) is added on the route
  with `responses=`, from the dicts below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from fastapi import params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute

from audit_api.api.errors import ErrorOut, ValidationErrorOut

Responses = dict[int | str, dict[str, Any]]
F = TypeVar("F", bound=Callable[..., Any])

_DESCRIPTIONS = {
    400: "Bad request: the body cannot be parsed",
    401: "Not signed in: missing, invalid or expired bearer token",
    403: "Signed in, but this role may not do this",
    404: "No such resource (or not visible to the caller)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Unsupported content type",
    416: "Range not satisfiable",
    422: "Invalid parameters or body",
    429: "Too many requests; retry after the Retry-After header's seconds",
    503: "A backing service (evidence store, WHIP ingest) is unavailable",
}
_RAISES: dict[Callable[..., Any], frozenset[int]] = {}


def error(status_code: int, description: str | None = None) -> Responses:
    """The OpenAPI entry of one error status with its `{"detail": ...}` body."""
    model = ValidationErrorOut if status_code == 422 else ErrorOut
    return {status_code: {"model": model, "description": description or _DESCRIPTIONS[status_code]}}


def errors(*status_codes: int) -> Responses:
    merged: Responses = {}
    for code in status_codes:
        merged |= error(code)
    return merged


def raises(*status_codes: int) -> Callable[[F], F]:
    """Mark a dependency as raising these statuses: every operation using it documents them."""

    def mark(dependency: F) -> F:
        _RAISES[dependency] = _RAISES.get(dependency, frozenset()) | frozenset(status_codes)
        return dependency

    return mark


CONFLICT = error(409)


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def derived_responses(
    path: str, endpoint: Callable[..., Any], dependencies: Sequence[params.Depends], methods: Sequence[str]
) -> Responses:
    """The error statuses an operation can answer with, derived from its parameters and dependencies."""
    root = get_dependant(path=path, call=endpoint)
    nodes = list(_walk(root))
    for extra in dependencies:
        if extra.dependency is not None:
            nodes += _walk(get_dependant(path=path, call=extra.dependency))
    codes: set[int] = set()
    for node in nodes:
        if node.call is not None:
            codes |= _RAISES.get(node.call, frozenset())
    if root.path_params and "OPTIONS" not in {m.upper() for m in methods}:
        codes.add(404)
    if any(n.body_params for n in nodes):
        codes |= {400, 413}  # 400: a body that cannot be decoded at all (e.g. not UTF-8)
    if any(
        n.path_params or n.query_params or n.header_params or n.cookie_params or n.body_params for n in nodes
    ):
        codes.add(422)
    return errors(*sorted(codes))


class DocumentedRoute(APIRoute):
    """An APIRoute whose error responses are derived (see the module doc); explicit `responses=` win."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        responses: Responses | None = None,
        dependencies: Sequence[params.Depends] | None = None,
        methods: set[str] | list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        derived = derived_responses(path, endpoint, dependencies or (), sorted(methods or ("GET",)))
        super().__init__(
            path,
            endpoint,
            responses={**derived, **(responses or {})},
            dependencies=dependencies,
            methods=methods,
            **kwargs,
        )
