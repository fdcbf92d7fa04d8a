"""What the SDK retries, against a real HTTP server standing in for a proxy in front of the
gateway: each path answers the statuses queued for it. A retry must never do a thing twice:
safe methods and creates (which carry one ``Idempotency-Key`` for every try) are retried on a
gateway error; a decision such as an approval is not; a 429 is, after its ``Retry-After``."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mailmoat.common.processes import free_port
from mailmoat_sdk import (
    APIConnectionError,
    AsyncMailmoat,
    InternalServerError,
    Mailmoat,
    NotFoundError,
    RateLimitError,
    Retries,
)

FAST = Retries(attempts=3, base=0.01, cap=0.02)
OUTBOUND = {"id": str(uuid.uuid4()), "status": "queued", "risk_score": 0, "credits_consumed": 0}
PROBLEM = {"type": "about:blank", "title": "Not Found", "status": 404, "code": "not_found",
           "detail": "No inbox 'x'"}  # fmt: skip


class Scripted:
    """Each path answers its queued (status, body, headers) in turn, the last one for good."""

    def __init__(self) -> None:
        self.answers: dict[str, list[tuple[int, object, dict[str, str]]]] = {}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                path = self.path.split("?")[0]
                scripted.seen.append(
                    (self.command, path, {k.lower(): v for k, v in self.headers.items()})
                )
                queued = scripted.answers.get(path) or [(404, PROBLEM, {})]
                status, body, headers = queued.pop(0) if len(queued) > 1 else queued[0]
                data = json.dumps(body).encode()
                self.send_response(status)
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def tries(self, path: str) -> list[dict[str, str]]:
        return [headers for _method, seen, headers in self.seen if seen == path]


@pytest.fixture
def proxy() -> Iterator[Scripted]:
    scripted = Scripted()
    threading.Thread(target=scripted.server.serve_forever, daemon=True).start()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def test_a_read_is_retried_through_gateway_errors(proxy: Scripted) -> None:
    path = f"/api/v1/outbound/{OUTBOUND['id']}"
    proxy.answers[path] = [(503, {}, {}), (502, {}, {}), (200, OUTBOUND, {})]
    with Mailmoat(proxy.url, "mm_key", retries=FAST) as client:
        assert client.outbound.get(OUTBOUND["id"]).status == "queued"
    assert len(proxy.tries(path)) == 3


def test_a_send_is_retried_with_one_idempotency_key(proxy: Scripted) -> None:
    path = "/api/v1/inboxes/agent/send"
    proxy.answers[path] = [(504, {}, {}), (202, OUTBOUND, {})]
    with Mailmoat(proxy.url, "mm_key", retries=FAST) as client:
        client.send("agent", to=["bob@example.com"], subject="Hi", text="Hello")
    keys = [headers["idempotency-key"] for headers in proxy.tries(path)]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert proxy.tries(path)[0]["authorization"] == "Bearer mm_key"


def test_each_send_gets_its_own_key_unless_the_caller_gives_one(proxy: Scripted) -> None:
    path = "/api/v1/inboxes/agent/send"
    proxy.answers[path] = [(202, OUTBOUND, {})]
    with Mailmoat(proxy.url, "mm_key", retries=FAST) as client:
        for _ in range(2):
            client.send("agent", to=["bob@example.com"], subject="Hi", text="Hello")
        client.send("agent", to=["b@example.com"], subject="Hi", text="x", idempotency_key="mine")
    keys = [headers["idempotency-key"] for headers in proxy.tries(path)]
    assert keys[0] != keys[1]
    assert keys[2] == "mine"


def test_an_approval_is_not_retried_after_a_gateway_error(proxy: Scripted) -> None:
    path = f"/api/v1/approvals/{uuid.uuid4()}/approve"
    proxy.answers[path] = [(503, {}, {}), (202, OUTBOUND, {})]
    with Mailmoat(proxy.url, "mm_key", retries=FAST) as client, pytest.raises(InternalServerError):
        client.approvals.approve(path.split("/")[4])
    assert len(proxy.tries(path)) == 1


def test_a_429_is_retried_even_for_an_approval(proxy: Scripted) -> None:
    path = f"/api/v1/approvals/{uuid.uuid4()}/approve"
    limited = {**PROBLEM, "status": 429, "code": "rate_limited", "title": "Too Many Requests"}
    proxy.answers[path] = [(429, limited, {"Retry-After": "0"}), (202, OUTBOUND, {})]
    with Mailmoat(proxy.url, "mm_key", retries=FAST) as client:
        assert client.approvals.approve(path.split("/")[4]).status == "queued"
    assert len(proxy.tries(path)) == 2


def test_retries_run_out_into_the_typed_error(proxy: Scripted) -> None:
    path = "/api/v1/inboxes"
    limited = {**PROBLEM, "status": 429, "code": "rate_limited", "title": "Too Many Requests"}
    proxy.answers[path] = [(429, limited, {"Retry-After": "0"})]
    with (
        Mailmoat(proxy.url, "mm_key", retries=FAST) as client,
        pytest.raises(RateLimitError) as raised,
    ):
        client.inboxes.list()
    assert raised.value.code == "rate_limited"
    assert raised.value.retry_after == 0
    assert len(proxy.tries(path)) == FAST.attempts + 1


def test_a_client_error_is_raised_at_once_with_its_code(proxy: Scripted) -> None:
    with (
        Mailmoat(proxy.url, "mm_key", retries=FAST) as client,
        pytest.raises(NotFoundError) as raised,
    ):
        client.inboxes.get("x")
    assert (raised.value.status, raised.value.code, raised.value.detail) == (
        404,
        "not_found",
        "No inbox 'x'",
    )
    assert len(proxy.tries("/api/v1/inboxes/x")) == 1


def test_no_server_at_all_is_a_connection_error() -> None:
    client = Mailmoat(f"http://127.0.0.1:{free_port()}", "mm_key", retries=FAST)
    with client, pytest.raises(APIConnectionError):
        client.workspace.get()


async def test_the_async_client_follows_the_same_rules(proxy: Scripted) -> None:
    path = "/api/v1/inboxes/agent/send"
    proxy.answers[path] = [(503, {}, {}), (202, OUTBOUND, {})]
    approve = f"/api/v1/approvals/{uuid.uuid4()}/approve"
    proxy.answers[approve] = [(503, {}, {}), (202, OUTBOUND, {})]
    async with AsyncMailmoat(proxy.url + "/api/v1", "mm_key", retries=FAST) as client:
        await client.send("agent", to=["bob@example.com"], subject="Hi", text="Hello")
        with pytest.raises(InternalServerError):
            await client.approvals.approve(approve.split("/")[4])
    assert len({headers["idempotency-key"] for headers in proxy.tries(path)}) == 1
    assert len(proxy.tries(path)) == 2
    assert len(proxy.tries(approve)) == 1
