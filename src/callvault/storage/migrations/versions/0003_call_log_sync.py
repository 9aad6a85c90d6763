"""call-log sync: change numbers on calls, per-account sync state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000

Existing rows are numbered by their primary key (ascending in insertion order), and each
account's state row continues from its highest number, so tokens issued after the upgrade see
every later write. The column is added with a server default rather than by recreating the
table: on SQLite a table rebuild would drop ``calls`` with ``call_details`` cascading from it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "calls", sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.execute("UPDATE calls SET change_seq = pk")
    op.create_index("ix_calls_change", "calls", ["account_id", "change_seq", "pk"], unique=False)
    op.create_index(
        "ix_calls_owner_change",
        "calls",
        ["account_id", "owner_extension_id", "change_seq", "pk"],
        unique=False,
    )
    op.create_table(
        "call_log_sync_state",
        sa.Column("account_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("log_epoch", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_call_log_sync_state")),
    )
    op.execute(
        "INSERT INTO call_log_sync_state (account_id, change_seq, log_epoch) "
        "SELECT account_id, MAX(change_seq), 0 FROM calls GROUP BY account_id"
    )


def downgrade() -> None:
    op.drop_table("call_log_sync_state")
    op.drop_index("ix_calls_owner_change", table_name="calls")
    op.drop_index("ix_calls_change", table_name="calls")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite drops a column in place (3.35+); a batch rebuild would cascade-delete details.
        op.execute("ALTER TABLE calls DROP COLUMN change_seq")
    else:
        op.drop_column("calls", "change_seq")
