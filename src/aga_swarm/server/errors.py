"""Typed errors -> HTTP answers. Bad input never yields a 500, and no answer carries a stack trace or echoes
the submitted values (a rejected password is not sent back)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..engine.errors import (
    Conflict,
    FileTooLarge,
    HistoryCompacted,
    InvalidInput,
    NotFound,
    QuotaExceeded,
    SwarmError,
    UnsupportedFileType,
)
from ..store.accounts import AccountError, BadCredentials, InvalidPassword, InvalidUsername, UsernameTaken
from .logs import log

MAX_ERRORS = 20
"""Problems listed in one 422: a body with 70,000 unknown keys must not get a 6 MB answer."""
MAX_LOC_CHARS = 64
MAX_MSG_CHARS = 300


def field_errors(errors: Any) -> list[dict[str, Any]]:
    """FastAPI's error list without `input`/`ctx`/`url` (they would echo what was sent), at most MAX_ERRORS
    entries (then one saying how many more), with bounded field names and messages."""
    errors = list(errors)
    out = []
    for err in errors[:MAX_ERRORS]:
        loc = [p if isinstance(p, int) else _clip(str(p), MAX_LOC_CHARS) for p in err.get("loc", ())]
        out.append({"loc": loc, "msg": _clip(str(err.get("msg", "invalid")), MAX_MSG_CHARS),
                    "type": _clip(str(err.get("type", "value_error")), MAX_LOC_CHARS)})
    if len(errors) > MAX_ERRORS:
        out.append({"loc": [], "msg": f"... and {len(errors) - MAX_ERRORS} more problems",
                    "type": "too_many_errors"})
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def invalid(msg: str, loc: list[str | int] | None = None) -> JSONResponse:
    return JSONResponse({"detail": [{"loc": loc or [], "msg": msg, "type": "invalid_input"}]}, status_code=422)


def allowed_methods(app: FastAPI, path: str) -> set[str]:
    """Every method some API route accepts at this path (for 405 answers and their Allow header)."""
    methods: set[str] = set()
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            match, _ = route.matches({"type": "http", "path": path, "method": "\x00", "root_path": ""})
            if match is not Match.NONE:
                methods |= route.methods or set()
    return methods


def method_not_allowed(methods: set[str]) -> JSONResponse:
    return JSONResponse({"detail": "Method Not Allowed"}, status_code=405,
                        headers={"Allow": ", ".join(sorted(methods))})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return method_not_allowed(allowed_methods(app, request.url.path))
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return JSONResponse({"detail": [{"loc": ["body"], "msg": "the body is not valid UTF-8 JSON",
                                             "type": "json_invalid"}]}, status_code=422)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": field_errors(exc.errors())}, status_code=422)

    @app.exception_handler(SwarmError)
    async def _swarm_error(request: Request, exc: SwarmError) -> JSONResponse:
        if isinstance(exc, NotFound):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        if isinstance(exc, Conflict):
            return JSONResponse({"detail": str(exc)}, status_code=409)
        if isinstance(exc, InvalidInput):
            return invalid(str(exc))
        if isinstance(exc, HistoryCompacted):
            return JSONResponse({"detail": str(exc)}, status_code=410)
        if isinstance(exc, FileTooLarge):
            return JSONResponse({"detail": str(exc)}, status_code=413)
        if isinstance(exc, UnsupportedFileType):
            return JSONResponse({"detail": str(exc)}, status_code=415)
        if isinstance(exc, QuotaExceeded):
            return JSONResponse({"detail": str(exc)}, status_code=429)
        log.error("unexpected engine error on %s: %s", request.url.path, type(exc).__name__,
                  exc_info=exc, extra={"request_id": request.state.request_id})
        return JSONResponse({"detail": "internal server error", "request_id": request.state.request_id},
                            status_code=500)

    @app.exception_handler(AccountError)
    async def _account_error(request: Request, exc: AccountError) -> JSONResponse:
        if isinstance(exc, UsernameTaken):
            return JSONResponse({"detail": str(exc)}, status_code=409)
        if isinstance(exc, BadCredentials):
            return JSONResponse({"detail": str(exc)}, status_code=401)
        if isinstance(exc, InvalidUsername):
            return invalid(str(exc), ["body", "username"])
        if isinstance(exc, InvalidPassword):
            return invalid(str(exc), ["body", "password"])
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Logged (with traceback) by the edge middleware, which sees the re-raise.
        return JSONResponse({"detail": "internal server error",
                             "request_id": getattr(request.state, "request_id", None)}, status_code=500)
