"""One description of a request (``Call``), run by the sync or the async client alike, and the
rules both follow: the headers every request carries, which failures are retried, and how long
to wait before the next try."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from mailmoat_sdk.errors import APIConnectionError, error_for, retry_after

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ItemT = TypeVar("ItemT", covariant=True)

VERSION = "0.1.0"
USER_AGENT = f"mailmoat-sdk-python/{VERSION}"
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
RETRIED_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Call(Generic[T_co]):
    """One API request and how to read its answer. ``creates``: a POST that makes something,
    sent with an ``Idempotency-Key`` (the caller's, or a fresh one kept across retries)."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T_co]
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    creates: bool = False
    idempotency_key: str | None = None

    def request(self, client: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        headers = {}
        if self.creates:
            headers[IDEMPOTENCY_HEADER] = self.idempotency_key or str(uuid.uuid4())
        params: dict[str, Any] = {k: _query(v) for k, v in self.params.items() if v is not None}
        body = _json(self.body)
        return client.build_request(
            self.method, self.path, params=params, json=body, headers=headers
        )


class Page(Protocol[ItemT]):
    """What every list answers: ``items`` and the cursor of the next page (None: the last)."""

    @property
    def items(self) -> Sequence[ItemT]: ...

    @property
    def next_cursor(self) -> str | None: ...


def model(kind: Any) -> Callable[[httpx.Response], Any]:
    """Read the answer as ``kind`` (a generated model, or a union of them)."""
    adapter: TypeAdapter[Any] = TypeAdapter(kind)
    return lambda response: adapter.validate_json(response.content)


def nothing(response: httpx.Response) -> None:
    """A 204."""


def content(response: httpx.Response) -> bytes:
    """The body as it came (the raw RFC 5322 message)."""
    return response.content


@dataclass(frozen=True)
class Retries:
    """How often, and how patiently, a retryable failure is tried again: exponential backoff
    from ``base`` seconds with full jitter, capped at ``cap``; a 429's ``Retry-After`` wins."""

    attempts: int = 3
    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and (told := retry_after(response)) is not None:
            return min(told, 60.0)
        return float(random.uniform(0, min(self.cap, self.base * 2**attempt)))


def may_retry(call: Call[Any], *, sent: bool, status: int | None) -> bool:
    """Whether a failure can be retried without doing anything twice: a request never sent; a
    429 (refused before any work); a gateway or proxy error or a lost answer only where a repeat
    is harmless (a safe method, or a create carrying its Idempotency-Key)."""
    if not sent:
        return True
    if status == 429:
        return True
    if status is not None and status not in RETRIED_STATUSES:
        return False
    return call.method in SAFE_METHODS or call.creates


def wait_before_retry(
    call: Call[Any],
    retries: Retries,
    attempt: int,
    response: httpx.Response | None,
    failure: httpx.TransportError | None,
) -> float | None:
    """Seconds to wait before trying ``call`` again after this attempt's ``response`` (or its
    transport ``failure``); None: this outcome is final. A connection never made was never sent."""
    if attempt >= retries.attempts:
        return None
    if failure is not None:
        sent = not isinstance(failure, httpx.ConnectError | httpx.ConnectTimeout)
        return retries.delay(attempt, None) if may_retry(call, sent=sent, status=None) else None
    assert response is not None
    if response.is_success or not may_retry(call, sent=True, status=response.status_code):
        return None
    return retries.delay(attempt, response)


def outcome(
    call: Call[T], response: httpx.Response | None, failure: httpx.TransportError | None
) -> T:
    """What the final attempt amounts to: the parsed answer, or the failure raised."""
    if failure is not None:
        raise APIConnectionError(str(failure)) from failure
    assert response is not None
    return settle(call, response)


def settle(call: Call[T], response: httpx.Response) -> T:
    """The parsed answer of a 2xx, else the problem raised."""
    if response.is_success:
        return call.parse(response)
    raise error_for(response)


def headers(api_key: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {api_key}",
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
    }


def _query(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, uuid.UUID) else value


def _json(body: object) -> object:
    if body is None:
        return None
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    return TypeAdapter(Any).dump_python(body, mode="json")
