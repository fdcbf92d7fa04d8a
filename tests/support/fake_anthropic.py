"""A local stand-in for Anthropic's Messages API: real HTTP on loopback, scripted replies."""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_VERSION_HEADER = "anthropic-version"


@dataclass(frozen=True)
class Reply:
    """What the fake answers to one request: a status, a body and an optional delay."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Recorded:
    """One request as the fake received it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def api_key(self) -> str | None:
        return _api_key(self.headers.get("x-api-key"), self.headers.get("authorization"))

    @property
    def system(self) -> str:
        return str(self.body.get("system", ""))

    @property
    def user_text(self) -> str:
        """The text of every user message, joined (the detector sends one)."""
        parts: list[str] = []
        for message in self.body["messages"]:
            content = message["content"]
            blocks = [{"text": content}] if isinstance(content, str) else content
            parts.extend(str(b.get("text", "")) for b in blocks)
        return "\n".join(parts)


Script = Callable[[Recorded], Reply]


def _api_key(x_api_key: str | None, authorization: str | None) -> str | None:
    """The key as the SDK sends it: ``x-api-key`` or, in newer SDKs, a Bearer header."""
    if x_api_key:
        return x_api_key
    if authorization and authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer ")
    return None


def message_reply(content: list[dict[str, Any]], stop_reason: str = "tool_use") -> Reply:
    """A well-formed Messages API response carrying ``content`` blocks."""
    body = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "content": content,
        "model": "fake-model",
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 10},
    }
    return Reply(body=json.dumps(body).encode())


def verdict_reply(
    score: int | float | str, flagged: bool, findings: list[dict[str, Any]] | None = None
) -> Reply:
    """The model calling ``record_verdict`` with these arguments (not validated here)."""
    verdict = {"score": score, "flagged": flagged, "findings": findings or []}
    block = {"type": "tool_use", "id": "toolu_fake", "name": "record_verdict", "input": verdict}
    return message_reply([block])


def text_reply(text: str) -> Reply:
    """The model answering in prose instead of calling the tool."""
    return message_reply([{"type": "text", "text": text}], stop_reason="end_turn")


def error_reply(status: int, kind: str, delay: float = 0.0) -> Reply:
    """An API error in the Messages API's error shape."""
    body = {"type": "error", "error": {"type": kind, "message": f"fake {kind}"}}
    return Reply(status=status, body=json.dumps(body).encode(), delay=delay)


@dataclass
class FakeAnthropic:
    """The server: replies come from ``queue`` first, then from ``script`` (if set)."""

    script: Script | None = None
    queue: deque[Reply] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    most_in_flight: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def answer(self, request: Recorded) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.queue:
                return self.queue.popleft()
        if self.script is None:
            return error_reply(500, "api_error")
        return self.script(request)

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def wait(self, seconds: float) -> None:
        """Sleep for a slow reply, but wake at once when the server stops."""
        self._stopping.wait(seconds)

    def __enter__(self) -> FakeAnthropic:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler_for(fake: FakeAnthropic) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            fake.enter()
            try:
                reply = self._check() or fake.answer(self._recorded(raw))
                if reply.delay:
                    fake.wait(reply.delay)
                self._send(reply)
            finally:
                fake.leave()

        def _check(self) -> Reply | None:
            """Refuse what the real API would refuse before looking at the body."""
            if self.path != "/v1/messages":
                return error_reply(404, "not_found_error")
            if not _api_key(self.headers.get("x-api-key"), self.headers.get("authorization")):
                return error_reply(401, "authentication_error")
            if not self.headers.get(API_VERSION_HEADER):
                return error_reply(400, "invalid_request_error")
            return None

        def _recorded(self, raw: bytes) -> Recorded:
            headers = {k.lower(): v for k, v in self.headers.items()}
            return Recorded(path=self.path, headers=headers, body=json.loads(raw))

        def _send(self, reply: Reply) -> None:
            try:
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("content-length", str(len(reply.body)))
                self.send_header("request-id", f"req_{uuid.uuid4().hex[:12]}")
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout); nothing left to tell it

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    return Handler
