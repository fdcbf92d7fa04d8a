"""``Mailmoat`` and ``AsyncMailmoat``: the operations of ``_operations`` grouped by resource, each
run over httpx with the same retries; lists also as iterators over every page."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from mailmoat_sdk import _operations as ops
from mailmoat_sdk._core import Call, Page, Retries, headers, outcome, wait_before_retry

P = ParamSpec("P")
T = TypeVar("T")
ItemT = TypeVar("ItemT")

DEFAULT_TIMEOUT = 30.0
API_PATH = "/api/v1"


def _api_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith(API_PATH) else base + API_PATH


class _Sync:
    """What a sync resource runs its calls on."""

    def __init__(self, http: httpx.Client, retries: Retries) -> None:
        self._http = http
        self._retries = retries

    def _run(self, call: Call[T]) -> T:
        request = call.request(self._http)  # one Idempotency-Key for every try
        attempt = 0
        while True:
            response, failure = None, None
            try:
                response = self._http.send(request)
            except httpx.TransportError as failed:
                failure = failed
            wait = wait_before_retry(call, self._retries, attempt, response, failure)
            if wait is None:
                return outcome(call, response, failure)
            time.sleep(wait)
            attempt += 1


class _Async:
    """What an async resource runs its calls on."""

    def __init__(self, http: httpx.AsyncClient, retries: Retries) -> None:
        self._http = http
        self._retries = retries

    async def _run(self, call: Call[T]) -> T:
        request = call.request(self._http)
        attempt = 0
        while True:
            response, failure = None, None
            try:
                response = await self._http.send(request)
            except httpx.TransportError as failed:
                failure = failed
            wait = wait_before_retry(call, self._retries, attempt, response, failure)
            if wait is None:
                return outcome(call, response, failure)
            await asyncio.sleep(wait)
            attempt += 1


def _sync(op: Callable[P, Call[T]]) -> Callable[Concatenate[_Sync, P], T]:
    def method(self: _Sync, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._run(op(*args, **kwargs))

    method.__doc__ = op.__doc__
    return method


def _async(op: Callable[P, Call[T]]) -> Callable[Concatenate[_Async, P], Awaitable[T]]:
    async def method(self: _Async, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._run(op(*args, **kwargs))

    method.__doc__ = op.__doc__
    return method


def _pages(op: Callable[P, Call[Page[ItemT]]]) -> Callable[Concatenate[_Sync, P], Iterator[ItemT]]:
    def method(self: _Sync, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[ItemT]:
        while True:
            page = self._run(op(*args, **kwargs))
            yield from page.items
            if page.next_cursor is None:
                return
            kwargs["cursor"] = page.next_cursor

    method.__doc__ = f"Every item, page after page. {op.__doc__ or ''}"
    return method


def _async_pages(
    op: Callable[P, Call[Page[ItemT]]],
) -> Callable[Concatenate[_Async, P], AsyncIterator[ItemT]]:
    async def method(self: _Async, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[ItemT]:
        while True:
            page = await self._run(op(*args, **kwargs))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            kwargs["cursor"] = page.next_cursor

    method.__doc__ = f"Every item, page after page. {op.__doc__ or ''}"
    return method


class Workspace(_Sync):
    get = _sync(ops.get_workspace)
    update = _sync(ops.update_workspace)
    credits = _sync(ops.list_credits)
    reinstate = _sync(ops.reinstate_workspace)


class AsyncWorkspace(_Async):
    get = _async(ops.get_workspace)
    update = _async(ops.update_workspace)
    credits = _async(ops.list_credits)
    reinstate = _async(ops.reinstate_workspace)


class Keys(_Sync):
    create = _sync(ops.create_key)
    list = _sync(ops.list_keys)
    iterate = _pages(ops.list_keys)
    revoke = _sync(ops.revoke_key)


class AsyncKeys(_Async):
    create = _async(ops.create_key)
    list = _async(ops.list_keys)
    iterate = _async_pages(ops.list_keys)
    revoke = _async(ops.revoke_key)


class Inboxes(_Sync):
    create = _sync(ops.create_inbox)
    list = _sync(ops.list_inboxes)
    iterate = _pages(ops.list_inboxes)
    get = _sync(ops.get_inbox)
    update = _sync(ops.update_inbox)
    delete = _sync(ops.delete_inbox)
    reinstate = _sync(ops.reinstate_inbox)
    senders = _sync(ops.list_senders)
    reveal_webhook_secret = _sync(ops.reveal_webhook_secret)
    rotate_webhook_secret = _sync(ops.rotate_webhook_secret)


class AsyncInboxes(_Async):
    create = _async(ops.create_inbox)
    list = _async(ops.list_inboxes)
    iterate = _async_pages(ops.list_inboxes)
    get = _async(ops.get_inbox)
    update = _async(ops.update_inbox)
    delete = _async(ops.delete_inbox)
    reinstate = _async(ops.reinstate_inbox)
    senders = _async(ops.list_senders)
    reveal_webhook_secret = _async(ops.reveal_webhook_secret)
    rotate_webhook_secret = _async(ops.rotate_webhook_secret)


class Messages(_Sync):
    list = _sync(ops.list_messages)
    iterate = _pages(ops.list_messages)
    get = _sync(ops.get_message)
    raw = _sync(ops.get_raw_message)
    analysis = _sync(ops.get_analysis)
    release = _sync(ops.release_message)
    thread = _sync(ops.get_thread)


class AsyncMessages(_Async):
    list = _async(ops.list_messages)
    iterate = _async_pages(ops.list_messages)
    get = _async(ops.get_message)
    raw = _async(ops.get_raw_message)
    analysis = _async(ops.get_analysis)
    release = _async(ops.release_message)
    thread = _async(ops.get_thread)


class Outbound(_Sync):
    send = _sync(ops.send)
    get = _sync(ops.get_outbound)


class AsyncOutbound(_Async):
    send = _async(ops.send)
    get = _async(ops.get_outbound)


class Approvals(_Sync):
    list = _sync(ops.list_approvals)
    iterate = _pages(ops.list_approvals)
    get = _sync(ops.get_approval)
    approve = _sync(ops.approve)
    reject = _sync(ops.reject)


class AsyncApprovals(_Async):
    list = _async(ops.list_approvals)
    iterate = _async_pages(ops.list_approvals)
    get = _async(ops.get_approval)
    approve = _async(ops.approve)
    reject = _async(ops.reject)


class Allowlist(_Sync):
    list = _sync(ops.list_allowlist)
    iterate = _pages(ops.list_allowlist)
    add = _sync(ops.allow)
    remove = _sync(ops.disallow)


class AsyncAllowlist(_Async):
    list = _async(ops.list_allowlist)
    iterate = _async_pages(ops.list_allowlist)
    add = _async(ops.allow)
    remove = _async(ops.disallow)


class Webhooks(_Sync):
    create = _sync(ops.create_webhook)
    list = _sync(ops.list_webhooks)
    iterate = _pages(ops.list_webhooks)
    delete = _sync(ops.delete_webhook)


class AsyncWebhooks(_Async):
    create = _async(ops.create_webhook)
    list = _async(ops.list_webhooks)
    iterate = _async_pages(ops.list_webhooks)
    delete = _async(ops.delete_webhook)


class Audit(_Sync):
    list = _sync(ops.list_audit)
    iterate = _pages(ops.list_audit)
    verify = _sync(ops.verify_audit)


class AsyncAudit(_Async):
    list = _async(ops.list_audit)
    iterate = _async_pages(ops.list_audit)
    verify = _async(ops.verify_audit)


class Mailmoat(_Sync):
    """The API, synchronously. ``api_key`` is a workspace key (``mm_...``); ``base_url`` the
    gateway (``http://host:8080``, with or without ``/api/v1``); ``extra_headers`` go with every
    request."""

    send = _sync(ops.send)

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries | None = None,
        transport: httpx.BaseTransport | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        http = httpx.Client(
            base_url=_api_url(base_url), headers={**headers(api_key), **(extra_headers or {})},
            timeout=timeout,
            transport=transport,
        )  # fmt: skip
        super().__init__(http, retries or Retries())
        parts = (http, self._retries)
        self.workspace = Workspace(*parts)
        self.keys = Keys(*parts)
        self.inboxes = Inboxes(*parts)
        self.messages = Messages(*parts)
        self.outbound = Outbound(*parts)
        self.approvals = Approvals(*parts)
        self.allowlist = Allowlist(*parts)
        self.webhooks = Webhooks(*parts)
        self.audit = Audit(*parts)

    def wait_for_message(
        self,
        inbox: str,
        *,
        timeout: float = 60.0,
        since: datetime | None = None,
        poll_interval: float = 1.0,
    ) -> ops.Message | None:
        """The next mail to reach ``inbox`` (one received at or after ``since``, else one not
        there when the wait began), or None when ``timeout`` seconds pass first."""
        waiting = _Waiting(since)
        deadline = time.monotonic() + timeout
        while True:
            page = self._run(ops.list_messages(inbox, since=since, limit=100))
            if (found := waiting.new(page.items)) is not None:
                return found
            if time.monotonic() + poll_interval > deadline:
                return None
            time.sleep(poll_interval)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Mailmoat:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncMailmoat(_Async):
    """The API, for asyncio; the same resources and methods as ``Mailmoat``, awaited."""

    send = _async(ops.send)

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: Retries | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        http = httpx.AsyncClient(
            base_url=_api_url(base_url), headers={**headers(api_key), **(extra_headers or {})},
            timeout=timeout,
            transport=transport,
        )  # fmt: skip
        super().__init__(http, retries or Retries())
        parts = (http, self._retries)
        self.workspace = AsyncWorkspace(*parts)
        self.keys = AsyncKeys(*parts)
        self.inboxes = AsyncInboxes(*parts)
        self.messages = AsyncMessages(*parts)
        self.outbound = AsyncOutbound(*parts)
        self.approvals = AsyncApprovals(*parts)
        self.allowlist = AsyncAllowlist(*parts)
        self.webhooks = AsyncWebhooks(*parts)
        self.audit = AsyncAudit(*parts)

    async def wait_for_message(
        self,
        inbox: str,
        *,
        timeout: float = 60.0,  # noqa: ASYNC109 (the same call as the sync client's)
        since: datetime | None = None,
        poll_interval: float = 1.0,
    ) -> ops.Message | None:
        """As ``Mailmoat.wait_for_message``, awaited."""
        waiting = _Waiting(since)
        deadline = time.monotonic() + timeout
        while True:
            page = await self._run(ops.list_messages(inbox, since=since, limit=100))
            if (found := waiting.new(page.items)) is not None:
                return found
            if time.monotonic() + poll_interval > deadline:
                return None
            await asyncio.sleep(poll_interval)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncMailmoat:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _Waiting:
    """What ``wait_for_message`` has seen: with ``since``, any listed message is new (the API
    filtered them); without, the first listing is the baseline and a later id is new."""

    def __init__(self, since: datetime | None) -> None:
        self.since = since
        self.seen: set[Any] | None = None if since is None else set()

    def new(self, items: list[ops.Message]) -> ops.Message | None:
        if self.seen is None:
            self.seen = {item.id for item in items}
            return None
        fresh = [item for item in items if item.id not in self.seen]
        return min(fresh, key=lambda item: item.received_at) if fresh else None
