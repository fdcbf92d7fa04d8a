"""The inbound sender graph: every external sender (an address, and its domain) that wrote to an
inbox, with first and last contact, message count, what the consensus said and what DMARC said.

Reputation keeps the edges (``sender_edges``), counts a person's release of withheld mail (on
``inbox-events``) as that mail no longer held against its sender, and publishes each edge's new
state on the compacted ``sender-graph`` topic, keyed on the edge; the consensus engine keeps its own
copy from there and raises the risk of first contacts, senders with withheld mail and look-alike
domains. Apart from the API's read-only listing, no other service reads ``sender_edges``.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.db.tables import SenderEdge
from mailmoat.common.events import (
    Consensus,
    InboxEvent,
    InboxEventKind,
    MailScanned,
    SenderEdgeUpdated,
)
from mailmoat.common.lookalike import split_address
from mailmoat.common.outbox import stage_event
from mailmoat.common.topics import Topic

PRODUCER = "reputation"


async def count_scanned(done: list[MailScanned], session: AsyncSession) -> None:
    """Count a batch of decided mail on their senders' address and domain edges: each edge the
    batch moved is read and written once and its newest state published once (the topic is
    compacted on the edge, and the consensus engine keeps only the newest state)."""
    by_edge: dict[tuple[uuid.UUID, str, str], list[MailScanned]] = {}
    for event in done:
        for kind, sender in _edge_keys(event.sender):
            by_edge.setdefault((event.inbox_id, kind, sender), []).append(event)
    for key, events in by_edge.items():
        edge = await session.get(SenderEdge, key, with_for_update=True)
        if edge is None:
            edge = _new_edge(key, events[0])
            session.add(edge)
        for event in events:
            _count(edge, event)
        _publish(session, edge, events[-1])


def _new_edge(key: tuple[uuid.UUID, str, str], first: MailScanned) -> SenderEdge:
    inbox_id, kind, sender = key
    return SenderEdge(
        inbox_id=inbox_id,
        kind=kind,
        sender=sender,
        workspace_id=first.workspace_id,
        first_seen=first.occurred_at,
        last_seen=first.occurred_at,
        messages=0,
        passed=0,
        reviewed=0,
        withheld=0,
        released=0,
        dmarc_pass=0,
        dmarc_fail=0,
    )


async def on_inbox_event(event: InboxEvent, session: AsyncSession) -> None:
    """A person released withheld mail: it no longer counts against its sender (so a released
    look-alike becomes a correspondent of its own). Other inbox events say nothing new."""
    if event.kind is not InboxEventKind.MESSAGE_RELEASED:
        return
    for kind, sender in _edge_keys(event.sender or ""):
        edge = await session.get(SenderEdge, (event.inbox_id, kind, sender), with_for_update=True)
        if edge is None or edge.withheld == 0:
            continue  # decided before the graph existed, or released already
        edge.withheld -= 1
        edge.released += 1
        _publish(session, edge, event)


def _edge_keys(sender: str) -> tuple[tuple[str, str], ...]:
    """The edges a From address moves: its own and its domain's (none without an address)."""
    address, domain = split_address(sender)
    return (("address", address), ("domain", domain)) if address else ()


def _count(edge: SenderEdge, event: MailScanned) -> None:
    edge.messages += 1
    edge.passed += event.consensus is Consensus.PASS
    edge.reviewed += event.consensus is Consensus.REVIEW
    edge.withheld += event.withheld or event.quarantined
    edge.dmarc_pass += event.dmarc == "pass"
    edge.dmarc_fail += event.dmarc == "fail"
    edge.last_dmarc = event.dmarc[:20]
    edge.last_seen = max(edge.last_seen, event.occurred_at)


def _publish(session: AsyncSession, edge: SenderEdge, cause: MailScanned | InboxEvent) -> None:
    state = _state(edge, cause)
    stage_event(session, Topic.SENDER_GRAPH, state, producer=PRODUCER, key=state.edge_key)


def _state(edge: SenderEdge, event: MailScanned | InboxEvent) -> SenderEdgeUpdated:
    return SenderEdgeUpdated(
        mail_id=event.mail_id,
        workspace_id=edge.workspace_id,
        inbox_id=edge.inbox_id,
        kind="address" if edge.kind == "address" else "domain",
        sender=edge.sender,
        first_seen=edge.first_seen,
        last_seen=edge.last_seen,
        messages=edge.messages,
        passed=edge.passed,
        reviewed=edge.reviewed,
        withheld=edge.withheld,
        released=edge.released,
        dmarc_pass=edge.dmarc_pass,
        dmarc_fail=edge.dmarc_fail,
        last_dmarc=edge.last_dmarc,
    )
