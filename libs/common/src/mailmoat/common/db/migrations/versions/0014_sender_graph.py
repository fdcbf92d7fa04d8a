"""the inbound sender graph: reputation's edges, the consensus engine's view, sender facts on
decisions, risk reasons on messages

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 13:58:53.415344
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mailmoat.common.db.base

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sender_edges",
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("first_seen", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("reviewed", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.Column("released", sa.Integer(), nullable=False),
        sa.Column("dmarc_pass", sa.Integer(), nullable=False),
        sa.Column("dmarc_fail", sa.Integer(), nullable=False),
        sa.Column("last_dmarc", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_sender_edges_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sender_edges_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("inbox_id", "kind", "sender", name=op.f("pk_sender_edges")),
    )
    with op.batch_alter_table("sender_edges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sender_edges_workspace_id"), ["workspace_id"], unique=False
        )

    op.create_table(
        "sender_graph_view",
        sa.Column("inbox_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("skeleton", sa.String(length=1000), nullable=False),
        sa.Column("first_seen", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", mailmoat.common.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False),
        sa.Column("dmarc_pass", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_sender_graph_view_inbox_id_inboxes")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sender_graph_view_workspace_id_workspaces"),
        ),
        sa.PrimaryKeyConstraint("inbox_id", "kind", "sender", name=op.f("pk_sender_graph_view")),
    )
    with op.batch_alter_table("sender_graph_view", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sender_graph_view_skeleton", ["inbox_id", "kind", "skeleton"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sender_graph_view_workspace_id"), ["workspace_id"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("risk_reasons", sa.JSON(), nullable=False, server_default="[]")
        )

    with op.batch_alter_table("scan_decisions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sender", sa.String(length=320), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("dmarc", sa.String(length=20), nullable=False, server_default="none")
        )
        batch_op.add_column(
            sa.Column("trusted_sender", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("quarantined", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("sender_signals", sa.JSON(), nullable=False, server_default="[]")
        )

    if op.get_bind().dialect.name == "postgresql":  # the same wall as migration 0006
        scope = "nullif(current_setting('mailmoat.workspace_id', true), '')"
        condition = f"{scope} IS NULL OR workspace_id = {scope}::uuid"
        for table in ("sender_edges", "sender_graph_view"):
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            op.execute(
                f"CREATE POLICY workspace_isolation ON {table} "
                f"USING ({condition}) WITH CHECK ({condition})"
            )


def downgrade() -> None:
    with op.batch_alter_table("scan_decisions", schema=None) as batch_op:
        batch_op.drop_column("sender_signals")
        batch_op.drop_column("quarantined")
        batch_op.drop_column("trusted_sender")
        batch_op.drop_column("dmarc")
        batch_op.drop_column("sender")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("risk_reasons")

    with op.batch_alter_table("sender_graph_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sender_graph_view_workspace_id"))
        batch_op.drop_index("ix_sender_graph_view_skeleton")

    op.drop_table("sender_graph_view")
    with op.batch_alter_table("sender_edges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sender_edges_workspace_id"))

    op.drop_table("sender_edges")
