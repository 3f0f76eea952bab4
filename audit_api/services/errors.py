"""Domain errors raised by services; the app maps them to HTTP statuses with the message as detail."""

from __future__ import annotations


class ServiceError(Exception):
    status_code = 400


class NotFound(ServiceError):
    status_code = 404


class Forbidden(ServiceError):
    status_code = 403


class Conflict(ServiceError):
    """The request is valid but the current state does not allow it (409)."""

    status_code = 409


class Invalid(ServiceError):
    """A value that passed schema validation is still unusable (422), e.g. an unknown site id."""

    status_code = 422


class TooLarge(ServiceError):
    """An upload above its size limit, in bytes or in pixels (413)."""

    status_code = 413


class UnsupportedMediaType(ServiceError):
    """An upload that is not of an accepted kind, e.g. a photo that is not a JPEG or PNG image (415)."""

    status_code = 415


class Unavailable(ServiceError):
    """A backing service (the evidence store) cannot be reached right now (503)."""

    status_code = 503
