"""Kill -9 of ingest mid-DATA: the client never holds a 250 for mail the store does not have."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from mailmoat.common.db.tables import RawMessage
from mailmoat.common.settings import CommonSettings
from tests.support.scenario import Scenario
from tests.support.smtp_wire import open_data
from tests.support.stack import ProcessStack

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database", ["sqlite"], indirect=True)]


def _open_data(port: int, rcpt: str) -> tuple[socket.socket, list[bytes]]:
    sock, _, replies = open_data(port, rcpt, mail_from="a@example.com")
    return sock, replies


def _finish(sock: socket.socket, rest: bytes) -> bytes:
    """Send the rest of DATA; what the server answered, or b'' when the connection died."""
    try:
        sock.sendall(rest)
        return sock.makefile("rb").readline()
    except OSError:
        return b""
    finally:
        sock.close()


async def _subjects(scenario: Scenario) -> list[bytes]:
    async with scenario.sessions() as session:
        rows = await session.scalars(select(RawMessage))
        return [r.raw.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0] for r in rows]


async def test_kill_mid_data_gives_no_250_and_the_retry_is_stored(
    settings: CommonSettings, tmp_path: Path
) -> None:
    scenario = await Scenario.create(settings)
    stack = ProcessStack(settings=settings, log_dir=tmp_path, relay_port=1)
    stack.start("ingest")
    try:
        sock, replies = await asyncio.to_thread(_open_data, stack.smtp_port, scenario.address)
        assert replies[-1].startswith(b"354"), replies
        await asyncio.to_thread(
            sock.sendall, b"From: a@example.com\r\nSubject: half\r\n\r\nfirst half "
        )
        stack.kill("ingest")
        reply = await asyncio.to_thread(_finish, sock, b"second half\r\n.\r\n")
        assert not reply.startswith(b"250")
        assert await _subjects(scenario) == []

        stack.start("ingest")
        sock, _ = await asyncio.to_thread(_open_data, stack.smtp_port, scenario.address)
        reply = await asyncio.to_thread(
            _finish,
            sock,
            b"From: a@example.com\r\nSubject: half\r\n\r\nfirst half second half\r\n.\r\n",
        )
        assert reply.startswith(b"250 2.0.0"), reply
        assert await _subjects(scenario) == [b"half"]
    finally:
        stack.stop()
        await scenario.close()


async def test_a_250_always_means_stored_even_when_killed_at_the_end_of_data(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """Kill right after the final dot, many times: every 250 the client got is in the store."""
    scenario = await Scenario.create(settings)
    stack = ProcessStack(settings=settings, log_dir=tmp_path, relay_port=1)
    acknowledged: list[bytes] = []
    try:
        for attempt in range(5):
            stack.start("ingest")
            sock, _ = await asyncio.to_thread(_open_data, stack.smtp_port, scenario.address)
            subject = f"race {attempt}".encode()
            body = b"From: a@example.com\r\nSubject: " + subject + b"\r\n\r\nbody\r\n.\r\n"
            finishing = asyncio.create_task(asyncio.to_thread(_finish, sock, body))
            await asyncio.sleep(0.002 * attempt)
            stack.kill("ingest")
            if (await finishing).startswith(b"250"):
                acknowledged.append(subject)
        stored = await _subjects(scenario)
        assert set(acknowledged) <= set(stored)
    finally:
        stack.stop()
        await scenario.close()
