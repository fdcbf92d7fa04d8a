"""``mailmoat audit verify``: the workspace's audit chain, checked by the gateway from its first
row; exit status 1 when a link is broken, naming the first. ``mailmoat admin audit-verify``: the
same check made by an operator in the database itself, trusting no gateway."""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

from mailmoat.cli import render
from mailmoat_sdk import Mailmoat

if TYPE_CHECKING:  # imported when used: every other command starts without them
    from mailmoat.common.audit_seal import Verdict
    from mailmoat.common.settings import CommonSettings
    from mailmoat_sdk.models import BrokenLink


def expected_checkpoint(text: str) -> tuple[int, str]:
    """``SEQ:SHA256`` (a checkpoint from the audit stream) as ``--expect`` takes it."""
    seq, _, digest = text.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError("expected SEQ:SHA256, a checkpoint's place and head")
    return int(seq), digest.lower()


def verify(client: Mailmoat, args: argparse.Namespace) -> int:
    """Print the check (fields, or JSON); 0 when the chain holds, else 1."""
    check = client.audit.verify(expect=args.expect)
    broken = check.first_broken_link
    if args.json:
        render.as_json(check)
    else:
        render.fields(
            [
                ("workspace", check.workspace_id),
                ("intact", "yes" if check.intact else "NO"),
                ("rows checked", check.rows_checked),
                ("head", f"{check.head.seq} {check.head.sha256}"),
                ("checkpoints verified", check.checkpoints_verified),
                ("rows not sealed yet", check.unsealed_rows),
                *([] if broken is None else [("first broken link", _link(broken))]),
            ]
        )
    return 0 if check.intact else 1


def _link(broken: BrokenLink) -> str:
    row = f" ({broken.row_id})" if broken.row_id else ""
    return f"row {broken.seq}{row}: {broken.reason}"


async def verify_database(
    settings: CommonSettings, workspace_id: uuid.UUID, expect: tuple[int, str] | None
) -> Verdict:
    """The workspace's chain checked in ``settings``' database, with this deployment's keys."""
    from mailmoat.common.audit_seal import trusted_keys, verify
    from mailmoat.common.db.session import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            return await verify(session, workspace_id, trusted_keys(settings), expect)
    finally:
        await engine.dispose()
