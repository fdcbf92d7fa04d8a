"""The espoofer server cases through real SMTP: legitimate.com is never authenticated."""

from __future__ import annotations

import asyncio
import json
import re
import socket

import pytest

from tests.support.external import external, report
from tests.support.ingest import Ingest

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

CASES = json.loads(external("espoofer", "testcases.json").read_text(encoding="utf-8"))
SPOOFED = "legitimate.com"


def _message(case: dict[str, object], rcpt: str) -> bytes:
    data = case["data"]
    assert isinstance(data, dict)
    parts = [data.get(k, "") for k in ("from_header", "to_header", "subject_header")]
    text = "".join(parts) + str(data.get("other_headers", "")) + str(data.get("body", ""))
    text = text.replace("{GET_DATE}", "Sun, 22 Nov 2026 03:00:00 +0000")
    text = text.replace("{ID_GENERATOR}", "1").replace("victim@victim.com", rcpt)
    text = re.sub(r"\{[^}]*\}", "x", text)
    # The wire needs CRLF lines; the cases' own bare CR/LF tricks are refused, which is a pass.
    return text.encode("latin-1")


def _transact(ingest: Ingest, case: dict[str, object]) -> bytes:
    """Run the case's HELO/MAIL FROM/DATA; the reply to the final dot (or the first refusal)."""
    with socket.create_connection(("127.0.0.1", ingest.port), timeout=10) as sock:
        reader = sock.makefile("rb")
        reader.readline()
        mail_from = str(case["mailfrom"]).strip()
        for command in (
            f"HELO {case['helo']}",
            f"MAIL FROM:{mail_from}",
            f"RCPT TO:<{ingest.address}>",
            "DATA",
        ):
            sock.sendall(command.encode("latin-1") + b"\r\n")
            reply = reader.readline()
            if reply[:1] in (b"4", b"5"):
                return reply
        sock.sendall(_message(case, ingest.address) + b"\r\n.\r\n")
        return reader.readline()


async def test_spoofed_brand_is_never_authenticated(ingest: Ingest) -> None:
    outcomes = {}
    for name, case in CASES.items():
        reply = await asyncio.to_thread(_transact, ingest, case)
        outcomes[name] = reply[:3].decode()
    for row in await ingest.stored():
        auth = row.authentication
        assert auth is not None
        assert not (
            auth["dmarc"]["result"] == "pass" and auth["dmarc"]["from_domain"].endswith(SPOOFED)
        )
        assert not any(
            d["result"] == "pass" and d["domain"].endswith(SPOOFED) for d in auth["dkim"]
        )
        spf = auth["spf"]
        assert not (spf["result"] == "pass" and spf["domain"].endswith(SPOOFED))
        structured = row.structured or {}
        shown = [a["address"].lower() for a in structured.get("from_", [])]
        assert "admin@legitimate.com" not in shown or auth["dmarc"]["result"] != "pass"
    report("espoofer over SMTP", len(outcomes), len(CASES))
    assert set(outcomes.values()) <= {"250", "550", "554", "501", "553"}, outcomes
