"""``mailmoat dlq``: list, show and replay the records consumers dead-lettered."""

from __future__ import annotations

import argparse
import asyncio
import base64
import getpass
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.bus import create_broker
from mailmoat.common.db.session import (
    SessionFactory,
    create_engine,
    create_session_factory,
    reading,
)
from mailmoat.common.db.tables import DeadLetter
from mailmoat.common.dead_letters import (
    ReplayRefused,
    get_dead_letter,
    list_dead_letters,
    replay_dead_letter,
)
from mailmoat.common.settings import CommonSettings

ERROR_PREVIEW = 200


def operator() -> str:
    """Who replays, when ``--actor`` does not say: the login running the command."""
    try:
        return f"operator:{getpass.getuser()}"
    except (OSError, KeyError):
        return "operator:unknown"


def run_dlq(settings: CommonSettings, args: argparse.Namespace) -> int:
    """Run ``mailmoat dlq list|show|replay``; returns the exit code."""
    if args.dlq_command == "list":
        return asyncio.run(_list(settings, args))
    if args.dlq_command == "show":
        return asyncio.run(_show(settings, args.id))
    if args.all == bool(args.ids) or (args.all and not args.topic):
        return _fail("give letter ids, or --all with --topic", code=2)
    return asyncio.run(_replay(settings, args))


def summary(letter: DeadLetter) -> dict[str, Any]:
    """A letter as ``list`` prints it: no payload, the error cut short."""
    return {
        "id": letter.id,
        "consumer": letter.consumer,
        "topic": letter.topic,
        "event_id": _text(letter.event_id),
        "workspace_id": _text(letter.workspace_id),
        "error_type": letter.error_type,
        "error": letter.error[:ERROR_PREVIEW],
        "created_at": letter.created_at.isoformat(),
        "replayed_at": letter.replayed_at.isoformat() if letter.replayed_at else None,
    }


def detail(letter: DeadLetter) -> dict[str, Any]:
    """A letter as ``show`` prints it: everything, the payload as JSON when it is JSON."""
    encoding, payload = decode_payload(letter.payload)
    return {
        **summary(letter),
        "error": letter.error,
        "key": letter.key,
        "original_partition": letter.original_partition,
        "original_offset": letter.original_offset,
        "replayed_by": letter.replayed_by,
        "replays": letter.replays,
        "headers": letter.headers,
        "payload_encoding": encoding,
        "payload": payload,
    }


def decode_payload(payload: bytes) -> tuple[str, Any]:
    """``("json", value)`` for a payload that parses as JSON, else ``("base64", text)``."""
    try:
        return "json", json.loads(payload)
    except ValueError:
        return "base64", base64.b64encode(payload).decode()


async def _list(settings: CommonSettings, args: argparse.Namespace) -> int:
    async with _sessions(settings) as sessions, _reading(sessions) as session:
        letters = await list_dead_letters(
            session,
            topic=args.topic,
            consumer=args.consumer,
            include_replayed=args.all,
            limit=args.limit,
        )
    for letter in letters:
        print(json.dumps(summary(letter)))
    return 0


async def _show(settings: CommonSettings, letter_id: int) -> int:
    async with _sessions(settings) as sessions, _reading(sessions) as session:
        letter = await get_dead_letter(session, letter_id)
    if letter is None:
        return _fail(f"no dead letter has id {letter_id}")
    print(json.dumps(detail(letter)))
    return 0


async def _replay(settings: CommonSettings, args: argparse.Namespace) -> int:
    actor = args.actor or operator()
    async with _sessions(settings) as sessions:
        ids = args.ids or await _pending_ids(sessions, args.topic)
        broker = create_broker(settings, client_id="mailmoat-dlq")
        await broker.start()
        try:
            done = [
                await _replay_one(sessions, broker, settings, i, actor=actor, force=args.force)
                for i in ids
            ]
        finally:
            await broker.stop()
    return 0 if all(done) else 1


async def _replay_one(
    sessions: SessionFactory,
    broker: KafkaBroker,
    settings: CommonSettings,
    letter_id: int,
    *,
    actor: str,
    force: bool,
) -> bool:
    """One letter in its own transaction: a refusal leaves the others to go on."""
    try:
        async with sessions() as session, session.begin():
            letter = await replay_dead_letter(
                session, broker, settings, letter_id, actor=actor, force=force
            )
    except ReplayRefused as exc:
        _fail(str(exc))
        return False
    print(json.dumps({**summary(letter), "replays": letter.replays}))
    return True


async def _pending_ids(sessions: SessionFactory, topic: str) -> list[int]:
    async with _reading(sessions) as session:
        letters = await list_dead_letters(session, topic=topic, limit=None)
    return [letter.id for letter in letters]


@asynccontextmanager
async def _reading(sessions: SessionFactory) -> AsyncIterator[AsyncSession]:
    """A transaction that only reads: on SQLite it takes no write lock."""
    with reading():
        async with sessions() as session, session.begin():
            yield session


@asynccontextmanager
async def _sessions(settings: CommonSettings) -> AsyncIterator[SessionFactory]:
    engine = create_engine(settings.database_url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


def _text(value: object | None) -> str | None:
    return None if value is None else str(value)


def _fail(message: str, *, code: int = 1) -> int:
    print(f"mailmoat dlq: {message}", file=sys.stderr)
    return code
