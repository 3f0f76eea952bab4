"""Error bodies: one `{"detail": ...}` model for every 4xx/5xx, and 422s that quote at most an excerpt.

FastAPI's own 422 handler echoes each invalid value whole (`input`), so a 10 MB invalid body came back as a
10 MB answer. `validation_error` keeps FastAPI's shape (`{detail: [{loc, msg, type, input, ctx}]}`, which the
web pages read) but shortens every quoted value to INPUT_EXCERPT_CHARS and lists at most MAX_ISSUES.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, JsonValue

INPUT_EXCERPT_CHARS = 100  # the most of a caller's input a 422 quotes back, per value
MESSAGE_CHARS = 500  # messages of custom validators may quote the input too
MAX_ISSUES = 20  # a list of 10,000 bad items is reported by its first few
ELLIPSIS = "…"


class ErrorOut(BaseModel):
    """Every error answer except request validation: a readable sentence."""

    detail: str = Field(description="what went wrong, for a person to read")


class ValidationIssue(BaseModel):
    """One invalid value (pydantic's error, its `input` and `ctx` cut to a short excerpt)."""

    loc: list[str | int] = Field(description="where: ['body', 'field', ...], ['query', 'name'], ...")
    msg: str
    type: str
    input: JsonValue = Field(None, description=f"the value, or its first {INPUT_EXCERPT_CHARS} characters")
    ctx: dict[str, JsonValue] | None = None


class ValidationErrorOut(BaseModel):
    """422: the request's values did not validate (a list), or a valid value is unusable (a sentence)."""

    detail: list[ValidationIssue] | str


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def _json_prefix(value: Any, limit: int) -> str:
    """The start of `value`'s JSON text, at least `limit` characters of it if it is that long; stops
    encoding there, so a 10 MB list costs no more than a short one."""
    parts: list[str] = []
    size = 0

    def emit(text: str) -> bool:
        nonlocal size
        parts.append(text)
        size += len(text)
        return size > limit

    def walk(item: Any) -> bool:  # True once enough is written
        if isinstance(item, dict):
            if emit("{"):
                return True
            for i, (key, member) in enumerate(item.items()):
                if (i and emit(", ")) or emit(json.dumps(str(key)[: limit + 1]) + ": ") or walk(member):
                    return True
            return emit("}")
        if isinstance(item, list | tuple):
            if emit("["):
                return True
            for i, member in enumerate(item):
                if (i and emit(", ")) or walk(member):
                    return True
            return emit("]")
        if isinstance(item, str):
            return emit(json.dumps(item[: limit + 1], ensure_ascii=False))
        return emit(json.dumps(jsonable_encoder(item), ensure_ascii=False, default=str))

    walk(value)
    return "".join(parts)


def excerpt(value: Any) -> JsonValue:
    """`value` as JSON when short enough; else the start of its text (JSON text for objects) and '…'."""
    if isinstance(value, bytes | bytearray):
        head = bytes(value[: INPUT_EXCERPT_CHARS * 4]).decode("utf-8", "replace")
        value = head + (ELLIPSIS if len(value) > INPUT_EXCERPT_CHARS * 4 else "")
    if isinstance(value, str):
        return _clip(value, INPUT_EXCERPT_CHARS)
    if isinstance(value, BaseException):
        return _clip(str(value), INPUT_EXCERPT_CHARS)
    text = _json_prefix(value, INPUT_EXCERPT_CHARS)
    if len(text) <= INPUT_EXCERPT_CHARS:
        short: JsonValue = jsonable_encoder(value)
        return short
    return _clip(text, INPUT_EXCERPT_CHARS)


def short_issue(error: Any) -> dict[str, Any]:
    """One of RequestValidationError.errors() with every quoted value bounded."""
    issue: dict[str, Any] = {
        "type": str(error.get("type", "")),
        "loc": [
            part if isinstance(part, int) else _clip(str(part), INPUT_EXCERPT_CHARS) for part in error["loc"]
        ],
        "msg": _clip(str(error.get("msg", "")), MESSAGE_CHARS),
        "input": excerpt(error.get("input")),
    }
    if error.get("ctx"):
        issue["ctx"] = {_clip(str(k), INPUT_EXCERPT_CHARS): excerpt(v) for k, v in error["ctx"].items()}
    return issue


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    errors = list(exc.errors()) if isinstance(exc, RequestValidationError) else []
    issues = [short_issue(e) for e in errors[:MAX_ISSUES]]
    if len(errors) > MAX_ISSUES:
        more = len(errors) - MAX_ISSUES
        issues.append({"type": "too_many_errors", "loc": [], "msg": f"and {more} more invalid values"})
    return JSONResponse({"detail": issues}, status_code=422)
