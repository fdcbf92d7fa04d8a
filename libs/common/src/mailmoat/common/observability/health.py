"""Liveness and readiness of a process, served beside ``/metrics`` on its metrics port.

``GET /healthz/live`` answers 200 while the process's event loop runs work it is handed (a loop
blocked by a stuck call answers 503, and Kubernetes restarts the pod). ``GET /healthz/ready``
answers 200 once every service in the process is ready: its database answers, its broker
answers, and each of its consumer groups holds an assignment (possibly no partitions: a replica
beyond the partition count is idle, not broken). A stopping service is not ready, so traffic
leaves it before it goes. The body says which check failed and why.

The server is a thread, as ``prometheus_client``'s is: the checks run on the event loop, so a
loop too busy to answer in time is reported, not waited for.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import TimeoutError as FutureTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder

Check = Callable[[], Awaitable[str | None]]
"""A readiness check: ``None`` when ready, else why not."""

CHECK_TIMEOUT_SECONDS = 3.0


class Health:
    """The process's readiness checks, one per running service, and its event loop."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def add(self, name: str, check: Check) -> None:
        """Count ``name`` in readiness (called on the loop the check runs on)."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._checks[name] = check

    def remove(self, name: str) -> None:
        with self._lock:
            self._checks.pop(name, None)

    def live(self, timeout: float = CHECK_TIMEOUT_SECONDS) -> str | None:
        """``None`` when the event loop runs what it is handed within ``timeout``."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return None  # nothing started yet: the process itself is alive
        try:
            asyncio.run_coroutine_threadsafe(asyncio.sleep(0), loop).result(timeout)
        except FutureTimeout:
            return f"event loop did not answer in {timeout:g}s"
        except RuntimeError as error:  # the loop stopped between the check and the call
            return str(error)
        return None

    def ready(self, timeout: float = CHECK_TIMEOUT_SECONDS) -> dict[str, str]:
        """Every service's state, ``"ready"`` or why not; empty while none has started."""
        with self._lock:
            loop, checks = self._loop, dict(self._checks)
        if loop is None or not checks:
            return {}
        try:
            found = asyncio.run_coroutine_threadsafe(_run_all(checks, limit=timeout), loop).result(
                timeout + 1
            )
        except (FutureTimeout, RuntimeError):
            return dict.fromkeys(checks, f"event loop did not answer in {timeout:g}s")
        return found


async def _run_all(checks: dict[str, Check], *, limit: float) -> dict[str, str]:
    async def one(check: Check) -> str:
        try:
            problem = await asyncio.wait_for(check(), limit)
        except TimeoutError:
            return f"no answer in {limit:g}s"
        except Exception as error:  # a check that fails says so: that is its answer
            return f"{type(error).__name__}: {error}"
        return problem or "ready"

    names = list(checks)
    answers = await asyncio.gather(*(one(checks[name]) for name in names))
    return dict(zip(names, answers, strict=True))


HEALTH = Health()
"""The process's one health registry (as ``prometheus_client.REGISTRY`` is for metrics)."""


class _Handler(BaseHTTPRequestHandler):
    health: ClassVar[Health] = HEALTH

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._answer(200, encoder(REGISTRY), content_type)
        elif path == "/healthz/live":
            problem = self.health.live()
            body: dict[str, Any] = {"status": "live" if problem is None else "not live"}
            if problem is not None:
                body["reason"] = problem
            self._answer_json(200 if problem is None else 503, body)
        elif path == "/healthz/ready":
            services = self.health.ready()
            ok = bool(services) and all(state == "ready" for state in services.values())
            reason = {} if services else {"reason": "no service has started yet"}
            body = {"status": "ready" if ok else "not ready", "services": services, **reason}
            self._answer_json(200 if ok else 503, body)
        else:
            self._answer_json(404, {"status": "not found", "paths": list(PATHS)})

    def _answer_json(self, status: int, body: dict[str, Any]) -> None:
        self._answer(status, json.dumps(body).encode(), "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds: not worth a log line each


PATHS = ("/metrics", "/healthz/live", "/healthz/ready")


def start_ops_server(port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve ``PATHS`` on ``http://host:port`` from a daemon thread."""
    server = ThreadingHTTPServer((host, port), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="ops-http", daemon=True).start()
    return server
