"""``mailmoat admin bootstrap``: a workspace and its first API key, for scripts and first use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import ApiKey, Workspace
from mailmoat.gateway.keys import PRESETS, SEND_SCOPE, generate_key

PLANS = ("free", "developer", "startup", "enterprise")
BOOTSTRAP_SCOPES = sorted({*PRESETS["full-access"], SEND_SCOPE})


@dataclass(frozen=True)
class Bootstrapped:
    """What bootstrap created; ``api_key`` is shown only here."""

    workspace_id: uuid.UUID
    workspace: str
    plan: str
    api_key: str
    scopes: list[str]


async def bootstrap_workspace(database_url: str, *, name: str, plan: str) -> Bootstrapped:
    """Create a workspace and an API key able to do everything, sending included."""
    if plan not in PLANS:
        raise ValueError(f"plan must be one of {', '.join(PLANS)}")
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            workspace = Workspace(id=uuid.uuid4(), name=name, plan=plan)
            key = generate_key()
            session.add(workspace)
            await session.flush()
            session.add(
                ApiKey(
                    workspace_id=workspace.id,
                    name="bootstrap",
                    prefix=key.prefix,
                    secret_hash=key.secret_hash,
                    scopes=BOOTSTRAP_SCOPES,
                )
            )
    finally:
        await engine.dispose()
    return Bootstrapped(workspace.id, name, plan, key.token, BOOTSTRAP_SCOPES)
