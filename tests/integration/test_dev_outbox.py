"""``mailmoat dev``'s outbox: a real SMTP sink that keeps each message as private files and says
250 only once it has; dispatch's own relay client delivers into it."""

from __future__ import annotations

import asyncio
import smtplib
import stat
import uuid
from pathlib import Path

import pytest

from mailmoat.cli.dev_sink import DevOutbox
from mailmoat.common.dev_outbox import find_mail, list_mail, read_raw
from mailmoat.common.processes import free_port
from mailmoat.common.settings import CommonSettings
from mailmoat.dispatch.app import build_service
from mailmoat.dispatch.settings import DispatchSettings
from tests.integration.test_dispatch import publish, settled
from tests.support.inprocess import running
from tests.support.outbound import approved_sends
from tests.support.scenario import Scenario
from tests.support.waiting import eventually

SEND_ID = uuid.uuid4()
MAIL = (
    b"From: Agent <agent@agents.example>\r\n"
    b"To: Bob <bob@example.org>\r\n"
    b"Subject: The numbers\r\n"
    b"Date: Thu, 03 Dec 2026 08:00:00 +0000\r\n"
    b"X-Mailmoat-Outbound-Id: " + str(SEND_ID).encode() + b"\r\n"
    b"\r\n"
    b"They are below.\r\n"
)
BOUNCES = "bounces+x.y@agents.example"


def _deliver(port: int, message: bytes, rcpts: list[str]) -> tuple[int, str]:
    """One transaction over a real socket; the reply to the end of DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("dispatch.test")
        smtp.mail(BOUNCES)
        for rcpt in rcpts:
            assert smtp.rcpt(rcpt)[0] == 250
        code, reply = smtp.data(message)
        return code, reply.decode()


def _banner(port: int) -> str:
    with smtplib.SMTP(timeout=10) as smtp:
        code, banner = smtp.connect("127.0.0.1", port)
        assert code == 220
        return banner.decode()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_each_message_is_kept_in_private_files_before_the_250(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    async with DevOutbox(folder, port=free_port()) as sink:
        rcpts = ["bob@example.org", "carol@example.org"]
        code, reply = await asyncio.to_thread(_deliver, sink.port, MAIL, rcpts)
        banner = await asyncio.to_thread(_banner, sink.port)
    [mail] = list_mail(folder)
    assert (code, reply) == (250, f"2.0.0 Ok: stored in the dev outbox as {mail.id}")
    assert banner == "mailmoat-dev-outbox ESMTP"
    assert (mail.envelope_from, mail.envelope_to) == (BOUNCES, rcpts)
    assert (mail.header_from, mail.header_to) == (
        "Agent <agent@agents.example>",
        "Bob <bob@example.org>",
    )
    assert (mail.subject, mail.date) == ("The numbers", "Thu, 03 Dec 2026 08:00:00 +0000")
    assert (mail.size, mail.outbound_id) == (len(MAIL), SEND_ID)
    assert read_raw(folder, mail) == MAIL
    assert find_mail(folder, mail.id) == mail
    assert find_mail(folder, uuid.uuid4()) is None
    files = sorted(folder.iterdir())
    assert [f.suffix for f in files] == [".eml", ".json"]  # no temporary file left behind
    assert [_mode(f) for f in files] == [0o600, 0o600]
    assert _mode(folder) == 0o700


async def test_the_newest_message_is_listed_first(tmp_path: Path) -> None:
    async with DevOutbox(tmp_path, port=free_port()) as sink:
        for subject in (b"first", b"second", b"third"):
            message = MAIL.replace(b"The numbers", subject)
            await asyncio.to_thread(_deliver, sink.port, message, ["bob@example.org"])
    assert [m.subject for m in list_mail(tmp_path)] == ["third", "second", "first"]
    assert list_mail(tmp_path / "never-made") == []


def _oversized(port: int) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
        smtp.ehlo("dispatch.test")
        declared = smtp.mail(BOUNCES, ["SIZE=999999"])
        smtp.rset()
        smtp.mail(BOUNCES)
        smtp.rcpt("bob@example.org")
        sent = smtp.data(MAIL + (b"x" * 78 + b"\r\n") * 100)
        return declared, sent


async def test_what_is_too_big_is_refused_with_552_and_an_enhanced_code(tmp_path: Path) -> None:
    async with DevOutbox(tmp_path, port=free_port(), max_message_bytes=1024) as sink:
        declared, sent = await asyncio.to_thread(_oversized, sink.port)
    refusal = (552, b"5.3.4 Message too big for the dev outbox: the limit is 1024 bytes")
    assert declared == refusal
    assert sent == refusal
    assert list_mail(tmp_path) == []


async def test_what_it_cannot_store_is_a_temporary_failure_never_a_250(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    async with DevOutbox(folder, port=free_port()) as sink:
        folder.rmdir()
        folder.write_text("not a folder")  # every write fails, whoever runs the test
        code, reply = await asyncio.to_thread(_deliver, sink.port, MAIL, ["bob@example.org"])
    assert (code, reply[:5]) == (451, "4.3.0")


def test_the_sink_runs_on_a_thread_of_its_own_for_a_caller_without_a_loop(
    tmp_path: Path,
) -> None:
    sink = DevOutbox(tmp_path, port=free_port())
    sink.start_in_thread()
    try:
        code, _ = _deliver(sink.port, MAIL, ["bob@example.org"])
    finally:
        sink.stop_thread()
    assert code == 250
    assert [m.outbound_id for m in list_mail(tmp_path)] == [SEND_ID]


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_dispatch_relays_an_approved_send_into_the_dev_outbox(
    settings: CommonSettings, scenario: Scenario, tmp_path: Path
) -> None:
    async with DevOutbox(tmp_path, port=free_port()) as sink:
        dispatch = DispatchSettings(
            **settings.model_dump(), relay_port=sink.port, relay_starttls=False
        )
        async with running(build_service(dispatch)):
            [outbound_id] = await approved_sends(scenario, ["bob@example.org"])
            await publish(settings, scenario, outbound_id)
            row = await eventually(lambda: settled(scenario, outbound_id), what="the send")
    [mail] = list_mail(tmp_path)
    assert row.status == "sent", row.relay_reply
    assert f"stored in the dev outbox as {mail.id}" in (row.relay_reply or "")
    assert (mail.outbound_id, mail.envelope_to, mail.subject) == (
        outbound_id,
        ["bob@example.org"],
        "Numbers",
    )
    assert mail.envelope_from.startswith(f"bounces+{outbound_id}.")
    assert b"The numbers are below." in read_raw(tmp_path, mail)
