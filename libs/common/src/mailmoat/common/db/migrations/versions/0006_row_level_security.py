"""row-level security on PostgreSQL: a second wall between workspaces

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 06:40:00.000000

Every table holding workspace rows gets a policy: while a transaction has set
``mailmoat.workspace_id`` (the gateway does, for the caller's workspace), only that workspace's
rows are visible or writable. Services that work across workspaces (ingest, scanner, policy,
dispatch) do not set it and see every row. FORCE applies the policies to the tables' owner too;
superusers and roles with BYPASSRLS are never subject to them, so the gateway should connect as
an ordinary role. SQLite has no row-level security: nothing happens there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "api_keys",
    "inboxes",
    "allowlist_entries",
    "webhook_endpoints",
    "credit_ledger",
    "idempotent_responses",
    "inbox_sender_rules",
    "feedback_reports",
    "raw_messages",
    "scan_verdicts",
    "scan_decisions",
    "messages",
    "outbound_messages",
    "sender_stats",
    "audit_log",
    "outbox",
    "processed_events",
)
_SCOPE = "nullif(current_setting('mailmoat.workspace_id', true), '')"
POLICY = "workspace_isolation"


def _condition(column: str) -> str:
    return f"{_SCOPE} IS NULL OR {column} = {_SCOPE}::uuid"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in (("workspaces", "id"), *((t, "workspace_id") for t in TABLES)):
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        condition = _condition(column)
        op.execute(
            f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in ("workspaces", *TABLES):
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
