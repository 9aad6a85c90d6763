"""ringouts: RingOut calls placed through the RingCentral face

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 10:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ringouts",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("extension_id", sa.BigInteger(), nullable=False),
        sa.Column("telephony_session_id", sa.String(length=128), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=32), nullable=False),
        sa.Column("caller_id", sa.String(length=32), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("cancelled_ms", sa.BigInteger(), nullable=True),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ringouts_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["extension_id"], ["extensions.id"], name=op.f("fk_ringouts_extension_id_extensions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ringouts")),
    )
    with op.batch_alter_table("ringouts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ringouts_session", ["account_id", "telephony_session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ringouts", schema=None) as batch_op:
        batch_op.drop_index("ix_ringouts_session")
    op.drop_table("ringouts")
