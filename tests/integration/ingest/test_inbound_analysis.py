"""Through real SMTP: authentication results, the stamped header, sender rules, L1 quarantine,
and analysis that fails closed when DNS never answers."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator

import pytest

from mailmoat.common.db.tables import InboxSenderRule
from tests.support.dns_server import dns_server
from tests.support.ingest import Ingest, IngestFactory
from tests.unit.ingest.checks.samples import eicar

SIGNED_BODY = (
    b"From: Alice <alice@sender.example>\r\n"
    b"To: agent@agents.mailmoat.localhost\r\n"
    b"Subject: quarterly numbers\r\n"
    b"Message-ID: <q1@sender.example>\r\n"
    b"\r\n"
    b"Numbers attached in the next mail.\r\n"
)


BLACK_HOLE = "unresponsive.example"


def _eicar_mail(extra: bytes = b"") -> bytes:
    return (
        extra + b"From: alice@sender.example\r\nSubject: invoice\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\n"
        b'Content-Disposition: attachment; filename="a.com"\r\n\r\n' + eicar() + b"\r\n--b--\r\n"
    )


def _mail(sender: str, subject: str = "hello", extra: bytes = b"") -> bytes:
    return (
        f"From: {sender}\r\nTo: agent@agents.mailmoat.localhost\r\nSubject: {subject}\r\n".encode()
        + extra
        + b"\r\nbody text\r\n"
    )


async def test_signed_mail_is_stored_with_our_authentication_results(ingest: Ingest) -> None:
    forged = b"Authentication-Results: mx.mailmoat.test; dkim=pass header.d=bank.example\r\n"
    foreign = b"Authentication-Results: relay.other.example; spf=pass\r\n"
    raw = ingest.zone.sign(forged + foreign + SIGNED_BODY, "sender.example")
    code, reply = await ingest.send(raw)
    assert (code, reply[:5]) == (250, "2.0.0")
    [row] = await ingest.stored()
    first_line = row.raw.split(b"\r\n", 1)[0]
    assert first_line.startswith(b"Authentication-Results: mx.mailmoat.test;")
    assert b"header.d=bank.example" not in row.raw  # the forged claim is gone
    assert foreign.strip() in row.raw  # someone else's results are kept
    auth = row.authentication
    assert auth is not None
    assert auth["spf"]["result"] == "pass"
    assert [d["result"] for d in auth["dkim"]] == ["pass"]
    assert auth["dmarc"]["result"] == "pass"
    assert row.client_ip == "127.0.0.1"
    assert row.structured is not None
    assert row.structured["subject"] == "quarterly numbers"
    assert "Numbers attached" in row.structured["visible_text"]
    assert row.quarantine_reason is None


async def test_dmarc_reject_policy_refuses_a_spoofed_brand(ingest: Ingest) -> None:
    code, reply = await ingest.send(_mail("ceo@legitimate.com"), mail_from="ceo@legitimate.com")
    assert (code, reply[:5]) == (550, "5.7.1")
    assert "DMARC" in reply
    assert await ingest.stored() == []


async def test_dmarc_quarantine_policy_quarantines(ingest: Ingest) -> None:
    code, _ = await ingest.send(
        _mail("news@quarantine.example"), mail_from="news@quarantine.example"
    )
    assert code == 250
    [row] = await ingest.stored()
    assert row.authentication is not None
    assert row.authentication["dmarc"]["result"] == "fail"
    assert row.quarantine_reason is not None
    assert "quarantine" in row.quarantine_reason


async def _add_rule(ingest: Ingest, pattern: str, action: str) -> None:
    async with ingest.scenario.sessions() as session, session.begin():
        session.add(
            InboxSenderRule(
                id=uuid.uuid4(),
                workspace_id=ingest.scenario.workspace_id,
                inbox_id=ingest.scenario.inbox_id,
                pattern=pattern,
                action=action,
            )
        )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_blocked_sender_is_refused_at_rcpt_and_at_data(ingest: Ingest) -> None:
    await _add_rule(ingest, "spam.example", "block")
    code, reply = await ingest.send(_mail("x@spam.example"), mail_from="x@mail.spam.example")
    assert (code, reply[:5]) == (550, "5.7.1")
    # Envelope sender clean, header From blocked: refused once the header is read.
    code, reply = await ingest.send(_mail("x@spam.example"), mail_from="bounce@other.example")
    assert (code, reply[:5]) == (550, "5.7.1")
    assert await ingest.stored() == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_allowlisted_sender_is_trusted_only_when_aligned(ingest: Ingest) -> None:
    await _add_rule(ingest, "sender.example", "allow")
    await _add_rule(ingest, "attack.com", "allow")
    assert (await ingest.send(ingest.zone.sign(SIGNED_BODY, "sender.example")))[0] == 250
    # attack.com has no DMARC record: its mail cannot be DMARC-aligned, so it is not trusted.
    unaligned = _mail("eve@attack.com")
    assert (await ingest.send(unaligned, mail_from="eve@attack.com"))[0] == 250
    events = await ingest.raw_mail_events()
    assert [(e.dmarc, e.trusted_sender) for e in events] == [("pass", True), ("none", False)]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_eicar_attachment_is_stored_and_quarantined(ingest: Ingest) -> None:
    code, _ = await ingest.send(_eicar_mail())
    assert code == 250
    [row] = await ingest.stored()
    codes = {f["code"] for f in row.findings}
    assert "malware.eicar" in codes
    assert row.quarantine_reason is not None
    assert "malware.eicar" in row.quarantine_reason


def _unverifiable_signatures(count: int, domain: str) -> bytes:
    """Well-formed DKIM-Signature fields whose keys would be at ``domain``."""
    bh, b = base64.b64encode(b"\0" * 32).decode(), base64.b64encode(b"\1" * 256).decode()
    return b"".join(
        f"DKIM-Signature: v=1; a=rsa-sha256; d={domain}; s=s{i}; h=from:subject;"
        f" bh={bh}; b={b}\r\n".encode()
        for i in range(count)
    )


@pytest.fixture
def dns() -> Iterator[tuple[str, int]]:
    """A real DNS server: SPF for sender.example, silence for the black-holed domain."""
    records = {"sender.example": {"TXT": ["v=spf1 ip4:127.0.0.1 -all"]}}
    with dns_server(records=records, black_holes=[BLACK_HOLE]) as address:
        yield address


def _live_dns(dns: tuple[str, int]) -> dict[str, object]:
    host, port = dns
    return {
        "dns_zone_file": None,
        "dns_nameservers": (host,),
        "dns_port": port,
        "analysis_timeout_seconds": 2.0,
    }


async def test_eicar_with_unanswered_dkim_keys_is_quarantined_in_time(
    ingest_factory: IngestFactory, dns: tuple[str, int]
) -> None:
    async with ingest_factory(**_live_dns(dns)) as ingest:
        started = time.monotonic()
        code, reply = await ingest.send(_eicar_mail(_unverifiable_signatures(10, BLACK_HOLE)))
        elapsed = time.monotonic() - started
        assert (code, reply[:5]) == (250, "2.0.0")
        [row] = await ingest.stored()
        [event] = await ingest.raw_mail_events()
    assert elapsed < 4.0  # the DNS budget (2/3 of 2 s), not ten 3 s query timeouts
    assert row.quarantine_reason is not None
    assert "analysis_failed" in row.quarantine_reason
    assert "malware.eicar" in row.quarantine_reason
    assert "malware.eicar" in {f["code"] for f in row.findings}
    assert row.structured is not None
    assert "analysis_failed" in row.structured["defects"]
    assert "see attached" in row.structured["visible_text"]
    assert event.quarantine_reason == row.quarantine_reason


async def test_ordinary_mail_through_the_same_dns_is_stored_normally(
    ingest_factory: IngestFactory, dns: tuple[str, int]
) -> None:
    async with ingest_factory(**_live_dns(dns)) as ingest:
        code, _ = await ingest.send(_mail("alice@sender.example"))
        assert code == 250
        [row] = await ingest.stored()
    assert row.authentication is not None
    assert row.authentication["spf"]["result"] == "pass"  # answered by the server above
    assert row.authentication["dmarc"]["result"] == "none"
    assert row.quarantine_reason is None
    assert row.structured is not None
    assert "analysis_failed" not in row.structured["defects"]
