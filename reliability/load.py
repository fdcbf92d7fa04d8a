"""Steady load: SMTP mail in and Send API calls at set rates, each carrying a unique token, with
a ledger of every answer (a 250 or a 2xx is a promise the tally holds the gateway to).

Mail goes one transaction per connection (a killed ingest costs only the mails in flight) and
is never retried: a retry would be a new mail. A send is retried with the same
``Idempotency-Key`` until it is answered, as an agent whose call was cut off should, so the
gateway's idempotency is under test too. One recipient of each workspace ("hot") is sent to
more than its 5 a day; the others stay within it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field

import httpx

SENDER = "load@sender.example"
IN_FLIGHT = 32
MAIL_TIMEOUT_SECONDS = 30.0
SEND_ANSWER_SECONDS = 30.0
CRLF = b"\r\n"


@dataclass(frozen=True)
class LoadPlan:
    """Rates per second, for how long; ``hot_every``: every n-th send goes to the hot recipient."""

    mail_rate: float
    send_rate: float
    seconds: float
    hot_every: int = 4

    @property
    def planned_sends(self) -> int:
        return int(self.send_rate * self.seconds) + 1


@dataclass
class Tenant:
    """One workspace under load: an API client with its person's and agent's keys, its
    sending inbox, and the recipients on its allowlist (``hot`` first)."""

    workspace_id: uuid.UUID
    client: httpx.AsyncClient
    slug: str
    address: str
    recipients: list[str]
    sends: int = 0

    @property
    def hot(self) -> str:
        return self.recipients[0]

    def next_recipient(self, hot_every: int) -> str:
        """The hot recipient every ``hot_every`` sends; otherwise the others in turn."""
        n, self.sends = self.sends, self.sends + 1
        if n % hot_every == 0 or len(self.recipients) == 1:
            return self.hot
        cold = self.recipients[1:]
        return cold[(n - n // hot_every - 1) % len(cold)]


@dataclass(frozen=True)
class SendRecord:
    token: str
    workspace_id: uuid.UUID
    recipient: str
    first_status: str
    at: float


@dataclass
class Ledger:
    """Every answer the load got."""

    mails_accepted: dict[str, float] = field(default_factory=dict)
    mails_refused: dict[str, str] = field(default_factory=dict)
    mails_unanswered: dict[str, str] = field(default_factory=dict)
    sends_accepted: dict[uuid.UUID, SendRecord] = field(default_factory=dict)
    sends_refused: dict[str, str] = field(default_factory=dict)
    not_offered: int = 0
    """Starts skipped because ``IN_FLIGHT`` were still waiting (the gateway was stalled)."""

    def accepted_before(self, moment: float) -> tuple[set[str], set[uuid.UUID]]:
        mails = {t for t, at in self.mails_accepted.items() if at <= moment}
        sends = {i for i, s in self.sends_accepted.items() if s.at <= moment}
        return mails, sends


def mail_bytes(token: str, rcpt: str) -> bytes:
    head = (
        f"From: Load <{SENDER}>\r\nTo: {rcpt}\r\nSubject: chaos mail {token}\r\n"
        f"Message-ID: <{token}@sender.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    return (head + "An ordinary line of business, nothing to see here.\r\n" * 20).encode()


async def _reply(reader: asyncio.StreamReader) -> bytes:
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionResetError("connection closed")
        if line[3:4] != b"-":
            return line.rstrip()


async def smtp_transaction(port: int, rcpt: str, token: str) -> tuple[str, str]:
    """One mail on its own connection: ("accepted" | "refused" | "unanswered", the reply)."""
    steps = (
        (b"", b"220"),
        (b"EHLO load.sender.example", b"250"),
        (f"MAIL FROM:<{SENDER}>".encode(), b"250"),
        (f"RCPT TO:<{rcpt}>".encode(), b"250"),
        (b"DATA", b"354"),
    )
    stage = "refused"
    try:
        async with asyncio.timeout(MAIL_TIMEOUT_SECONDS):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                for command, wanted in steps:
                    if command:
                        writer.write(command + CRLF)
                    if not (reply := await _reply(reader)).startswith(wanted):
                        return stage, reply.decode(errors="replace")
                stage = "unanswered"  # from here a lost answer may hide a stored mail
                writer.write(mail_bytes(token, rcpt) + b".\r\n")
                reply = await _reply(reader)
                writer.write(b"QUIT\r\n")
            finally:
                writer.close()
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        return stage, f"{type(exc).__name__}: {exc}"
    return ("accepted" if reply.startswith(b"250") else "refused"), reply.decode(errors="replace")


async def paced(
    rate: float,
    stop: asyncio.Event,
    work: Callable[[int], Coroutine[None, None, None]],
    ledger: Ledger,
) -> None:
    """Start ``work(n)`` at ``rate`` per second until ``stop``; at most ``IN_FLIGHT`` at once."""
    if rate <= 0:
        return
    tasks: set[asyncio.Task[None]] = set()
    started, n = time.monotonic(), 0
    while not stop.is_set():
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(min(delay, 0.5))
            continue
        if len(tasks) < IN_FLIGHT:
            task = asyncio.create_task(work(n))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        else:
            ledger.not_offered += 1
        n += 1
    await asyncio.gather(*tasks)


class SteadyLoad:
    """Mail into the tenants' inboxes over SMTP and sends through the API, at ``plan``'s rates."""

    def __init__(self, smtp_port: int, tenants: list[Tenant], plan: LoadPlan) -> None:
        self.smtp_port = smtp_port
        self.tenants = tenants
        self.plan = plan
        self.run_id = uuid.uuid4().hex[:10]
        self.ledger = Ledger()

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.gather(
            paced(self.plan.mail_rate, stop, self._mail, self.ledger),
            paced(self.plan.send_rate, stop, self._send, self.ledger),
        )

    async def _mail(self, n: int) -> None:
        token = f"m-{self.run_id}-{n}"
        rcpt = self.tenants[n % len(self.tenants)].address
        outcome, reply = await smtp_transaction(self.smtp_port, rcpt, token)
        if outcome == "accepted":
            self.ledger.mails_accepted[token] = time.monotonic()
        elif outcome == "refused":
            self.ledger.mails_refused[token] = reply
        else:
            self.ledger.mails_unanswered[token] = reply

    async def _send(self, n: int) -> None:
        token = f"s-{self.run_id}-{n}"
        tenant = self.tenants[n % len(self.tenants)]
        recipient = tenant.next_recipient(self.plan.hot_every)
        body = {"to": [recipient], "subject": f"chaos send {token}", "text": f"Send {token}.\n"}
        answer = await request_send(tenant, body)
        if isinstance(answer, str):
            self.ledger.sends_refused[token] = answer
            return
        record = SendRecord(token, tenant.workspace_id, recipient, answer[1], time.monotonic())
        self.ledger.sends_accepted[answer[0]] = record


async def request_send(tenant: Tenant, body: Mapping[str, object]) -> tuple[uuid.UUID, str] | str:
    """(id, status) of an accepted send, or why it was refused. Unanswered calls, 5xx and 429
    are asked again under the same ``Idempotency-Key`` until ``SEND_ANSWER_SECONDS`` pass."""
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    deadline = time.monotonic() + SEND_ANSWER_SECONDS
    while True:
        try:
            answer = await tenant.client.post(
                f"/inboxes/{tenant.slug}/send", json=body, headers=headers
            )
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}"
        else:
            if answer.is_success:
                found = answer.json()
                return uuid.UUID(found["id"]), str(found["status"])
            reason = f"{answer.status_code} {answer.text[:200]}"
            if answer.status_code < 500 and answer.status_code != 429:
                return reason
        if time.monotonic() > deadline:
            return reason
        await asyncio.sleep(1.0)
