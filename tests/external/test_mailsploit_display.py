"""Mailsploit From payloads: the sender shown is the real addr-spec, no control character left."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.ingest.domain.mime import parse_message
from tests.support.external import external, report

_DATA: dict[str, Any] = json.loads(external("mailsploit", "from_headers.json").read_text())
SPOOF: str = _DATA["spoof"]
REAL_DOMAIN: str = _DATA["real_from"].rpartition("@")[2]
CASES: list[dict[str, Any]] = _DATA["cases"]
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_LAST_ANGLE_ADDR = re.compile(r"<([^<>]*)>\s*$")


def _message(case: dict[str, Any]) -> StructuredMessage:
    raw = (
        f"From: {case['from_header_value']}\r\nTo: inbox@example.org\r\n"
        f"Subject: case {case['id']}\r\n\r\nhello\r\n"
    )
    return parse_message(raw.encode()).message


def _problems(message: StructuredMessage) -> list[str]:
    problems = []
    if len(message.from_) != 1:
        return [f"expected one From mailbox, got {message.from_}"]
    sender = message.from_[0]
    if sender.address.lower() == SPOOF or sender.domain != REAL_DOMAIN:
        problems.append(f"sender address {sender.address!r}")
    shown = dict(message.headers)["From"]
    angle = _LAST_ANGLE_ADDR.search(shown)
    if angle is None or angle.group(1).lower() == SPOOF:
        problems.append(f"displayed From {shown!r}")
    if SPOOF in sender.display_name.lower() and not message.from_display_mismatch:
        problems.append("display name shows the spoofed address unflagged")
    problems += [
        f"control character in {name}" for name, v in message.headers if _CONTROL.search(v)
    ]
    if _CONTROL.search(sender.display_name + sender.address):
        problems.append("control character in the From mailbox")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[str(case["id"]) for case in CASES])
def test_mailsploit_case(case: dict[str, Any]) -> None:
    assert _problems(_message(case)) == []


def test_mailsploit_suite() -> None:
    assert len(CASES) == 13
    passed = sum(1 for case in CASES if not _problems(_message(case)))
    report("mailsploit From display", passed, len(CASES))
    assert passed == len(CASES)
