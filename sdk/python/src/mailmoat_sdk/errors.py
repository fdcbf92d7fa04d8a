"""What a call raises: the API's problem answers (RFC 9457) as typed exceptions carrying the stable
``code``, and a transport failure that outlasted the retries."""

from __future__ import annotations

import json

import httpx
from pydantic import ValidationError

from mailmoat_sdk.models import Problem


class MailmoatError(Exception):
    """Anything this client raises."""


class APIConnectionError(MailmoatError):
    """The request got no answer (connection refused or cut, timed out), after any retries."""


class APIError(MailmoatError):
    """The API answered with a problem. ``code`` is stable (``policy_violation``,
    ``insufficient_scope``...); ``problem`` is the whole document, ``errors`` included."""

    status: int
    code: str
    title: str
    detail: str
    problem: Problem | None

    def __init__(self, status: int, problem: Problem | None, body: str = "") -> None:
        self.status = status
        self.problem = problem
        self.code = problem.code if problem else f"http_{status}"
        self.title = problem.title if problem else httpx.codes.get_reason_phrase(status)
        self.detail = problem.detail if problem else body[:500]
        super().__init__(f"{status} {self.code}: {self.detail}")


class BadRequestError(APIError):
    """400: the request was malformed."""


class AuthenticationError(APIError):
    """401: no key, or one that is unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key lacks the scope, or holds duties that must stay apart."""


class NotFoundError(APIError):
    """404: nothing by that id or slug in this workspace."""


class ConflictError(APIError):
    """409: the thing exists, or its state forbids the change."""


class UnprocessableEntityError(APIError):
    """422: a field failed validation (see ``problem.errors``)."""


class RateLimitError(APIError):
    """429: too many calls; ``retry_after`` is the server's word in seconds, when given."""

    retry_after: float | None = None


class InternalServerError(APIError):
    """5xx: the gateway failed; safe calls were retried first."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_for(response: httpx.Response) -> APIError:
    """The exception for a non-2xx answer, its problem document parsed when there is one."""
    try:
        problem: Problem | None = Problem.model_validate_json(response.content)
    except (ValidationError, json.JSONDecodeError, ValueError):
        problem = None
    status = response.status_code
    kind = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIError)
    error = kind(status, problem, response.text)
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after(response)
    return error


def retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, when it is a number."""
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
