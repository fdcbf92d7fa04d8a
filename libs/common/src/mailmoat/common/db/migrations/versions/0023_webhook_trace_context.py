"""webhook trace context: a delivery remembers the trace that owed it

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 15:10:00.000000

A webhook is attempted by the delivery worker, outside the consumer that owed it; the W3C trace
context recorded with the delivery lets each attempt's span join the mail's trace.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("trace_context")
