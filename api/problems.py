"""Errors as RFC 9457 problem details (``application/problem+json``), in one place.

| error (from ``experiments.errors``)                   | status                   |
| ----------------------------------------------------- | ------------------------ |
| ``NotFound``                                          | 404                      |
| ``Forbidden``                                         | 403                      |
| ``AlreadyExists``, ``LifecycleError``                 | 409                      |
| ``InvalidInput``, ``ImportRefused``, bad request data | 422                      |
| ``SchemaOutOfDate``                                   | 503                      |
| a lock held past the busy timeout, database down      | 503 with ``Retry-After`` |
| anything else                                         | 500, without internals   |

Validation problems list every field: ``{"errors": [{"field": "arms[0].weight",
"message": "must be greater than 0"}]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from arbiter.db import is_locked
from experiments.errors import (
    AlreadyExists,
    ArbiterError,
    Forbidden,
    ImportRefused,
    InvalidInput,
    LifecycleError,
    NotFound,
    SchemaOutOfDate,
)

__all__ = ["PROBLEM_JSON", "install", "problem"]

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
_STATUS: list[tuple[type[ArbiterError], int]] = [
    (NotFound, 404),
    (Forbidden, 403),
    (AlreadyExists, 409),
    (LifecycleError, 409),
    (InvalidInput, 422),
    (ImportRefused, 422),
    (SchemaOutOfDate, 503),
]
_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or ".".join(map(str, loc))


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ArbiterError)
    async def arbiter_error(request: Request, exc: ArbiterError) -> JSONResponse:
        status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 400)
        errors = None
        if isinstance(exc, InvalidInput) and exc.problems:
            errors = [{"field": p.field, "message": p.message} for p in exc.problems]
        return problem(status, exc.title, exc.detail, instance=request.url.path, errors=errors)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem(
            422,
            "Invalid input",
            detail or "the request is not valid",
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem(
            exc.status_code,
            title,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(OperationalError)
    async def database_busy(request: Request, exc: OperationalError) -> JSONResponse:
        """A lock held longer than the busy timeout (or a PostgreSQL serialisation
        failure): the transaction was rolled back, so the request may simply be sent
        again. The driver's own message is logged, not sent."""
        log.warning("database error on %s %s: %s", request.method, request.url.path, exc.orig)
        if is_locked(exc):
            return problem(
                503,
                "Database busy",
                "another writer held the database longer than the busy timeout; nothing of "
                "this request was applied: send it again",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        return problem(
            503,
            "Database unavailable",
            "the database could not be reached or refused the operation; nothing was applied",
            instance=request.url.path,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal server error",
            "the server failed to handle the request; it was logged",
            instance=request.url.path,
        )
