"""One tenant's poison must not stall another's mail: events over Kafka's record limit, from a
mail whose archive member names alone pass a megabyte, and from one with hundreds of long file
names, are bounded; the mail behind them flows, and the poison is visible with a reason."""

from __future__ import annotations

import asyncio
import os

import httpx

from mailmoat.cli.bootstrap import bootstrap_workspace
from tests.support.adversary import Adversary, counter
from tests.support.attack_mails import mime, with_attachments, zip_of


def _long_names(tag: str, count: int, length: int, suffix: str) -> list[str]:
    return [f"{tag}-{n:04d}-".ljust(length - len(suffix), "x") + suffix for n in range(count)]


async def test_a_tenants_poison_mail_does_not_stall_another_tenants_mail(
    adversary: Adversary,
) -> None:
    slug = await adversary.inbox()
    archives = [
        (f"{tag}.zip", zip_of(_long_names(tag, 1000, 600, ".pdf.exe")), "application/zip")
        for tag in ("a", "b")
    ]
    await adversary.send(slug, with_attachments("Archives.", archives, subject="archives"))
    blobs = [
        (name, os.urandom(64), "application/octet-stream")
        for name in _long_names("f", 490, 2100, ".dat")
    ]
    await adversary.send(slug, with_attachments("Files.", blobs, subject="files"))

    other = await bootstrap_workspace(adversary.database_url, name="bystander", plan="developer")
    headers = {"authorization": f"Bearer {other.api_key}"}
    async with httpx.AsyncClient(base_url=adversary.stack.api, headers=headers) as bystander:
        created = await bystander.post(
            "/inboxes", json={"slug": "bystander", "security_level": "L2"}
        )
        assert created.status_code == 201, created.text
        bystanders = Adversary(
            adversary.stack,
            bystander,
            bystander,
            adversary.webhooks,
            adversary.domain,
            adversary.database_url,
            bystander,
            adversary.sink,
        )
        for n in range(20):
            body = f"Lunch number {n} is at noon.\r\n"
            await bystanders.send(
                "bystander",
                mime(f"Subject: lunch {n}\r\n", body, sender="ann@corp.example"),
                mail_from="ann@corp.example",
            )
        assert len(await bystanders.stored("bystander", count=20, timeout=120)) == 20

    poisoned = {m["subject_sha256"]: m for m in await adversary.stored(slug, count=2, timeout=120)}
    assert len(poisoned) == 2
    withheld = [m for m in poisoned.values() if m["status"] == "withheld"]
    assert withheld
    assert all(m["withheld_reason"] for m in withheld)
    exposition = await asyncio.to_thread(adversary.metrics, "ingest")
    assert counter(exposition, "mailmoat_events_trimmed_total", topic="raw-mail") >= 1
