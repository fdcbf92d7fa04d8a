"""The relay dispatch sends to, with a switch: it accepts, refuses (451 or 554), tarpits (takes
the connection and never answers) or drops the connection in the middle of DATA.

It runs its own event loop in a thread, so a busy harness never slows its answers. What it took
(a 250 sent back) is kept by the token in the mail's subject, so a send received twice shows.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from enum import StrEnum

from mailmoat.common.processes import free_port

TOKEN = re.compile(r"\b(s-[0-9a-z]+-\d+)\b")
"""A send's token, as ``reliability.load`` writes it into the subject."""
READ_TIMEOUT_SECONDS = 120.0


class RelayMode(StrEnum):
    """How the relay answers from now on (also on connections already open)."""

    ACCEPT = "accept"
    REFUSE_TEMPORARY = "refuse-451"
    REFUSE_PERMANENT = "refuse-554"
    TARPIT = "tarpit"
    DROP_MID_DATA = "drop-mid-data"


FINAL_REPLY = {
    RelayMode.ACCEPT: b"250 2.0.0 Ok: chaos relay took it\r\n",
    RelayMode.REFUSE_TEMPORARY: b"451 4.3.0 chaos relay: try again later\r\n",
    RelayMode.REFUSE_PERMANENT: b"554 5.7.1 chaos relay: refused\r\n",
}


@dataclass(frozen=True)
class Relayed:
    """One mail as the relay saw it at the end of DATA."""

    token: str | None
    message_id: str | None
    recipients: tuple[str, ...]
    at: float = field(default_factory=time.monotonic)


@dataclass
class RelayLog:
    """What happened at the relay: mails taken, refused, connections dropped or held."""

    accepted: list[Relayed] = field(default_factory=list)
    refused: list[Relayed] = field(default_factory=list)
    dropped: int = 0
    tarpitted: int = 0


class ChaosRelay:
    """An SMTP server on loopback that answers as ``mode`` says."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode = RelayMode.ACCEPT
        self.log = RelayLog()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._sessions: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None

    def __enter__(self) -> ChaosRelay:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the chaos relay did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._session, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_forever()
        for task in self._sessions:
            task.cancel()
        self._server.close()
        self._loop.run_until_complete(asyncio.sleep(0))
        self._loop.close()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await SmtpSession(self, reader, writer).run()
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            self._sessions.discard(task)
            writer.transport.abort()


class SmtpSession:
    """One client connection, command by command."""

    def __init__(
        self, relay: ChaosRelay, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.relay, self.reader, self.writer = relay, reader, writer
        self.recipients: list[str] = []

    async def run(self) -> None:
        if await self._tarpitted():
            return
        self.writer.write(b"220 chaos.relay ESMTP\r\n")
        while line := await asyncio.wait_for(self.reader.readline(), READ_TIMEOUT_SECONDS):
            if await self._tarpitted():
                return
            verb = line[:4].upper()
            if verb == b"QUIT":
                self.writer.write(b"221 2.0.0 Bye\r\n")
                await self.writer.drain()
                return
            if verb == b"DATA" and not await self._data():
                return
            if verb != b"DATA":
                self.writer.write(self._answer(verb, line))
            await self.writer.drain()

    def _answer(self, verb: bytes, line: bytes) -> bytes:
        if verb == b"EHLO":
            return b"250-chaos.relay\r\n250 8BITMIME\r\n"
        if verb == b"RCPT":
            self.recipients.append(line[8:].strip().strip(b"<>").decode(errors="replace"))
        if verb in (b"MAIL", b"RSET"):
            self.recipients = []
        known = verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP")
        return b"250 2.0.0 Ok\r\n" if known else b"502 5.5.2 not here\r\n"

    async def _tarpitted(self) -> bool:
        """In tarpit mode: hold the connection, reading and answering nothing, until the client
        gives up."""
        if self.relay.mode != RelayMode.TARPIT:
            return False
        self.relay.log.tarpitted += 1
        while await self.reader.read(65536):
            pass
        return True

    async def _data(self) -> bool:
        """The DATA phase; False when the connection was dropped in it."""
        self.writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        await self.writer.drain()
        mode = self.relay.mode
        if mode == RelayMode.DROP_MID_DATA:
            await self.reader.readline()  # the client is in the middle of its message
            self.relay.log.dropped += 1
            return False
        lines = []
        while (line := await self.reader.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        headers = BytesHeaderParser().parsebytes(b"".join(lines))
        found = TOKEN.search(str(headers.get("subject", "")))
        seen = Relayed(
            token=found.group(1) if found else None,
            message_id=headers.get("message-id"),
            recipients=tuple(self.recipients),
        )
        mode = self.relay.mode if self.relay.mode in FINAL_REPLY else RelayMode.ACCEPT
        (self.relay.log.accepted if mode == RelayMode.ACCEPT else self.relay.log.refused).append(
            seen
        )
        self.writer.write(FINAL_REPLY[mode])
        return True
