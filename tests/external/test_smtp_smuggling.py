"""SMTP smuggling: every malformed end-of-data sequence yields at most one message, never two."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.external import external, report
from tests.support.ingest import Ingest
from tests.support.smtp_wire import open_data

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

CASES = json.loads(external("smtp_smuggling", "eod_sequences.json").read_text())["cases"]


def _session(ingest: Ingest, fake_eod: bytes) -> list[bytes]:
    """One pipelined session carrying a smuggled second transaction; the server's replies."""
    smuggled = (
        b"MAIL FROM:<x@evil.example>\r\n"
        + f"RCPT TO:<{ingest.address}>\r\n".encode()
        + b"DATA\r\nFrom: smuggled@evil.example\r\nSubject: smuggled\r\n\r\nsmuggled\r\n"
    )
    sock, reader, _ = open_data(ingest.port, ingest.address, helo="client.sender.example")
    with sock:
        body = b"From: alice@sender.example\r\nSubject: carrier\r\n\r\nfirst"
        sock.sendall(body + fake_eod + smuggled + b"\r\n.\r\n" + b"QUIT\r\n")
        return [line for line in reader.readlines() if line]


async def test_no_smuggled_message_is_ever_accepted(ingest: Ingest) -> None:
    outcomes: dict[int, str] = {}
    for case in CASES:
        before = len(await ingest.stored())
        replies = await asyncio.to_thread(_session, ingest, case["fake_eod"].encode("latin-1"))
        rows = (await ingest.stored())[before:]
        assert len(rows) <= 1, f"case {case['id']}: {len(rows)} messages from one session"
        assert not any(b"Subject: smuggled" in r.raw.split(b"\r\n\r\n")[0] for r in rows)
        data_replies = [r for r in replies if r[:3] in (b"250", b"554", b"550")]
        outcomes[case["id"]] = data_replies[0].decode().strip() if data_replies else "closed"
    accepted = sum(1 for reply in outcomes.values() if reply.startswith("250"))
    report("smtp smuggling", len(CASES), len(CASES))
    # Every sequence but the one that is a plain dot-stuffed line carries a bare CR/LF or NUL.
    assert accepted <= 1, outcomes
