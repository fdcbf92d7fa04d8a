"""Each flanker and enmime message through real SMTP: stored (maybe flagged) or refused."""

from __future__ import annotations

import asyncio
import re
import smtplib
from pathlib import Path

import pytest

from tests.support.external import external, report
from tests.support.ingest import Ingest

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def _corpus(name: str) -> list[Path]:
    root = external(name)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in _NOT_MAIL)


_NOT_MAIL = {"LICENSE", "SOURCE.txt", "README.md"}


def _deliver_all(ingest: Ingest, paths: list[Path]) -> dict[str, tuple[int, str]]:
    """One SMTP transaction per file, 50 per connection (the server caps MAILs per session)."""
    outcomes: dict[str, tuple[int, str]] = {}
    for start in range(0, len(paths), 50):
        with ingest.client(timeout=60) as smtp:
            for path in paths[start : start + 50]:
                outcomes[str(path)] = _deliver(smtp, ingest.address, path)
    return outcomes


def _deliver(smtp: smtplib.SMTP, rcpt: str, path: Path) -> tuple[int, str]:
    try:
        refused = smtp.sendmail("corpus@sender.example", [rcpt], _wire(path))
    except smtplib.SMTPResponseException as error:
        smtp.rset()
        return error.smtp_code, error.smtp_error.decode(errors="replace")
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        return code, reply.decode(errors="replace")
    return 250, str(refused)


def _wire(path: Path) -> bytes:
    """The file as a sending MTA puts it on the wire: lines end in CRLF."""
    return re.sub(rb"\r?\n", b"\r\n", path.read_bytes())


@pytest.mark.parametrize("corpus", ["flanker", "enmime"])
async def test_corpus_messages_are_stored_or_refused_with_a_reason(
    ingest_factory,
    corpus: str,  # type: ignore[no-untyped-def]
) -> None:
    paths = _corpus(corpus)
    async with ingest_factory(max_line_bytes=1_000_000) as ingest:
        outcomes = await asyncio.to_thread(_deliver_all, ingest, paths)
        rows = await ingest.stored()
    accepted = [p for p, (code, _) in outcomes.items() if code == 250]
    refused = {p: o for p, o in outcomes.items() if o[0] != 250}
    print({Path(p).name: o for p, o in refused.items()})
    assert len(outcomes) == len(paths)
    assert all(500 <= code < 600 and len(reply) > 10 for code, reply in refused.values()), refused
    assert len(rows) == len(accepted), "every 250 is a stored row, nothing more, nothing less"
    flagged = sum(1 for row in rows if row.invalid_mime)
    report(
        f"{corpus} over SMTP (stored/refused/flagged {len(rows)}/{len(refused)}/{flagged})",
        len(rows) + len(refused),
        len(paths),
    )
