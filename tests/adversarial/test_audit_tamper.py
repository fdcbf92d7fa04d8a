"""An attacker with write access to the database rewrites the audit log to hide what was done:
edits a row, or cuts the newest rows. The chain the gateway seals finds the edit and names the
row; a checkpoint read from the audit log beforehand (as a SIEM keeps the audit stream) finds the
cut; ``mailmoat audit verify`` exits 1 on both."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, update

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import AuditEntry
from tests.support.adversary import Adversary
from tests.support.waiting import eventually


@pytest.fixture
async def tenant(adversary: Adversary) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A workspace of its own (its chain is tampered with), its person's client and key."""
    created = await bootstrap_workspace(
        adversary.database_url, name=f"audit-{uuid.uuid4().hex[:8]}", plan="startup"
    )
    headers = {"authorization": f"Bearer {created.api_key}"}
    async with httpx.AsyncClient(
        base_url=adversary.stack.api, headers=headers, timeout=30
    ) as client:
        yield client, created.api_key


async def _inboxes(client: httpx.AsyncClient, count: int = 3) -> int:
    """Makes ``count`` inboxes, an audit row each; the rows the chain will hold once they are
    sealed and signed (one checkpoint)."""
    for n in range(count):
        made = await client.post("/inboxes", json={"slug": f"box-{n}-{uuid.uuid4().hex[:6]}"})
        assert made.status_code == 201, made.text
    return count + 1


async def _sealed(client: httpx.AsyncClient, rows: int) -> dict[str, Any]:
    """The chain check once ``rows`` rows or more are sealed, none waiting, and signed."""

    async def probe() -> dict[str, Any] | None:
        check = (await client.get("/audit/verify")).json()
        done = check["rows_checked"] >= rows and check["unsealed_rows"] == 0
        return check if done and check["checkpoints_verified"] else None

    return await eventually(probe, timeout=60, what="the audit rows sealed and signed")


async def _verify_cli(adversary: Adversary, key: str, *extra: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "MAILMOAT_API_URL": adversary.stack.api.removesuffix("/api/v1")}
    nowhere = Path(tempfile.gettempdir()) / f"mailmoat-{uuid.uuid4().hex}.json"
    env |= {"MAILMOAT_API_KEY": key, "MAILMOAT_CONFIG": str(nowhere)}  # the key alone
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mailmoat.cli", "audit", "verify", "--json", *extra,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await child.communicate()
    assert child.returncode is not None
    assert out, err.decode()
    return child.returncode, json.loads(out)


async def _tamper(adversary: Adversary, statement: Any) -> None:
    engine = create_engine(adversary.database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            await session.execute(statement)
    finally:
        await engine.dispose()


async def test_an_edited_audit_row_is_found_and_named(
    adversary: Adversary, tenant: tuple[httpx.AsyncClient, str]
) -> None:
    client, key = tenant
    check = await _sealed(client, await _inboxes(client))
    assert check["intact"] is True
    assert check["first_broken_link"] is None
    status, printed = await _verify_cli(adversary, key)
    assert (status, printed["intact"], printed["head"]) == (0, True, check["head"])

    rows = (await client.get("/audit", params={"action": "inbox.created"})).json()["items"]
    victim = rows[-1]  # the first inbox made: hide it
    await _tamper(
        adversary,
        update(AuditEntry)
        .where(AuditEntry.id == uuid.UUID(victim["id"]))
        .values(target="inbox:something-harmless"),
    )
    check = (await client.get("/audit/verify")).json()
    assert check["intact"] is False
    broken = check["first_broken_link"]
    assert (broken["row_id"], broken["reason"]) == (
        victim["id"],
        "its content or place was changed",
    )
    status, printed = await _verify_cli(adversary, key)
    assert (status, printed["first_broken_link"]) == (1, broken)


async def test_newest_rows_cut_are_found_against_a_checkpoint_kept_outside(
    adversary: Adversary, tenant: tuple[httpx.AsyncClient, str]
) -> None:
    client, key = tenant
    await _sealed(client, await _inboxes(client))
    # What a SIEM keeps of the audit stream: the checkpoint's place and head, from its event.
    [checkpoint] = (await client.get("/audit", params={"action": "audit.checkpoint"})).json()[
        "items"
    ]
    fields = dict(part.split("=", 1) for part in checkpoint["target"].split())
    expect = {"expect_seq": fields["seq"], "expect_sha256": fields["sha256"]}
    assert (await client.get("/audit/verify", params=expect)).json()["intact"] is True

    workspace = uuid.UUID((await client.get("/workspace")).json()["id"])
    signed = int(fields["seq"])  # the sealer may have signed before every inbox's row came
    await _tamper(  # the row the checkpoint signed, and every row after it, gone
        adversary,
        delete(AuditEntry).where(AuditEntry.workspace_id == workspace, AuditEntry.seq >= signed),
    )
    alone = (await client.get("/audit/verify")).json()
    assert alone["intact"] is True  # nothing in the database itself can show a cut end
    check = (await client.get("/audit/verify", params=expect)).json()
    assert check["intact"] is False
    assert check["first_broken_link"]["seq"] == signed
    status, printed = await _verify_cli(
        adversary, key, "--expect", f"{fields['seq']}:{fields['sha256']}"
    )
    assert (status, printed["intact"]) == (1, False)
    half = await client.get("/audit/verify", params={"expect_seq": 3})
    assert half.status_code == 422
    assert half.json()["code"] == "invalid_request"
