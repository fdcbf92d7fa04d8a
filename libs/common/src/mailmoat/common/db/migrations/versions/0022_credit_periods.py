"""credit periods: a workspace's credits are its plan's monthly allowance less what it used

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 08:30:00.000000

``workspaces.credits_balance`` (a running total that only fell) gives way to the month's usage,
``credits_used`` in ``credits_period`` (``YYYY-MM``); the balance is derived from the plan
(``common.plans``). Every workspace starts this revision's month unused. Ledger rows gain
``overage_after`` and a unique (workspace, reason, ref_id): one thing is charged once per reason.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credits_period", sa.String(length=7), nullable=True))
        batch_op.add_column(
            sa.Column("credits_used", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_column("credits_balance")
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("overage_after", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_credit_ledger_workspace_id_reason_ref_id"),
            ["workspace_id", "reason", "ref_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_ledger", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_credit_ledger_workspace_id_reason_ref_id"), type_="unique"
        )
        batch_op.drop_column("overage_after")
    with op.batch_alter_table("workspaces", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("credits_balance", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.drop_column("credits_used")
        batch_op.drop_column("credits_period")
