"""The front door's greeting names the host only: nothing about the software or its version."""

from __future__ import annotations

import asyncio
import socket

import pytest

from tests.support.ingest import Ingest

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _greeting(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        return sock.recv(200)


async def test_the_banner_names_the_host_and_nothing_else(ingest: Ingest) -> None:
    banner = await asyncio.to_thread(_greeting, ingest.port)
    assert banner == f"220 {ingest.settings.smtp_hostname} ESMTP\r\n".encode()
    assert b"Python" not in banner
