"""PostgreSQL row-level security, the second wall behind the workspace-scoped repository: a
session scoped to one workspace (as the gateway scopes each request) sees and writes only that
workspace's rows, even with a query that forgets to filter."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from mailmoat.cli.bootstrap import bootstrap_workspace
from mailmoat.common.db.session import create_engine, create_session_factory
from mailmoat.common.db.tables import ApiKey, AuditEntry, Inbox, Workspace
from mailmoat.gateway import deps  # noqa: F401  (registers the per-transaction scope)


@pytest.fixture
def database() -> str:
    """Row-level security is PostgreSQL's; SQLite has none."""
    return "postgresql"


@pytest.fixture
async def app_role(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine for an ordinary role: superusers are never subject to row-level security."""
    role, password = f"app_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'"))
        await connection.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
        await connection.execute(
            text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        )
    url = make_url(database_url).set(username=role, password=password)
    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.connect() as connection:
            await connection.execute(text(f"DROP OWNED BY {role}"))
            await connection.execute(text(f"DROP ROLE {role}"))
        await admin.dispose()


async def _workspace_with_inbox(database_url: str, name: str) -> tuple[uuid.UUID, uuid.UUID]:
    made = await bootstrap_workspace(database_url, name=name, plan="developer")
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            inbox = Inbox(
                workspace_id=made.workspace_id,
                slug=name,
                address=f"{name}@agents.example",
                security_level="L2",
            )
            db.add(inbox)
            await db.flush()
            return made.workspace_id, inbox.id
    finally:
        await engine.dispose()


async def test_a_scoped_session_sees_and_writes_only_its_workspace(
    database_url: str, app_role: AsyncEngine
) -> None:
    a, a_inbox = await _workspace_with_inbox(database_url, "alpha")
    b, _ = await _workspace_with_inbox(database_url, "beta")
    sessions = create_session_factory(app_role)

    async with sessions() as db, db.begin():  # unscoped: services that span workspaces
        assert await db.scalar(select(func.count()).select_from(Inbox)) == 2

    for mine, theirs in ((a, b), (b, a)):
        async with sessions() as db:
            db.sync_session.info["workspace_id"] = mine
            async with db.begin():
                for table in (Inbox, ApiKey):
                    owners = set(await db.scalars(select(table.workspace_id)))
                    assert owners == {mine}
                assert set(await db.scalars(select(Workspace.id))) == {mine}
                assert await db.get(Workspace, theirs) is None

    async with sessions() as db:
        db.sync_session.info["workspace_id"] = b
        with pytest.raises(DBAPIError, match="row-level security"):
            async with db.begin():
                db.add(
                    AuditEntry(
                        workspace_id=a,
                        action="forged",
                        actor="test",
                        source="test",
                        target=f"inbox:{a_inbox}",
                    )
                )
    async with sessions() as db, db.begin():
        assert await db.scalar(select(func.count()).select_from(AuditEntry)) == 0
