"""The tally: what the load was promised (its ledger) against what the database, the relay and
the webhook receiver hold at the end; and a watch that notes when each promise was kept, for
recovery times."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.caps import RECIPIENT_DAILY_CAP, WORKSPACE_DAILY_CAP
from mailmoat.common.db.session import (
    SessionFactory,
    create_engine,
    create_session_factory,
    reading,
)
from mailmoat.common.db.tables import (
    Message,
    OutboundMessage,
    RawMessage,
    ScanDecision,
    SendReservation,
)
from mailmoat.common.events.base import utcnow
from reliability.harness import Gateway
from reliability.load import SteadyLoad

TERMINAL_SENDS = ("sent", "failed", "rejected")
RAW_TOKEN = re.compile(rb"Message-ID: <(m-[0-9a-z]+-\d+)@sender\.example>")
CHUNK = 400


def message_id(token: str) -> str:
    return f"<{token}@sender.example>"


def chunks(items: Iterable[str | uuid.UUID]) -> Iterator[list[str | uuid.UUID]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class Watch:
    """Polls each second for accepted mail stored and accepted sends settled, and notes the
    moment each was first seen so."""

    def __init__(self, gateway: Gateway, load: SteadyLoad) -> None:
        self._engine = create_engine(gateway.settings.database_url)
        self._sessions: SessionFactory = create_session_factory(self._engine)
        self._ledger = load.ledger
        self.terminal_at: dict[str | uuid.UUID, float] = {}

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # the database may be down: that is the test
                await self.poll()
            await asyncio.sleep(1.0)

    async def close(self) -> None:
        await self._engine.dispose()

    async def poll(self) -> None:
        mails = [t for t in self._ledger.mails_accepted if t not in self.terminal_at]
        sends = [i for i in self._ledger.sends_accepted if i not in self.terminal_at]
        with reading():  # on SQLite: DEFERRED, never holding the services' write lock
            await self._query(mails, sends)

    async def _query(self, mails: list[str], sends: list[uuid.UUID]) -> None:
        async with self._sessions() as session:
            for part in chunks(message_id(str(t)) for t in mails):
                found = await session.scalars(
                    select(Message.message_id_header).where(Message.message_id_header.in_(part))
                )
                self._mark(str(header)[1:].split("@")[0] for header in found)
            for part in chunks(sends):
                query = select(OutboundMessage.id).where(
                    OutboundMessage.id.in_(part), OutboundMessage.status.in_(TERMINAL_SENDS)
                )
                self._mark(await session.scalars(query))

    def _mark(self, items: Iterable[str | uuid.UUID]) -> None:
        now = time.monotonic()
        for item in items:
            self.terminal_at.setdefault(item, now)

    def outstanding(self, *, sends: bool = True) -> int:
        pending: list[str | uuid.UUID] = [
            t for t in self._ledger.mails_accepted if t not in self.terminal_at
        ]
        if sends:
            pending += [i for i in self._ledger.sends_accepted if i not in self.terminal_at]
        return len(pending)

    async def settle(self, seconds: float, *, sends: bool = True) -> bool:
        """Poll until every accepted mail (and send) is terminal, or ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        while True:
            with contextlib.suppress(Exception):  # still recovering
                await self.poll()
            if self.outstanding(sends=sends) == 0:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(1.0)

    def recovery(self, moment: float, *, sends: bool = True) -> float | None:
        """Seconds from ``moment`` until all accepted by then was terminal (None: never)."""
        mails, requests = self._ledger.accepted_before(moment)
        items: set[str | uuid.UUID] = {*mails, *(requests if sends else ())}
        if any(item not in self.terminal_at for item in items):
            return None
        return max([0.0, *(self.terminal_at[i] - moment for i in items)])


@dataclass
class Tally:
    """The figures of one scenario on one database."""

    mails_in: int = 0
    mails_stored: int = 0
    mails_lost: int = 0
    mails_not_terminal: int = 0
    mails_duplicated: int = 0
    mails_refused: int = 0
    mails_unanswered: int = 0
    mails_stored_unacknowledged: int = 0
    decided_without_a_side: int = 0
    sends_in: int = 0
    sends_refused: int = 0
    sends_sent: int = 0
    sends_duplicated: int = 0
    sends_failed: int = 0
    sends_rejected: int = 0
    sends_not_terminal: int = 0
    sends_relayed_but_failed: int = 0
    sends_sent_never_relayed: int = 0
    failure_reasons: Counter[str] = field(default_factory=Counter)
    cap_refusals: int = 0
    most_to_one_recipient: int = 0
    most_reserved_for_one_recipient: int = 0
    most_reserved_for_one_workspace: int = 0
    webhook_deliveries: int = 0
    webhook_duplicates: int = 0

    def problems(self, *, sends_must_settle: bool = True) -> list[str]:
        found = {
            "accepted mails lost (no raw message)": self.mails_lost,
            "accepted mails never stored as messages": self.mails_not_terminal,
            "mails stored more than once": self.mails_duplicated,
            "sends relayed more than once": self.sends_duplicated,
            "sends recorded sent that the relay never took": self.sends_sent_never_relayed,
            "webhook events delivered under more than one id": self.webhook_duplicates,
        }
        if sends_must_settle:
            found["accepted sends never settled"] = self.sends_not_terminal
        problems = [f"{n} {what}" for what, n in found.items() if n]
        if self.most_to_one_recipient > RECIPIENT_DAILY_CAP:
            problems.append(f"a recipient got {self.most_to_one_recipient} mails in 24 h")
        if self.most_reserved_for_one_recipient > RECIPIENT_DAILY_CAP:
            problems.append(f"a recipient holds {self.most_reserved_for_one_recipient} slots")
        if self.most_reserved_for_one_workspace > WORKSPACE_DAILY_CAP:
            problems.append(f"a workspace holds {self.most_reserved_for_one_workspace} slots")
        return problems


async def tally(gateway: Gateway, load: SteadyLoad) -> Tally:
    engine = create_engine(gateway.settings.database_url)
    result = Tally()
    try:
        with reading():  # on SQLite: DEFERRED, never holding the services' write lock
            async with create_session_factory(engine)() as session:
                workspaces = [tenant.workspace_id for tenant in load.tenants]
                message_ids = await _mails(session, workspaces, load, result)
                send_ids = await _sends(session, gateway, load, result)
                await _caps(session, gateway, load, result)
    finally:
        await engine.dispose()
    _webhooks(gateway, message_ids | send_ids, result)
    return result


async def _mails(
    session: AsyncSession, workspaces: list[uuid.UUID], load: SteadyLoad, result: Tally
) -> set[str]:
    """Mail figures; returns the ids of the load's stored messages."""
    ledger, prefix = load.ledger, f"m-{load.run_id}-"
    query = select(Message.id, Message.message_id_header).where(
        Message.workspace_id.in_(workspaces)
    )
    stored: Counter[str] = Counter()
    ids = set()
    for row_id, header in (await session.execute(query)).all():
        if (token := str(header)[1:].split("@")[0]).startswith(prefix):
            stored[token] += 1
            ids.add(str(row_id))
    raws = select(RawMessage.raw).where(RawMessage.workspace_id.in_(workspaces))
    received = {
        m.group(1).decode() for raw in await session.scalars(raws) if (m := RAW_TOKEN.search(raw))
    }
    accepted = set(ledger.mails_accepted)
    result.mails_in = len(accepted)
    result.mails_stored = sum(1 for token in accepted if stored[token])
    result.mails_duplicated = sum(1 for count in stored.values() if count > 1)
    result.mails_not_terminal = sum(1 for t in accepted if not stored[t] and t in received)
    result.mails_lost = sum(1 for t in accepted if not stored[t] and t not in received)
    result.mails_refused = len(ledger.mails_refused)
    result.mails_unanswered = len(ledger.mails_unanswered)
    result.mails_stored_unacknowledged = sum(1 for token in stored if token not in accepted)
    missing = select(ScanDecision.missing).where(ScanDecision.workspace_id.in_(workspaces))
    result.decided_without_a_side = sum(1 for sides in await session.scalars(missing) if sides)
    return ids


async def _sends(
    session: AsyncSession, gateway: Gateway, load: SteadyLoad, result: Tally
) -> set[str]:
    """Send figures; returns the ids of the load's accepted sends."""
    workspaces = [tenant.workspace_id for tenant in load.tenants]
    query = select(OutboundMessage).where(OutboundMessage.workspace_id.in_(workspaces))
    rows = {row.id: row for row in await session.scalars(query)}
    prefix = f"s-{load.run_id}-"
    relayed = Counter(
        r.token for r in list(gateway.relay.log.accepted) if r.token and r.token.startswith(prefix)
    )
    accepted = load.ledger.sends_accepted
    result.sends_in, result.sends_refused = len(accepted), len(load.ledger.sends_refused)
    result.sends_sent = len(relayed)
    result.sends_duplicated = sum(1 for count in relayed.values() if count > 1)
    for send_id, record in accepted.items():
        row = rows.get(send_id)
        status = row.status if row is not None else "missing"
        result.cap_refusals += row is not None and row.decision_code == "cap_exceeded"
        if status == "sent":
            result.sends_sent_never_relayed += record.token not in relayed
        elif status in ("failed", "rejected"):
            assert row is not None
            result.failure_reasons[_reason(row)] += 1
            result.sends_failed += status == "failed"
            result.sends_rejected += status == "rejected"
            result.sends_relayed_but_failed += record.token in relayed
        else:
            result.sends_not_terminal += 1
    return {str(send_id) for send_id in accepted}


def _reason(row: OutboundMessage) -> str:
    """A failure's reason, short enough to count alike ones together."""
    if row.decision_code:
        return f"{row.status}: {row.decision_code}"
    reply = re.sub(r"\d{3,}", "N", row.relay_reply or "no reply recorded")
    return f"{row.status}: {reply[:70]}"


async def _caps(session: AsyncSession, gateway: Gateway, load: SteadyLoad, result: Tally) -> None:
    workspaces = [tenant.workspace_id for tenant in load.tenants]
    live = (
        SendReservation.workspace_id.in_(workspaces),
        SendReservation.reserved_at > utcnow() - timedelta(hours=24),
    )
    ledger = SendReservation.workspace_id, SendReservation.recipient
    per_recipient = select(func.count()).where(*live).group_by(*ledger)
    per_workspace = select(func.count()).where(*live).group_by(SendReservation.workspace_id)
    result.most_reserved_for_one_recipient = max([0, *await session.scalars(per_recipient)])
    result.most_reserved_for_one_workspace = max([0, *await session.scalars(per_workspace)])
    ours = {address for tenant in load.tenants for address in tenant.recipients}
    received = Counter(
        rcpt
        for mail in list(gateway.relay.log.accepted)
        for rcpt in mail.recipients
        if rcpt in ours
    )
    result.most_to_one_recipient = max([0, *received.values()])


def _webhooks(gateway: Gateway, ids: set[str], result: Tally) -> None:
    """Deliveries about the load's mails and sends; an event (type, object) delivered under
    two webhook ids is a duplicate (a retry keeps its id: at-least-once, allowed)."""
    events: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
    for delivery in list(gateway.webhooks.deliveries):
        try:
            payload = json.loads(delivery.body)
        except ValueError:
            continue
        data = payload.get("data") or {}
        if (about := str(data.get("message_id"))) not in ids:
            continue
        result.webhook_deliveries += 1
        events[(str(payload.get("type")), about)].add(delivery.headers.get("webhook-id", ""))
    result.webhook_duplicates = sum(1 for seen in events.values() if len(seen) > 1)
