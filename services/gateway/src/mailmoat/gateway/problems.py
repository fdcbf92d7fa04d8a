"""RFC 9457 problem details: every error the API returns has a type, title, status and code."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://mailmoat.dev/problems/"


class ProblemOut(BaseModel):
    """An RFC 9457 problem document as the API sends it (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str = Field(description="Stable machine-readable error code.")
    detail: str
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Validation errors: each one's ``field`` (a dotted path such as "
        "``to[0]`` or ``metadata.reasoning``; a query parameter or header by its name), "
        "``loc`` (where FastAPI found it), ``msg`` and ``type``.",
    )


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare every operation's 4XX answers as problem+json in an OpenAPI document (FastAPI
    would describe 422 as plain JSON of another shape)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
        ProblemOut.model_json_schema()
    )
    problem = {
        "description": "An RFC 9457 problem",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = problem
    return schema


class Problem(Exception):
    """An error answered as ``application/problem+json``."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers
        self.extra = extra


def problem_response(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The problem+json response for the given status and code."""
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": detail,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Answer our problems, HTTP errors and validation errors as problem+json."""

    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.code, exc.detail, headers=exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return problem_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(500, "internal_error", "An unexpected error occurred")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        if raw and raw[0]["type"] == "json_invalid":
            return malformed_json(exc.body, raw[0])
        errors = [field_error(e["loc"], e["msg"], e["type"]) for e in raw]
        return problem_response(422, "invalid_request", _summary(errors), errors=errors)


LOCATIONS = frozenset({"body", "query", "path", "header", "cookie"})


def field_path(loc: Sequence[str | int]) -> str:
    """How every 422 names a field: ``to[0]``, ``metadata.reasoning``, ``cursor``; the
    location FastAPI found it in (body, query, path, header) is left to ``loc``."""
    parts = list(loc[1:] if loc and loc[0] in LOCATIONS else loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def field_error(loc: Sequence[str | int], msg: str, kind: str = "value_error") -> dict[str, Any]:
    """One entry of a problem's ``errors``."""
    return {"field": field_path(loc), "loc": list(loc), "msg": msg, "type": kind}


def invalid(
    loc: Sequence[str | int], msg: str, *, code: str = "invalid_request", **extra: Any
) -> Problem:
    """A 422 raised by a route, naming the field as request validation does."""
    error = field_error(loc, msg)
    return Problem(422, code, _summary([error]), errors=[error], **extra)


def malformed_json(doc: Any, error: dict[str, Any]) -> JSONResponse:
    """A body that is not JSON: 400, with where it broke and what was expected there."""
    text = doc if isinstance(doc, str) else ""
    at = error["loc"][-1] if isinstance(error["loc"][-1], int) else 0
    reason = error.get("ctx", {}).get("error", "Invalid JSON")
    parsed = json.JSONDecodeError(reason, text, at)
    return problem_response(
        400,
        "malformed_json",
        f"Malformed JSON at line {parsed.lineno}, column {parsed.colno}: {reason}",
        line=parsed.lineno,
        column=parsed.colno,
    )


def _summary(errors: list[dict[str, Any]]) -> str:
    if not errors:
        return "invalid request"
    first = errors[0]
    return f"{first['field']}: {first['msg']}" if first["field"] else str(first["msg"])
