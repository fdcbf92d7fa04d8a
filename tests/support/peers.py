"""Things outside Mailmoat that tests stand up: an SMTP sink (the relay) and a webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from mailmoat.common.processes import free_port


@dataclass
class SmtpSink:
    """A real SMTP server on loopback that keeps every envelope it is given."""

    port: int = field(default_factory=free_port)
    envelopes: list[Envelope] = field(default_factory=list)
    connections: int = 0
    """SMTP sessions opened (a client reusing its connection opens one)."""
    after_data: Callable[[], None] | None = None
    """Called as each message is accepted, just before the 250 goes back."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        if self.after_data is not None:
            self.after_data()
        return "250 2.0.0 Ok: sink accepted"

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    def received(self, outbound_id: str) -> list[bytes]:
        """The raw MIME of each mail the relay handed over for the send ``outbound_id``."""
        marker = f"X-Mailmoat-Outbound-Id: {outbound_id}".encode()
        return [
            e.content
            for e in self.envelopes
            if isinstance(e.content, bytes) and marker in e.content
        ]

    def __enter__(self) -> SmtpSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._controller.stop()


@dataclass
class Delivery:
    """One POST as received."""

    headers: dict[str, str]
    body: bytes
    path: str = "/hook"
    received_at: float = field(default_factory=time.time)
    """Wall-clock time the request was read, just before the answer went back."""

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A real HTTP server on loopback recording every POST (headers lower-cased). Each path
    answers the statuses queued for it in ``answers`` in turn, the last one for good (204 when
    none); a 3xx answer redirects to ``/elsewhere``."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.answers: dict[str, list[int]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.deliveries.append(Delivery(headers, body, self.path))
                queued = receiver.answers.get(self.path) or [204]
                status = queued.pop(0) if len(queued) > 1 else queued[0]
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", "/elsewhere")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self._server.server_address[1])
        self.url = self.url_for("/hook")

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Delivery]:
        """What was POSTed to ``path``, in order."""
        return [d for d in self.deliveries if d.path == path]

    def __enter__(self) -> WebhookReceiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
