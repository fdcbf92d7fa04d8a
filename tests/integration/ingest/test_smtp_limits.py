"""The SMTP front door's limits, each answered with an enhanced status code and a reason."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import time
from pathlib import Path

import pytest

from mailmoat.ingest.smtp.credentials import hash_password
from tests.support.certs import self_signed
from tests.support.ingest import Ingest, IngestFactory
from tests.support.smtp_wire import open_data

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

MAIL = b"From: alice@sender.example\r\nTo: agent@x\r\nSubject: hi\r\n\r\nhello\r\n"


def _ehlo_features(ingest: Ingest) -> dict[str, str]:
    with ingest.client() as smtp:
        smtp.ehlo("client.sender.example")
        return dict(smtp.esmtp_features)


async def test_ehlo_announces_size_and_enhanced_codes(ingest_factory: IngestFactory) -> None:
    async with ingest_factory(max_message_bytes=12345) as ingest:
        features = await asyncio.to_thread(_ehlo_features, ingest)
    assert features["size"] == "12345"
    assert "enhancedstatuscodes" in features
    assert "starttls" not in features  # no certificate configured


async def test_oversized_message_is_refused_with_552(ingest_factory: IngestFactory) -> None:
    async with ingest_factory(max_message_bytes=2000) as ingest:
        code, reply = await ingest.send(MAIL + (b"x" * 80 + b"\r\n") * 40)
        assert (code, reply[:5]) == (552, "5.3.4")
        assert await ingest.stored() == []


async def test_recipients_per_message_are_capped(ingest_factory: IngestFactory) -> None:
    async with ingest_factory(max_recipients=2) as ingest:
        code, reply = await ingest.send(MAIL, rcpts=[ingest.address] * 3)
    assert (code, reply[:5]) == (452, "4.5.3")


async def test_unknown_recipient_and_foreign_domain(ingest: Ingest) -> None:
    code, reply = await ingest.send(MAIL, rcpts=[f"nobody@{ingest.settings.mail_domain}"])
    assert (code, reply[:5]) == (550, "5.1.1")
    code, reply = await ingest.send(MAIL, rcpts=["someone@elsewhere.example"])
    assert (code, reply[:5]) == (550, "5.7.1")
    assert "Relaying denied" in reply


async def test_a_sender_address_no_mailbox_could_have_is_refused_at_mail(ingest: Ingest) -> None:
    overlong = "a" * 250 + "@sender.example"  # fits the command line, not a stored column
    code, reply = await ingest.send(MAIL, mail_from=overlong)
    assert (code, reply[:5]) == (553, "5.1.7")
    assert await ingest.stored() == []
    bounce = MAIL.replace(b"alice@sender.example", b"mailer-daemon@relay.example")
    code, reply = await ingest.send(bounce, mail_from="")  # a bounce's null sender is fine
    assert code == 250, reply


async def test_overlong_line_is_refused(ingest_factory: IngestFactory) -> None:
    async with ingest_factory(max_line_bytes=1001) as ingest:
        code, reply = await ingest.send(MAIL + b"y" * 1500 + b"\r\n")
        assert code == 500
        assert reply.startswith("5.5.2 Line too long")
        assert await ingest.stored() == []


async def test_too_many_header_fields(ingest_factory: IngestFactory) -> None:
    headers = b"".join(b"X-Filler-%d: x\r\n" % i for i in range(30))
    async with ingest_factory(max_header_count=20) as ingest:
        code, reply = await ingest.send(headers + MAIL)
    assert (code, reply[:5]) == (552, "5.3.4")
    assert "header fields" in reply


async def test_connections_per_ip_are_capped(ingest_factory: IngestFactory) -> None:
    async with ingest_factory(max_connections_per_ip=2) as ingest:
        held = [await asyncio.to_thread(ingest.client) for _ in range(2)]
        banner = await asyncio.to_thread(_banner, ingest.port)
        for client in held:
            client.close()
        again = await asyncio.to_thread(_banner_after_release, ingest.port)
    assert banner.startswith(b"421 4.7.0")
    assert again.startswith(b"220 ")


def _banner(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        return sock.recv(200)


def _banner_after_release(port: int) -> bytes:
    deadline = time.monotonic() + 5
    while True:
        banner = _banner(port)
        if banner.startswith(b"220 ") or time.monotonic() > deadline:
            return banner
        time.sleep(0.05)


async def test_slow_client_is_cut_off(ingest_factory: IngestFactory) -> None:
    """Slow-loris: a command trickled byte by byte never completes and the session is closed."""
    async with ingest_factory(command_timeout_seconds=0.5) as ingest:
        received = await asyncio.to_thread(_trickle, ingest.port)
    assert b"421 4.4.2" in received


def _trickle(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.recv(200)
        received = b""
        try:
            for byte in b"EHLO slow.example":
                sock.sendall(bytes([byte]))
                time.sleep(0.1)
                sock.settimeout(0.01)
                try:
                    received += sock.recv(200)
                except TimeoutError:
                    continue
                if not received or received.endswith(b"\r\n"):
                    break
        except OSError:
            pass
        return received


async def test_data_transfer_has_its_own_deadline(ingest_factory: IngestFactory) -> None:
    async with ingest_factory(data_timeout_seconds=0.5, command_timeout_seconds=30) as ingest:
        received = await asyncio.to_thread(_stall_in_data, ingest)
        assert b"421 4.4.2" in received
        assert await ingest.stored() == []


def _stall_in_data(ingest: Ingest) -> bytes:
    sock, reader, _ = open_data(ingest.port, ingest.address)
    with sock:
        sock.sendall(b"Subject: stalled\r\n\r\npart of a body")
        return reader.readline()


async def test_starttls_then_auth(ingest_factory: IngestFactory, tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "mx.mailmoat.test")
    users = {"relay": hash_password("s3cret-pass")}
    async with ingest_factory(
        tls_cert_file=cert, tls_key_file=key, smtp_auth_users=users
    ) as ingest:
        outcome = await asyncio.to_thread(_tls_session, ingest, cert)
    assert outcome["auth_before_tls"] is False
    assert "starttls" in outcome["features_before"]
    assert outcome["auth_after_tls"] is True
    assert outcome["wrong_password"] == 535
    assert outcome["right_password"] == 235
    assert outcome["data"] == 250


def _tls_session(ingest: Ingest, cert: Path) -> dict[str, object]:
    context = ssl.create_default_context(cafile=str(cert))
    outcome: dict[str, object] = {}
    with ingest.client() as smtp:
        smtp.ehlo("client.sender.example")
        outcome["features_before"] = dict(smtp.esmtp_features)
        outcome["auth_before_tls"] = smtp.has_extn("auth")
        smtp.starttls(context=context)
        smtp.ehlo("client.sender.example")
        outcome["auth_after_tls"] = smtp.has_extn("auth")
        outcome["wrong_password"] = smtp.docmd("AUTH", "PLAIN " + _plain("relay", "wrong"))[0]
        code, _ = smtp.docmd("AUTH", "PLAIN " + _plain("relay", "s3cret-pass"))
        outcome["right_password"] = code
        smtp.mail("alice@sender.example")
        smtp.rcpt(ingest.address)
        outcome["data"] = smtp.data(MAIL)[0]
    return outcome


def _plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


async def test_require_tls_refuses_mail_in_clear(
    ingest_factory: IngestFactory, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path, "mx.mailmoat.test")
    async with ingest_factory(tls_cert_file=cert, tls_key_file=key, require_tls=True) as ingest:
        code, reply = await ingest.send(MAIL)
    assert (code, reply[:5]) == (530, "5.7.0")
