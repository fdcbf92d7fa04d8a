"""A webhook endpoint at its worst: it accepts every connection, reads the request and never
answers a byte."""

from __future__ import annotations

import selectors
import socket
import threading


class Tarpit:
    """A TCP server on loopback that takes each connection and holds it, reading what comes and
    answering nothing, until the caller hangs up or the tarpit itself is closed. ``accepted``
    counts the connections taken, ``holding`` those still open."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0), backlog=512)
        self._server.setblocking(False)
        self.port = int(self._server.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._server, selectors.EVENT_READ)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.accepted = 0
        self.holding = 0

    def url_for(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.1):
                if key.fileobj is self._server:
                    self._accept()
                else:
                    self._drain(key.fileobj)  # type: ignore[arg-type]

    def _accept(self) -> None:
        conn, _ = self._server.accept()
        conn.setblocking(False)
        self._selector.register(conn, selectors.EVENT_READ)
        self.accepted += 1
        self.holding += 1

    def _drain(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the caller gave up
            self._selector.unregister(conn)
            conn.close()
            self.holding -= 1

    def __enter__(self) -> Tarpit:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()
