"""The attacker's bench: mail in over real SMTP, and everything an agent's key can read back.

An ``Adversary`` drives a running stack from outside: it makes an inbox per attack (its webhooks
go to a path of their own), sends raw MIME over SMTP, waits for the pipeline to store it, and
gathers every byte the agent could receive about it (listings of every status, the detail and
spotlighted views, the thread, the sender listing and the inbox's webhook deliveries).
"""

from __future__ import annotations

import asyncio
import json
import re
import smtplib
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.peers import SmtpSink, WebhookReceiver
from tests.support.stack import ProcessStack
from tests.support.waiting import eventually

STATUSES = ("delivered", "review", "withheld")
WINDOW = 16
"""Length of the pieces of an attack looked for: any 16 characters of it count as reachable."""


def pieces(attack: str, size: int = WINDOW) -> set[str]:
    """Every run of ``size`` characters of ``attack``, whitespace squeezed, lower-cased."""
    text = re.sub(r"\s+", " ", attack).strip().lower()
    return {text[i : i + size] for i in range(max(1, len(text) - size + 1))}


def reachable(attack: str, seen: str) -> list[str]:
    """The pieces of ``attack`` found in ``seen`` (what an agent could read)."""
    haystack = re.sub(r"\s+", " ", seen).lower()
    return sorted(p for p in pieces(attack) if p in haystack)


@dataclass
class Adversary:
    """Drives one running stack: ``person`` holds the bootstrap key (a person's powers, never
    sending), ``agent`` a key that may only read mail, and ``sender`` an agent's key that may
    read, hear webhooks and ask to send."""

    stack: ProcessStack
    person: httpx.AsyncClient
    agent: httpx.AsyncClient
    webhooks: WebhookReceiver
    domain: str
    database_url: str
    sender: httpx.AsyncClient
    sink: SmtpSink
    """Where the stack relays outbound mail: what recipients would receive."""

    async def inbox(self, level: str = "L2") -> str:
        """A new inbox whose webhooks go to ``/hook/<slug>``; returns its slug."""
        slug = f"adv-{uuid.uuid4().hex[:10]}"
        created = await self.person.post(
            "/inboxes",
            json={
                "slug": slug,
                "security_level": level,
                "webhook_url": self.webhooks.url_for(f"/hook/{slug}"),
            },
        )
        assert created.status_code == 201, created.text
        return slug

    def address(self, slug: str) -> str:
        return f"{slug}@{self.domain}"

    async def send(self, slug: str, raw: bytes, *, mail_from: str = "mallory@evil.example") -> str:
        """Deliver ``raw`` over SMTP; returns the server's final reply (a 250 is asserted)."""
        code, text = await asyncio.to_thread(self._deliver, slug, raw, mail_from)
        assert code == 250, f"{code} {text!r}"
        return text.decode()

    def _deliver(self, slug: str, raw: bytes, mail_from: str) -> tuple[int, bytes]:
        with smtplib.SMTP("127.0.0.1", self.stack.smtp_port, timeout=120) as client:
            client.ehlo("attacker.example")
            client.mail(mail_from)
            code, text = client.rcpt(self.address(slug))
            assert code == 250, f"RCPT {code} {text!r}"
            return client.data(raw)

    async def stored(self, slug: str, count: int = 1, timeout: float = 120) -> list[dict[str, Any]]:
        """The inbox's messages in every status, once at least ``count`` are stored."""

        async def probe() -> list[dict[str, Any]] | None:
            found = [m for status in STATUSES for m in await self._listed(slug, status)]
            return found if len(found) >= count else None

        return await eventually(probe, timeout=timeout, what=f"{count} mail(s) in {slug}")

    async def _listed(self, slug: str, status: str) -> list[dict[str, Any]]:
        page = await self.person.get(
            f"/inboxes/{slug}/messages", params={"status": status, "limit": 200}
        )
        assert page.status_code == 200, page.text
        items: list[dict[str, Any]] = page.json()["items"]
        return items

    async def agent_sees(self, slug: str, message_id: str) -> str:
        """Everything the agent's key can read about the message, and the inbox's webhooks
        (waited for: the message's own event must have been delivered)."""
        await eventually(
            lambda: self._hooked(slug, message_id), what=f"the webhook for {message_id}"
        )
        views = [f"/inboxes/{slug}/messages", f"/inboxes/{slug}/senders"]
        views += [f"/inboxes/{slug}/messages?status={status}" for status in STATUSES]
        views += [f"/messages/{message_id}", f"/messages/{message_id}?view=spotlighted"]
        bodies = [await self._read(path) for path in views]
        detail = json.loads(bodies[-2])
        if detail.get("thread_id"):
            bodies.append(await self._read(f"/threads/{detail['thread_id']}"))
        bodies += [d.body.decode() for d in self.webhooks.at(f"/hook/{slug}")]
        return "\n".join(bodies)

    async def _hooked(self, slug: str, message_id: str) -> bool:
        return any(message_id in d.body.decode() for d in self.webhooks.at(f"/hook/{slug}"))

    async def _read(self, path: str) -> str:
        response = await self.agent.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.text

    async def detail(self, message_id: str) -> dict[str, Any]:
        """The message as the agent's key reads it."""
        response = await self.agent.get(f"/messages/{message_id}")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def analysis(self, message_id: str) -> dict[str, Any]:
        """Everything the detectors found, as a person (``read:mail.raw``) reads it."""
        response = await self.person.get(f"/messages/{message_id}/analysis")
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def release(self, message_id: str) -> None:
        """A person releases withheld mail to the agent."""
        released = await self.person.post(f"/messages/{message_id}/release")
        assert released.status_code == 200, released.text

    def metrics(self, service: str) -> str:
        """The service's Prometheus exposition."""
        port = self.stack.service_env[service]["MAILMOAT_METRICS_PORT"]
        return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text


def counter(exposition: str, name: str, **labels: str) -> float:
    """The value of one sample of a Prometheus text exposition (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in exposition.splitlines():
        metric, _, value = line.rpartition(" ")
        if metric.split("{")[0] != name:
            continue
        inside = metric.partition("{")[2].rstrip("}")
        if ",".join(sorted(inside.split(","))) == wanted or (not wanted and not inside):
            return float(value)
    return 0.0
