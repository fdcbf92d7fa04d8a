"""MIME torture corpora through ``parse_message``: never raises, bounded time, no hidden text shown.

The corpora carry no expected parse trees, so the oracle is robustness plus a few facts checked
by reading the files: which are malformed (must be flagged) and which are clean (must not be).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mailmoat.common.mail.structured import StructuredMessage
from mailmoat.ingest.domain.mime import parse_message
from mailmoat.ingest.domain.mime.limits import NESTING_TOO_DEEP, TOO_MANY_PARTS
from tests.support.external import external, report

MAX_SECONDS = 2.0
"""CPU seconds one parse may take: a bound that catches a parse gone quadratic, counted in this
thread's CPU time so a busy machine (the other test worker) does not move it."""
# Codes that only an exception inside our own parser produces: a bug, never a property of mail.
INTERNAL_ERRORS = frozenset({"unparseable", "part_error"})


def _files(folder: Path, pattern: str) -> list[Path]:
    skip = {"SOURCE.txt", "LICENSE", "LICENSE.txt"}
    return sorted(p for p in folder.glob(pattern) if p.is_file() and p.name not in skip)


CORPORA = {
    "cpython_email": ("cpython_email", "msg_*.txt"),
    "mail_parser": ("mail_parser/mails", "*"),
    # Every file under messages/, the DKIM vectors' expected outputs and READMEs included:
    # whatever arrives over SMTP must parse without an exception.
    "flanker": ("flanker/messages", "**/*"),
    "enmime": ("enmime", "**/*.raw"),
}

# Read by hand: each of these breaks MIME structure (reason given), so it must be flagged.
MUST_BE_INVALID = {
    "cpython_email": {
        "msg_15.txt": "multipart whose body has no opening boundary line",
        "msg_41.txt": "multipart/mixed without a boundary parameter",
        "msg_42.txt": "enclosed multipart without its opening boundary",
        "msg_19.txt": "no header block at all (a bare mailing-list digest body)",
    },
    "mail_parser": {
        "mail_malformed_1": "multipart whose boundary never appears",
        "mail_malformed_3": "multipart whose boundary never appears",
    },
    "flanker": {
        "missing-final-boundary.eml": "multipart without its closing delimiter",
        "enclosed-endless.eml": "3040 alternatives, over the part limit",
        "false-multipart.eml": "multipart body without any delimiter line",
    },
    "enmime": {
        "low-quality/bad-final-boundary.raw": "closing delimiter misspelt",
        "low-quality/malformed-base64-attach.raw": "base64 with characters outside the alphabet",
        "low-quality/unk-encoding-part.raw": "unknown Content-Transfer-Encoding",
        "mail/multipart-wo-boundary.raw": "multipart without a boundary parameter",
        "parts/multimixed-no-closing-boundary.raw": "multipart without its closing delimiter",
    },
}
MUST_BE_VALID = {
    "cpython_email": {"msg_01.txt", "msg_02.txt", "msg_16.txt"},
    "mail_parser": {"mail_test_3", "mail_test_10"},
    "flanker": {"text-only.eml", "torture.eml", "bounce/delayed.eml", "complaints/aol.eml"},
    "enmime": {"mail/mime-alternative.raw", "parts/nestedmulti.raw", "parts/similar-boundary.raw"},
}


def _shows_hidden_code(message: StructuredMessage) -> bool:
    for fragment in message.hidden_content:
        text = fragment.text.strip()
        if (
            fragment.kind in ("script", "style")
            and len(text) >= 10
            and text in message.visible_text
        ):
            return True
    from_html = not message.text_body and message.html_body
    lowered = message.visible_text.lower()
    return bool(from_html) and ("<script" in lowered or "<style" in lowered)


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_corpus_parses_within_bounds(corpus: str) -> None:
    folder, pattern = CORPORA[corpus]
    root = external(*folder.split("/"))
    files = _files(root, pattern)
    assert files
    failures: dict[str, str] = {}
    flagged: set[str] = set()
    slowest = 0.0
    for path in files:
        name = str(path.relative_to(root))
        started = time.thread_time()
        message = parse_message(path.read_bytes()).message
        elapsed = time.thread_time() - started
        slowest = max(slowest, elapsed)
        if message.invalid_mime:
            flagged.add(name)
        if problem := _problem(message, elapsed):
            failures[name] = problem
    assert failures == {}
    assert set(MUST_BE_INVALID[corpus]) <= flagged
    assert MUST_BE_VALID[corpus].isdisjoint(flagged)
    suite = f"MIME {corpus} [{len(flagged)} flagged invalid_mime, slowest {slowest * 1000:.0f} ms]"
    report(suite, len(files) - len(failures), len(files))


def _problem(message: StructuredMessage, elapsed: float) -> str | None:
    if elapsed > MAX_SECONDS:
        return f"took {elapsed:.2f} s"
    if INTERNAL_ERRORS & set(message.defects):
        return f"internal error: {message.defects}"
    if _shows_hidden_code(message):
        return "script or style content in the visible text"
    return None


def test_corpora_exercise_hidden_html() -> None:
    # The visible-text check above must have something to bite on.
    root = external("mail_parser", "mails")
    kinds = {
        fragment.kind
        for path in _files(root, "*")
        for fragment in parse_message(path.read_bytes()).message.hidden_content
    }
    assert {"style", "comment", "same_color"} <= kinds


def _nested(depth: int) -> bytes:
    opening = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    closing = b"".join(b"\r\n--b%d--\r\n" % i for i in reversed(range(depth)))
    return b"From: a@example.com\r\n" + opening + b"Content-Type: text/plain\r\n\r\nhi" + closing


def _wide(parts: int) -> bytes:
    body = b"".join(b"--w\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i for i in range(parts))
    head = b'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="w"\r\n\r\n'
    return head + body + b"--w--\r\n"


def test_thousand_deep_nesting_is_cut_and_flagged() -> None:
    started = time.thread_time()
    message = parse_message(_nested(1000)).message
    assert time.thread_time() - started < MAX_SECONDS
    assert message.invalid_mime
    assert NESTING_TOO_DEEP in message.defects
    assert message.max_depth == 20


def test_five_thousand_parts_are_cut_and_flagged() -> None:
    started = time.thread_time()
    parsed = parse_message(_wide(5000))
    assert time.thread_time() - started < MAX_SECONDS
    assert parsed.message.invalid_mime
    assert TOO_MANY_PARTS in parsed.message.defects
    assert parsed.message.part_count == 500
    assert len(parsed.parts) == 499
