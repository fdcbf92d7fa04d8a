"""``mailmoat admin bootstrap``: a workspace with a person's key and, on request, an agent's; and
``mailmoat admin split-keys``: keys of an earlier version that mixed both, split in two."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mailmoat.common.audit import record_audit
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import ApiKey, Workspace
from mailmoat.common.events.base import utcnow
from mailmoat.common.plans import PLANS
from mailmoat.gateway.keys import PERSON_SCOPES, PRESETS, SEND_SCOPE, generate_key, mixes_duties

BOOTSTRAP_SCOPES = sorted(PRESETS["full-access"])
"""The first key is a person's: everything but sending."""
AGENT_SCOPES = sorted({"read:mail", "write:webhooks", SEND_SCOPE})
"""An agent's key: read its mail, hear about it, and ask to send; nothing a person decides."""


@dataclass(frozen=True)
class Bootstrapped:
    """What bootstrap created; the keys are shown only here."""

    workspace_id: uuid.UUID
    workspace: str
    plan: str
    api_key: str
    scopes: list[str]
    agent_key: str | None = None
    agent_scopes: list[str] | None = None


@dataclass(frozen=True)
class SplitKey:
    """A mixed key split in two: it keeps the agent's scopes; the new key holds the person's."""

    workspace_id: uuid.UUID
    agent_key_prefix: str
    agent_scopes: list[str]
    person_key: str
    person_scopes: list[str]


async def bootstrap_workspace(
    database_url: str, *, name: str, plan: str, agent_key: bool = False
) -> Bootstrapped:
    """Create a workspace, a person's key (every scope but sending) and, when ``agent_key``, an
    agent's key that may send and nothing a person decides."""
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}")
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            workspace = Workspace(id=uuid.uuid4(), name=name, plan=plan)
            session.add(workspace)
            await session.flush()
            person = _mint(session, workspace.id, "bootstrap", BOOTSTRAP_SCOPES)
            agent = _mint(session, workspace.id, "agent", AGENT_SCOPES) if agent_key else None
    finally:
        await engine.dispose()
    return Bootstrapped(
        workspace.id,
        name,
        plan,
        person,
        BOOTSTRAP_SCOPES,
        agent,
        AGENT_SCOPES if agent_key else None,
    )


async def split_mixed_keys(database_url: str) -> list[SplitKey]:
    """Split every active key holding the send scope beside a person's: the key keeps what an
    agent may hold (running agents go on working) and a new key gets the person's scopes.
    Each split is audited in its workspace."""
    engine = create_engine(database_url)
    splits: list[SplitKey] = []
    try:
        async with create_session_factory(engine)() as session, session.begin():
            keys = await session.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None)))
            for key in keys:
                if mixed := mixes_duties(key.scopes):
                    splits.append(_split(session, key, mixed))
    finally:
        await engine.dispose()
    return splits


def _split(session: AsyncSession, key: ApiKey, mixed: list[str]) -> SplitKey:
    agent_scopes = sorted(set(key.scopes) - PERSON_SCOPES)
    person_scopes = sorted(set(key.scopes) - {SEND_SCOPE})
    key.scopes = agent_scopes
    token = _mint(session, key.workspace_id, f"{key.name} (person)", person_scopes)
    record_audit(
        session,
        workspace_id=key.workspace_id,
        mail_id=key.id,
        action="api_key.split",
        actor="cli:split-keys",
        source="cli",
        target=f"api_key:{key.prefix}",
        detail={"moved_to_new_key": mixed},
        producer="gateway",
    )
    return SplitKey(key.workspace_id, key.prefix, agent_scopes, token, person_scopes)


def _mint(session: AsyncSession, workspace_id: uuid.UUID, name: str, scopes: list[str]) -> str:
    new = generate_key()
    session.add(
        ApiKey(
            workspace_id=workspace_id,
            name=name,
            prefix=new.prefix,
            secret_hash=new.secret_hash,
            scopes=scopes,
            created_at=utcnow(),
        )
    )
    return new.token
