"""call targets: one row per leg of every call, for the PortSIP face's filters

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 12:00:00.000000

Existing calls are backfilled: their legs are decoded and their targets written, a batch of
calls at a time (``storage.targets.backfill_targets``, the same derivation the write path
uses), so the PortSIP face lists calls stored before the upgrade. On a large store this runs
for a while (1M calls: 15 minutes on SQLite on a busy 2-CPU machine); it is safe to
interrupt, as the whole upgrade is one transaction.

The backfill imports that derivation from the package, which writes the table shape created
here; a later revision that changes ``call_targets`` must freeze a copy of it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_targets",
        sa.Column(
            "pk",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("call_pk", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_extension_id", sa.BigInteger(), nullable=True),
        sa.Column("target_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("in_company", sa.Boolean(), nullable=False),
        sa.Column("in_owner", sa.Boolean(), nullable=False),
        sa.Column("caller", sa.String(length=256), nullable=False),
        sa.Column("caller_domain", sa.String(length=1024), nullable=False),
        sa.Column("caller_name", sa.String(length=1024), nullable=False),
        sa.Column("callee", sa.String(length=256), nullable=False),
        sa.Column("callee_domain", sa.String(length=1024), nullable=False),
        sa.Column("callee_name", sa.String(length=1024), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("rang_ms", sa.BigInteger(), nullable=True),
        sa.Column("answered_ms", sa.BigInteger(), nullable=True),
        sa.Column("ended_ms", sa.BigInteger(), nullable=False),
        sa.Column("call_id", sa.String(length=1024), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("end_reason", sa.String(length=24), nullable=False),
        sa.Column("rerouted_by", sa.String(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("destination", sa.String(length=1024), nullable=False),
        sa.Column("outbound_caller_id", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(length=256), nullable=False),
        sa.Column("trunk", sa.String(length=1024), nullable=False),
        sa.Column("talk_seconds", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("billed_account", sa.String(length=1024), nullable=False),
        sa.Column("service_number", sa.String(length=256), nullable=False),
        sa.Column("user_data", sa.String(length=4000), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("modified_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_seq", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_pk"],
            ["calls.pk"],
            name=op.f("fk_call_targets_call_pk_calls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_call_targets")),
    )
    with op.batch_alter_table("call_targets", schema=None) as batch_op:
        batch_op.create_index("ix_call_targets_call", ["call_pk"], unique=False)
        batch_op.create_index(
            "ix_call_targets_callee", ["account_id", "callee", "started_ms"], unique=False
        )
        batch_op.create_index(
            "ix_call_targets_caller", ["account_id", "caller", "started_ms"], unique=False
        )
        batch_op.create_index(
            "ix_call_targets_changes",
            ["account_id", "owner_extension_id", "change_seq", "pk"],
            unique=False,
        )
        batch_op.create_index(
            "ix_call_targets_company",
            ["account_id", "in_company", "deleted", "started_ms", "pk"],
            unique=False,
        )
        batch_op.create_index(
            "ix_call_targets_company_direction",
            ["account_id", "in_company", "deleted", "direction", "started_ms", "pk"],
            unique=False,
        )
        batch_op.create_index(
            "ix_call_targets_owner",
            [
                "account_id",
                "owner_extension_id",
                "in_owner",
                "deleted",
                "started_ms",
                "pk",
                "direction",
            ],
            unique=False,
        )
        batch_op.create_index("ix_call_targets_session", ["account_id", "session_id"], unique=False)
        batch_op.create_index("ix_call_targets_target", ["account_id", "target_id"], unique=False)

    # The derivation lives with the write path; the table shape it writes is the one above.
    from callvault.storage.targets import backfill_targets

    backfill_targets(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("call_targets", schema=None) as batch_op:
        batch_op.drop_index("ix_call_targets_target")
        batch_op.drop_index("ix_call_targets_session")
        batch_op.drop_index("ix_call_targets_owner")
        batch_op.drop_index("ix_call_targets_company_direction")
        batch_op.drop_index("ix_call_targets_company")
        batch_op.drop_index("ix_call_targets_changes")
        batch_op.drop_index("ix_call_targets_caller")
        batch_op.drop_index("ix_call_targets_callee")
        batch_op.drop_index("ix_call_targets_call")

    op.drop_table("call_targets")
